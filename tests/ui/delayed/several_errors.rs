use dask::prelude::*;

#[delayed]
async fn everything_wrong((a, b): (i64, i64), c: impl Clone, d: &mut i64) -> i64 {
    a + b
}

fn main() {}

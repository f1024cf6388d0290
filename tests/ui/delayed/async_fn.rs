use dask::prelude::*;

#[delayed]
async fn fetch(x: i64) -> i64 {
    x
}

fn main() {}

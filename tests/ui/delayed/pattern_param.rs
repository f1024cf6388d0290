use dask::prelude::*;

#[delayed]
fn sum_pair((a, b): (i64, i64)) -> i64 {
    a + b
}

fn main() {}

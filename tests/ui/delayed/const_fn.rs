use dask::prelude::*;

#[delayed]
const fn three(x: i64) -> i64 {
    x + 3
}

fn main() {}

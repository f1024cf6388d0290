use dask::prelude::*;

#[delayed]
struct Point {
    x: f64,
}

fn main() {}

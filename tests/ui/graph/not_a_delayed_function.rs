use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

fn largest(a: i64, b: i64) -> i64 {
    a.max(b)
}

fn main() {
    let _plan = graph! {
        let x = inc(1);
        let m = largest(x, 3);
        m
    };
}

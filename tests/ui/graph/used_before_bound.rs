use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

fn main() {
    let _plan = graph! {
        let y = inc(x);
        let x = inc(1);
        (x, y)
    };
}

use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[deny(unused_variables)]
fn main() {
    let _plan = graph! {
        let x = inc(1);
        let forgotten = inc(2);
        let _kept_on_purpose = inc(3);
        x
    };
}

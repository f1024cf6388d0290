use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn describe(x: i64) -> String {
    x.to_string()
}

fn main() {
    // A nested call is a node of its own: its value's type is checked where it is used.
    let _plan = graph! {
        let x = inc(describe(1));
        x
    };
}

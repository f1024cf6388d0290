use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

use std::rc::Rc;

fn main() {
    let _plan = graph! {
        let x = inc(1);
        let shared = Rc::new(x);
        shared
    };
}

use dask::prelude::*;
use std::rc::Rc;

#[delayed]
fn read(x: Rc<i64>) -> i64 {
    *x
}

fn main() {}

use dask::prelude::*;
use std::rc::Rc;

#[delayed]
fn shared(x: i64) -> Rc<i64> {
    Rc::new(x)
}

fn main() {}

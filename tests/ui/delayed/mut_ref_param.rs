use dask::prelude::*;

#[delayed]
fn push_one(xs: &mut Vec<i64>) -> usize {
    xs.push(1);
    xs.len()
}

fn main() {}

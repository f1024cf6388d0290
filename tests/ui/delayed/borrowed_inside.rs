use dask::prelude::*;

#[delayed]
fn count(words: Vec<&str>) -> usize {
    words.len()
}

#[delayed]
fn first<'a>(rows: &Vec<&'a [u8]>) -> usize {
    rows.len()
}

fn main() {}

use dask::prelude::*;
use std::error::Error;

#[delayed]
fn parse(text: String) -> Result<i64, Box<dyn Error>> {
    Ok(text.parse()?)
}

fn main() {}

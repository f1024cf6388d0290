use dask::prelude::*;

struct Handle(u32);

#[delayed]
fn open(h: Handle) -> u32 {
    h.0
}

fn main() {}

use dask::prelude::*;

/// Not serde: it cannot cross to another process.
#[derive(Clone)]
pub struct Summary {
    pub total: i64,
}

#[delayed(distributed)]
fn summarise(x: i64) -> Summary {
    Summary { total: x }
}

fn main() {}

use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn shout(s: String) -> String {
    s.to_uppercase()
}

fn main() {
    let _ = inc(shout("a".to_owned()));
}

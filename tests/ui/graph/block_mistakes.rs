use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

fn main() {
    let _plan = graph! {
        let mut a = inc(1);
        println!("side effect");
        let (b, c) = (inc(2), inc(3));
        let d;
        a
    };
}

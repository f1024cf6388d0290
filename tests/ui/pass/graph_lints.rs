//! A plan's expansion is clean under strict lints in the user's crate.
#![deny(missing_docs, unused, unused_qualifications, rust_2018_idioms, unreachable_pub)]

use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[delayed]
fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn main() {
    let k = 2_i64;
    let plan = graph!(|n: i64, data: &[f64]| {
        let a = inc(n);
        let b = inc(a);
        let c = inc(a);
        let xs = for i in 0..n { inc(i) };
        let s = total(xs);
        let m = mean(&data);
        let scaled = b * k + c;
        let text = format!("{scaled}-{m}");
        (s, text)
    });
    let data = [1.0, 3.0];
    assert_eq!(plan.compute((3, &data[..])).unwrap(), (6, "15-2".to_owned()));

    // A captured `Delayed` as a task argument, and stages chained item by item.
    let base = inc(10);
    let staged = graph!(|n: i64| {
        let ys = for i in 0..n { inc(i) };
        let zs = for y in ys { inc(y) };
        let t = total(zs);
        inc(base) + t
    });
    assert_eq!(staged.compute(3).unwrap(), 12 + 9);
}

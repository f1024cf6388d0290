//! Task functions shared by the integration tests.
#![allow(dead_code)] // each test file uses some of them

use dask::prelude::*;

#[delayed]
pub fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
pub fn add(x: i64, y: i64) -> i64 {
    x + y
}

#[delayed]
pub fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[delayed]
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[delayed]
pub fn explode(x: i64) -> i64 {
    if x > 2 {
        panic!("x = {x} is too big");
    }
    x
}

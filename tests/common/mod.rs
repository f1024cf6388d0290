//! Task functions shared by the integration tests.
#![allow(dead_code)] // each test file uses some of them

use dask::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

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

/// `n` independent tasks of `each` that count how many started.
pub fn sleepers(n: usize, each: Duration, started: &Arc<AtomicUsize>) -> Vec<Delayed<usize>> {
    (0..n)
        .map(|i| {
            let started = Arc::clone(started);
            dask::delayed_value(i).map(move |i| {
                started.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(each);
                i
            })
        })
        .collect()
}

/// One test at a time, for tests that count the process's threads or time a pool.
pub fn alone() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

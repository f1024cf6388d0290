//! The README's main job: the mission's three examples, serial beside parallel for the
//! first two, time and peak memory for the array.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

use dask::array::random;
use dask::prelude::*;
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

/// Adds one, slowly.
#[delayed]
fn inc(x: i64) -> i64 {
    std::thread::sleep(SECOND);
    x + 1
}

/// Adds two numbers, slowly.
#[delayed]
fn add(x: i64, y: i64) -> i64 {
    std::thread::sleep(SECOND);
    x + y
}

/// A square root that takes a tenth of a second.
#[delayed]
fn f(x: f64) -> f64 {
    std::thread::sleep(Duration::from_millis(100));
    x.sqrt()
}

#[path = "support/peak_memory.rs"]
mod peak_memory;
use peak_memory::peak_mb;

fn timed<T>(what: &str, run: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = run();
    println!("  {what:<44} {:>6.2} s", start.elapsed().as_secs_f64());
    value
}

fn main() -> Result<(), dask::Error> {
    println!("1. add(inc(1), inc(2)), each call sleeping 1 s");
    let serial = timed("serial: add::eager(inc::eager(1), inc::eager(2))", || {
        add::eager(inc::eager(1), inc::eager(2))
    });
    let z = add(inc(1), inc(2)); // builds a graph of three tasks; nothing runs
    let parallel = timed("graph:  add(inc(1), inc(2)).compute()", || z.compute())?;
    assert_eq!(serial, parallel);
    println!("  result {parallel}: both incs ran at once\n");

    println!("2. thirty calls of f(x) (sleep 0.1 s, sqrt), computed together");
    let serial: Vec<f64> = timed("serial: a loop of f::eager", || {
        (0..30).map(|i| f::eager(f64::from(i))).collect()
    });
    let parts: Vec<Delayed<f64>> = (0..30).map(|i| f(f64::from(i))).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let on_cores = timed(
        &format!("graph:  dask::compute(parts), {cores} workers"),
        || dask::compute(parts.clone()),
    )?;
    let wide = timed("graph:  Scheduler::Threads(30), 30 workers", || {
        dask::compute_with(parts.clone(), Scheduler::Threads(30))
    })?;
    assert_eq!(serial, on_cores);
    assert_eq!(serial, wide);
    println!("  sum of sqrt(0..30) = {:.4}\n", wide.iter().sum::<f64>());

    println!("3. the mean of normal(0, 1, [10_000, 10_000]) in 1_000 x 1_000 chunks (800 MB)");
    let x = random::default_rng(42).normal(0.0, 1.0, [10_000, 10_000], [1_000, 1_000]);
    let mean: f64 = timed(
        &format!(
            "dask::array: x.mean(), {} chunks, {cores} workers",
            x.nblocks()
        ),
        || x.mean().compute(),
    )?;
    println!(
        "  mean {mean:+.2e}; this process's peak memory {:.0} MB: chunks in flight, never the array",
        peak_mb()
    );
    assert!(
        mean.abs() < 1e-3,
        "the mean of 10^8 standard normals is about 0"
    );
    Ok(())
}

//! The mission's second example: 30 calls of `f(x)` (sleep 0.1 s, return `sqrt(x)`)
//! collected in a list and computed together, as fast as the workers allow.
//!
//! ```text
//! cargo run --release --example list_sqrt
//! ```

use dask::prelude::*;
use std::time::{Duration, Instant};

#[delayed]
fn f(x: f64) -> f64 {
    std::thread::sleep(Duration::from_millis(100));
    x.sqrt()
}

/// Sums a list: a `Vec<f64>` parameter takes a `Vec<Delayed<f64>>`.
#[delayed]
fn total(xs: Vec<f64>) -> f64 {
    xs.iter().sum()
}

fn main() -> Result<(), dask::Error> {
    let output: Vec<Delayed<f64>> = (0..30).map(|x| f(f64::from(x))).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    for (label, scheduler) in [
        (
            format!("{cores} workers (one a core)"),
            Scheduler::default(),
        ),
        ("10 workers".to_owned(), Scheduler::Threads(10)),
        ("30 workers".to_owned(), Scheduler::Threads(30)),
    ] {
        let start = Instant::now();
        let values = dask::compute_with(output.clone(), scheduler)?;
        println!(
            "{label:<22} {:.2} s  (first values {:.3?})",
            start.elapsed().as_secs_f64(),
            &values[..4]
        );
    }

    // The list as one argument of another task: Dask's delayed(sum)(output).
    let sum = total(output);
    let start = Instant::now();
    let value = sum.compute_with(Scheduler::Threads(30))?;
    println!(
        "total(list) = {value:.4} in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

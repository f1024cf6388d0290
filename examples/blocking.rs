//! Blocking tasks on many workers: 1,000 tasks that each sleep 100 ms, on
//! `Threads(1000)`, against the sleep itself. Prints one JSON line a round.
//!
//! `cargo run --release --example blocking`

use dask::prelude::*;
use std::time::{Duration, Instant};

fn main() -> Result<(), Error> {
    let sleep = Duration::from_millis(100);
    for round in 0..5 {
        let parts: Vec<Delayed<usize>> = (0..1_000)
            .map(|i| {
                dask::delayed_value(i).map(move |i| {
                    std::thread::sleep(sleep);
                    i
                })
            })
            .collect();
        let begin = Instant::now();
        let values = dask::compute_with(parts, Scheduler::Threads(1_000))?;
        let took = begin.elapsed();
        assert_eq!(values.len(), 1_000);
        println!(
            "{{\"case\":\"1000 sleepers on Threads(1000)\",\"round\":{round},\"seconds\":{:.4},\"sleep\":{:.3},\"ratio\":{:.2}}}",
            took.as_secs_f64(),
            sleep.as_secs_f64(),
            took.as_secs_f64() / sleep.as_secs_f64()
        );
    }
    Ok(())
}

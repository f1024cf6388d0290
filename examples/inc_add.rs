//! The mission's first example: `add(inc(1), inc(2))` where each call sleeps 1 s.
//! Serially 3 s; as a graph 2 s, because both `inc`s run at once.
//!
//! ```text
//! cargo run --release --example inc_add
//! ```

use dask::prelude::*;
use std::time::{Duration, Instant};

#[delayed]
fn inc(x: i64) -> i64 {
    std::thread::sleep(Duration::from_secs(1));
    x + 1
}

#[delayed]
fn add(x: i64, y: i64) -> i64 {
    std::thread::sleep(Duration::from_secs(1));
    x + y
}

fn main() -> Result<(), dask::Error> {
    let x = inc(1);
    let y = inc(2);
    let z = add(x, y);
    println!("graph: {} <- {:?}", z.key(), z.dependencies());

    for scheduler in [Scheduler::Sync, Scheduler::default()] {
        let start = Instant::now();
        let value = z.compute_with(scheduler.clone())?;
        println!(
            "{scheduler:?}: add(inc(1), inc(2)) = {value} in {:.2} s",
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

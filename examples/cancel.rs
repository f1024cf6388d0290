//! Ctrl-C stops a long compute cleanly: the handler cancels a [`CancelToken`], the run
//! starts no new task, the running ones see `dask::is_cancelled()` and stop early, and
//! `compute` returns `Error::Cancelled`. The progress bar shows how far it got.
//!
//! ```text
//! cargo run --release --example cancel            # press Ctrl-C while it runs
//! cargo run --release --example cancel -- 1.5     # or cancel by itself after 1.5 s
//! ```

use dask::diagnostics::ProgressBar;
use dask::prelude::*;
use std::time::{Duration, Instant};

/// About 50 ms of work that gives up as soon as its run is cancelled.
#[delayed]
fn simulate(seed: u64) -> Result<f64, String> {
    let mut x = seed as f64;
    let begin = Instant::now();
    while begin.elapsed() < Duration::from_millis(50) {
        if dask::is_cancelled() {
            return Err(format!("simulation {seed} stopped early"));
        }
        for _ in 0..10_000 {
            x = (x * 1.000_001 + 0.5).sin();
        }
    }
    Ok(x)
}

#[delayed]
fn summarise(xs: Vec<f64>) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = CancelToken::new();
    {
        let token = token.clone();
        ctrlc::set_handler(move || {
            eprintln!("\nCtrl-C: cancelling (the running tasks stop at their next check)");
            token.cancel();
        })?;
    }
    if let Some(after) = std::env::args().nth(1) {
        let after = Duration::from_secs_f64(after.parse()?);
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            eprintln!("cancelling after {after:?}");
            token.cancel();
        });
    }

    // 2,000 simulations of 50 ms: about 50 s on two cores.
    let runs: Vec<Delayed<f64>> = (0..2_000).map(simulate).collect();
    let result = summarise(runs);
    let _bar = ProgressBar::new().register();
    let begin = Instant::now();
    match result.compute_with(Options::new().cancel_on(&token)) {
        Ok(mean) => println!("mean of the simulations: {mean:.6}"),
        Err(Error::Cancelled) => println!(
            "cancelled cleanly after {:.2} s; nothing is left running",
            begin.elapsed().as_secs_f64()
        ),
        Err(other) => return Err(other.into()),
    }
    Ok(())
}

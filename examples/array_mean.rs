//! The mission's third example: the mean of a 10,000 x 10,000 array of normal samples,
//! cut into 1,000 x 1,000 chunks, beside the serial ndarray version. Each runs in its
//! own process so that the peak memory printed is its own.
//!
//! ```text
//! cargo run --release --example array_mean
//! ```

use dask::array::random;
use std::time::Instant;

#[path = "support/peak_memory.rs"]
mod peak_memory;
use peak_memory::peak_mb;

fn main() -> Result<(), dask::Error> {
    match std::env::args().nth(1).as_deref() {
        Some("--chunked") => {
            let start = Instant::now();
            let x = random::default_rng(42).normal(0.0, 1.0, [10_000, 10_000], [1_000, 1_000]);
            let mean: f64 = x.mean().compute()?;
            println!(
                "dask::array, 100 chunks in parallel   mean {mean:+.3e}   {:.2} s   peak {:.0} MB",
                start.elapsed().as_secs_f64(),
                peak_mb()
            );
        }
        Some("--serial") => {
            // The same numbers, generated as one 800 MB ndarray and averaged on one core.
            let start = Instant::now();
            let x = random::default_rng(42)
                .normal(0.0, 1.0, [10_000, 10_000], [10_000, 10_000])
                .compute_with(dask::Scheduler::Sync)?;
            let mean = x.mean().unwrap_or(f64::NAN);
            println!(
                "ndarray, one array on one core        mean {mean:+.3e}   {:.2} s   peak {:.0} MB",
                start.elapsed().as_secs_f64(),
                peak_mb()
            );
        }
        _ => {
            println!("x = normal(0, 1, [10_000, 10_000], chunks [1_000, 1_000]); x.mean()");
            let exe = std::env::current_exe().map_err(|e| dask::Error::Internal(e.to_string()))?;
            for mode in ["--chunked", "--serial"] {
                let out = std::process::Command::new(&exe)
                    .arg(mode)
                    .output()
                    .map_err(|e| dask::Error::Internal(e.to_string()))?;
                print!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    Ok(())
}

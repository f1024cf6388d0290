//! Profiles the mission's array mean: writes `profile.json` (Chrome trace format: open
//! it in https://ui.perfetto.dev or chrome://tracing) and prints a summary.
//!
//! ```text
//! cargo run --release --example profile
//! ```

use dask::diagnostics::{Profiler, ProgressBar};

fn main() -> Result<(), dask::Error> {
    let x = dask::array::random::default_rng(42).normal(0.0, 1.0, [10_000, 10_000], [1_000, 1_000]);
    let profiler = Profiler::new();
    let mean = {
        let _profiling = profiler.register();
        let _bar = ProgressBar::new().register(); // drawn when stderr is a terminal
        x.mean().compute()?
    };
    profiler.write_chrome_trace("profile.json")?;
    println!(
        "mean = {mean:+.3e}; {} tasks recorded in profile.json\n",
        profiler.tasks()
    );
    print!("{}", profiler.summary());
    Ok(())
}

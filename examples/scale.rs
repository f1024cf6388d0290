//! Graphs of ten million tasks: build, compute and drop, with the time of each and the
//! process's peak memory. Each case runs in a fresh process (so peak memory is its
//! own), three times; one JSON line a run.
//!
//! ```text
//! cargo run --release --example scale                 # 10,000,000 tasks
//! cargo run --release --example scale -- 1000000      # another size
//! ```
//!
//! - `chain`: `inc(inc(...inc(0)))`, each task reading the one before.
//! - `fan_in`: `n` independent `inc(i)` gathered by one `total` task.

use dask::prelude::*;
use std::time::Instant;

#[path = "support/peak_memory.rs"]
mod peak_memory;

#[delayed]
fn inc(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[delayed]
fn total(xs: Vec<u64>) -> u64 {
    xs.iter().fold(0, |a, b| a.wrapping_add(*b))
}

fn run(case: &str, n: usize) -> Result<(), Error> {
    let begin = Instant::now();
    let (graph, expected) = match case {
        "chain" => {
            let mut x = inc(0);
            for _ in 1..n {
                x = inc(x);
            }
            (x, n as u64)
        }
        "fan_in" => {
            let leaves: Vec<Delayed<u64>> = (0..n as u64).map(inc).collect();
            (total(leaves), (1..=n as u64).sum())
        }
        other => panic!("unknown case {other}"),
    };
    let build = begin.elapsed().as_secs_f64();
    let start = Instant::now();
    let value = graph.compute_with(Scheduler::Threads(2))?;
    let compute = start.elapsed().as_secs_f64();
    assert_eq!(value, expected);
    let start = Instant::now();
    drop(graph);
    let dropped = start.elapsed().as_secs_f64();
    println!(
        "{{\"case\":\"{case}\",\"tasks\":{n},\"build_s\":{build:.3},\"compute_s\":{compute:.3},\"drop_s\":{dropped:.3},\"total_s\":{:.3},\"peak_mb\":{:.0}}}",
        begin.elapsed().as_secs_f64(),
        peak_memory::peak_mb()
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, case, n] = args.as_slice()
        && flag == "--one"
    {
        return run(case, n.parse().expect("a task count"));
    }
    let n = args
        .get(1)
        .map_or(10_000_000, |n| n.parse().expect("a task count"));
    let me = std::env::current_exe().expect("the example's path");
    for case in ["chain", "fan_in"] {
        for _ in 0..3 {
            let status = std::process::Command::new(&me)
                .args(["--one", case, &n.to_string()])
                .status()
                .expect("a fresh process");
            assert!(status.success(), "{case} failed");
        }
    }
    Ok(())
}

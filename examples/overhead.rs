//! What a task costs: one JSON line per case.
//!
//! ```text
//! cargo run --release --example overhead            # 10k, 100k and 1M tasks
//! cargo run --release --example overhead -- --quick # 10k and 100k only
//! ```
//!
//! - `overhead`: build and compute time per task, separately, for trivial tasks shaped as
//!   a fan-out, a chain and a binary tree, on `Sync`, `Threads(1)` and `Threads(2)`;
//!   medians of several runs, each run checked against the serial answer.
//! - `memory`: resident memory per node of a built graph (RSS growth / nodes).
//! - `speedup`: 200 CPU-bound tasks of about 2 ms, serial vs the graph on 1 and 2
//!   workers vs hand-written rayon on 2 threads.

use dask::Scheduler;
use dask::prelude::*;
use std::time::{Duration, Instant};

#[path = "../benches/shapes.rs"]
mod shapes;
use shapes::Shape;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn schedulers() -> [(&'static str, Scheduler); 3] {
    [
        ("sync", Scheduler::Sync),
        ("threads1", Scheduler::Threads(1)),
        ("threads2", Scheduler::Threads(2)),
    ]
}

fn overhead(sizes: &[usize]) {
    for &n in sizes {
        let runs = if n >= 1_000_000 { 3 } else { 7 };
        for shape in Shape::ALL {
            for (label, scheduler) in schedulers() {
                let (mut build, mut compute, mut drop_) = (Vec::new(), Vec::new(), Vec::new());
                let mut tasks = 0;
                for _ in 0..runs {
                    let start = Instant::now();
                    let (graph, t) = shape.build(n);
                    build.push(start.elapsed().as_secs_f64());
                    tasks = t;
                    let start = Instant::now();
                    let value = graph.compute_with(scheduler.clone()).expect("compute");
                    compute.push(start.elapsed().as_secs_f64());
                    assert_eq!(value, shape.expected(n), "{} {n} {label}", shape.name());
                    let start = Instant::now();
                    drop(graph);
                    drop_.push(start.elapsed().as_secs_f64());
                }
                let per = |xs: Vec<f64>| median(xs) * 1e9 / tasks as f64;
                let (b, c, d) = (per(build), per(compute), per(drop_));
                println!(
                    "{{\"case\":\"overhead\",\"shape\":\"{}\",\"tasks\":{tasks},\"scheduler\":\"{label}\",\"runs\":{runs},\"build_ns_per_task\":{b:.1},\"compute_ns_per_task\":{c:.1},\"build_compute_ns_per_task\":{:.1},\"drop_ns_per_task\":{d:.1}}}",
                    shape.name(),
                    b + c
                );
            }
        }
    }
}

/// What hooks cost: the 100k-task fan-out on `Threads(1)` with nothing attached, with
/// a callback that does nothing, and with the profiler (medians of 7, interleaved).
fn hooks() {
    use dask::diagnostics::{Callback, Profiler};
    use std::sync::Arc;
    struct Nothing;
    impl Callback for Nothing {}
    let n = 100_000;
    let (graph, tasks) = Shape::FanOut.build(n);
    let mut times: [Vec<f64>; 3] = Default::default();
    for _ in 0..7 {
        for (k, hooks) in [
            Vec::new(),
            vec![Arc::new(Nothing) as Arc<dyn Callback>],
            vec![Arc::new(Profiler::new()) as Arc<dyn Callback>],
        ]
        .into_iter()
        .enumerate()
        {
            let start = Instant::now();
            let v = graph
                .compute_with_callbacks(Scheduler::Threads(1), &hooks)
                .expect("compute");
            times[k].push(start.elapsed().as_secs_f64());
            assert_eq!(v, Shape::FanOut.expected(n));
        }
    }
    let [none, nothing, profiler] = times.map(median);
    let per = |s: f64| s * 1e9 / tasks as f64;
    println!(
        "{{\"case\":\"hooks\",\"tasks\":{tasks},\"scheduler\":\"threads1\",\"compute_ns_per_task\":{:.1},\"noop_callback_ns_per_task\":{:.1},\"profiler_ns_per_task\":{:.1},\"profiler_overhead\":{:.3}}}",
        per(none),
        per(nothing),
        per(profiler),
        profiler / none - 1.0
    );
}

/// Resident set size in bytes, from /proc (Linux); None elsewhere.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Each shape in a fresh process (this example run again with `--memory SHAPE`): in a
/// process that has freed memory before, the allocator reuses its pages and RSS
/// growth under-counts.
fn memory() {
    let exe = std::env::current_exe().expect("own path");
    for shape in Shape::ALL {
        let out = std::process::Command::new(&exe)
            .args(["--memory", shape.name()])
            .output()
            .expect("run child");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

fn memory_of(name: &str) {
    let shape = Shape::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .expect("shape");
    let n = 1_000_000;
    let Some(before) = rss_bytes() else {
        println!("{{\"case\":\"memory\",\"error\":\"no /proc/self/statm\"}}");
        return;
    };
    let (graph, tasks) = shape.build(n);
    let after = rss_bytes().unwrap_or(before);
    println!(
        "{{\"case\":\"memory\",\"shape\":\"{}\",\"tasks\":{tasks},\"bytes_per_node\":{:.1}}}",
        shape.name(),
        after.saturating_sub(before) as f64 / tasks as f64
    );
    drop(graph);
}

/// About `iterations` steps of integer work that the optimiser cannot remove.
fn work(seed: u64, iterations: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

#[delayed]
fn cpu_task(seed: u64, iterations: u64) -> u64 {
    work(seed, iterations)
}

fn speedup() {
    // Calibrate: how many iterations take 2 ms here.
    let probe = 200_000;
    let start = Instant::now();
    std::hint::black_box(work(1, probe));
    let per_iteration = start.elapsed().as_secs_f64() / probe as f64;
    let iterations = (0.002 / per_iteration) as u64;
    let tasks = 200;
    let expected: Vec<u64> = (0..tasks).map(|i| work(i, iterations)).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");

    let mut times: [Vec<f64>; 4] = Default::default();
    for _ in 0..7 {
        let start = Instant::now();
        let serial: Vec<u64> = (0..tasks).map(|i| work(i, iterations)).collect();
        times[0].push(start.elapsed().as_secs_f64());
        assert_eq!(serial, expected);
        for (k, workers) in [(1, 1), (2, 2)] {
            let parts: Vec<Delayed<u64>> = (0..tasks).map(|i| cpu_task(i, iterations)).collect();
            let start = Instant::now();
            let values = dask::compute_with(parts, Scheduler::Threads(workers)).expect("compute");
            times[k].push(start.elapsed().as_secs_f64());
            assert_eq!(values, expected);
        }
        let start = Instant::now();
        let values: Vec<u64> = pool.install(|| {
            use rayon::prelude::*;
            (0..tasks)
                .into_par_iter()
                .map(|i| work(i, iterations))
                .collect()
        });
        times[3].push(start.elapsed().as_secs_f64());
        assert_eq!(values, expected);
    }
    let [serial, one, two, rayon] = times.map(median);
    println!(
        "{{\"case\":\"speedup\",\"tasks\":{tasks},\"task_ms\":{:.2},\"serial_s\":{serial:.4},\"threads1_s\":{one:.4},\"threads2_s\":{two:.4},\"rayon2_s\":{rayon:.4},\"speedup_threads2\":{:.3},\"speedup_rayon2\":{:.3}}}",
        serial / tasks as f64 * 1e3,
        serial / two,
        serial / rayon
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, shape] = args.as_slice()
        && flag == "--memory"
    {
        memory_of(shape);
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes: &[usize] = if quick {
        &[10_000, 100_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    // Warm the pools so the first case does not pay for starting threads.
    for (_, s) in schedulers() {
        let _ = dask::delayed_value(0).compute_with(s);
    }
    std::thread::sleep(Duration::from_millis(10));
    if std::env::args().any(|a| a == "--hooks") {
        hooks();
        return;
    }
    memory();
    overhead(sizes);
    speedup();
    hooks();
}

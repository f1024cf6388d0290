//! What a node of a `graph!` plan costs, beside hand-written rayon code and the same
//! graph built dynamically: one JSON line per shape and setting.
//!
//! ```text
//! cargo run --release --example plan_overhead
//! ```
//!
//! Shapes (see `benches/plan_shapes.rs`): a 3-node diamond, a 64-wide fan-out/fan-in,
//! a 64-deep chain, a 256-leaf binary tree; trivial tasks (`x + 1`). Medians of 7 runs.
//!
//! - `in_pool`: each loop runs on a worker of the 2-thread pool it uses, so a run pays
//!   only for its own scheduling: the plan's joins, rayon's joins, the dynamic graph's
//!   build and executor. This is the overhead figure.
//! - `from_outside`: each run is started from the main thread and pays the hand-off to
//!   the pool and back (the same for all three).
//! - `sync`: the plan and the dynamic graph on `Scheduler::Sync`.

use dask::prelude::*;
use std::hint::black_box;
use std::time::Instant;

#[path = "../benches/plan_shapes.rs"]
mod shapes;
use shapes::*;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Nanoseconds a call of `f`, median of 7 runs of `iterations` calls.
fn time(iterations: usize, mut f: impl FnMut() -> u64) -> f64 {
    let runs = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                black_box(f());
            }
            start.elapsed().as_secs_f64() * 1e9 / iterations as f64
        })
        .collect();
    median(runs)
}

/// Runs `f` on a worker of dask's `Threads(2)` pool (as a task of a dynamic graph).
fn on_dask_pool<T: Send + Sync + Clone + 'static>(f: impl Fn() -> T + Send + Sync + 'static) -> T {
    dask::delayed_value(())
        .map(move |()| f())
        .compute_with(Scheduler::Threads(2))
        .expect("task")
}

struct Shape {
    name: &'static str,
    nodes: usize,
    iterations: usize,
    plan: fn() -> Box<dyn Fn(Scheduler) -> u64 + Send + Sync>,
    dynamic: fn() -> Delayed<u64>,
    rayon: fn() -> u64,
}

fn boxed<F: Fn(Scheduler) -> u64 + Send + Sync + 'static>(
    f: F,
) -> Box<dyn Fn(Scheduler) -> u64 + Send + Sync> {
    Box::new(f)
}

fn main() {
    let shapes = [
        Shape {
            name: "diamond",
            nodes: 3,
            iterations: 20_000,
            plan: || boxed(diamond_plan()),
            dynamic: diamond_dynamic,
            rayon: diamond_rayon,
        },
        Shape {
            name: "fan_out_fan_in",
            nodes: WIDTH + 2,
            iterations: 2_000,
            plan: || boxed(fan_out_plan()),
            dynamic: fan_out_dynamic,
            rayon: fan_out_rayon,
        },
        Shape {
            name: "chain",
            nodes: DEPTH,
            iterations: 2_000,
            plan: || boxed(chain_plan()),
            dynamic: chain_dynamic,
            rayon: chain_rayon,
        },
        Shape {
            name: "binary_tree",
            nodes: 2 * LEAVES - 1,
            iterations: 500,
            plan: || boxed(tree_plan()),
            dynamic: tree_dynamic,
            rayon: tree_rayon,
        },
    ];
    let rayon_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");

    for shape in shapes {
        let Shape {
            name,
            nodes,
            iterations,
            plan,
            dynamic,
            rayon,
        } = shape;
        let expected = rayon_pool.install(rayon);
        let p = plan();
        assert_eq!(p(Scheduler::Sync), expected);
        assert_eq!(p(Scheduler::Threads(2)), expected);
        assert_eq!(
            dynamic().compute_with(Scheduler::Threads(2)).unwrap(),
            expected
        );

        let per_node = |ns: f64| ns / nodes as f64;
        let report = |setting: &str, plan_ns: f64, rayon_ns: Option<f64>, dynamic_ns: f64| {
            let rayon_part = rayon_ns.map_or(String::new(), |r| {
                format!(
                    ",\"rayon_ns_per_node\":{:.1},\"plan_vs_rayon\":{:.2}",
                    per_node(r),
                    plan_ns / r
                )
            });
            println!(
                "{{\"case\":\"plan_overhead\",\"shape\":\"{name}\",\"nodes\":{nodes},\"setting\":\"{setting}\",\"plan_ns_per_node\":{:.1}{rayon_part},\"dynamic_ns_per_node\":{:.1},\"dynamic_vs_plan\":{:.1}}}",
                per_node(plan_ns),
                per_node(dynamic_ns),
                dynamic_ns / plan_ns
            );
        };

        // In the pool: the pure cost of scheduling.
        let plan_ns = on_dask_pool(move || {
            let p = plan();
            time(iterations, || p(Scheduler::Threads(2)))
        });
        let rayon_ns = rayon_pool.install(|| time(iterations, rayon));
        let dynamic_ns = on_dask_pool(move || {
            time(iterations, || {
                dynamic().compute_with(Scheduler::Threads(2)).unwrap()
            })
        });
        report("in_pool", plan_ns, Some(rayon_ns), dynamic_ns);

        // From the main thread: each run enters the pool and comes back.
        let plan_ns = time(iterations, || p(Scheduler::Threads(2)));
        let rayon_ns = time(iterations, || rayon_pool.install(rayon));
        let dynamic_ns = time(iterations, || {
            dynamic().compute_with(Scheduler::Threads(2)).unwrap()
        });
        report("from_outside", plan_ns, Some(rayon_ns), dynamic_ns);

        // On the calling thread.
        let plan_ns = time(iterations, || p(Scheduler::Sync));
        let dynamic_ns = time(iterations, || {
            dynamic().compute_with(Scheduler::Sync).unwrap()
        });
        report("sync", plan_ns, None, dynamic_ns);
    }
}

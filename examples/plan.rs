//! The mission's first two examples as `graph!` plans, beside the dynamic graphs.
//!
//! ```text
//! cargo run --release --example plan
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

#[delayed]
fn f(x: f64) -> f64 {
    std::thread::sleep(Duration::from_millis(100));
    x.sqrt()
}

#[delayed]
fn total(xs: Vec<f64>) -> f64 {
    xs.iter().sum()
}

fn timed<T>(what: &str, run: impl FnOnce() -> Result<T, dask::Error>) -> Result<T, dask::Error> {
    let start = Instant::now();
    let value = run()?;
    println!("  {what:<46} {:>5.2} s", start.elapsed().as_secs_f64());
    Ok(value)
}

fn main() -> Result<(), dask::Error> {
    println!("1. add(inc(1), inc(2)), each call sleeping 1 s (3 s serially)");
    // The graph is worked out while this file compiles: two independent incs, then add.
    let plan = graph! {
        let x = inc(1);
        let y = inc(2);
        add(x, y)
    };
    let from_plan = timed("plan:    graph! { .. }.compute()", || plan.compute())?;
    let dynamic = timed("dynamic: add(inc(1), inc(2)).compute()", || {
        add(inc(1), inc(2)).compute()
    })?;
    assert_eq!((from_plan, dynamic), (5, 5));
    println!(
        "  nodes {:?}, critical path {} tasks\n",
        plan.node_names(),
        plan.critical_path_len()
    );

    println!("2. thirty calls of f(x) (sleep 0.1 s, sqrt), then their sum");
    // A plan with an input, written once and run with any list.
    let sum_of_roots = graph!(|xs: Vec<f64>| {
        let roots = for x in xs {
            f(x)
        };
        total(roots)
    });
    let xs: Vec<f64> = (0..30).map(f64::from).collect();
    let from_plan = timed("plan:    30 workers", || {
        sum_of_roots.compute_with(xs.clone(), Scheduler::Threads(30))
    })?;
    let parts: Vec<Delayed<f64>> = xs.iter().map(|&x| f(x)).collect();
    let dynamic = timed("dynamic: 30 workers", || {
        total(parts).compute_with(Scheduler::Threads(30))
    })?;
    assert_eq!(from_plan, dynamic);
    println!("  sum of sqrt(0..30) = {from_plan:.4}\n");

    println!(
        "The first plan as graphviz DOT (built at compile time):\n{}",
        plan.to_dot()
    );
    Ok(())
}

//! Pictures of graphs: the mission's first graph (dynamic and as a plan) and the
//! mission's array mean (collapsed), written to `docs/` as DOT and, when graphviz is
//! installed (`apt-get install graphviz`), as SVG.
//!
//! ```text
//! cargo run --release --example visualize
//! ```

use dask::diagnostics::{Collapse, Coloring, DotOptions};
use dask::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

fn main() -> Result<(), dask::Error> {
    std::fs::create_dir_all("docs").map_err(|e| dask::Error::Internal(e.to_string()))?;
    let z = add(inc(1), inc(2));
    let plan = graph! { let x = inc(1); let y = inc(2); add(x, y) };
    let x = dask::array::random::default_rng(42).normal(0.0, 1.0, [10_000, 10_000], [1_000, 1_000]);
    let mean = x.mean();
    let colored = DotOptions {
        color: Coloring::CriticalPath,
        ..DotOptions::default()
    };
    // 135 tasks: drawn as one node a function, with counts.
    let collapsed = DotOptions {
        collapse: Collapse::Always,
        ..DotOptions::default()
    };

    z.visualize_with("docs/inc_add.dot", &colored)?;
    plan.visualize("docs/plan.dot")?;
    mean.visualize_with("docs/array_mean.dot", &collapsed)?;
    println!("wrote docs/inc_add.dot, docs/plan.dot, docs/array_mean.dot");
    for (what, result) in [
        (
            "docs/inc_add.svg",
            z.visualize_with("docs/inc_add.svg", &colored),
        ),
        ("docs/plan.svg", plan.visualize("docs/plan.svg")),
        (
            "docs/array_mean.svg",
            mean.visualize_with("docs/array_mean.svg", &collapsed),
        ),
    ] {
        match result {
            Ok(()) => println!("wrote {what}"),
            Err(e) => println!("skipped {what}: {e:#}"),
        }
    }
    Ok(())
}

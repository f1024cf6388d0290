//! The mission's three examples on MPI ranks: every rank builds the same graphs, each
//! task runs on one rank, and every rank prints the same `result` lines as a run in
//! one process. The other lines say which rank ran what.
//!
//! ```text
//! apt-get install -y --no-install-recommends libopenmpi-dev openmpi-bin libclang-dev pkg-config
//! cargo build --release --features mpi --example mpi_quickstart
//! mpirun -n 2 target/release/examples/mpi_quickstart
//! target/release/examples/mpi_quickstart        # one process: the same results
//! ```

use dask::array::random;
use dask::prelude::*;
use std::time::{Duration, Instant};

/// Adds one, slowly, and says where.
#[delayed(distributed)]
fn inc(x: i64) -> i64 {
    std::thread::sleep(Duration::from_secs(1));
    println!("rank {}: ran inc({x})", dask::mpi::rank());
    x + 1
}

/// Adds two numbers, slowly, and says where.
#[delayed(distributed)]
fn add(x: i64, y: i64) -> i64 {
    std::thread::sleep(Duration::from_secs(1));
    println!("rank {}: ran add({x}, {y})", dask::mpi::rank());
    x + y
}

/// A square root that takes a tenth of a second; the rank is kept to count them.
#[delayed(distributed)]
fn f(x: f64) -> (f64, usize) {
    std::thread::sleep(Duration::from_millis(100));
    (x.sqrt(), dask::mpi::rank())
}

fn main() -> Result<(), dask::Error> {
    let world = dask::mpi::init()?;
    let me = world.rank();

    let start = Instant::now();
    let total = add(inc(1), inc(2)).compute()?;
    println!("result inc_add {total}");
    println!(
        "rank {me}: add(inc(1), inc(2)) took {:.2} s on {} ranks",
        start.elapsed().as_secs_f64(),
        world.size()
    );

    let start = Instant::now();
    let calls: Vec<Delayed<(f64, usize)>> = (0..30).map(|i| f(f64::from(i))).collect();
    let roots = dask::compute(&calls)?;
    let values: Vec<String> = roots.iter().map(|(v, _)| format!("{v:.6}")).collect();
    println!("result sqrt {}", values.join(" "));
    for r in 0..world.size() {
        let ran = roots.iter().filter(|(_, at)| *at == r).count();
        println!("rank {me}: rank {r} ran {ran} of the 30 calls");
    }
    println!(
        "rank {me}: the 30 calls took {:.2} s",
        start.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    // `--small`: 2,000 x 2,000 in 500 x 500 blocks, for the tests' debug build.
    let (side, chunk) = if std::env::args().any(|a| a == "--small") {
        (2_000, 500)
    } else {
        (10_000, 1_000)
    };
    let x = random::default_rng(42).normal(0.0, 1.0, [side, side], [chunk, chunk]);
    let mean = x.mean().compute()?;
    println!("result mean {mean:.15e}");
    println!(
        "rank {me}: the mean of {side} x {side} normals took {:.2} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

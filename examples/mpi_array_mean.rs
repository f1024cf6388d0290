//! The mission's array on MPI ranks: blocks are made where they are reduced (owner
//! computes by block index), and only partial sums cross. Every rank prints the same
//! `result` lines as one process does.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_array_mean
//! mpirun -n 2 target/release/examples/mpi_array_mean
//! ```
//!
//! `--small` uses a 2,000 x 2,000 array in 500 x 500 blocks (still 16 blocks to place),
//! so the tests can run it in a debug build.

use dask::array::random;
use std::time::Instant;

fn main() -> Result<(), dask::Error> {
    let world = dask::mpi::init()?;
    let (side, chunk) = if std::env::args().any(|a| a == "--small") {
        (2_000, 500)
    } else {
        (10_000, 1_000)
    };
    let x = random::default_rng(42).normal(0.0, 1.0, [side, side], [chunk, chunk]);

    let start = Instant::now();
    let mean = x.mean().compute()?;
    println!("result mean {mean:.15e}");
    println!(
        "rank {}: mean in {:.2} s",
        world.rank(),
        start.elapsed().as_secs_f64()
    );

    // Reductions as operands, blocks shared between consumers, across ranks.
    let start = Instant::now();
    let (m, s) = dask::compute((x.mean(), x.std()))?;
    let z = (&x - x.mean()) / x.std();
    let z_max = z.max().compute()?;
    println!("result mean_std {m:.15e} {s:.15e}");
    println!("result standardised_max {z_max:.15e}");
    println!(
        "rank {}: mean, std and standardised max in {:.2} s",
        world.rank(),
        start.elapsed().as_secs_f64()
    );

    let sym = (&x + &x.t()).mean().compute()?;
    println!("result x_plus_xt_mean {sym:.15e}");
    Ok(())
}

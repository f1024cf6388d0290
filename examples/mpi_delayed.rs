//! A data pipeline on MPI ranks: sixteen parts are made, summarised and merged in a
//! tree, each task on one rank, with a summary type of the program's own crossing
//! between ranks (serde). `--fail` makes one part corrupt: every rank then reports the
//! same error, naming the task and the rank where it failed. `--repeat` computes the
//! summary 50 times back to back. `--plain-output` asks for
//! the value of a plain `#[delayed]` function: it cannot cross, so every rank makes it
//! (from the merged summary, which crosses). `--die` ends the process that meets the
//! bad part, as a lost node would: `mpirun` then ends the job. `--root-only` sends the
//! result to rank 0 only (`dask::mpi::compute_on_root`).
//!
//! ```text
//! cargo build --release --features mpi --example mpi_delayed
//! mpirun -n 2 target/release/examples/mpi_delayed
//! mpirun -n 2 target/release/examples/mpi_delayed --fail
//! ```

use dask::prelude::*;
use serde::{Deserialize, Serialize};

/// What a part says about its values; merges with another part's.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Summary {
    parts: u32,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

/// Part `i`'s values (a stand-in for reading a file): deterministic, so every run and
/// every rank count gives the same numbers.
#[delayed(distributed)]
fn load(i: u32) -> Vec<f64> {
    (0..100_000_u32)
        .map(|k| f64::from(k.wrapping_mul(2_654_435_761) ^ i) / f64::from(u32::MAX))
        .collect()
}

/// A part's summary; part `corrupt` fails, as a bad file would.
#[delayed(distributed)]
fn summarise(values: Vec<f64>, i: u32, corrupt: Option<u32>) -> Result<Summary, String> {
    println!("rank {}: summarised part {i}", dask::mpi::rank());
    if corrupt == Some(i) && std::env::args().any(|a| a == "--die") {
        // A rank dying mid-run (out of memory, a node lost): mpirun ends the job.
        std::process::exit(3);
    }
    if corrupt == Some(i) {
        return Err(format!("part {i} is corrupt"));
    }
    Ok(Summary {
        parts: 1,
        count: values.len() as u64,
        sum: values.iter().sum(),
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// A plain `#[delayed]` function: its value stays in the process that makes it, so an
/// output of it is made on every rank.
#[delayed]
fn describe(s: Summary) -> String {
    println!("rank {}: described", dask::mpi::rank());
    format!("{} parts", s.parts)
}

/// Two summaries as one.
#[delayed(distributed)]
fn merge(a: Summary, b: Summary) -> Summary {
    Summary {
        parts: a.parts + b.parts,
        count: a.count + b.count,
        sum: a.sum + b.sum,
        min: a.min.min(b.min),
        max: a.max.max(b.max),
    }
}

fn main() -> Result<(), dask::Error> {
    let world = dask::mpi::init()?;
    let corrupt = std::env::args()
        .any(|a| a == "--fail" || a == "--die")
        .then_some(13);
    let mut level: Vec<Delayed<Summary>> =
        (0..16).map(|i| summarise(load(i), i, corrupt)).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => merge(a, b),
                [a] => a.clone(),
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    if std::env::args().any(|a| a == "--root-only") {
        // Every rank runs the graph; only rank 0 receives the summary.
        match dask::mpi::compute_on_root(&level[0])? {
            Some(s) => println!("result on root: parts {} count {}", s.parts, s.count),
            None => println!("rank {}: the result went to rank 0", world.rank()),
        }
        return Ok(());
    }
    if std::env::args().any(|a| a == "--repeat") {
        // Computes back to back: a rank that is done with one starts the next while
        // others may still wait for its `done`, so messages of the next run arrive early.
        let mut counts = 0;
        for _ in 0..50 {
            counts += level[0].compute()?.count;
        }
        println!("result repeated count {counts}");
        return Ok(());
    }
    if std::env::args().any(|a| a == "--plain-output") {
        match describe(&level[0]).compute() {
            Ok(text) => println!("result described {text}"),
            Err(e) => println!("result error: {e}"),
        }
        return Ok(());
    }
    match level[0].compute() {
        Ok(s) => {
            println!("result parts {} count {}", s.parts, s.count);
            println!(
                "result mean {:.12} min {:.12} max {:.12}",
                s.sum / s.count as f64,
                s.min,
                s.max
            );
        }
        Err(e) => println!("result error: {e}"),
    }
    println!("rank {} of {}: done", world.rank(), world.size());
    Ok(())
}

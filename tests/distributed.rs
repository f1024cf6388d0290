//! `#[delayed(distributed)]` without MPI: the same lazy calls, computed in one process
//! (the MPI runs are in `tests/mpi.rs`).

use dask::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Stats {
    n: usize,
    total: i64,
}

#[delayed(distributed)]
fn stats(values: Vec<i64>) -> Stats {
    Stats {
        n: values.len(),
        total: values.iter().sum(),
    }
}

#[delayed(pure, distributed)]
fn square(x: i64) -> Result<i64, String> {
    x.checked_mul(x)
        .ok_or_else(|| format!("{x} squared overflows"))
}

#[delayed(distributed)]
fn merge(a: Stats, b: Stats) -> Stats {
    Stats {
        n: a.n + b.n,
        total: a.total + b.total,
    }
}

#[test]
fn distributed_calls_compute_like_any_other_in_one_process() {
    let a = stats(vec![1, 2, 3]);
    let b = stats(vec![10]);
    assert_eq!(merge(&a, &b).compute().unwrap(), Stats { n: 4, total: 16 });
    for scheduler in [Scheduler::Sync, Scheduler::Threads(3)] {
        assert_eq!(
            merge(&a, &b).compute_with(scheduler).unwrap(),
            Stats { n: 4, total: 16 }
        );
    }
}

#[test]
fn pure_and_distributed_combine() {
    assert_eq!(square(7).key(), square(7).key(), "equal calls are one task");
    assert_ne!(square(7).key(), square(8).key());
    assert_eq!(square(7).compute().unwrap(), 49);
    let err = square(i64::MAX).compute().unwrap_err();
    assert!(format!("{err:#}").contains("overflows"), "{err:#}");
}

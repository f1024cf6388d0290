//! One rayon pool per worker count, built on first use and kept for the process.
//!
//! Looking a pool up is on the path of every compute, including plans of three nodes,
//! so counts up to 64 are a lock-free array of `OnceLock`s; larger ones go through a
//! mutex-guarded map. Pools are leaked: they live as long as the process either way.

use crate::Error;
use rayon::{ThreadPool, ThreadPoolBuilder};
use rustc_hash::FxHashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

const FAST: usize = 64;

pub(crate) fn get(workers: usize) -> Result<&'static ThreadPool, Error> {
    static SMALL: [OnceLock<&'static ThreadPool>; FAST] = [const { OnceLock::new() }; FAST];
    static LARGE: OnceLock<Mutex<FxHashMap<usize, &'static ThreadPool>>> = OnceLock::new();
    if workers == 0 {
        return Err(Error::Scheduler(
            "Threads(0): a thread pool needs at least one worker".into(),
        ));
    }
    if let Some(slot) = SMALL.get(workers - 1) {
        if let Some(pool) = slot.get() {
            return Ok(pool);
        }
        let pool = build(workers)?;
        // Two threads may race to build the first pool of a size; one is kept.
        return Ok(slot.get_or_init(|| pool));
    }
    let mut large = LARGE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(pool) = large.get(&workers) {
        return Ok(pool);
    }
    let pool = build(workers)?;
    large.insert(workers, pool);
    Ok(pool)
}

fn build(workers: usize) -> Result<&'static ThreadPool, Error> {
    ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(move |i| format!("dask-{workers}-worker-{i}"))
        .build()
        .map(|pool| &*Box::leak(Box::new(pool)))
        .map_err(|e| Error::Scheduler(format!("Threads({workers}): cannot start the pool: {e}")))
}

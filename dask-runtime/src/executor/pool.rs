//! Thread pools for [`Scheduler::Threads`](crate::Scheduler::Threads): a small cache of
//! rayon pools by worker count, most recently used last. A pool is built once under the
//! cache's lock (a hundred threads asking for the same size at once build one pool);
//! past [`MAX_CACHED_POOLS`] sizes the least recently used pool leaves the cache, and
//! its threads end once the last run holding it is done. So a program that tries
//! `Threads(1)` to `Threads(100)` keeps a few pools, not five thousand threads.
//!
//! Dynamic graphs on more than [`BLOCKING_PER_CORE`] workers a core do not use these
//! pools: they run on threads started for the run (`blocking.rs`).

use crate::Error;
use crate::options::{MAX_CACHED_POOLS, MAX_WORKERS, default_workers};
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::{Arc, Mutex, PoisonError};

static POOLS: Mutex<Vec<(usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());

/// Worker counts above this many a core run dynamic graphs on threads started for the
/// run rather than on a rayon pool, whose spinning idle workers would starve each other
/// on few cores: such counts are for tasks that block.
pub(crate) const BLOCKING_PER_CORE: usize = 4;

/// The worker count above which a dynamic graph runs on the blocking executor.
pub(crate) fn blocking_above() -> usize {
    BLOCKING_PER_CORE * default_workers()
}

/// Refuses worker counts of 0 and above [`MAX_WORKERS`].
pub(crate) fn check_workers(workers: usize) -> Result<(), Error> {
    if workers == 0 {
        return Err(Error::Scheduler(
            "Threads(0): a thread pool needs at least one worker".into(),
        ));
    }
    if workers > MAX_WORKERS {
        return Err(Error::Scheduler(format!(
            "Threads({workers}): at most {MAX_WORKERS} workers (dask::MAX_WORKERS); \
             for more blocking work at once, split it into fewer, longer tasks"
        )));
    }
    Ok(())
}

/// The pool of `workers` threads, built if it is not cached.
pub(crate) fn get(workers: usize) -> Result<Arc<ThreadPool>, Error> {
    check_workers(workers)?;
    let evicted;
    let pool = {
        let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = pools.iter().position(|(n, _)| *n == workers) {
            if at + 1 < pools.len() {
                let entry = pools.remove(at);
                pools.push(entry);
            }
            return Ok(Arc::clone(&pools[pools.len() - 1].1));
        }
        let pool = Arc::new(build(workers)?);
        evicted = (pools.len() >= MAX_CACHED_POOLS).then(|| pools.remove(0));
        pools.push((workers, Arc::clone(&pool)));
        pool
    };
    // The evicted pool's threads end when the last run holding it lets go.
    drop(evicted);
    Ok(pool)
}

fn build(workers: usize) -> Result<ThreadPool, Error> {
    ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(move |i| format!("dask-{workers}-worker-{i}"))
        .build()
        .map_err(|e| Error::Scheduler(format!("Threads({workers}): cannot start the pool: {e}")))
}

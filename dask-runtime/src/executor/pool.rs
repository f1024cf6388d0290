//! One rayon pool per worker count, built on first use and kept for the process.

use crate::Error;
use rayon::{ThreadPool, ThreadPoolBuilder};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

pub(crate) fn get(workers: usize) -> Result<Arc<ThreadPool>, Error> {
    if workers == 0 {
        return Err(Error::Scheduler(
            "Threads(0): a thread pool needs at least one worker".into(),
        ));
    }
    static POOLS: OnceLock<Mutex<FxHashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(pool) = pools.get(&workers) {
        return Ok(Arc::clone(pool));
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(move |i| format!("dask-{workers}-worker-{i}"))
        .build()
        .map_err(|e| Error::Scheduler(format!("Threads({workers}): cannot start the pool: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(workers, Arc::clone(&pool));
    Ok(pool)
}

//! Thread pools: reused, bounded, built once, and a clear error past the ceiling. A test
//! binary of its own, the tests one at a time: they count the process's threads.

use dask::prelude::*;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::alone;

#[delayed]
fn double(x: i64) -> i64 {
    2 * x
}

#[delayed]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

/// The names of this process's live threads that start with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|name| name.starts_with(prefix))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn pools_of_many_sizes_do_not_pile_up() {
    let _alone = alone();
    let plan = graph! {
        let a = double(1);
        let b = double(2);
        add(a, b)
    };
    for n in 1..=60 {
        let x = dask::delayed_value(n).map(|v| v * 2);
        assert_eq!(x.compute_with(Scheduler::Threads(n)).unwrap(), 2 * n);
        // Plans always run on a rayon pool of n threads.
        assert_eq!(plan.compute_with(Scheduler::Threads(n)).unwrap(), 6);
    }
    // Evicted pools end their threads shortly after their last run.
    let begin = Instant::now();
    let cached_at_most: usize = (60 - dask::MAX_CACHED_POOLS + 1..=60).sum();
    while threads_named("dask-") > cached_at_most && begin.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let live = threads_named("dask-");
    assert!(live <= cached_at_most, "{live} worker threads alive");
}

#[test]
fn many_threads_asking_for_one_size_at_once_share_one_pool() {
    let _alone = alone();
    let start = Arc::new(Barrier::new(50));
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let x = dask::delayed_value(i).map(|v| v + 1);
                x.compute_with(Scheduler::Threads(7)).unwrap()
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        assert_eq!(t.join().unwrap(), i + 1);
    }
    assert_eq!(threads_named("dask-7-worker"), 7);
}

#[test]
fn many_workers_run_blocking_tasks_all_at_once() {
    let _alone = alone();
    // 64 tasks that each wait for all 64 to have started: only 64-way concurrency
    // finishes (a barrier with a timeout, so a regression fails instead of hanging).
    let arrived = Arc::new((Mutex::new(0_usize), std::sync::Condvar::new()));
    let parts: Vec<Delayed<bool>> = (0..64)
        .map(|_| {
            let arrived = Arc::clone(&arrived);
            dask::delayed_value(()).map(move |()| {
                let (count, all) = &*arrived;
                let mut n = count.lock().unwrap();
                *n += 1;
                all.notify_all();
                let deadline = Instant::now() + Duration::from_secs(20);
                while *n < 64 && Instant::now() < deadline {
                    n = all.wait_timeout(n, Duration::from_millis(50)).unwrap().0;
                }
                *n >= 64
            })
        })
        .collect();
    let met = dask::compute_with(parts, Scheduler::Threads(64)).unwrap();
    assert!(met.iter().all(|&m| m), "not all 64 tasks ran at once");
    // The run's threads end with it (the OS may take a moment to reap them after the
    // scope has joined them).
    let begin = Instant::now();
    while threads_named("dask-blocking") > 0 && begin.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(threads_named("dask-blocking"), 0);
}

#[test]
fn too_many_workers_is_a_clear_error() {
    let _alone = alone();
    let x = dask::delayed_value(1).map(|v| v + 1);
    let begin = Instant::now();
    let err = x.compute_with(Scheduler::Threads(100_000)).unwrap_err();
    assert!(begin.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(&err, Error::Scheduler(m) if m.contains("at most 1024")),
        "{err}"
    );
    let err = x.compute_with(Scheduler::Threads(0)).unwrap_err();
    assert!(matches!(err, Error::Scheduler(_)));
}

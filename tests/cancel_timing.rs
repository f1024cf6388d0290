//! Cancellation and deadlines against the clock: a test binary of its own, one test at
//! a time, so no other test's tasks share the `Threads(2)` pool while they are timed.

use dask::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::{alone, sleepers};

#[test]
fn a_cancelled_run_stops_promptly() {
    let _alone = alone();
    let started = Arc::new(AtomicUsize::new(0));
    let parts = sleepers(200, Duration::from_millis(50), &started);
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            token.cancel();
        })
    };
    let begin = Instant::now();
    let options = Options::new()
        .scheduler(Scheduler::Threads(2))
        .cancel_on(&token);
    let err = dask::compute_with(parts, options).unwrap_err();
    let took = begin.elapsed();
    canceller.join().unwrap();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert_eq!(err.to_string(), "the run was cancelled");
    assert!(took < Duration::from_millis(300), "took {took:?}");
    let started = started.load(Ordering::SeqCst);
    assert!(started < 10, "{started} tasks started");
}

#[test]
fn a_deadline_stops_the_run_and_names_the_running_tasks() {
    let _alone = alone();
    let started = Arc::new(AtomicUsize::new(0));
    let parts = sleepers(200, Duration::from_millis(50), &started);
    let keys: Vec<String> = parts.iter().map(Delayed::key).collect();
    let begin = Instant::now();
    let options = Options::new()
        .scheduler(Scheduler::Threads(2))
        .deadline(Duration::from_millis(200));
    let err = dask::compute_with(parts, options).unwrap_err();
    let took = begin.elapsed();
    let Error::DeadlineExceeded { running } = &err else {
        panic!("{err:?}");
    };
    assert!(took < Duration::from_millis(300), "took {took:?}");
    assert!(started.load(Ordering::SeqCst) < 12);
    // Both workers were in a task when the deadline was found passed, but the one that
    // found it: at least one task is named, each one of the graph's.
    assert!(!running.is_empty() && running.len() <= 2, "{running:?}");
    assert!(running.iter().all(|k| keys.contains(k)), "{running:?}");
    assert!(err.to_string().contains(&running[0]), "{err}");
}

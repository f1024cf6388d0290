//! Cancellation, deadlines and `compute_iter`'s finishing order against the clock: a
//! test binary of its own, one test at a time, so no other test's tasks share the
//! `Threads(2)` pool while they are timed.

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
    assert_eq!(format!("{err:#}"), "the run was cancelled");
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
    assert!(format!("{err:#}").contains(&running[0]), "{err}");
}

#[test]
fn compute_iter_yields_in_finishing_order() {
    let _alone = alone();
    let delays = [300_u64, 0, 150];
    let parts: Vec<Delayed<u64>> = delays
        .iter()
        .map(|&ms| {
            dask::delayed_value(ms).map(|ms| {
                std::thread::sleep(Duration::from_millis(ms));
                ms
            })
        })
        .collect();
    let got: Vec<(usize, u64)> = dask::compute_iter_with(parts, Scheduler::Threads(3))
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, [(1, 0), (2, 150), (0, 300)]);
}

#[test]
fn compute_iter_ends_with_the_runs_error_and_dropping_it_cancels() {
    let _alone = alone();
    let parts = vec![
        dask::delayed_value(1),
        dask::delayed_value(0).map(|_: i32| -> i32 {
            std::thread::sleep(Duration::from_millis(50));
            panic!("bad part")
        }),
    ];
    let items: Vec<_> = dask::compute_iter_with(parts, Scheduler::Threads(2)).collect();
    assert!(matches!(items[0], Ok((0, 1))), "{items:?}");
    assert!(
        matches!(&items[1], Err(Error::TaskPanicked { .. })),
        "{items:?}"
    );
    assert_eq!(items.len(), 2);

    let started = Arc::new(AtomicUsize::new(0));
    let slow = sleepers(40, Duration::from_millis(50), &started);
    let mut iter = dask::compute_iter_with(slow, Scheduler::Threads(2));
    let first = iter.next();
    assert!(matches!(first, Some(Ok(_))), "{first:?}");
    drop(iter); // cancels: the other tasks do not all start
    assert!(started.load(Ordering::SeqCst) < 40);
}

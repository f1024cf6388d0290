//! Trust under faults: cancellation, deadlines, retries, failing callbacks, panicking
//! destructors, pools. Each test is the regression test of a finding: it failed before
//! the fix.

use dask::diagnostics::{Callback, Profiler, RunInfo, TaskEvent};
use dask::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::sleepers;

#[test]
fn a_token_cancelled_before_the_run_runs_nothing_on_every_scheduler() {
    for scheduler in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(3),
    ] {
        let started = Arc::new(AtomicUsize::new(0));
        let parts = sleepers(5, Duration::ZERO, &started);
        let token = CancelToken::new();
        token.cancel();
        let err = dask::compute_with(parts, Options::from(scheduler).cancel_on(&token));
        assert!(matches!(err, Err(Error::Cancelled)));
        assert_eq!(started.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn a_task_sees_its_own_run_cancelled_and_other_runs_do_not() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    for scheduler in [
        Scheduler::Sync,
        Scheduler::Threads(2),
        Scheduler::Threads(40),
    ] {
        let token = CancelToken::new();
        let inner = token.clone();
        let seen_inside = Arc::clone(&seen);
        let long = dask::delayed_value(()).map(move |()| {
            inner.cancel();
            let begin = Instant::now();
            while !dask::is_cancelled() {
                assert!(begin.elapsed() < Duration::from_secs(10), "never saw it");
            }
            // A compute started inside the task, with no token of its own, sees the
            // enclosing run's cancellation; with a token of its own, its own.
            let nested = dask::delayed_value(1).map(|_| dask::is_cancelled());
            let inherits = nested.compute_with(Scheduler::Sync).unwrap();
            let own = Options::new()
                .scheduler(Scheduler::Sync)
                .cancel_on(&CancelToken::new());
            let own = nested.compute_with(own).unwrap();
            seen_inside.lock().unwrap().push((inherits, own));
        });
        let err = long.compute_with(Options::from(scheduler).cancel_on(&token));
        assert!(matches!(err, Err(Error::Cancelled)), "{err:?}");
    }
    assert_eq!(*seen.lock().unwrap(), [(true, false); 3]);
    let untracked = dask::delayed_value(1).map(|_| dask::is_cancelled());
    assert!(!untracked.compute().unwrap());
}

#[test]
fn a_task_that_stops_early_on_cancellation_gives_cancelled_not_its_error() {
    let token = CancelToken::new();
    let inner = token.clone();
    let parts: Vec<Delayed<u64>> = (0..4_u64)
        .map(|i| {
            let inner = inner.clone();
            dask::delayed_value(i).try_map(move |i| {
                inner.cancel();
                if dask::is_cancelled() {
                    return Err(format!("task {i} stopped early"));
                }
                Ok(i)
            })
        })
        .collect();
    for scheduler in [
        Scheduler::Sync,
        Scheduler::Threads(2),
        Scheduler::Threads(40),
    ] {
        let err = dask::compute_with(parts.clone(), Options::from(scheduler).cancel_on(&token));
        assert!(matches!(err, Err(Error::Cancelled)), "{err:?}");
    }
}

#[test]
fn a_plan_can_be_cancelled_and_refuses_retries() {
    let token = CancelToken::new();
    token.cancel();
    let plan = graph! {
        let a = common::inc(1);
        let b = common::inc(a);
        b
    };
    let err = plan
        .compute_with(Options::new().cancel_on(&token))
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    let err = plan.compute_with(Options::new().retries(2)).unwrap_err();
    assert!(format!("{err:#}").contains("retries"), "{err}");
    assert_eq!(plan.compute_with(Options::new()).unwrap(), 3);
}

#[test]
fn a_plan_deadline_names_the_running_binding() {
    let plan = graph! {
        let slow = { std::thread::sleep(Duration::from_millis(150)); 1 };
        let after = common::inc(slow);
        after
    };
    let options = Options::new()
        .scheduler(Scheduler::Sync)
        .deadline(Duration::from_millis(50));
    let err = plan.compute_with(options).unwrap_err();
    // `slow` had ended when `after` was due: nothing runs past the deadline.
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err:?}");
}

/// Fails its first `failures` attempts, then returns the attempt number.
fn flaky(failures: usize, panics: bool) -> (Delayed<usize>, Arc<AtomicUsize>) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&attempts);
    let task = dask::delayed_value(()).try_map(move |()| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= failures {
            if panics {
                panic!("attempt {n} panicked");
            }
            return Err(format!("attempt {n} failed"));
        }
        Ok(n)
    });
    (task, attempts)
}

/// Counts task_start events, per attempt number.
#[derive(Default)]
struct Attempts(Mutex<Vec<u32>>);

impl Callback for Attempts {
    fn task_start(&self, task: &TaskEvent) {
        self.0.lock().unwrap().push(task.attempt);
    }
}

#[test]
fn retries_run_a_failed_task_again_and_callbacks_see_every_attempt() {
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        for panics in [false, true] {
            let (task, attempts) = flaky(2, panics);
            let seen = Arc::new(Attempts::default());
            let hooks: Vec<Arc<dyn Callback>> = vec![seen.clone()];
            let options = Options::from(scheduler.clone())
                .retries(2)
                .callbacks(&hooks);
            assert_eq!(task.compute_with(options).unwrap(), 3);
            assert_eq!(attempts.load(Ordering::SeqCst), 3);
            // The leaf ran once, the flaky task three times.
            let mut seen = seen.0.lock().unwrap().clone();
            seen.sort_unstable();
            assert_eq!(seen, [1, 1, 2, 3]);

            let (task, attempts) = flaky(5, panics);
            let err = task
                .compute_with(Options::from(scheduler.clone()).retries(1))
                .unwrap_err();
            assert_eq!(attempts.load(Ordering::SeqCst), 2);
            let text = format!("{err:#}");
            assert!(text.contains("after 2 attempts"), "{text}");
            assert!(text.contains("attempt 2"), "{text}");
            match err {
                Error::TaskFailed { attempts, .. } | Error::TaskPanicked { attempts, .. } => {
                    assert_eq!(attempts, 2)
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn a_retried_task_reads_its_inputs_again() {
    let shared = dask::delayed_value(vec![1_i64, 2, 3]).map(|v| v);
    let tries = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&tries);
    let sum = shared.try_map(move |v: Vec<i64>| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err("first attempt fails");
        }
        Ok(v.iter().sum::<i64>())
    });
    let other = shared.map(|v| v.len() as i64);
    let options = Options::new().scheduler(Scheduler::Threads(2)).retries(1);
    assert_eq!(dask::compute_with((sum, other), options).unwrap(), (6, 3));
}

/// Panics in the hook named by `at` for the task `target`.
struct PanicsAt {
    at: &'static str,
    target: &'static str,
}

impl Callback for PanicsAt {
    fn task_start(&self, task: &TaskEvent) {
        if self.at == "start" && task.name == self.target {
            panic!("bad hook");
        }
    }
    fn task_finish(&self, task: &TaskEvent) {
        if self.at == "finish" && task.name == self.target {
            panic!("bad hook");
        }
    }
}

/// A chain `first -> second -> ... ` of `n` tasks that count their runs.
fn chain(n: usize, runs: &Arc<AtomicUsize>) -> Delayed<i64> {
    let counter = Arc::clone(runs);
    let mut x = dask::delayed_value(0_i64).map(move |v| {
        counter.fetch_add(1, Ordering::SeqCst);
        v
    });
    for _ in 1..n {
        let counter = Arc::clone(runs);
        x = x.map(move |v| {
            counter.fetch_add(1, Ordering::SeqCst);
            v + 1
        });
    }
    x
}

#[test]
fn a_failing_callback_stops_the_run_on_every_scheduler() {
    let schedulers = [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
    ];
    // task_finish of the first `map` panics: no later task runs (1 ran); task_start of
    // the first `map` panics: that task does not run either (0 ran).
    for (at, ran) in [("finish", 1), ("start", 0)] {
        for scheduler in schedulers.clone() {
            let runs = Arc::new(AtomicUsize::new(0));
            let x = chain(200, &runs);
            let hooks: Vec<Arc<dyn Callback>> = vec![Arc::new(PanicsAt { at, target: "map" })];
            let err = x
                .compute_with(Options::from(scheduler.clone()).callbacks(&hooks))
                .unwrap_err();
            assert!(
                matches!(&err, Error::Callback(m) if m == "bad hook"),
                "{err:?}"
            );
            assert_eq!(runs.load(Ordering::SeqCst), ran, "{at} on {scheduler:?}");
        }
    }
}

/// A value whose `Drop` panics.
#[derive(Clone)]
struct PanicsOnDrop(Arc<AtomicUsize>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        if !std::thread::panicking() {
            panic!("drop panicked");
        }
    }
}

#[delayed]
fn gather(a: PanicsOnDrop, b: PanicsOnDrop, c: i64) -> i64 {
    let _ = (a, b);
    c
}

#[test]
fn panics_in_leftover_values_drop_are_errors_not_aborts() {
    for scheduler in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
    ] {
        let drops = Arc::new(AtomicUsize::new(0));
        let make = |d: &Arc<AtomicUsize>| {
            let d = Arc::clone(d);
            dask::delayed_value(()).map(move |()| PanicsOnDrop(Arc::clone(&d)))
        };
        let failing = dask::delayed_value(()).try_map(|()| {
            std::thread::sleep(Duration::from_millis(20));
            Err::<i64, _>("late failure")
        });

        // Two values wait in their slots for a reader that never runs (its third input
        // fails): the failed run drops both, and both drops panic.
        let reader = gather(make(&drops), make(&drops), failing.clone());
        let err = reader.compute_with(scheduler.clone()).unwrap_err();
        assert!(format!("{err:#}").contains("late failure"), "{err}");
        assert_eq!(drops.load(Ordering::SeqCst), 2, "{scheduler:?}");

        // The same with the values as outputs of the failed run.
        let drops = Arc::new(AtomicUsize::new(0));
        let (a, b) = (make(&drops), make(&drops));
        let failing = failing.map(|_| PanicsOnDrop(Arc::new(AtomicUsize::new(0))));
        let Err(err) = dask::compute_with(vec![a, b, failing], scheduler.clone()) else {
            panic!("the run should fail");
        };
        assert!(format!("{err:#}").contains("late failure"), "{err}");
        assert_eq!(drops.load(Ordering::SeqCst), 2, "{scheduler:?}");
    }
}

#[test]
fn a_panic_in_a_plan_for_stage_iterator_is_a_task_error() {
    struct Exploding;
    impl Iterator for Exploding {
        type Item = i64;
        fn next(&mut self) -> Option<i64> {
            panic!("iterator exploded")
        }
    }
    let plan = graph! {
        let ys = for x in Exploding { common::inc(x) };
        ys
    };
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        let seen = Arc::new(Balance::default());
        let hooks: Vec<Arc<dyn Callback>> = vec![seen.clone()];
        let err = plan
            .compute_with(Options::from(scheduler).callbacks(&hooks))
            .unwrap_err();
        match &err {
            Error::TaskPanicked { key, message, .. } => {
                assert_eq!(key, "ys");
                assert!(message.contains("iterator exploded"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // The stage that failed was started and finished, as callbacks are told.
        let (starts, finishes) = *seen.0.lock().unwrap();
        assert_eq!((starts, finishes), (1, 1));
    }
}

#[test]
fn overlapping_profiled_runs_each_record_every_task() {
    // Passed to the four computes, not registered: a registered hook would also see the
    // runs of the other tests in this binary.
    let profiler = Profiler::new();
    let hooks: Vec<Arc<dyn Callback>> = vec![Arc::new(profiler.clone())];
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (start, hooks) = (Arc::clone(&start), hooks.clone());
            std::thread::spawn(move || {
                let parts: Vec<_> = (0..2_000_i64)
                    .map(|i| dask::delayed_value(i).map(move |v| v * t))
                    .collect();
                start.wait();
                let options = Options::from(Scheduler::Threads(2)).callbacks(&hooks);
                dask::compute_with(parts, options).unwrap()
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(profiler.tasks(), 4 * 4_000);
}

#[test]
fn a_new_profiler_at_a_reused_address_records_its_runs() {
    for round in 0..40 {
        let profiler = Profiler::new();
        let hooks: Vec<Arc<dyn Callback>> = vec![Arc::new(profiler.clone())];
        let parts: Vec<_> = (0..64_i64)
            .map(|i| dask::delayed_value(i).map(|v| v + 1))
            .collect();
        dask::compute_with(
            parts,
            Options::from(Scheduler::Threads(2)).callbacks(&hooks),
        )
        .unwrap();
        assert_eq!(profiler.tasks(), 128, "round {round}");
    }
}

/// Counts task_start and task_finish events.
#[derive(Default)]
struct Balance(Mutex<(usize, usize)>);

impl Callback for Balance {
    fn task_start(&self, _: &TaskEvent) {
        self.0.lock().unwrap().0 += 1;
    }
    fn task_finish(&self, _: &TaskEvent) {
        self.0.lock().unwrap().1 += 1;
    }
}

/// Records each run's id from start to finish, and each task event's run id.
#[derive(Default)]
struct RunIds(Mutex<(Vec<u64>, Vec<u64>)>);

impl Callback for RunIds {
    fn start(&self, run: &RunInfo) {
        self.0.lock().unwrap().0.push(run.id.get());
    }
    fn task_finish(&self, task: &TaskEvent) {
        self.0.lock().unwrap().1.push(task.run.get());
    }
}

#[test]
fn every_event_carries_its_runs_id() {
    let ids = Arc::new(RunIds::default());
    let hooks: Vec<Arc<dyn Callback>> = vec![ids.clone()];
    let x = dask::delayed_value(1).map(|v| v + 1);
    for _ in 0..3 {
        x.compute_with(Options::new().callbacks(&hooks)).unwrap();
    }
    let (runs, events) = &*ids.0.lock().unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.windows(2).all(|w| w[0] < w[1]), "{runs:?}");
    let expected: Vec<u64> = runs.iter().flat_map(|&r| [r, r]).collect();
    assert_eq!(events, &expected);
}

#[test]
fn a_graph_above_the_task_ceiling_is_refused_before_it_runs() {
    let runs = Arc::new(AtomicUsize::new(0));
    let x = chain(1_000, &runs);
    let err = x.compute_with(Options::new().max_tasks(999)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooManyTasks {
                tasks: 1_001,
                limit: 999
            }
        ),
        "{err:?}"
    );
    assert!(format!("{err:#}").contains("1001 tasks"), "{err}");
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!(
        x.compute_with(Options::new().max_tasks(1_001)).unwrap(),
        999
    );
}

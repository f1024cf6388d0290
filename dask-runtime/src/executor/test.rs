use crate::delayed::{Arg, node};
use crate::graph::Layout;
use crate::{Delayed, Error, Scheduler, compute_with, delayed_value};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// A node reading two inputs, for hand-built shapes.
fn pair<A, B, O, F>(name: &'static str, a: &Delayed<A>, b: &Delayed<B>, f: F) -> Delayed<O>
where
    A: Clone + Send + Sync + 'static,
    B: Clone + Send + Sync + 'static,
    O: Send + Sync + 'static,
    F: Fn(A, B) -> O + Send + Sync + 'static,
{
    node(
        name,
        (Arg::node(a.clone()), (Arg::node(b.clone()), ())),
        move |(a, (b, ())), inputs| Ok(f(a.take(inputs)?, b.take(inputs)?)),
    )
}

#[test]
fn layout_puts_dependencies_first_and_keeps_siblings_together() {
    let a = delayed_value(1);
    let b = delayed_value(2);
    let ab = pair("ab", &a, &b, |x: i32, y: i32| x + y);
    let c = delayed_value(3);
    let top = pair("top", &ab, &c, |x: i32, y: i32| x * y);
    let outputs = [top.node(), ab.node(), top.node()];
    let layout = Layout::new(&outputs).unwrap();
    let names: Vec<_> = layout.nodes.iter().map(|n| n.name()).collect();
    assert_eq!(names, ["value", "value", "ab", "value", "top"]);
    assert_eq!(layout.deps(2), [0, 1]);
    assert_eq!(layout.deps(4), [2, 3]);
    assert_eq!(layout.consumers(2), [4]);
    assert_eq!(layout.outputs, [4, 2, 4]);
}

#[test]
fn the_same_input_twice_is_read_twice() {
    let x = delayed_value(21_i64);
    let doubled = pair("add", &x, &x, |a: i64, b: i64| a + b);
    for s in [Scheduler::Sync, Scheduler::Threads(2)] {
        assert_eq!(doubled.compute_with(s).unwrap(), 42);
    }
}

#[test]
fn sync_runs_every_task_on_the_calling_thread_in_a_fixed_order() {
    let seen: Arc<Mutex<Vec<(usize, ThreadId)>>> = Arc::default();
    let parts: Vec<Delayed<usize>> = (0..50)
        .map(|i| {
            let seen = Arc::clone(&seen);
            delayed_value(i).map(move |v| {
                seen.lock().unwrap().push((v, std::thread::current().id()));
                v
            })
        })
        .collect();
    let first = compute_with(parts.clone(), Scheduler::Sync).unwrap();
    let order_one: Vec<usize> = seen.lock().unwrap().drain(..).map(|(v, _)| v).collect();
    compute_with(parts, Scheduler::Sync).unwrap();
    let runs = seen.lock().unwrap().clone();
    assert_eq!(first, (0..50).collect::<Vec<_>>());
    assert_eq!(order_one, runs.iter().map(|r| r.0).collect::<Vec<_>>());
    assert!(runs.iter().all(|r| r.1 == std::thread::current().id()));
}

#[test]
fn threads_n_runs_n_tasks_at_once() {
    // Each task waits (bounded) until all four are running: only four workers can do it.
    let running = Arc::new(AtomicUsize::new(0));
    let parts: Vec<Delayed<bool>> = (0..4)
        .map(|i| {
            let running = Arc::clone(&running);
            delayed_value(i).map(move |_| {
                running.fetch_add(1, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(10);
                while running.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                running.load(Ordering::SeqCst) >= 4
            })
        })
        .collect();
    assert_eq!(
        compute_with(parts, Scheduler::Threads(4)).unwrap(),
        [true; 4]
    );
}

#[test]
fn threads_zero_is_an_error() {
    let err = delayed_value(1)
        .compute_with(Scheduler::Threads(0))
        .unwrap_err();
    assert!(
        matches!(err, Error::Scheduler(ref m) if m.contains("at least one worker")),
        "{err}"
    );
}

#[test]
fn a_panic_stops_the_run_and_names_the_task() {
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        let started = Arc::new(AtomicUsize::new(0));
        let bad = delayed_value(0_u32).map(|_| -> u32 { panic!("boom at the start") });
        let mut parts = vec![bad.clone()];
        for i in 0..2_000 {
            let started = Arc::clone(&started);
            parts.push(delayed_value(i).map(move |v| {
                started.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_micros(200));
                v
            }));
        }
        let err = compute_with(parts, scheduler.clone()).unwrap_err();
        match &err {
            Error::TaskPanicked {
                name, key, message, ..
            } => {
                assert_eq!(*name, "map");
                assert_eq!(*key, bad.key());
                assert_eq!(message, "boom at the start");
            }
            other => panic!("{scheduler:?}: expected a panic error, got {other:?}"),
        }
        // The failing task is laid out first: the run stops long before the 2,000 others.
        assert!(
            started.load(Ordering::SeqCst) < 100,
            "{scheduler:?}: {started:?}"
        );
    }
}

#[test]
fn tasks_after_a_failure_do_not_start() {
    let ran_after = Arc::new(AtomicUsize::new(0));
    let failing = delayed_value(1_i32).try_map(|_| Err::<i32, _>("no"));
    let r = Arc::clone(&ran_after);
    let after = failing.map(move |v| {
        r.fetch_add(1, Ordering::SeqCst);
        v
    });
    for s in [Scheduler::Sync, Scheduler::Threads(2)] {
        let err = after.compute_with(s).unwrap_err();
        assert_eq!(err.task_key(), Some(failing.key().as_str()));
        assert_eq!(
            format!("{err:#}"),
            format!("task `map` ({}) failed: no", failing.key())
        );
    }
    assert_eq!(ran_after.load(Ordering::SeqCst), 0);
}

/// Counts its live copies and how often it was cloned.
#[derive(Debug)]
struct Tracked {
    live: Arc<AtomicUsize>,
    clones: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(live: &Arc<AtomicUsize>, clones: &Arc<AtomicUsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked {
            live: Arc::clone(live),
            clones: Arc::clone(clones),
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Tracked::new(&self.live, &self.clones)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn an_intermediate_is_moved_to_its_last_reader_and_freed_before_the_run_ends() {
    let live = Arc::new(AtomicUsize::new(0));
    let clones = Arc::new(AtomicUsize::new(0));
    let (l, c) = (Arc::clone(&live), Arc::clone(&clones));
    let source = delayed_value(()).map(move |()| Tracked::new(&l, &c));
    let one_reader = source.map(drop);
    let live_at_end = Arc::clone(&live);
    let check = one_reader.map(move |()| live_at_end.load(Ordering::SeqCst));
    assert_eq!(check.compute_with(Scheduler::Sync).unwrap(), 0);
    assert_eq!(
        clones.load(Ordering::SeqCst),
        0,
        "a single reader gets the value moved"
    );

    let a = source.map(drop);
    let b = source.map(drop);
    let live_at_end = Arc::clone(&live);
    let both = pair("both", &a, &b, move |(), ()| {
        live_at_end.load(Ordering::SeqCst)
    });
    for s in [Scheduler::Sync, Scheduler::Threads(2)] {
        clones.store(0, Ordering::SeqCst);
        assert_eq!(
            both.compute_with(s).unwrap(),
            0,
            "freed once both readers ran"
        );
        assert_eq!(
            clones.load(Ordering::SeqCst),
            1,
            "two readers: one clone, one move"
        );
    }
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn a_hundred_thousand_wide_fan_in() {
    let parts: Vec<Delayed<u64>> = (0..100_000_u64)
        .map(|i| delayed_value(i).map(|v| v * 2))
        .collect();
    let total = node(
        "sum",
        (crate::IntoArg::<Vec<u64>>::into_arg(parts), ()),
        |(xs, ()), inputs| Ok(xs.take(inputs)?.iter().sum::<u64>()),
    );
    let expected = (0..100_000_u64).map(|v| v * 2).sum::<u64>();
    for s in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
    ] {
        assert_eq!(total.compute_with(s).unwrap(), expected);
    }
}

/// A random DAG: node `i` reads up to four earlier nodes; its value mixes theirs.
#[derive(Debug, Clone)]
struct RandomDag {
    deps: Vec<Vec<usize>>,
    outputs: Vec<usize>,
}

fn random_dag() -> impl Strategy<Value = RandomDag> {
    (1_usize..2_000)
        .prop_flat_map(|n| {
            let deps = (0..n)
                .map(|i| {
                    if i == 0 {
                        Just(Vec::new()).boxed()
                    } else {
                        proptest::collection::vec(0..i, 0..=4).boxed()
                    }
                })
                .collect::<Vec<_>>();
            (deps, proptest::collection::vec(0..n, 1..8))
        })
        .prop_map(|(deps, outputs)| RandomDag { deps, outputs })
}

fn mix(i: usize, inputs: &[u64]) -> u64 {
    inputs.iter().fold(i as u64 + 1, |acc, v| {
        acc.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(*v)
            .rotate_left(7)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_dags_agree_with_sequential_evaluation(dag in random_dag()) {
        let mut expected: Vec<u64> = Vec::with_capacity(dag.deps.len());
        for (i, deps) in dag.deps.iter().enumerate() {
            let inputs: Vec<u64> = deps.iter().map(|&d| expected[d]).collect();
            expected.push(mix(i, &inputs));
        }
        let mut nodes: Vec<Delayed<u64>> = Vec::with_capacity(dag.deps.len());
        for (i, deps) in dag.deps.iter().enumerate() {
            let args: Vec<Arg<u64>> = deps.iter().map(|&d| Arg::node(nodes[d].clone())).collect();
            nodes.push(node("mix", args, move |args: &Vec<Arg<u64>>, inputs| {
                let values = args.iter().map(|a| a.take(inputs)).collect::<Result<Vec<_>, _>>()?;
                Ok(mix(i, &values))
            }));
        }
        let outputs: Vec<Delayed<u64>> = dag.outputs.iter().map(|&o| nodes[o].clone()).collect();
        let want: Vec<u64> = dag.outputs.iter().map(|&o| expected[o]).collect();
        for s in [Scheduler::Sync, Scheduler::Threads(2), Scheduler::Threads(3)] {
            prop_assert_eq!(&compute_with(outputs.clone(), s).unwrap(), &want);
        }
    }
}

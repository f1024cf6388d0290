//! Fault injection: random DAGs with a task that fails or panics, or a callback that
//! panics, at a random place, on every scheduler. Whatever fails, the error names it,
//! nothing after it runs, the scheduler works again, and every value created is dropped
//! exactly once.

use crate::delayed::{Arg, node};
use crate::hooks::{Callback, TaskEvent};
use crate::{Delayed, Error, Options, Scheduler, compute_with};
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How many values of a run were made (new or cloned) and dropped.
#[derive(Default, Debug)]
struct Counts {
    made: AtomicUsize,
    dropped: AtomicUsize,
}

/// A task's value that counts its copies.
#[derive(Debug)]
struct Counted {
    payload: u64,
    counts: Arc<Counts>,
}

impl Counted {
    fn new(payload: u64, counts: &Arc<Counts>) -> Self {
        counts.made.fetch_add(1, Ordering::SeqCst);
        Counted {
            payload,
            counts: Arc::clone(counts),
        }
    }
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        Counted::new(self.payload, &self.counts)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.counts.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// What goes wrong in a run.
#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    /// Node `at` (of the nodes the outputs need) returns `Err`.
    Err(usize),
    /// Node `at` panics.
    Panic(usize),
    /// A callback panics at the `at`-th task_start (or task_finish) event of the run.
    Hook {
        at: usize,
        finish: bool,
    },
}

#[derive(Debug, Clone)]
struct Case {
    nodes: usize,
    seed: u64,
    outputs: usize,
    fault: Fault,
    scheduler: Scheduler,
}

fn case() -> impl Strategy<Value = Case> {
    let nodes = prop_oneof![4 => 1_usize..300, 1 => 300_usize..=5_000];
    let fault = prop_oneof![
        1 => Just(Fault::None),
        2 => any::<usize>().prop_map(Fault::Err),
        2 => any::<usize>().prop_map(Fault::Panic),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(at, finish)| Fault::Hook { at, finish }),
    ];
    let scheduler = prop_oneof![
        Just(Scheduler::Sync),
        (1_usize..=4).prop_map(Scheduler::Threads),
        // Past four workers a core: the blocking executor.
        Just(Scheduler::Threads(24)),
    ];
    (nodes, any::<u64>(), 1_usize..6, fault, scheduler).prop_map(
        |(nodes, seed, outputs, fault, scheduler)| Case {
            nodes,
            seed,
            outputs,
            fault,
            scheduler,
        },
    )
}

/// SplitMix64: the DAG's shape from the case's seed.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Node `i` reads up to three earlier nodes, often recent ones (chains), sometimes any.
fn shape(nodes: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut state = seed;
    (0..nodes)
        .map(|i| {
            if i == 0 {
                return Vec::new();
            }
            let reads = (next(&mut state) % 4) as usize;
            (0..reads)
                .map(|_| {
                    let r = next(&mut state) as usize;
                    if r.is_multiple_of(2) {
                        i - 1 - (r / 2) % i.min(8)
                    } else {
                        r % i
                    }
                })
                .collect()
        })
        .collect()
}

/// Panics at the `at`-th event it sees.
struct PanicAt {
    at: usize,
    finish: bool,
    seen: AtomicUsize,
}

impl PanicAt {
    fn tick(&self) {
        if self.seen.fetch_add(1, Ordering::SeqCst) == self.at {
            panic!("hook fault");
        }
    }
}

impl Callback for PanicAt {
    fn task_start(&self, _: &TaskEvent) {
        if !self.finish {
            self.tick();
        }
    }
    fn task_finish(&self, _: &TaskEvent) {
        if self.finish {
            self.tick();
        }
    }
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let deps = shape(case.nodes, case.seed);
    let counts = Arc::new(Counts::default());
    let ran: Arc<Vec<AtomicBool>> =
        Arc::new((0..case.nodes).map(|_| AtomicBool::new(false)).collect());
    let mut state = case.seed ^ 0x5555;
    let outputs: Vec<usize> = (0..case.outputs)
        .map(|_| next(&mut state) as usize % case.nodes)
        .collect();
    // The nodes the outputs need: a failing node is one of them.
    let mut needed = vec![false; case.nodes];
    let mut stack = outputs.clone();
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut needed[i], true) {
            stack.extend(&deps[i]);
        }
    }
    let needed_list: Vec<usize> = (0..case.nodes).filter(|&i| needed[i]).collect();
    let failing = match case.fault {
        Fault::Err(at) | Fault::Panic(at) => Some(needed_list[at % needed_list.len()]),
        _ => None,
    };
    let mut nodes: Vec<Delayed<Counted>> = Vec::with_capacity(case.nodes);
    for (i, reads) in deps.iter().enumerate() {
        let args: Vec<Arg<Counted>> = reads.iter().map(|&d| Arg::node(nodes[d].clone())).collect();
        let (counts, ran, fault) = (Arc::clone(&counts), Arc::clone(&ran), case.fault);
        nodes.push(node(
            "step",
            args,
            move |args: &Vec<Arg<Counted>>, inputs| {
                ran[i].store(true, Ordering::SeqCst);
                let values = args
                    .iter()
                    .map(|a| a.take(inputs))
                    .collect::<Result<Vec<_>, _>>()?;
                match (fault, failing) {
                    (Fault::Err(_), Some(f)) if f == i => {
                        return Err(format!("node {i} failed").into());
                    }
                    (Fault::Panic(_), Some(f)) if f == i => panic!("node {i} panicked"),
                    _ => {}
                }
                let payload = values
                    .iter()
                    .fold(i as u64, |a, v| a.wrapping_mul(31).wrapping_add(v.payload));
                Ok(Counted::new(payload, &counts))
            },
        ));
    }
    let keys: Vec<String> = nodes.iter().map(Delayed::key).collect();
    let wanted: Vec<Delayed<Counted>> = outputs.iter().map(|&o| nodes[o].clone()).collect();
    drop(nodes);
    let mut options = Options::from(case.scheduler.clone());
    if let Fault::Hook { at, finish } = case.fault {
        let hook: Arc<dyn Callback> = Arc::new(PanicAt {
            at: at % (2 * needed_list.len()),
            finish,
            seen: AtomicUsize::new(0),
        });
        options = options.callbacks(&[hook]);
    }
    let result = compute_with(wanted.clone(), options);
    match (case.fault, failing, &result) {
        (Fault::None, _, Ok(values)) => prop_assert_eq!(values.len(), outputs.len()),
        (Fault::Err(_), Some(f), Err(e @ Error::TaskFailed { .. }))
        | (Fault::Panic(_), Some(f), Err(e @ Error::TaskPanicked { .. })) => {
            prop_assert_eq!(e.task_key(), Some(keys[f].as_str()));
            // No dependent of the failing node ran.
            let mut dependents = vec![false; case.nodes];
            dependents[f] = true;
            for i in f + 1..case.nodes {
                if deps[i].iter().any(|&d| dependents[d]) {
                    dependents[i] = true;
                    prop_assert!(!ran[i].load(Ordering::SeqCst), "node {} ran after {}", i, f);
                }
            }
        }
        // A hook fault may fall past the run's last event: then the run succeeds.
        (Fault::Hook { .. }, _, Err(Error::Callback(m))) => prop_assert_eq!(m, "hook fault"),
        (Fault::Hook { .. }, _, Ok(_)) => {}
        (fault, _, other) => prop_assert!(false, "{:?} gave {:?}", fault, other.as_ref().err()),
    }
    drop(result);
    drop(wanted);
    prop_assert_eq!(
        counts.made.load(Ordering::SeqCst),
        counts.dropped.load(Ordering::SeqCst),
        "values made and dropped differ"
    );
    // The scheduler works again at once.
    let again = crate::delayed_value(20_i64).map(|v| v + 22);
    prop_assert_eq!(again.compute_with(case.scheduler.clone()).unwrap(), 42);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn faults_anywhere_are_named_contained_and_leak_nothing(case in case()) {
        check(&case)?;
    }
}

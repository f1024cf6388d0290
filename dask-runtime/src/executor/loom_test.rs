//! Model checks of the run state under loom (`--cfg loom`): every interleaving, up to a
//! preemption bound, of 2 or 3 workers running a graph of 3 to 5 nodes. Each must give
//! the right outputs, run every task once, and drop every value made.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p dask-runtime --lib loom -- --nocapture
//! ```

use super::state::RunState;
use super::stop::Stopper;
use crate::delayed::{Arg, node};
use crate::graph::{Layout, NodeRef};
use crate::{Delayed, Options};
use loom::sync::Mutex;
use loom::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering};

/// A value that counts how many copies of it were made and dropped (std atomics: a
/// tally, not part of the model).
#[derive(Debug)]
struct Counted(u64, Arc<[StdAtomicUsize; 2]>);

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.1[0].fetch_add(1, Ordering::Relaxed);
        Counted(self.0, Arc::clone(&self.1))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.1[1].fetch_add(1, Ordering::Relaxed);
    }
}

type Tally = Arc<[StdAtomicUsize; 2]>;

fn leaf(v: u64, tally: &Tally) -> Delayed<Counted> {
    let tally = Arc::clone(tally);
    node("leaf", (), move |(), _| {
        tally[0].fetch_add(1, Ordering::Relaxed);
        Ok(Counted(v, Arc::clone(&tally)))
    })
}

fn sum(name: &'static str, inputs: &[&Delayed<Counted>], tally: &Tally) -> Delayed<Counted> {
    let args: Vec<Arg<Counted>> = inputs.iter().map(|d| Arg::node((*d).clone())).collect();
    let tally = Arc::clone(tally);
    node(name, args, move |args: &Vec<Arg<Counted>>, inputs| {
        let mut total = 0;
        for a in args {
            total += a.take(inputs)?.0;
        }
        tally[0].fetch_add(1, Ordering::Relaxed);
        Ok(Counted(total, Arc::clone(&tally)))
    })
}

/// The graphs checked: outputs and their expected values.
fn graph(shape: &str, tally: &Tally) -> (Vec<Delayed<Counted>>, Vec<u64>) {
    match shape {
        // a -> b, a -> c, (b, c) -> d: a value with two readers.
        "diamond" => {
            let a = leaf(1, tally);
            let b = sum("b", &[&a], tally);
            let c = sum("c", &[&a], tally);
            (vec![sum("d", &[&b, &c], tally)], vec![2])
        }
        // Three leaves into one reader.
        "fan_in" => {
            let (x, y, z) = (leaf(1, tally), leaf(2, tally), leaf(3, tally));
            (vec![sum("total", &[&x, &y, &z], tally)], vec![6])
        }
        // The N: c reads a and b, d reads b; both are outputs, and so is b.
        "n_shape" => {
            let (a, b) = (leaf(1, tally), leaf(2, tally));
            let c = sum("c", &[&a, &b], tally);
            let d = sum("d", &[&b], tally);
            (vec![c, d, b], vec![3, 2, 2])
        }
        _ => unreachable!("no shape {shape}"),
    }
}

/// Runs `shape` on `workers` loom threads pulling ready tasks from a shared queue.
fn check(shape: &'static str, workers: usize) {
    static ITERATIONS: StdAtomicUsize = StdAtomicUsize::new(0);
    ITERATIONS.store(0, Ordering::Relaxed);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(move || {
        ITERATIONS.fetch_add(1, Ordering::Relaxed);
        let tally: Tally = Arc::new([StdAtomicUsize::new(0), StdAtomicUsize::new(0)]);
        let (outputs, expected) = graph(shape, &tally);
        // loom's threads need 'static borrows: the nodes outlive the model run.
        let outputs: &'static [Delayed<Counted>] = Box::leak(outputs.into_boxed_slice());
        let nodes: Vec<&'static NodeRef> = outputs.iter().map(Delayed::node).collect();
        let layout = Layout::new(&nodes).expect("a layout");
        let tasks = layout.len();
        let state = Arc::new(RunState::new(
            layout,
            None,
            Stopper::new(&Options::new(), tasks),
            0,
        ));
        let queue = Arc::new(Mutex::new(state.initially_ready()));
        let left = Arc::new(AtomicUsize::new(tasks));
        let work = {
            let (state, queue, left) = (Arc::clone(&state), Arc::clone(&queue), Arc::clone(&left));
            move || {
                // A worker leaves when it finds nothing ready (no spinning, which loom
                // cannot bound): whoever makes a task ready queues it and goes on, so
                // every task is still run.
                let mut newly = Vec::new();
                while let Some(i) = {
                    let next = queue.lock().unwrap().pop();
                    next
                } {
                    assert!(state.run(i, |c| newly.push(c)), "task {i} failed");
                    queue.lock().unwrap().append(&mut newly);
                    left.fetch_sub(1, Ordering::AcqRel);
                }
            }
        };
        let helpers: Vec<_> = (1..workers)
            .map(|_| loom::thread::spawn(work.clone()))
            .collect();
        work();
        for h in helpers {
            h.join().unwrap();
        }
        assert_eq!(left.load(Ordering::Acquire), 0, "every task ran");
        let values = state.finish().expect("the run's outputs");
        let got: Vec<u64> = values
            .iter()
            .map(|v| v.downcast_ref::<Counted>().expect("a Counted").0)
            .collect();
        assert_eq!(got, expected);
        drop(values);
        drop(state);
        let (made, dropped) = (
            tally[0].load(Ordering::Relaxed),
            tally[1].load(Ordering::Relaxed),
        );
        assert_eq!(made, dropped, "every value made is dropped once");
    });
    eprintln!(
        "loom: {shape} on {workers} workers: {} interleavings",
        ITERATIONS.load(Ordering::Relaxed)
    );
}

#[test]
fn loom_diamond_on_two_and_three_workers() {
    check("diamond", 2);
    check("diamond", 3);
}

#[test]
fn loom_fan_in_on_two_workers() {
    check("fan_in", 2);
}

#[test]
fn loom_n_shape_on_two_and_three_workers() {
    check("n_shape", 2);
    check("n_shape", 3);
}

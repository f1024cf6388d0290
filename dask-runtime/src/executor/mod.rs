//! Runs a graph: lay it out, then run each task once its inputs exist, on the calling
//! thread ([`Scheduler::Sync`]) or on a rayon pool ([`Scheduler::Threads`]). See
//! `README.md` beside this file for the design.

mod order;
pub(crate) mod pool;
mod state;
#[cfg(test)]
mod test;

pub(crate) use order::Layout;
pub use state::Inputs;

use crate::delayed::node::{NodeRef, Value};
use crate::observe::{self, Callback, RunInfo, TaskInfo, TaskKey};
use crate::{Error, Scheduler};
use state::RunState;
use std::sync::Arc;

/// Runs everything `outputs` depend on and returns their values in order (a node asked
/// for twice gives the same shared value twice), with `extra` callbacks besides the
/// registered ones.
pub(crate) fn execute(
    outputs: &[&NodeRef],
    scheduler: &Scheduler,
    extra: &[Arc<dyn Callback>],
) -> Result<Vec<Value>, Error> {
    let layout = Layout::new(outputs).map_err(Error::Internal)?;
    let hooks = observe::hooks(extra);
    let run = hooks.as_ref().map(|_| {
        let tasks = layout
            .nodes
            .iter()
            .map(|node| TaskInfo {
                name: node.name(),
                key: TaskKey::Node(node.name(), node.id()),
            })
            .collect();
        let (dep_start, deps) = layout.dep_table();
        let workers = match *scheduler {
            Scheduler::Threads(n) => n,
            Scheduler::Sync => 1,
        };
        RunInfo::new(tasks, dep_start.into(), deps.into(), workers)
    });
    if let (Some(hooks), Some(run)) = (&hooks, &run) {
        observe::notify(hooks, |c| c.start(run))?;
    }
    let state = RunState::new(layout, hooks.clone(), run.as_ref().map_or(0, |r| r.origin));
    let ran = match *scheduler {
        Scheduler::Sync => {
            run_sync(&state);
            Ok(())
        }
        Scheduler::Threads(n) => run_threads(&state, n),
    };
    let result = ran.and_then(|()| state.finish());
    if let (Some(hooks), Some(run)) = (&hooks, &run) {
        observe::notify(hooks, |c| c.finish(run, result.as_ref().err()))?;
    }
    result
}

/// One task at a time, on this thread: a stack of ready tasks, so the run goes depth-first
/// and in the same order every time.
fn run_sync(state: &RunState<'_>) {
    let mut stack = state.initially_ready();
    stack.reverse();
    let mut newly_ready = Vec::new();
    while let Some(i) = stack.pop() {
        if !state.run(i, |c| newly_ready.push(c)) {
            return;
        }
        stack.extend(newly_ready.drain(..).rev());
    }
}

/// Tasks on a pool of `workers` rayon threads. A worker that finishes a task goes on with
/// one consumer it made ready (no spawn, no recursion down a chain) and spawns the others.
fn run_threads(state: &RunState<'_>, workers: usize) -> Result<(), Error> {
    let pool = pool::get(workers)?;
    let ready = state.initially_ready();
    pool.scope(|scope| {
        // rayon runs a worker's own spawns last-in first-out: spawn in reverse so the
        // first leaves in layout order start first.
        for &i in ready.iter().rev() {
            scope.spawn(move |scope| run_from(state, i, scope));
        }
    });
    Ok(())
}

fn run_from<'s>(state: &'s RunState<'s>, first: u32, scope: &rayon::Scope<'s>) {
    let mut next = Some(first);
    while let Some(i) = next.take() {
        if state.has_failed() {
            return;
        }
        let ok = state.run(i, |c| {
            if next.is_none() {
                next = Some(c);
            } else {
                scope.spawn(move |scope| run_from(state, c, scope));
            }
        });
        if !ok {
            return;
        }
    }
}

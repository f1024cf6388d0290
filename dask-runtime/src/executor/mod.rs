//! Runs a graph: lay it out, then run each task once its inputs exist, on the calling
//! thread ([`Scheduler::Sync`]) or on a rayon pool ([`Scheduler::Threads`]). See
//! `README.md` beside this file for the design.

mod blocking;
#[cfg(test)]
mod fault_test;
#[cfg(all(test, loom))]
mod loom_test;
#[cfg(feature = "mpi")]
pub(crate) mod mpi;
// Tested on its own; only the MPI scheduler runs it.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod placement;
pub(crate) mod pool;
mod slot;
mod state;
pub(crate) mod stop;
mod sync;
#[cfg(test)]
mod test;

use crate::graph::{Layout, NodeRef, Value, key_of};
use crate::hooks::{Observed, TaskInfo, TaskKey};
use crate::{Error, Options, Scheduler};
use state::RunState;
use std::sync::atomic::{AtomicUsize, Ordering};
use stop::Stopper;

/// Runs everything `outputs` depend on, as `options` say, and returns their values in
/// order (a node asked for twice gives the same shared value twice).
pub(crate) fn execute(outputs: &[&NodeRef], options: &Options) -> Result<Vec<Value>, Error> {
    let scheduler = options.resolved_scheduler()?;
    #[cfg(feature = "mpi")]
    if let Scheduler::Mpi { threads } = scheduler {
        return mpi::execute(outputs, options, threads, false);
    }
    let layout = Layout::new(outputs).map_err(Error::Internal)?;
    check_size(layout.len(), options)?;
    let pool = match scheduler {
        Scheduler::Threads(n) if n > pool::blocking_above() => {
            pool::check_workers(n)?;
            None
        }
        Scheduler::Threads(n) => Some(pool::get(n)?),
        Scheduler::Sync => None,
        #[cfg(feature = "mpi")]
        Scheduler::Mpi { .. } => None,
    };
    let observed = observe(&layout, options, &scheduler)?;
    let stopper = Stopper::new(options, layout.len());
    let state = RunState::new(layout, observed, stopper, options.retries);
    stop::watching_deadline(
        &state.stopper,
        |i| key_of(state.layout.node(i)),
        || match (&pool, &scheduler) {
            (Some(pool), _) => run_threads(&state, pool),
            (None, Scheduler::Threads(n)) => blocking::run(&state, *n),
            (None, _) => run_sync(&state),
        },
    );
    Observed::finish(state.observed(), state.finish())
}

/// Starts the run's callbacks (if any), telling them the graph's tasks and edges.
pub(crate) fn observe(
    layout: &Layout<'_>,
    options: &Options,
    scheduler: &Scheduler,
) -> Result<Option<Observed>, Error> {
    Observed::start(&options.callbacks, workers(scheduler), || {
        let tasks = layout
            .nodes
            .iter()
            .map(|node| TaskInfo {
                name: node.name(),
                key: TaskKey::Node(node.name(), node.id()),
            })
            .collect();
        let (dep_start, deps) = layout.dep_rows();
        (tasks, dep_start.into(), deps.into())
    })
}

/// The workers a scheduler runs tasks on.
pub(crate) fn workers(scheduler: &Scheduler) -> usize {
    match *scheduler {
        Scheduler::Threads(n) => n,
        Scheduler::Sync => 1,
        #[cfg(feature = "mpi")]
        Scheduler::Mpi { threads } => threads,
    }
}

/// Refuses a run of more tasks than the options allow.
pub(crate) fn check_size(tasks: usize, options: &Options) -> Result<(), Error> {
    let limit = options.task_limit();
    if tasks > limit {
        return Err(Error::TooManyTasks { tasks, limit });
    }
    Ok(())
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

/// Tasks on a pool of rayon threads. A worker that finishes a task goes on with one
/// consumer it made ready (no spawn, no recursion down a chain) and spawns the others.
///
/// The initially ready tasks (the leaves) are not all spawned up front: an idle worker
/// steals the oldest job of another's queue, and among spawned leaves that is the last
/// in layout order, so a thief would start from the far end of the graph and hold its
/// blocks until the others reach them (a blocked `cumsum` peaked at 274 MB on two
/// workers against 22 MB on one). Instead every worker takes the next leaf in layout
/// order from a shared cursor, as Dask's workers take the next task by priority.
fn run_threads(state: &RunState<'_>, pool: &rayon::ThreadPool) {
    let leaves = Leaves {
        order: state.initially_ready(),
        next: AtomicUsize::new(0),
    };
    let feeders = pool
        .current_num_threads()
        .clamp(1, leaves.order.len().max(1));
    pool.scope(|scope| {
        for _ in 0..feeders {
            scope.spawn(|scope| feed(state, &leaves, scope));
        }
    });
}

/// The leaves of a run in layout order, and the next one to start.
struct Leaves {
    order: Vec<u32>,
    next: AtomicUsize,
}

/// How long a worker goes on taking leaves after leaving one job behind, and at most
/// how many: ten million tiny leaves then cost an atomic increment each rather than a
/// spawned job each, while a leaf that runs longer than this ends the batch, so heavy
/// leaves still go to the workers one at a time.
const FEED_BATCH: std::time::Duration = std::time::Duration::from_micros(20);
const FEED_MAX: usize = 256;

/// Starts the next leaf, leaving a job behind that starts the ones after: that job sits
/// under the consumers this leaf makes ready (a worker pops its own jobs newest first)
/// and is the first an idle worker steals. While the leaves are quick it goes on with
/// the next ones itself (see [`FEED_BATCH`]).
fn feed<'s>(state: &'s RunState<'s>, leaves: &'s Leaves, scope: &rayon::Scope<'s>) {
    let next = || {
        if state.stopper.has_stopped() {
            return None;
        }
        leaves
            .order
            .get(leaves.next.fetch_add(1, Ordering::Relaxed))
            .copied()
    };
    let Some(first) = next() else {
        return;
    };
    scope.spawn(|scope| feed(state, leaves, scope));
    let start = std::time::Instant::now();
    run_from(state, first, scope);
    for _ in 1..FEED_MAX {
        if start.elapsed() > FEED_BATCH {
            return;
        }
        let Some(i) = next() else {
            return;
        };
        run_from(state, i, scope);
    }
}

pub(crate) fn run_from<'s>(state: &'s RunState<'s>, first: u32, scope: &rayon::Scope<'s>) {
    let mut next = Some(first);
    while let Some(i) = next.take() {
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

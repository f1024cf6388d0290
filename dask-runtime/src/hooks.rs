//! Hooks into every run (Dask's `Callback`): the trait, what a run and a task look like
//! to a hook ([`RunInfo`], [`TaskEvent`], each carrying the run's [`RunId`]), and the
//! process-wide registry. A leaf layer: the executor and plans call it; the observers
//! (progress bar, profiler) are built on it.
//!
//! With nothing registered and nothing passed to a compute, a run checks one atomic
//! counter and nothing else.

use crate::Error;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Hooks called by every run while registered (Dask's `Callback`). Every method has an
/// empty default: implement the ones you need. Called from worker threads, so keep
/// them short; a panic in one is caught and fails the compute with
/// [`Error::Callback`].
pub trait Callback: Send + Sync {
    /// A run begins; `run` lists its tasks.
    fn start(&self, _run: &RunInfo) {}
    /// A task begins on `task.worker`.
    fn task_start(&self, _task: &TaskEvent) {}
    /// A task ended (`task.duration` is set, `task.ok` says whether it succeeded).
    fn task_finish(&self, _task: &TaskEvent) {}
    /// The run ended, with its error if it failed.
    fn finish(&self, _run: &RunInfo, _error: Option<&Error>) {}
}

/// How a task is named in keys and messages: a dynamic node's key (`inc-9e37...`) or
/// a plan binding's name. Formatted only when asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskKey {
    /// A node of a dynamic graph: its function and id.
    Node(&'static str, u64),
    /// A node of a `graph!` plan: its binding's key.
    Plan(&'static str),
    /// Item `i` of a `for` stage of a `graph!` plan (`parsed[3]`). Its event carries
    /// the stage's node index; the stage itself also has an event of its own, from its
    /// first item's start to its last item's end.
    PlanItem(&'static str, usize),
}

impl fmt::Display for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskKey::Node(name, id) => f.write_str(&crate::graph::key_from(name, *id)),
            TaskKey::Plan(key) => f.write_str(key),
            TaskKey::PlanItem(key, i) => write!(f, "{key}[{i}]"),
        }
    }
}

/// The identity of one run, unique for the life of the process: overlapping runs (two
/// computes at once, a compute inside a task) tell their events apart by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(u64);

impl RunId {
    fn next() -> RunId {
        static NEXT_RUN: AtomicU64 = AtomicU64::new(1);
        RunId(NEXT_RUN.fetch_add(1, Ordering::Relaxed))
    }

    /// The run's serial number (1 for the process's first observed run).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run-{}", self.0)
    }
}

/// One task of a run, as [`RunInfo`] lists it.
#[derive(Clone, Copy, Debug)]
pub struct TaskInfo {
    /// The function the task runs.
    pub name: &'static str,
    /// The task's key.
    pub key: TaskKey,
}

/// A run: its tasks in the order the executor laid them out (dependencies first).
/// Cheap to clone: the tables are shared.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// Which run this is.
    pub id: RunId,
    /// Every task of the run.
    pub tasks: Arc<[TaskInfo]>,
    dep_start: Arc<[u32]>,
    deps: Arc<[u32]>,
    /// When the run began.
    pub started: Instant,
    /// The number of workers (1 for `Sync`).
    pub workers: usize,
    /// The clock reading when the run began.
    pub(crate) origin: u64,
}

impl RunInfo {
    /// A run of `tasks` whose task `i` reads `deps[dep_start[i]..dep_start[i + 1]]`.
    pub(crate) fn new(
        tasks: Arc<[TaskInfo]>,
        dep_start: Arc<[u32]>,
        deps: Arc<[u32]>,
        workers: usize,
    ) -> Self {
        RunInfo {
            id: RunId::next(),
            tasks,
            dep_start,
            deps,
            started: Instant::now(),
            workers,
            origin: clock().raw(),
        }
    }

    /// The tasks task `task` reads (indices into [`RunInfo::tasks`]), once per read.
    pub fn dependencies(&self, task: usize) -> impl Iterator<Item = usize> + '_ {
        let (start, end) = (
            self.dep_start[task] as usize,
            self.dep_start[task + 1] as usize,
        );
        self.deps[start..end].iter().map(|&d| d as usize)
    }
}

/// A task starting or finishing.
#[derive(Clone, Debug)]
pub struct TaskEvent {
    /// The run the task belongs to ([`RunInfo::id`]).
    pub run: RunId,
    /// The task's position in [`RunInfo::tasks`].
    pub index: usize,
    /// The function the task runs.
    pub name: &'static str,
    /// The task's key.
    pub key: TaskKey,
    /// The worker running it (0 on the calling thread).
    pub worker: usize,
    /// When it started, from the start of the run ([`RunInfo::started`]).
    pub start: Duration,
    /// How long it took (set when it finished).
    pub duration: Option<Duration>,
    /// Whether it succeeded (always true at the start).
    pub ok: bool,
    /// Which attempt this is: 1, then 2, 3, ... when `Options::retries` runs a failed
    /// task again.
    pub attempt: u32,
    /// The clock reading at the start, for the duration.
    pub(crate) raw_start: u64,
}

/// The clock tasks are timed with: the CPU's time-stamp counter where it is reliable
/// (a pair of readings costs about 16 ns here, std's `Instant` 38 ns), the OS clock
/// otherwise.
pub(crate) fn clock() -> &'static quanta::Clock {
    static CLOCK: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

impl TaskEvent {
    /// The event of task `index` of `run` starting now (its `attempt`).
    pub(crate) fn starting(run: &RunInfo, index: usize, key: TaskKey, attempt: u32) -> Self {
        let raw_start = clock().raw();
        let origin = run.origin;
        let name = run.tasks[index].name;
        TaskEvent {
            run: run.id,
            attempt,
            index,
            name,
            key,
            worker: worker(),
            start: clock().delta(origin, raw_start),
            duration: None,
            ok: true,
            raw_start,
        }
    }

    /// Marks the task finished now.
    pub(crate) fn finished(&mut self, ok: bool) {
        self.duration = Some(clock().delta(self.raw_start, clock().raw()));
        self.ok = ok;
    }
}

/// The callbacks of one run.
pub(crate) type Hooks = Arc<[Arc<dyn Callback>]>;

static ACTIVE: AtomicUsize = AtomicUsize::new(0);
static NEXT: AtomicU64 = AtomicU64::new(0);
static REGISTRY: RwLock<Vec<(u64, Arc<dyn Callback>)>> = RwLock::new(Vec::new());

/// Keeps a callback registered; dropping it unregisters the callback. Dask's
/// `with ProgressBar():`.
#[must_use = "the callback is unregistered when the guard is dropped"]
pub struct CallbackGuard {
    id: u64,
}

impl fmt::Debug for CallbackGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallbackGuard({})", self.id)
    }
}

/// Registers `callback` for every run in the process until the guard is dropped.
pub fn register(callback: Arc<dyn Callback>) -> CallbackGuard {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    REGISTRY
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id, callback));
    ACTIVE.fetch_add(1, Ordering::Release);
    CallbackGuard { id }
}

impl Drop for CallbackGuard {
    fn drop(&mut self) {
        let mut registry = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = registry.iter().position(|(id, _)| *id == self.id) {
            registry.remove(at);
            ACTIVE.fetch_sub(1, Ordering::Release);
        }
    }
}

/// The callbacks for a run: the registered ones and `extra`. `None` (one atomic load)
/// when there are none.
pub(crate) fn hooks(extra: &[Arc<dyn Callback>]) -> Option<Hooks> {
    if ACTIVE.load(Ordering::Acquire) == 0 && extra.is_empty() {
        return None;
    }
    let registry = REGISTRY.read().unwrap_or_else(PoisonError::into_inner);
    let all: Vec<Arc<dyn Callback>> = registry
        .iter()
        .map(|(_, c)| Arc::clone(c))
        .chain(extra.iter().cloned())
        .collect();
    (!all.is_empty()).then(|| all.into())
}

/// Calls `f` on each hook; a panicking hook becomes an error.
pub(crate) fn notify(hooks: &Hooks, f: impl Fn(&dyn Callback)) -> Result<(), Error> {
    for hook in hooks.iter() {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&**hook)))
            .map_err(|payload| Error::Callback(crate::error::panic_message(&*payload)))?;
    }
    Ok(())
}

/// The worker index of the current thread in its rayon pool (0 elsewhere).
pub(crate) fn worker() -> usize {
    rayon::current_thread_index().unwrap_or(0)
}

/// A run being observed: its hooks and what they are told of it.
pub(crate) struct Observed {
    pub(crate) hooks: Hooks,
    pub(crate) run: RunInfo,
}

impl Observed {
    /// The hooks for a run of `tasks` (`None`, one atomic load, when there are none),
    /// told that the run starts.
    pub(crate) fn start(
        extra: &[Arc<dyn Callback>],
        workers: usize,
        tasks: impl FnOnce() -> (Arc<[TaskInfo]>, Arc<[u32]>, Arc<[u32]>),
    ) -> Result<Option<Observed>, Error> {
        let Some(hooks) = hooks(extra) else {
            return Ok(None);
        };
        let (tasks, dep_start, deps) = tasks();
        let run = RunInfo::new(tasks, dep_start, deps, workers);
        notify(&hooks, |c| c.start(&run))?;
        Ok(Some(Observed { hooks, run }))
    }

    /// Tells the hooks that task `index` starts its `attempt`.
    pub(crate) fn task_start(
        &self,
        index: usize,
        key: TaskKey,
        attempt: u32,
    ) -> Result<TaskEvent, Error> {
        let event = TaskEvent::starting(&self.run, index, key, attempt);
        notify(&self.hooks, |c| c.task_start(&event))?;
        Ok(event)
    }

    /// Tells the hooks that the task of `event` ended.
    pub(crate) fn task_finish(&self, mut event: TaskEvent, ok: bool) -> Result<(), Error> {
        event.finished(ok);
        notify(&self.hooks, |c| c.task_finish(&event))
    }

    /// Tells the hooks of `observed`, if the run had any, that it ended with `result`;
    /// a failing hook turns a success into [`Error::Callback`].
    pub(crate) fn finish<T>(
        observed: Option<&Observed>,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        let Some(observed) = observed else {
            return result;
        };
        let told = notify(&observed.hooks, |c| {
            c.finish(&observed.run, result.as_ref().err())
        });
        match (result, told) {
            (Ok(_), Err(e)) => Err(e),
            (result, _) => result,
        }
    }
}

//! What a compute is told: where its tasks run ([`Scheduler`], with the
//! `DASK_SCHEDULER` default), and the rest of [`Options`]: callbacks, a [`CancelToken`],
//! a deadline, retries and the task ceiling. One value, passed to every `compute_with`.

use crate::Error;
use crate::hooks::Callback;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Where the tasks of a compute run.
///
/// # Examples
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{delayed_value, Scheduler};
///
/// let x = delayed_value(20_i64) + 22;
/// assert_eq!(x.compute_with(Scheduler::Sync).unwrap(), 42);
/// assert_eq!(x.compute_with(Scheduler::Threads(4)).unwrap(), 42);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheduler {
    /// A pool of `n` worker threads on rayon; the default `n` is one worker a core. Use
    /// more workers than cores for tasks that block (sleep, I/O): `Threads(30)` runs
    /// thirty sleeping tasks at once. Pools are reused: the last few sizes used stay
    /// alive ([`MAX_CACHED_POOLS`]), older ones end their threads once their runs are
    /// done. `n` above [`MAX_WORKERS`] is an [`Error::Scheduler`].
    Threads(usize),
    /// Every task on the calling thread, one at a time, in a fixed order: a debugger,
    /// a backtrace or a panic message lands on your code.
    Sync,
    /// Every process the program was started in by `mpirun` (or `srun`) runs the same
    /// graph; each task runs on one of them, with `threads` workers a process, and the
    /// values cross between processes only along the graph's edges. Made by
    /// [`crate::mpi::World::scheduler`]; needs the `mpi` feature.
    #[cfg(feature = "mpi")]
    Mpi {
        /// Worker threads in each process.
        threads: usize,
    },
}

impl Default for Scheduler {
    /// `Threads(n)` with one worker a core.
    fn default() -> Self {
        Scheduler::Threads(default_workers())
    }
}

/// The most workers [`Scheduler::Threads`] takes: above it a compute fails with
/// [`Error::Scheduler`] rather than start thousands of threads.
pub const MAX_WORKERS: usize = 1024;

/// How many thread pools of distinct sizes are kept alive between computes.
pub const MAX_CACHED_POOLS: usize = 4;

/// The number of cores as std sees them (1 if it cannot tell).
pub(crate) fn default_workers() -> usize {
    // Read once: std asks the cgroup files each time (tens of microseconds).
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

impl Scheduler {
    /// The MPI scheduler of `world`: every rank runs the graph (see [`crate::mpi`]).
    #[cfg(feature = "mpi")]
    pub fn mpi(world: &crate::mpi::World) -> Scheduler {
        world.scheduler()
    }

    /// The scheduler `compute()` uses: `DASK_SCHEDULER` from the environment, read once
    /// per process, or [`Scheduler::default`] when it is not set. With the `mpi`
    /// feature, while a `dask::mpi::World` lives, the MPI scheduler (outside tasks).
    ///
    /// Accepted values: `sync` (also `synchronous`, `single-threaded`), `threads`
    /// (also `threading`), and `threads:N`.
    ///
    /// # Errors
    ///
    /// [`Error::Scheduler`] when the variable is set to anything else.
    pub fn from_env() -> Result<Scheduler, Error> {
        #[cfg(feature = "mpi")]
        if let Some(mpi) = crate::mpi::default_scheduler() {
            return Ok(mpi);
        }
        static FROM_ENV: OnceLock<Result<Scheduler, String>> = OnceLock::new();
        FROM_ENV
            .get_or_init(|| match std::env::var("DASK_SCHEDULER") {
                Ok(value) => Scheduler::parse(&value),
                Err(std::env::VarError::NotPresent) => Ok(Scheduler::default()),
                Err(std::env::VarError::NotUnicode(v)) => {
                    Err(format!("DASK_SCHEDULER={v:?} is not valid UTF-8"))
                }
            })
            .clone()
            .map_err(Error::Scheduler)
    }

    /// Parses a scheduler name as `DASK_SCHEDULER` spells it.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::Scheduler;
    /// assert_eq!(Scheduler::parse("sync"), Ok(Scheduler::Sync));
    /// assert_eq!(Scheduler::parse("threads:8"), Ok(Scheduler::Threads(8)));
    /// assert!(Scheduler::parse("processes").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// A message naming the value and the accepted forms.
    pub fn parse(value: &str) -> Result<Scheduler, String> {
        let trimmed = value.trim();
        match trimmed.to_ascii_lowercase().as_str() {
            "sync" | "synchronous" | "single-threaded" => return Ok(Scheduler::Sync),
            "threads" | "threading" => return Ok(Scheduler::default()),
            _ => {}
        }
        let expected = "expected `sync`, `threads` or `threads:N` with N >= 1";
        match trimmed.split_once(':') {
            Some((kind, n)) if kind.eq_ignore_ascii_case("threads") => match n.trim().parse() {
                Ok(n) if n >= 1 => Ok(Scheduler::Threads(n)),
                _ => Err(format!("DASK_SCHEDULER={value:?}: {expected}")),
            },
            _ => Err(format!("DASK_SCHEDULER={value:?}: {expected}")),
        }
    }
}

/// How a compute runs: the scheduler, callbacks, cancellation, a deadline, retries and
/// the task ceiling. Built with chained methods; a [`Scheduler`] converts into it, so
/// `compute_with(x, Scheduler::Sync)` and `compute_with(x, Options::new().deadline(d))`
/// both work, on `dask::compute_with`, `Delayed::compute_with`, `Array::compute_with`
/// and plans alike.
///
/// # Examples
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{CancelToken, Options, Scheduler};
/// use std::time::Duration;
///
/// let token = CancelToken::new();
/// let options = Options::new()
///     .scheduler(Scheduler::Threads(2))
///     .cancel_on(&token)
///     .deadline(Duration::from_secs(60))
///     .retries(2);
/// let x = dask::delayed_value(20_i64).map(|v| v + 22);
/// assert_eq!(x.compute_with(options).unwrap(), 42);
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct Options {
    pub(crate) scheduler: Option<Scheduler>,
    pub(crate) callbacks: Vec<Arc<dyn Callback>>,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) retries: u32,
    pub(crate) max_tasks: Option<usize>,
}

/// The most tasks one compute takes unless [`Options::max_tasks`] says otherwise: a
/// graph (or an array's block graph) above it is refused with an error saying its size.
pub const DEFAULT_MAX_TASKS: usize = 100_000_000;

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("scheduler", &self.scheduler)
            .field("callbacks", &self.callbacks.len())
            .field("cancel", &self.cancel)
            .field("deadline", &self.deadline)
            .field("retries", &self.retries)
            .field("max_tasks", &self.max_tasks)
            .finish()
    }
}

impl Options {
    /// The defaults: the scheduler from [`Scheduler::from_env`], no extra callbacks, no
    /// token, no deadline, no retries, at most [`DEFAULT_MAX_TASKS`] tasks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the tasks run.
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// Hooks for this compute only, besides the registered ones (Dask's
    /// `compute(callbacks=[...])`).
    pub fn callbacks(mut self, callbacks: &[Arc<dyn Callback>]) -> Self {
        self.callbacks.extend(callbacks.iter().cloned());
        self
    }

    /// Stops the run when `token` is cancelled: no task starts after that, and the
    /// compute returns [`Error::Cancelled`] once the running tasks end.
    pub fn cancel_on(mut self, token: &CancelToken) -> Self {
        self.cancel = Some(token.clone());
        self
    }

    /// Stops the run `after` its start: no task starts after that, and the compute
    /// returns [`Error::DeadlineExceeded`] once the running tasks end (no later than the
    /// deadline plus the longest task running then).
    pub fn deadline(mut self, after: Duration) -> Self {
        self.deadline = Some(after);
        self
    }

    /// Runs a task that returned `Err` or panicked up to `n` more times before the
    /// compute fails (the error says how many attempts were made; callbacks see every
    /// attempt). Inputs are kept for the retries, so a task with retries clones them.
    /// Dynamic graphs and arrays only: a `graph!` plan's tasks consume their inputs, so
    /// a plan given retries fails with [`Error::Scheduler`].
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Refuses graphs of more than `n` tasks (the default is [`DEFAULT_MAX_TASKS`]).
    /// Whatever `n`, a run holds at most 2^31 - 2 tasks and as many edges (its tables
    /// index them with 31 bits); a bigger graph is refused with an error.
    pub fn max_tasks(mut self, n: usize) -> Self {
        self.max_tasks = Some(n);
        self
    }

    /// The scheduler this compute uses: the one set, or [`Scheduler::from_env`].
    pub(crate) fn resolved_scheduler(&self) -> Result<Scheduler, Error> {
        match &self.scheduler {
            Some(s) => Ok(s.clone()),
            None => Scheduler::from_env(),
        }
    }

    /// The task ceiling.
    pub(crate) fn task_limit(&self) -> usize {
        self.max_tasks.unwrap_or(DEFAULT_MAX_TASKS)
    }
}

impl From<Scheduler> for Options {
    fn from(scheduler: Scheduler) -> Self {
        Options::new().scheduler(scheduler)
    }
}

/// Stops runs from another thread (a Ctrl-C handler, a UI, a watchdog): cheap to clone,
/// `Send + Sync`. Attach it with [`Options::cancel_on`]; once cancelled it stays
/// cancelled, and every run it is attached to stops starting tasks.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{CancelToken, Error, Options};
///
/// let token = CancelToken::new();
/// token.cancel();
/// let x = dask::delayed_value(1_i64).map(|v| v + 1);
/// let err = x.compute_with(Options::new().cancel_on(&token)).unwrap_err();
/// assert!(matches!(err, Error::Cancelled));
/// ```
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every run this token is attached to (and every later one).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

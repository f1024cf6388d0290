//! Which executor runs a graph, and the `DASK_SCHEDULER` default.

use crate::Error;
use std::sync::OnceLock;

/// Where the tasks of a compute run.
///
/// # Examples
///
/// ```
/// use dask_runtime::{delayed_value, Scheduler};
///
/// let x = delayed_value(20_i64) + 22;
/// assert_eq!(x.compute_with(Scheduler::Sync).unwrap(), 42);
/// assert_eq!(x.compute_with(Scheduler::Threads(4)).unwrap(), 42);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheduler {
    /// A pool of `n` worker threads on rayon. The pool for a given `n` is built once and
    /// reused; the default `n` is one worker a core. Use more workers than cores for tasks
    /// that block (sleep, I/O): `Threads(30)` runs thirty sleeping tasks at once.
    Threads(usize),
    /// Every task on the calling thread, one at a time, in a fixed order: a debugger,
    /// a backtrace or a panic message lands on your code.
    Sync,
}

impl Default for Scheduler {
    /// `Threads(n)` with one worker a core.
    fn default() -> Self {
        Scheduler::Threads(default_workers())
    }
}

/// The number of cores as std sees them (1 if it cannot tell).
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Scheduler {
    /// The scheduler `compute()` uses: `DASK_SCHEDULER` from the environment, read once
    /// per process, or [`Scheduler::default`] when it is not set.
    ///
    /// Accepted values: `sync` (also `synchronous`, `single-threaded`), `threads`
    /// (also `threading`), and `threads:N`.
    ///
    /// # Errors
    ///
    /// [`Error::Scheduler`] when the variable is set to anything else.
    pub fn from_env() -> Result<Scheduler, Error> {
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
    /// use dask_runtime::Scheduler;
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

//! The one error type every `compute` returns.

use std::fmt;

/// A boxed error from a task: what a `#[delayed]` function's `Err` becomes.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a compute failed.
///
/// A failed task is named by its function name and its key (see [`Delayed::key`]),
/// so a message from a graph of a million tasks still says which one went wrong.
///
/// [`Delayed::key`]: crate::Delayed::key
///
/// # Examples
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{delayed_value, Error};
///
/// let x = delayed_value(4_i64).map(|v| -> i64 { if v > 3 { panic!("too big: {v}") } else { v } });
/// match x.compute() {
///     Err(Error::TaskPanicked { name, message, .. }) => {
///         assert_eq!(name, "map");
///         assert_eq!(message, "too big: 4");
///     }
///     other => panic!("expected a panic error, got {other:?}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A task returned `Err`; the task's own error is kept as [`source`](std::error::Error::source).
    TaskFailed {
        /// The function the task runs (`inc`, `map`, ...).
        name: &'static str,
        /// The task's unique key (`inc-3f2a...`).
        key: String,
        /// The error the task returned (on its last attempt).
        source: BoxError,
        /// How many times the task ran: 1, or more with `Options::retries`.
        attempts: u32,
    },
    /// A task panicked; the panic was caught and the rest of the run stopped.
    TaskPanicked {
        /// The function the task runs.
        name: &'static str,
        /// The task's unique key.
        key: String,
        /// The panic's message (`"<non-string panic payload>"` when it was not a string).
        message: String,
        /// How many times the task ran: 1, or more with `Options::retries`.
        attempts: u32,
    },
    /// The run's [`CancelToken`](crate::CancelToken) was cancelled: no task started after
    /// that, and the running ones were let finish.
    Cancelled,
    /// The run's deadline (`Options::deadline`) passed: no task started after that.
    DeadlineExceeded {
        /// The keys of the tasks that were running when the deadline was found passed.
        running: Vec<String>,
    },
    /// The graph is larger than the run allows (`Options::max_tasks`): it was refused
    /// before anything ran.
    TooManyTasks {
        /// How many tasks the run would have had.
        tasks: usize,
        /// The ceiling.
        limit: usize,
    },
    /// The scheduler asked for cannot run (`Threads(0)`, a bad `DASK_SCHEDULER`, a pool
    /// that failed to start).
    Scheduler(String),
    /// A chunked-array operation was given shapes, chunks or axes it cannot use.
    Shape {
        /// The operation that found the problem (`add`, `rechunk`, ...).
        operation: &'static str,
        /// What was wrong, with the shapes involved.
        message: String,
    },
    /// A callback (a progress bar, a profiler, your own hook) panicked.
    Callback(String),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: BoxError,
    },
    /// The runtime broke one of its own rules: a bug in dask, please report it.
    Internal(String),
}

impl Error {
    /// The key of the task that failed, if a task failed.
    pub fn task_key(&self) -> Option<&str> {
        match self {
            Error::TaskFailed { key, .. } | Error::TaskPanicked { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The function name of the task that failed, if a task failed.
    pub fn task_name(&self) -> Option<&'static str> {
        match self {
            Error::TaskFailed { name, .. } | Error::TaskPanicked { name, .. } => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TaskFailed {
                name,
                key,
                source,
                attempts,
            } => {
                write!(
                    f,
                    "task `{name}` ({key}) failed{}: {source}",
                    Attempts(*attempts)
                )
            }
            Error::TaskPanicked {
                name,
                key,
                message,
                attempts,
            } => {
                write!(
                    f,
                    "task `{name}` ({key}) panicked{}: {message}",
                    Attempts(*attempts)
                )
            }
            Error::Cancelled => f.write_str("the run was cancelled"),
            Error::DeadlineExceeded { running } if running.is_empty() => {
                f.write_str("the run's deadline passed")
            }
            Error::DeadlineExceeded { running } => {
                write!(
                    f,
                    "the run's deadline passed while running {}",
                    running.join(", ")
                )
            }
            Error::TooManyTasks { tasks, limit } => write!(
                f,
                "the graph has {tasks} tasks, more than the limit of {limit} \
                 (raise it with Options::max_tasks, or use bigger chunks)"
            ),
            Error::Scheduler(message) => write!(f, "scheduler error: {message}"),
            Error::Shape { operation, message } => {
                write!(f, "shape error in `{operation}`: {message}")
            }
            Error::Io { path, source } => write!(f, "{path}: {source}"),
            Error::Callback(message) => write!(f, "a callback panicked: {message}"),
            Error::Internal(message) => {
                write!(f, "internal error in dask (please report): {message}")
            }
        }
    }
}

/// " after N attempts" when a task ran more than once.
struct Attempts(u32);

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 1 {
            write!(f, " after {} attempts", self.0)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::TaskFailed { source, .. } | Error::Io { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

/// A task's value, or the error that names it: `outcome` is what the task gave under
/// `catch_unwind` on its last of `attempts`; `key` is only built when the task failed.
/// Inlined into every task: the success path is one match, the rest out of line.
#[inline(always)]
pub(crate) fn task_outcome<T>(
    outcome: std::thread::Result<Result<T, BoxError>>,
    name: &'static str,
    attempts: u32,
    key: impl FnOnce() -> String,
) -> Result<T, Error> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(task_error(name, attempts, key(), Ok(source))),
        Err(payload) => Err(task_error(name, attempts, key(), Err(payload))),
    }
}

/// The error of a task that returned `Err` (`Ok(source)`) or panicked (`Err(payload)`).
#[cold]
#[inline(never)]
fn task_error(
    name: &'static str,
    attempts: u32,
    key: String,
    cause: Result<BoxError, Box<dyn std::any::Any + Send>>,
) -> Error {
    match cause {
        Ok(source) => Error::TaskFailed {
            name,
            key,
            source,
            attempts,
        },
        Err(payload) => Error::TaskPanicked {
            name,
            key,
            message: panic_message(&*payload),
            attempts,
        },
    }
}

/// The text of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

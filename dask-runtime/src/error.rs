//! The one error type every `compute` returns.

use std::fmt;

/// A boxed error from a task: what a `#[delayed]` function's `Err` becomes.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a compute failed.
///
/// A failed task is named by its function name and its key (see [`Delayed::key`] and
/// [`Delayed::named`]), so a message from a graph of a million tasks still says which
/// one went wrong.
///
/// `Display` follows the Rust API guidelines: `{}` says what failed, and the task's
/// own error is its [`source`](std::error::Error::source), so error-chain printers
/// (anyhow, eyre) show it once. `{:#}` writes the whole chain on one line. Get your own
/// error type back with [`Error::downcast_ref`].
///
/// [`Delayed::key`]: crate::Delayed::key
/// [`Delayed::named`]: crate::Delayed::named
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
        /// The panic's message (`"<non-string panic payload>"` when it was not a
        /// string; the payload itself is kept, see [`Error::panic_payload`]).
        message: String,
        /// How many times the task ran: 1, or more with `Options::retries`.
        attempts: u32,
        /// The panic's payload when it was neither a `&str` nor a `String`.
        payload: Option<PanicPayload>,
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
    /// A run on several processes (the MPI scheduler) failed on `rank`: every rank
    /// returns this same error, the first rank's if several failed. `message` is the
    /// failure as that rank showed it (`{:#}`, with its causes).
    Distributed {
        /// The rank where the run failed.
        rank: usize,
        /// What failed there.
        message: String,
    },
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

/// A caught panic's payload, kept as given (`std::panic::panic_any(MyError { .. })`).
pub struct PanicPayload(std::sync::Mutex<Box<dyn std::any::Any + Send>>);

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PanicPayload(..)")
    }
}

impl PanicPayload {
    /// Whether the payload is a `P`.
    pub fn is<P: 'static>(&self) -> bool {
        self.0.lock().is_ok_and(|p| p.is::<P>())
    }

    /// The payload, to downcast or to resume the panic with
    /// (`std::panic::resume_unwind`).
    pub fn into_inner(self) -> Box<dyn std::any::Any + Send> {
        self.0
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Error {
    /// Your own error type back from a failed compute: the first error of type `E` in
    /// the chain of sources (a `#[delayed]` function's `Err`, through any layers that
    /// wrapped it).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// #[derive(Debug)]
    /// struct BadLine(usize);
    /// impl std::fmt::Display for BadLine {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         write!(f, "bad line {}", self.0)
    ///     }
    /// }
    /// impl std::error::Error for BadLine {}
    ///
    /// let parsed = dask::delayed_value(779_usize).try_map(|n| Err::<i64, _>(BadLine(n)));
    /// let err = parsed.compute().unwrap_err();
    /// assert_eq!(err.downcast_ref::<BadLine>().unwrap().0, 779);
    /// assert_eq!(format!("{err:#}"), format!("{err}: bad line 779"));
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = next {
            if let Some(found) = e.downcast_ref::<E>() {
                return Some(found);
            }
            next = e.source();
        }
        None
    }

    /// The payload of a task's panic when it was not a string (strings are in
    /// `TaskPanicked::message`).
    pub fn panic_payload(&self) -> Option<&PanicPayload> {
        match self {
            Error::TaskPanicked { payload, .. } => payload.as_ref(),
            _ => None,
        }
    }

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
                ..
            } => {
                write!(f, "task `{name}` ({key}) failed{}", Attempts(*attempts))?;
                chain(f, source)
            }
            Error::TaskPanicked {
                name,
                key,
                message,
                attempts,
                ..
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
            Error::Distributed { rank, message } => write!(f, "on rank {rank}: {message}"),
            Error::Shape { operation, message } => {
                write!(f, "shape error in `{operation}`: {message}")
            }
            Error::Io { path, source } => {
                write!(f, "could not read or write {path}")?;
                chain(f, source)
            }
            Error::Callback(message) => write!(f, "a callback panicked: {message}"),
            Error::Internal(message) => {
                write!(f, "internal error in dask (please report): {message}")
            }
        }
    }
}

/// With `{:#}`, ": " and each error of the chain from `source` on; nothing otherwise.
fn chain(f: &mut fmt::Formatter<'_>, source: &BoxError) -> fmt::Result {
    if f.alternate() {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&**source);
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
    }
    Ok(())
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
        // A shape error of an array carried by a task is the array's error, whatever
        // task met it.
        Ok(source) if matches!(source.downcast_ref::<Error>(), Some(Error::Shape { .. })) => {
            match source.downcast::<Error>() {
                Ok(shape) => *shape,
                Err(source) => Error::TaskFailed {
                    name,
                    key,
                    source,
                    attempts,
                },
            }
        }
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
            payload: kept_payload(payload),
        },
    }
}

/// A caught panic's payload, kept when it is not text (text is the message).
pub(crate) fn kept_payload(payload: Box<dyn std::any::Any + Send>) -> Option<PanicPayload> {
    let is_text = payload.is::<&'static str>() || payload.is::<String>();
    (!is_text).then(|| PanicPayload(std::sync::Mutex::new(payload)))
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

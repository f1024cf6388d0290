//! When a run stops starting tasks: a task failed, a callback failed, its
//! [`CancelToken`](crate::CancelToken) was cancelled or its deadline passed. The first
//! cause is kept as the run's error. Shared by the dynamic executor and by plans.

use super::sync::{AtomicBool, Mutex};
use crate::Error;
use crate::options::{CancelToken, Options};
use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, PoisonError};
use std::time::Instant;

/// The stop state of one run.
pub(crate) struct Stopper {
    stopped: AtomicBool,
    error: Mutex<Option<Error>>,
    token: Option<CancelToken>,
    deadline: Option<Instant>,
    /// Whether there is a token or a deadline to check.
    watched: bool,
    /// With a deadline, which tasks are running, to name them when it passes.
    running: Option<Box<[AtomicBool]>>,
}

impl Stopper {
    /// The stop state of a run of `tasks` tasks starting now under `options`.
    pub(crate) fn new(options: &Options, tasks: usize) -> Stopper {
        let deadline = options.deadline.map(|d| Instant::now() + d);
        Stopper {
            stopped: AtomicBool::new(false),
            error: Mutex::new(None),
            token: options.cancel.clone(),
            running: deadline.map(|_| (0..tasks).map(|_| AtomicBool::new(false)).collect()),
            watched: deadline.is_some() || options.cancel.is_some(),
            deadline,
        }
    }

    /// Whether the run must start no more tasks. The first time the token or the
    /// deadline is found to have fired, that becomes the run's error (the deadline's
    /// naming the running tasks, whose keys `key` gives). Checked before every task:
    /// two loads unless the run has a token or a deadline.
    #[inline]
    pub(crate) fn should_stop(&self, key: impl Fn(usize) -> String) -> bool {
        if self.stopped.load(Ordering::Acquire) {
            return true;
        }
        self.watched && self.fired(&key)
    }

    /// Whether the token or the deadline has fired, recording it as the run's error.
    #[cold]
    #[inline(never)]
    fn fired(&self, key: &dyn Fn(usize) -> String) -> bool {
        if self.cancelled() {
            self.fail(Error::Cancelled);
            return true;
        }
        if self.late() {
            let running = self.running.as_deref().unwrap_or_default();
            let running = (0..running.len())
                .filter(|&i| running[i].load(Ordering::Acquire))
                .map(key)
                .collect();
            self.fail(Error::DeadlineExceeded { running });
            return true;
        }
        false
    }

    /// Whether the run's token was cancelled.
    fn cancelled(&self) -> bool {
        self.token.as_ref().is_some_and(CancelToken::is_cancelled)
    }

    /// Whether the run's deadline has passed.
    fn late(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Whether the run has stopped or should: what [`is_cancelled`] tells a task.
    fn is_stopping(&self) -> bool {
        self.has_stopped() || self.cancelled() || self.late()
    }

    /// Whether the run has failed (or was stopped).
    #[inline]
    pub(crate) fn has_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Task `index` is running (`true`) or not; kept only under a deadline.
    #[inline]
    pub(crate) fn mark_running(&self, index: usize, running: bool) {
        if let Some(flags) = &self.running {
            flags[index].store(running, Ordering::Release);
        }
    }

    /// Records the run's error; the first one wins, as no task starts after it.
    pub(crate) fn fail(&self, error: Error) {
        let mut first = self.error.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some(error);
        }
        self.stopped.store(true, Ordering::Release);
    }

    /// Records a task's failure. A task that stopped early because its run was
    /// cancelled (or ran out of time) fails for that reason, so a fired token or
    /// deadline is recorded first and wins.
    pub(crate) fn fail_task(&self, error: Error, key: impl Fn(usize) -> String) {
        self.should_stop(key);
        self.fail(error);
    }

    /// The run's error as `{:#}` shows it (with its causes), if it stopped with one.
    #[cfg(feature = "mpi")]
    pub(crate) fn error_text(&self) -> Option<String> {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|e| format!("{e:#}"))
    }

    /// The run's error, if it stopped.
    pub(crate) fn take_error(&self) -> Option<Error> {
        if !self.has_stopped() {
            return None;
        }
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// Runs `run` (the whole run of a graph) with, under a deadline, a watcher thread that
/// stops the run at the deadline itself, while its tasks are still running, so the error
/// names them (`key` gives their keys). Without a deadline, just `run()`.
pub(crate) fn watching_deadline<R>(
    stopper: &Stopper,
    key: impl Fn(usize) -> String + Sync,
    run: impl FnOnce() -> R,
) -> R {
    let Some(deadline) = stopper.deadline else {
        return run();
    };
    let finished = (std::sync::Mutex::new(false), Condvar::new());
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut done = finished.0.lock().unwrap_or_else(PoisonError::into_inner);
            while !*done {
                let now = Instant::now();
                if now >= deadline {
                    drop(done);
                    stopper.should_stop(&key);
                    return;
                }
                done = finished
                    .1
                    .wait_timeout(done, deadline - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        });
        let result = run();
        *finished.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        finished.1.notify_all();
        result
    })
}

/// A run's stop state, shared (so tasks can see it through [`is_cancelled`]) only when
/// the run has a token or a deadline: a plain run allocates nothing for it.
pub(crate) enum RunStop {
    Local(Stopper),
    Shared(Arc<Stopper>),
}

impl RunStop {
    pub(crate) fn new(stopper: Stopper) -> Self {
        if stopper.watched {
            RunStop::Shared(Arc::new(stopper))
        } else {
            RunStop::Local(stopper)
        }
    }

    /// Makes this run the current one of this thread while the guard lives, if it is
    /// watched.
    #[inline]
    pub(crate) fn enter(&self) -> Option<Entered> {
        match self {
            RunStop::Local(_) => None,
            RunStop::Shared(stopper) => enter(stopper),
        }
    }
}

impl std::ops::Deref for RunStop {
    type Target = Stopper;
    #[inline]
    fn deref(&self) -> &Stopper {
        match self {
            RunStop::Local(stopper) => stopper,
            RunStop::Shared(stopper) => stopper,
        }
    }
}

thread_local! {
    /// The watched runs whose tasks this thread is running, innermost last (a task may
    /// compute a graph of its own).
    static CURRENT: RefCell<Vec<Arc<Stopper>>> = const { RefCell::new(Vec::new()) };
}

/// Makes `stopper` the current run of this thread while the guard lives.
#[inline]
fn enter(stopper: &Arc<Stopper>) -> Option<Entered> {
    CURRENT
        .try_with(|c| c.borrow_mut().push(Arc::clone(stopper)))
        .ok()
        .map(|()| Entered)
}

/// Leaves the run entered with [`enter`] when dropped.
pub(crate) struct Entered;

impl Drop for Entered {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.borrow_mut().pop());
    }
}

/// Whether the run of the task calling it is being cancelled: its
/// [`CancelToken`](crate::CancelToken) was cancelled, its deadline passed, or another
/// task failed. A long task polls it to stop early (return an error or a partial value;
/// the run's error is the cancellation either way).
///
/// Runs without a token or a deadline are not tracked (that costs nothing): a task of
/// such a run started inside a task of a tracked run (a nested compute) sees the outer
/// run's state; outside any tracked run it is `false`.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{CancelToken, Error, Options};
///
/// let token = CancelToken::new();
/// let stopper = token.clone();
/// let x = dask::delayed_value(0_u64).map(move |_| {
///     stopper.cancel();                   // as a Ctrl-C handler would
///     let mut steps = 0;
///     while !dask::is_cancelled() {
///         steps += 1;
///     }
///     steps
/// });
/// let err = x.compute_with(Options::new().cancel_on(&token)).unwrap_err();
/// assert!(matches!(err, Error::Cancelled));
/// assert!(!dask::is_cancelled());
/// ```
pub fn is_cancelled() -> bool {
    CURRENT
        .try_with(|c| c.borrow().last().is_some_and(|s| s.is_stopping()))
        .unwrap_or(false)
}

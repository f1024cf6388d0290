//! What a static plan's generated code calls while it runs: fork two branches, run one
//! task, map a task over a list. The plan's shape is fixed at compile time, so there is
//! no graph here: only the error bookkeeping and the choice between rayon and the
//! calling thread.

use crate::Error;
use crate::error::{BoxError, panic_message};
use rayon::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Returned by a task of a plan once the run has failed; the error itself is kept by
/// the [`Runner`] and returned by the plan's `compute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// The run-time context of one plan run.
#[derive(Debug)]
pub struct Runner {
    parallel: bool,
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
}

impl Runner {
    pub(crate) fn new(parallel: bool) -> Self {
        Runner {
            parallel,
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
        }
    }

    /// Runs `a` and `b`, at once when the run is parallel. Both always run to the end
    /// (tasks inside return [`Stop`] early once the run has failed).
    #[inline]
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        if self.parallel {
            rayon::join(a, b)
        } else {
            (a(), b())
        }
    }

    /// Runs one task: skipped once the run has failed; a panic or an `Err` records the
    /// run's error (the first one wins) and stops the run.
    #[inline]
    pub fn task<T>(
        &self,
        name: &'static str,
        key: &'static str,
        f: impl FnOnce() -> Result<T, BoxError>,
    ) -> Result<T, Stop> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(Stop);
        }
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(self.fail(Error::TaskFailed {
                name,
                key: key.to_owned(),
                source,
            })),
            Err(payload) => Err(self.fail(Error::TaskPanicked {
                name,
                key: key.to_owned(),
                message: panic_message(&*payload),
            })),
        }
    }

    /// Runs `f` on every item of `items`, each a task (in parallel when the run is),
    /// and collects the results in order. Task keys are `key[index]`.
    pub fn map<I, T, F>(
        &self,
        name: &'static str,
        key: &'static str,
        items: I,
        f: F,
    ) -> Result<Vec<T>, Stop>
    where
        I: IntoIterator,
        I::Item: Send,
        T: Send,
        F: Fn(I::Item) -> Result<T, BoxError> + Send + Sync,
    {
        let items: Vec<I::Item> = items.into_iter().collect();
        let one = |(index, item): (usize, I::Item)| -> Result<T, Stop> {
            if self.failed.load(Ordering::Relaxed) {
                return Err(Stop);
            }
            match catch_unwind(AssertUnwindSafe(|| f(item))) {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(source)) => Err(self.fail(Error::TaskFailed {
                    name,
                    key: format!("{key}[{index}]"),
                    source,
                })),
                Err(payload) => Err(self.fail(Error::TaskPanicked {
                    name,
                    key: format!("{key}[{index}]"),
                    message: panic_message(&*payload),
                })),
            }
        };
        if self.parallel {
            items.into_par_iter().enumerate().map(one).collect()
        } else {
            items.into_iter().enumerate().map(one).collect()
        }
    }

    fn fail(&self, error: Error) -> Stop {
        let mut first = self.error.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some(error);
        }
        self.failed.store(true, Ordering::Relaxed);
        Stop
    }

    /// The run's result: the value, or the first error recorded.
    pub(crate) fn finish<O>(self, result: Result<O, Stop>) -> Result<O, Error> {
        let error = self.error.into_inner().unwrap_or_else(|e| e.into_inner());
        match (result, error) {
            (Ok(value), None) => Ok(value),
            (_, Some(error)) => Err(error),
            (Err(Stop), None) => Err(Error::Internal("a plan stopped without an error".into())),
        }
    }
}

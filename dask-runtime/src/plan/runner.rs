//! What a static plan's generated code calls while it runs: fork two branches, run one
//! task, map a task over a list. The plan's shape is fixed at compile time, so there is
//! no graph here: only the error bookkeeping and the choice between rayon and the
//! calling thread.

use crate::Error;
use crate::error::{BoxError, task_outcome};
use crate::observe::{Hooks, TaskEvent, TaskKey, notify};
use rayon::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Returned by a task of a plan once the run has failed; the error itself is kept by
/// the [`Runner`] and returned by the plan's `compute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// The run-time context of one plan run.
pub struct Runner {
    parallel: bool,
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
    hooks: Option<Hooks>,
    origin: u64,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("parallel", &self.parallel)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Runner {
    pub(crate) fn new(parallel: bool, hooks: Option<Hooks>, origin: u64) -> Self {
        Runner {
            parallel,
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            hooks,
            origin,
        }
    }

    /// Tells the callbacks, if any, that node `index` starts; `finished` tells them it
    /// ended.
    fn observe(&self, index: usize, name: &'static str, key: &'static str) -> Option<TaskEvent> {
        let hooks = self.hooks.as_ref()?;
        let event = TaskEvent::starting(index, name, TaskKey::Plan(key), self.origin);
        if let Err(e) = notify(hooks, |c| c.task_start(&event)) {
            self.fail(e);
        }
        Some(event)
    }

    fn finished(&self, event: Option<TaskEvent>, ok: bool) {
        if let (Some(hooks), Some(mut event)) = (&self.hooks, event) {
            event.finished(ok);
            if let Err(e) = notify(hooks, |c| c.task_finish(&event)) {
                self.fail(e);
            }
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
        index: usize,
        name: &'static str,
        key: &'static str,
        f: impl FnOnce() -> Result<T, BoxError>,
    ) -> Result<T, Stop> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(Stop);
        }
        let event = self.observe(index, name, key);
        #[cfg(feature = "tracing")]
        let span = tracing::info_span!("dask_task", name, key).entered();
        let outcome = catch_unwind(AssertUnwindSafe(f));
        #[cfg(feature = "tracing")]
        drop(span);
        self.finished(event, matches!(outcome, Ok(Ok(_))));
        task_outcome(outcome, name, || key.to_owned()).map_err(|e| self.fail(e))
    }

    /// Runs `f` on every item of `items`, each a task (in parallel when the run is),
    /// and collects the results in order. Task keys are `key[index]`.
    pub fn map<I, T, F>(
        &self,
        index: usize,
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
            let outcome = catch_unwind(AssertUnwindSafe(|| f(item)));
            task_outcome(outcome, name, || format!("{key}[{index}]")).map_err(|e| self.fail(e))
        };
        let event = self.observe(index, name, key);
        let result: Result<Vec<T>, Stop> = if self.parallel {
            items.into_par_iter().enumerate().map(one).collect()
        } else {
            items.into_iter().enumerate().map(one).collect()
        };
        self.finished(event, result.is_ok());
        result
    }

    /// Runs nodes `0..dependencies.len()` with `run`, each once its dependencies have
    /// run: at once where the graph allows (for plans whose graph is not
    /// series-parallel, where nested joins would make a node wait needlessly). Node
    /// indices are in block order, which is a topological order.
    pub fn table(
        &self,
        dependencies: &[&[usize]],
        run: &(dyn Fn(usize) -> Result<(), Stop> + Sync),
    ) {
        let n = dependencies.len();
        if !self.parallel {
            for i in 0..n {
                if run(i).is_err() {
                    return;
                }
            }
            return;
        }
        let mut consumers = vec![Vec::new(); n];
        for (i, deps) in dependencies.iter().enumerate() {
            for &d in *deps {
                consumers[d].push(i);
            }
        }
        let waiting: Vec<std::sync::atomic::AtomicUsize> = dependencies
            .iter()
            .map(|d| std::sync::atomic::AtomicUsize::new(d.len()))
            .collect();
        fn go<'s>(
            i: usize,
            scope: &rayon::Scope<'s>,
            run: &'s (dyn Fn(usize) -> Result<(), Stop> + Sync),
            consumers: &'s [Vec<usize>],
            waiting: &'s [std::sync::atomic::AtomicUsize],
        ) {
            if run(i).is_err() {
                return;
            }
            for &c in &consumers[i] {
                if waiting[c].fetch_sub(1, Ordering::AcqRel) == 1 {
                    scope.spawn(move |scope| go(c, scope, run, consumers, waiting));
                }
            }
        }
        let (consumers, waiting) = (&consumers, &waiting);
        rayon::in_place_scope(|scope| {
            for i in (0..n).filter(|&i| dependencies[i].is_empty()) {
                scope.spawn(move |scope| go(i, scope, run, consumers, waiting));
            }
        });
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

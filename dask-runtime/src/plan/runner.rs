//! What a static plan's generated code calls while it runs: fork two branches, run one
//! task, map a task over a list. The plan's shape is fixed at compile time, so there is
//! no graph here: only the error bookkeeping and the choice between rayon and the
//! calling thread.

use crate::error::{BoxError, panic_message, task_outcome};
use crate::executor::stop::{self, RunStop, Stopper};
use crate::hooks::{Observed, TaskEvent, TaskKey};
use crate::{Error, Options};
use rayon::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Returned by a task of a plan once the run has failed; the error itself is kept by
/// the [`Runner`] and returned by the plan's `compute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// The branches of one fork: `branch(i)` runs branch `i` (see [`Runner::join_each`]).
pub type Branch<'a> = &'a (dyn Fn(usize) -> Result<(), Stop> + Sync);

/// The run-time context of one plan run.
pub struct Runner {
    parallel: bool,
    stopper: RunStop,
    observed: Option<Observed>,
    info: &'static super::PlanInfo,
    /// How a captured `Delayed` is computed: the run's scheduler, callbacks, token
    /// and what is left of its deadline.
    nested: Options,
    started: Instant,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("parallel", &self.parallel)
            .field("stopped", &self.stopper.has_stopped())
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner for one run of the plan `info`; `nested` says how captured `Delayed`s
    /// are computed (its scheduler must be the run's).
    pub(crate) fn new(
        info: &'static super::PlanInfo,
        parallel: bool,
        observed: Option<Observed>,
        stopper: Stopper,
        nested: Options,
    ) -> Self {
        Runner {
            parallel,
            stopper: RunStop::new(stopper),
            observed,
            info,
            nested,
            started: Instant::now(),
        }
    }

    /// Computes a `Delayed` the plan captured, before its tasks start: a compute of its
    /// own on the run's scheduler, told the run's callbacks and token, and given what is
    /// left of the run's deadline. Its failure is the run's.
    pub(crate) fn compute_captured<T: Send + Sync + 'static>(
        &self,
        value: &crate::Delayed<T>,
    ) -> Result<T, Stop> {
        if self.should_stop() {
            return Err(Stop);
        }
        let mut options = self.nested.clone();
        if let Some(deadline) = options.deadline {
            options.deadline = Some(deadline.saturating_sub(self.started.elapsed()));
        }
        value.compute_with(options).map_err(|e| self.fail(e))
    }

    /// Runs the whole plan with `run`, stopped at the deadline if it has one.
    pub(crate) fn watching_deadline<R>(&self, run: impl FnOnce() -> R) -> R {
        stop::watching_deadline(&self.stopper, |i| self.key(i), run)
    }

    /// Node `i`'s key, for errors that name running nodes.
    fn key(&self, i: usize) -> String {
        self.info.names.get(i).copied().unwrap_or("?").to_owned()
    }

    pub(crate) fn observed(&self) -> Option<&Observed> {
        self.observed.as_ref()
    }

    /// Whether no more tasks may start (the run failed, was cancelled or is late);
    /// records the cause the first time.
    #[inline]
    fn should_stop(&self) -> bool {
        self.stopper.should_stop(|i| self.key(i))
    }

    /// Tells the callbacks, if any, that node `index` starts: `Err` when a callback
    /// failed (the run fails and the task is skipped). Out of line: the task path
    /// without callbacks stays small enough to inline.
    #[inline]
    fn observe(&self, index: usize, key: TaskKey) -> Result<Option<TaskEvent>, Stop> {
        match &self.observed {
            None => Ok(None),
            Some(observed) => self.observe_start(observed, index, key),
        }
    }

    #[inline(never)]
    fn observe_start(
        &self,
        observed: &Observed,
        index: usize,
        key: TaskKey,
    ) -> Result<Option<TaskEvent>, Stop> {
        observed
            .task_start(index, key, 1)
            .map(Some)
            .map_err(|e| self.fail(e))
    }

    #[inline]
    fn finished(&self, event: Option<TaskEvent>, ok: bool) {
        if let Some(event) = event {
            self.observe_finish(event, ok);
        }
    }

    #[inline(never)]
    fn observe_finish(&self, event: TaskEvent, ok: bool) {
        if let Some(observed) = &self.observed
            && let Err(e) = observed.task_finish(event, ok)
        {
            self.fail(e);
        }
    }

    /// Runs `f` as task `index` under `catch_unwind`, marked running for the deadline's
    /// message and current for [`crate::is_cancelled`].
    #[inline]
    fn guarded<T>(
        &self,
        index: usize,
        f: impl FnOnce() -> Result<T, BoxError>,
    ) -> std::thread::Result<Result<T, BoxError>> {
        self.stopper.mark_running(index, true);
        let outcome = {
            let _current = self.stopper.enter();
            catch_unwind(AssertUnwindSafe(f))
        };
        self.stopper.mark_running(index, false);
        outcome
    }

    /// Runs `branch(0)`, ..., `branch(n - 1)`, at once when the run is parallel (a
    /// balanced tree of rayon joins, the earlier half first); every branch always runs
    /// to the end (tasks inside return [`Stop`] early once the run has failed).
    ///
    /// What `graph!` generates for a fork: the branches are the arms of one closure,
    /// which write the values they hand back into slots (and return `Err(Stop)`
    /// without writing them once the run has failed). One closure a fork, rather
    /// than a closure a branch passed to a generic `join`, keeps rustc's type
    /// checking of a plan linear: each closure passed to a generic `Send` bound leaves
    /// an obligation pending until the whole body is checked, and every later
    /// expression went over all of them (a 2,000-node fan-in spent 43 s there, with a
    /// generic `join` of two closures a fork).
    #[inline]
    pub fn join_each(&self, n: usize, branch: Branch<'_>) {
        fn split(lo: usize, hi: usize, branch: Branch<'_>) {
            if hi - lo == 1 {
                // A branch that stopped has written no values: the code after the
                // fork finds its slot empty and stops too.
                let _ = branch(lo);
            } else {
                let mid = lo + (hi - lo).div_ceil(2);
                rayon::join(|| split(lo, mid, branch), || split(mid, hi, branch));
            }
        }
        if !self.parallel {
            for i in 0..n {
                let _ = branch(i);
            }
        } else if n > 0 {
            split(0, n, branch);
        }
    }

    /// Runs node `index` as one task, its body a closure that keeps the value itself
    /// and returns only its error, if any: skipped once the run has stopped; a panic
    /// or an `Err` records the run's error (the first one wins) and stops the run.
    /// The body is passed as `dyn`, so a plan instantiates none of the task machinery
    /// per node and leaves rustc nothing pending per task.
    #[inline]
    pub fn task_dyn(
        &self,
        index: usize,
        name: &'static str,
        key: &'static str,
        body: &mut dyn FnMut() -> Result<(), BoxError>,
    ) -> Result<(), Stop> {
        self.run_task(index, name, TaskKey::Plan(key), body)
    }

    /// What [`Runner::task_dyn`] and [`Runner::item`] run: task `index` named `key`.
    #[inline]
    fn run_task<T>(
        &self,
        index: usize,
        name: &'static str,
        key: TaskKey,
        f: impl FnOnce() -> Result<T, BoxError>,
    ) -> Result<T, Stop> {
        if self.should_stop() {
            return Err(Stop);
        }
        let event = self.observe(index, key)?;
        #[cfg(feature = "tracing")]
        let span = tracing::info_span!("dask_task", name, key = %key).entered();
        let outcome = self.guarded(index, f);
        #[cfg(feature = "tracing")]
        drop(span);
        self.finished(event, matches!(outcome, Ok(Ok(_))));
        let value =
            task_outcome(outcome, name, 1, || key.to_string()).map_err(|e| self.fail_task(e))?;
        if self.stopper.has_stopped() {
            return Err(Stop);
        }
        Ok(value)
    }

    /// Runs the `for` stages `stages` (node indices; each stage iterates over the
    /// previous one's list, which nothing else reads) over `items`: `f` takes each item
    /// through every stage, one task an item a stage (see [`Runner::item`]), items in
    /// parallel when the run is. So an item's next stage starts as soon as its own
    /// previous task is done, with no barrier between the stages. Each stage also has an
    /// event of its own, over all its items. A panic while iterating `items` fails the
    /// run as the first stage's.
    pub fn map<I, T, F>(&self, stages: &[usize], items: I, f: F) -> Result<Vec<T>, Stop>
    where
        I: IntoIterator,
        I::Item: Send,
        T: Send,
        F: Fn(usize, I::Item) -> Result<T, Stop> + Send + Sync,
    {
        if self.should_stop() {
            return Err(Stop);
        }
        let mut events = Vec::with_capacity(stages.len());
        for &stage in stages {
            match self.observe(stage, TaskKey::Plan(self.info.names[stage])) {
                Ok(event) => events.push(event),
                Err(stop) => {
                    events.into_iter().for_each(|e| self.finished(e, false));
                    return Err(stop);
                }
            }
        }
        let items = match catch_unwind(AssertUnwindSafe(|| items.into_iter().collect::<Vec<_>>())) {
            Ok(items) => items,
            Err(payload) => {
                events.into_iter().for_each(|e| self.finished(e, false));
                let first = stages.first().copied().unwrap_or(0);
                return Err(self.fail(Error::TaskPanicked {
                    name: self.info.functions[first],
                    key: self.info.names[first].to_owned(),
                    message: format!("while iterating its items: {}", panic_message(&*payload)),
                    attempts: 1,
                    payload: crate::error::kept_payload(payload),
                }));
            }
        };
        let one = |(i, item): (usize, I::Item)| f(i, item);
        let result: Result<Vec<T>, Stop> = if self.parallel {
            items.into_par_iter().enumerate().map(one).collect()
        } else {
            items.into_iter().enumerate().map(one).collect()
        };
        let ok = result.is_ok();
        events.into_iter().for_each(|e| self.finished(e, ok));
        result
    }

    /// Runs item `i` of the `for` stage `stage` as a task: `f` on the item `x`, as
    /// [`Runner::task_dyn`] runs a node. Callbacks and errors name it `stage[i]`
    /// ([`TaskKey::PlanItem`]).
    #[inline]
    pub fn item<X, T>(
        &self,
        stage: usize,
        i: usize,
        x: X,
        f: impl FnOnce(X) -> Result<T, BoxError>,
    ) -> Result<T, Stop> {
        let (name, key) = (self.info.functions[stage], self.info.names[stage]);
        self.run_task(stage, name, TaskKey::PlanItem(key, i), move || f(x))
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
        self.stopper.fail(error);
        Stop
    }

    /// A task's failure (a fired token or deadline wins: see [`Stopper::fail_task`]).
    fn fail_task(&self, error: Error) -> Stop {
        self.stopper.fail_task(error, |i| self.key(i));
        Stop
    }

    /// The run's result: the value, or the first error recorded.
    pub(crate) fn finish<O>(&self, result: Result<O, Stop>) -> Result<O, Error> {
        // Cancelled while the last tasks ran: they may have cut their work short.
        self.should_stop();
        match (result, self.stopper.take_error()) {
            (Ok(value), None) => Ok(value),
            (_, Some(error)) => Err(error),
            (Err(Stop), None) => Err(Error::Internal("a plan stopped without an error".into())),
        }
    }
}

/// Takes the values a task consumes out of the `Option` they wait in: a
/// [`Runner::task_dyn`] closure is `FnMut`, so it cannot move what it captures, and
/// the runner calls it at most once.
#[inline]
pub fn take_once<T>(slot: &mut Option<T>) -> T {
    slot.take().expect("a plan's task runs once")
}

/// Values passed between a fork's shared closure and the code around it: those a
/// branch consumes ([`Slot::full`], taken once by that branch), and those it hands
/// back ([`Slot::new`], set by the branch, empty if it stopped).
pub struct Slot<T>(std::sync::Mutex<Option<T>>);

impl<T> std::fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Slot(..)")
    }
}

impl<T> Slot<T> {
    /// An empty slot.
    #[inline]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Slot(std::sync::Mutex::new(None))
    }

    /// A slot holding `values` for the branch that consumes them.
    #[inline]
    pub fn full(values: T) -> Self {
        Slot(std::sync::Mutex::new(Some(values)))
    }

    /// The values, for the one branch that consumes them.
    #[inline]
    pub fn take(&self) -> T {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .expect("a plan's branch runs once")
    }

    /// Leaves `values` in the slot.
    #[inline]
    pub fn set(&self, values: T) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(values);
    }

    /// The values left in the slot, if its branch got that far.
    #[inline]
    pub fn into_inner(self) -> Option<T> {
        self.0
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

//! A progress bar for long computes, on indicatif (Dask's `ProgressBar`).

use super::{Callback, CallbackGuard, RunId, RunInfo, TaskEvent, register};
use crate::Error;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Tasks done out of the total, the rate, the time elapsed and left, on stderr. Silent
/// when stderr is not a terminal (a pipe, a file, CI). Runs at once (two computes on
/// two threads) get a bar each.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{delayed_value, diagnostics::ProgressBar};
/// let _bar = ProgressBar::new().register();   // Dask's `with ProgressBar():`
/// assert_eq!(delayed_value(1).map(|v| v + 1).compute().unwrap(), 2);
/// ```
#[derive(Debug, Default)]
pub struct ProgressBar {
    bars: Mutex<HashMap<RunId, indicatif::ProgressBar>>,
    multi: indicatif::MultiProgress,
}

impl ProgressBar {
    /// A progress bar, not yet attached to any run.
    pub fn new() -> Self {
        Self::default()
    }

    /// Shows the bar for every compute until the guard is dropped.
    pub fn register(self) -> CallbackGuard {
        register(Arc::new(self))
    }

    /// How many tasks of run `run` the bar counts done, while the run is shown.
    #[cfg(test)]
    pub(crate) fn position(&self, run: RunId) -> Option<u64> {
        self.bars().get(&run).map(indicatif::ProgressBar::position)
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, HashMap<RunId, indicatif::ProgressBar>> {
        self.bars.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Callback for ProgressBar {
    fn start(&self, run: &RunInfo) {
        let bar = self
            .multi
            .add(indicatif::ProgressBar::new(run.tasks.len() as u64));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "[{bar:40}] {pos}/{len} tasks  {per_sec}  {elapsed_precise} elapsed, {eta} left",
        ) {
            bar.set_style(style.progress_chars("#>-"));
        }
        self.bars().insert(run.id, bar);
    }

    fn task_finish(&self, task: &TaskEvent) {
        // A failed attempt is retried or fails the run: only successes move the bar.
        if !task.ok {
            return;
        }
        // The bar counts a plan's `for` stage once (its own event), not once an item.
        if matches!(task.key, crate::hooks::TaskKey::PlanItem(..)) {
            return;
        }
        if let Some(bar) = self.bars().get(&task.run) {
            bar.inc(1);
        }
    }

    fn finish(&self, run: &RunInfo, error: Option<&Error>) {
        if let Some(bar) = self.bars().remove(&run.id) {
            match error {
                None => bar.finish(),
                Some(_) => bar.abandon(),
            }
        }
    }
}

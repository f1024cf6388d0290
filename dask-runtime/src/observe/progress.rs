//! A progress bar for long computes, on indicatif (Dask's `ProgressBar`).

use super::{Callback, CallbackGuard, RunInfo, TaskEvent, register};
use crate::Error;
use std::sync::{Arc, Mutex, PoisonError};

/// Tasks done out of the total, the rate, the time elapsed and left, on stderr. Silent
/// when stderr is not a terminal (a pipe, a file, CI).
///
/// ```
/// use dask_runtime::{delayed_value, observe::ProgressBar};
/// let _bar = ProgressBar::new().register();   // Dask's `with ProgressBar():`
/// assert_eq!(delayed_value(1).map(|v| v + 1).compute().unwrap(), 2);
/// ```
#[derive(Debug, Default)]
pub struct ProgressBar {
    bar: Mutex<Option<indicatif::ProgressBar>>,
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

    fn with(&self, f: impl FnOnce(&mut Option<indicatif::ProgressBar>)) {
        f(&mut self.bar.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

impl Callback for ProgressBar {
    fn start(&self, run: &RunInfo) {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(run.tasks.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "[{bar:40}] {pos}/{len} tasks  {per_sec}  {elapsed_precise} elapsed, {eta} left",
        ) {
            bar.set_style(style.progress_chars("#>-"));
        }
        self.with(|b| *b = Some(bar));
    }

    fn task_finish(&self, _task: &TaskEvent) {
        self.with(|b| {
            if let Some(bar) = b {
                bar.inc(1);
            }
        });
    }

    fn finish(&self, _run: &RunInfo, error: Option<&Error>) {
        self.with(|b| {
            if let Some(bar) = b.take() {
                match error {
                    None => bar.finish(),
                    Some(_) => bar.abandon(),
                }
            }
        });
    }
}

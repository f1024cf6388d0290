//! Variables a plan captured from the code around it, passed to its tasks. A plain
//! value is lent to every call (and cloned where a call takes it by value, since a
//! plan runs many times); a captured `Delayed` is a dynamic input of the plan: it is
//! computed once a run, before the plan's first task, and its value is passed instead.
//!
//! The generated code picks the case by method resolution (autoref specialisation):
//! `(&Captured(&x)).__dask_prepare(runner)` finds [`PrepareLazy`] when `x` is a
//! `Delayed`, and falls back to [`PrepareValue`] for any other type.

use super::runner::{Runner, Stop};
use crate::Delayed;
use std::ops::Deref;

/// A captured variable, as the plan's generated code sees it.
#[derive(Debug)]
pub struct Captured<'a, T>(pub &'a T);

/// A captured variable ready for the plan's tasks: lent, or the value its `Delayed`
/// computed to.
#[derive(Debug)]
pub enum Prepared<'a, T> {
    /// A plain value, lent.
    Lent(&'a T),
    /// The value of a captured `Delayed`, computed for this run.
    Computed(T),
}

impl<T> Deref for Prepared<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        match self {
            Prepared::Lent(value) => value,
            Prepared::Computed(value) => value,
        }
    }
}

/// A captured `Delayed<T>`: computed once a run, on the run's scheduler.
pub trait PrepareLazy<T> {
    /// The value for this run, or [`Stop`] when computing it failed (the run's error).
    fn __dask_prepare(&self, runner: &Runner) -> Result<Prepared<'static, T>, Stop>;
}

impl<T: Send + Sync + 'static> PrepareLazy<T> for Captured<'_, Delayed<T>> {
    fn __dask_prepare(&self, runner: &Runner) -> Result<Prepared<'static, T>, Stop> {
        runner.compute_captured(self.0).map(Prepared::Computed)
    }
}

/// Any other captured value: lent to the tasks.
pub trait PrepareValue<'a, T> {
    /// The value, lent; never fails.
    fn __dask_prepare(&self, runner: &Runner) -> Result<Prepared<'a, T>, Stop>;
}

impl<'a, T> PrepareValue<'a, T> for &Captured<'a, T> {
    #[inline]
    fn __dask_prepare(&self, _: &Runner) -> Result<Prepared<'a, T>, Stop> {
        Ok(Prepared::Lent(self.0))
    }
}

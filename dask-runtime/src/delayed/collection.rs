//! `dask::compute`: several lazy values run as one graph.

use super::Delayed;
use crate::executor;
use crate::graph::{NodeRef, Value, key_of};
use crate::{Error, Options, Scheduler};
use std::sync::Arc;

mod sealed {
    pub trait Sealed {}
}

/// A collection of lazy values that [`compute`] runs as one graph: a `Vec<Delayed<T>>`,
/// an array `[Delayed<T>; N]`, or a tuple of up to 8 `Delayed`s of any types.
///
/// Outputs are cloned only when one node is asked for twice, hence `T: Clone`.
pub trait Computable: sealed::Sealed {
    /// The computed values, in the same shape.
    type Output;
    #[doc(hidden)]
    fn output_nodes(&self) -> Vec<&NodeRef>;
    #[doc(hidden)]
    fn collect_values(&self, values: Vec<Value>) -> Result<Self::Output, Error>;
}

/// Computes several lazy values as one graph: a task reachable from several of them runs
/// once. Dask's `dask.compute(*values)`. An empty list gives an empty list and runs
/// nothing.
///
/// # Examples
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{compute, delayed_value};
///
/// let shared = delayed_value(10_i64).map(|v| v * 2);
/// let a = shared.map(|v| v + 1);
/// let b = shared.map(|v| format!("{v}!"));
/// let (a, b) = compute((a, b)).unwrap();      // `shared` ran once
/// assert_eq!((a, b.as_str()), (21, "20!"));
///
/// let parts: Vec<_> = (0..4).map(|i| delayed_value(i).map(|v| v * v)).collect();
/// assert_eq!(compute(parts).unwrap(), vec![0, 1, 4, 9]);
/// ```
///
/// # Errors
///
/// As [`Delayed::compute`].
pub fn compute<C: Computable>(values: C) -> Result<C::Output, Error> {
    compute_with(values, Scheduler::from_env()?)
}

/// [`compute`] as `options` say: a [`Scheduler`], or [`Options`] with callbacks, a
/// cancel token, a deadline or retries.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{Options, Scheduler};
/// let parts: Vec<_> = (0..3).map(|i| dask::delayed_value(i).map(|v| v + 1)).collect();
/// assert_eq!(dask::compute_with(parts.clone(), Scheduler::Sync).unwrap(), [1, 2, 3]);
/// assert_eq!(dask::compute_with(parts, Options::new().retries(1)).unwrap(), [1, 2, 3]);
/// ```
///
/// # Errors
///
/// As [`Delayed::compute_with`].
pub fn compute_with<C: Computable>(
    values: C,
    options: impl Into<Options>,
) -> Result<C::Output, Error> {
    let nodes = values.output_nodes();
    if nodes.is_empty() {
        return values.collect_values(Vec::new());
    }
    let outputs = executor::execute(&nodes, &options.into())?;
    values.collect_values(outputs)
}

/// [`compute_with`] on `scheduler` with `callbacks` besides any registered ones: a
/// thin alias of `compute_with(values, Options::from(scheduler).callbacks(callbacks))`.
///
/// # Errors
///
/// As [`Delayed::compute_with`].
pub fn compute_with_callbacks<C: Computable>(
    values: C,
    scheduler: Scheduler,
    callbacks: &[Arc<dyn crate::hooks::Callback>],
) -> Result<C::Output, Error> {
    compute_with(values, Options::from(scheduler).callbacks(callbacks))
}

/// Turns a shared output into an owned `T`, moving it when nobody else holds it.
pub(crate) fn unshare<T: Send + Sync + 'static>(value: Value, node: &NodeRef) -> Result<T, Error> {
    let shared = downcast::<T>(value, node)?;
    Arc::try_unwrap(shared).map_err(|_| {
        Error::Internal(format!(
            "output of {} is still shared after the run",
            key_of(&**node)
        ))
    })
}

fn unshare_or_clone<T: Clone + Send + Sync + 'static>(
    value: Value,
    node: &NodeRef,
) -> Result<T, Error> {
    let shared = downcast::<T>(value, node)?;
    Ok(Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone()))
}

fn downcast<T: Send + Sync + 'static>(value: Value, node: &NodeRef) -> Result<Arc<T>, Error> {
    value.downcast::<T>().map_err(|_| {
        Error::Internal(format!(
            "output of {} is not a {}",
            key_of(&**node),
            std::any::type_name::<T>()
        ))
    })
}

impl<T: Clone + Send + Sync + 'static> sealed::Sealed for Vec<Delayed<T>> {}
impl<T: Clone + Send + Sync + 'static> Computable for Vec<Delayed<T>> {
    type Output = Vec<T>;
    fn output_nodes(&self) -> Vec<&NodeRef> {
        self.iter().map(Delayed::node).collect()
    }
    fn collect_values(&self, values: Vec<Value>) -> Result<Vec<T>, Error> {
        self.as_slice().collect_values(values)
    }
}

impl<T: Clone + Send + Sync + 'static> sealed::Sealed for &[Delayed<T>] {}
impl<T: Clone + Send + Sync + 'static> Computable for &[Delayed<T>] {
    type Output = Vec<T>;
    fn output_nodes(&self) -> Vec<&NodeRef> {
        self.iter().map(Delayed::node).collect()
    }
    fn collect_values(&self, values: Vec<Value>) -> Result<Vec<T>, Error> {
        values
            .into_iter()
            .zip(self.iter())
            .map(|(value, d)| unshare_or_clone(value, d.node()))
            .collect()
    }
}

impl<T: Clone + Send + Sync + 'static, const N: usize> sealed::Sealed for [Delayed<T>; N] {}
impl<T: Clone + Send + Sync + 'static, const N: usize> Computable for [Delayed<T>; N] {
    type Output = [T; N];
    fn output_nodes(&self) -> Vec<&NodeRef> {
        self.iter().map(Delayed::node).collect()
    }
    fn collect_values(&self, values: Vec<Value>) -> Result<[T; N], Error> {
        let list = self.as_slice().collect_values(values)?;
        list.try_into()
            .map_err(|_| Error::Internal("wrong number of outputs".into()))
    }
}

macro_rules! tuple_computable {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Clone + Send + Sync + 'static),+> sealed::Sealed for ($(Delayed<$t>,)+) {}
        impl<$($t: Clone + Send + Sync + 'static),+> Computable for ($(Delayed<$t>,)+) {
            type Output = ($($t,)+);
            fn output_nodes(&self) -> Vec<&NodeRef> {
                vec![$(self.$i.node()),+]
            }
            fn collect_values(&self, values: Vec<Value>) -> Result<Self::Output, Error> {
                let mut values = values.into_iter();
                Ok(($(
                    unshare_or_clone::<$t>(
                        values.next().ok_or_else(|| Error::Internal("missing output".into()))?,
                        self.$i.node(),
                    )?,
                )+))
            }
        }
    };
}

tuple_computable!(A 0);
tuple_computable!(A 0, B 1);
tuple_computable!(A 0, B 1, C 2);
tuple_computable!(A 0, B 1, C 2, D 3);
tuple_computable!(A 0, B 1, C 2, D 3, E 4);
tuple_computable!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_computable!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_computable!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

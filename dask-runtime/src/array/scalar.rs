//! `Scalar<T>`: a full reduction, lazy, usable wherever a 0-d array is.

use super::{Array, Element};
use crate::delayed::{Arg, Batch, IntoArg, Outputs, node};
use crate::graph::NodeRef;
use crate::{Computable, Delayed, Error, Options};
use std::fmt;

/// A lazy value of one element: what a full reduction (`x.mean()`, `x.max()`) gives.
///
/// It is a 0-d [`Array`] whose `compute()` returns the element itself, and it is an
/// operand wherever an array is: `&x - x.mean()`, `x.max() - x.min()`,
/// `x.gt(x.mean())`. Computed together with other values (`dask::compute((x.mean(),
/// x.std()))`), the blocks they share are made once.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::arange;
/// let x = arange(10).rechunk(3);
/// let spread = x.max() - x.min();             // still lazy
/// assert_eq!(spread.compute().unwrap(), 9.0);
/// let z = (&x - x.mean()) / x.std();
/// assert!(z.mean().compute().unwrap().abs() < 1e-15);
/// let (m, s) = dask::compute((x.mean(), x.std())).unwrap();
/// assert_eq!((m, s), (4.5, 8.25_f64.sqrt()));
/// ```
pub struct Scalar<T> {
    array: Array<T>,
}

impl<T> Clone for Scalar<T> {
    fn clone(&self) -> Self {
        Scalar {
            array: self.array.clone(),
        }
    }
}

impl<T: Element> fmt::Debug for Scalar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.array.layer {
            Ok(l) => write!(f, "Scalar<{}>({})", T::NAME, l.name()),
            Err(e) => write!(
                f,
                "Scalar<{}>(error in `{}`: {})",
                T::NAME,
                e.operation,
                e.message
            ),
        }
    }
}

impl<T: Element> Scalar<T> {
    /// `array`, which is 0-d (or failed).
    pub(crate) fn from_array(array: Array<T>) -> Self {
        Scalar { array }
    }

    /// The value as a 0-d array.
    pub fn as_array(&self) -> &Array<T> {
        &self.array
    }

    /// The value as a 0-d array.
    pub fn into_array(self) -> Array<T> {
        self.array
    }

    /// The name of the 0-d array (see [`Array::name`]).
    ///
    /// # Panics
    ///
    /// If building the expression failed (see [`Scalar::check`]).
    pub fn name(&self) -> String {
        self.array.name()
    }

    /// `Ok` if the expression is well formed; the kept shape error otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] naming the operation and the shapes.
    pub fn check(&self) -> Result<(), Error> {
        self.array.check()
    }

    /// Computes the value on the default scheduler.
    ///
    /// # Errors
    ///
    /// A kept shape error, or a failed task (an empty array's `max` has no value).
    pub fn compute(&self) -> Result<T, Error> {
        self.compute_with(Options::new())
    }

    /// Computes the value as `options` say (see [`Array::compute_with`]).
    ///
    /// # Errors
    ///
    /// As [`Scalar::compute`].
    pub fn compute_with(&self, options: impl Into<Options>) -> Result<T, Error> {
        crate::compute_with(self, options)
    }

    /// The value as a `Delayed`, to pass to `#[delayed]` functions (a `Scalar` is also
    /// accepted directly wherever a task takes a `T`). A kept shape error is the
    /// `Delayed`'s error when computed.
    pub fn to_delayed(&self) -> Delayed<T> {
        let node = match self.array.block_nodes() {
            Ok(mut nodes) => nodes.pop(),
            Err(e) => return failing(e.to_string(), self.array.layer().err()),
        };
        let Some(node) = node else {
            return failing("a 0-d array without a block".into(), None);
        };
        Delayed::<super::layer::BlockValue>::from_node(node).try_map(|b| {
            super::window::owned_array::<T>(b)?
                .into_iter()
                .next()
                .ok_or_else(|| crate::BoxError::from("a 0-d block without its value"))
        })
    }
}

/// A node that fails when computed: with the kept shape error, or else `message`.
fn failing<T: Send + Sync + 'static>(
    message: String,
    shape: Option<super::ShapeError>,
) -> Delayed<T> {
    node("scalar", (), move |(), _| {
        let e = match &shape {
            Some(e) => Error::from(e.clone()),
            None => Error::Internal(message.clone()),
        };
        Err(Box::new(e) as crate::BoxError)
    })
}

impl<T: Element> Computable for Scalar<T> {
    type Output = T;
    fn declare(&self, batch: &mut Batch) {
        self.array.declare(batch);
    }
    fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
        self.array.output_nodes(batch, out)
    }
    fn collect_values(&self, values: &mut Outputs) -> Result<T, Error> {
        let block = self.array.collect_values(values)?;
        block
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("a 0-d array without its value".into()))
    }
}

impl<T: Element> IntoArg<T> for Scalar<T> {
    fn into_arg(self) -> Arg<T> {
        Arg::node(self.to_delayed())
    }
}

impl<T: Element> IntoArg<T> for &Scalar<T> {
    fn into_arg(self) -> Arg<T> {
        Arg::node(self.to_delayed())
    }
}

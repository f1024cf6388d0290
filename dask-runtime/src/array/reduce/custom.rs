//! `reduction`: a user's reduction on the same trees as the built-in ones (Dask's
//! `da.reduction(x, chunk, aggregate, combine=...)`).

use super::reducers::Reducer;
use super::{Array, Scalar};
use crate::array::Element;
use crate::error::BoxError;
use ndarray::{ArrayView, Dimension};

/// A user's `chunk`, `combine` and `aggregate`; the partial is `None` for nothing
/// folded yet, so the user needs no identity value.
struct UserReduction<C, M, F> {
    chunk: C,
    combine: M,
    aggregate: F,
}

impl<T, A, U, C, M, F> Reducer<T> for UserReduction<C, M, F>
where
    T: Element,
    A: Clone + Send + Sync + 'static,
    U: Element,
    C: Fn(ndarray::ArrayViewD<'_, T>) -> A + Send + Sync + 'static,
    M: Fn(A, A) -> A + Send + Sync + 'static,
    F: Fn(A) -> U + Send + Sync + 'static,
{
    type Acc = Option<A>;
    type Out = U;
    // A user's `combine` may depend on order (Dask promises strips in order).
    const ANY_ORDER: bool = false;
    fn empty(&self) -> Option<A> {
        None
    }
    fn fold<D: Dimension>(&self, values: ArrayView<'_, T, D>) -> Option<A> {
        (!values.is_empty()).then(|| (self.chunk)(values.into_dyn()))
    }
    fn merge(&self, a: Option<A>, b: Option<A>) -> Option<A> {
        match (a, b) {
            (Some(a), Some(b)) => Some((self.combine)(a, b)),
            (a, b) => a.or(b),
        }
    }
    fn finish(&self, acc: Option<A>) -> Result<U, BoxError> {
        acc.map(&self.aggregate)
            .ok_or_else(|| "reduction over no elements: `chunk` was never called".into())
    }
}

impl<T: Element> Array<T> {
    /// A reduction of your own over all elements, run as the built-in ones are: `chunk`
    /// folds part of a block (a block, or a strip of rows of one) into a partial
    /// result, `combine` merges two partials (in any grouping: it must be
    /// associative), `aggregate` turns the last one into the answer. Dask's
    /// `da.reduction(x, chunk, aggregate, combine=...)`, with `combine` taking two
    /// partials rather than a concatenation. An array with no elements is an error
    /// (`chunk` is never called on an empty part, so it needs no identity).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::arange;
    /// // The mean of squares, as (sum, count) partials.
    /// let x = arange(10).rechunk(3);
    /// let m = x.reduction(
    ///     |part| (part.iter().map(|v| v * v).sum::<f64>(), part.len()),
    ///     |a, b| (a.0 + b.0, a.1 + b.1),
    ///     |(sum, n)| sum / n as f64,
    /// );
    /// assert_eq!(m.compute().unwrap(), 28.5);
    /// ```
    pub fn reduction<A, U, C, M, F>(&self, chunk: C, combine: M, aggregate: F) -> Scalar<U>
    where
        A: Clone + Send + Sync + 'static,
        U: Element,
        C: Fn(ndarray::ArrayViewD<'_, T>) -> A + Send + Sync + 'static,
        M: Fn(A, A) -> A + Send + Sync + 'static,
        F: Fn(A) -> U + Send + Sync + 'static,
    {
        let r = UserReduction {
            chunk,
            combine,
            aggregate,
        };
        let unique = crate::array::layer::Tokenizer::new("reduction")
            .unique()
            .finish();
        self.reduce_all("reduction", unique, r)
    }

    /// [`Array::reduction`] along `axes` (each lane over them folded alone), kept as
    /// length 1 when `keepdims`. `chunk` gets parts of one lane.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::arange;
    /// let x = arange(12).reshape([3, 4]).rechunk([2, 3]);
    /// let largest = x.reduction_axes(
    ///     &[1],
    ///     false,
    ///     |part| part.iter().copied().fold(f64::MIN, f64::max),
    ///     f64::max,
    ///     |m| m,
    /// );
    /// assert_eq!(largest.compute().unwrap().as_slice().unwrap(), [3.0, 7.0, 11.0]);
    /// ```
    pub fn reduction_axes<A, U, C, M, F>(
        &self,
        axes: &[usize],
        keepdims: bool,
        chunk: C,
        combine: M,
        aggregate: F,
    ) -> Array<U>
    where
        A: Clone + Send + Sync + 'static,
        U: Element,
        C: Fn(ndarray::ArrayViewD<'_, T>) -> A + Send + Sync + 'static,
        M: Fn(A, A) -> A + Send + Sync + 'static,
        F: Fn(A) -> U + Send + Sync + 'static,
    {
        let r = UserReduction {
            chunk,
            combine,
            aggregate,
        };
        let unique = crate::array::layer::Tokenizer::new("reduction")
            .unique()
            .finish();
        self.reduce_axes("reduction", unique, axes, keepdims, r)
    }
}

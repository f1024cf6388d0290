//! Results whose length depends on the values: `extract`, `unique`, `bincount`. Their
//! chunk sizes are unknown until computed (Dask's `nan` chunks): they compute, persist
//! and hand out their blocks, take elementwise steps with scalars and reduce over all
//! elements; [`Array::compute_chunk_sizes`] makes them arrays to build anything on.

use super::reducers::{Reducer, nan_last};
use super::{Array, BlockOp, BlockValue, Layer, Tokenizer, block};
use crate::array::window::view;
use crate::array::{Element, Numeric, new_layer};
use crate::error::BoxError;
use ndarray::{ArrayD, ArrayView, Dimension, IxDyn};
use num_complex::Complex64;
use std::marker::PhantomData;
use std::sync::Arc;

/// The elements of block `i` where block `i` of the mask is true.
struct Extract<T>(PhantomData<fn() -> T>);

impl<T: Element> BlockOp for Extract<T> {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.push((0, idx.to_vec()));
        out.push((1, idx.to_vec()));
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let [values, mask] = inputs.as_slice() else {
            return Err("internal: extract reads two blocks".into());
        };
        let (values, mask) = (view::<T>(values)?, view::<bool>(mask)?);
        let kept: Vec<T> = values
            .iter()
            .zip(mask.iter())
            .filter_map(|(&v, &m)| m.then_some(v))
            .collect();
        Ok(block(ArrayD::from_shape_vec(IxDyn(&[kept.len()]), kept)?))
    }
    fn blockwise(&self) -> bool {
        true
    }
    fn unknown_chunks(&self) -> bool {
        true
    }
}

impl<T: Element> Array<T> {
    /// The elements where `mask` (of the same shape) is true, in row-major order, as a
    /// 1-d array (NumPy's `extract(mask, x)`, Dask's `x[mask]`). Its chunk sizes are
    /// unknown until computed: it takes elementwise steps with scalars and reductions
    /// over all elements (`x.extract(&m).mean()`); for anything else call
    /// [`Array::compute_chunk_sizes`] first.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::arange;
    /// let x = arange(12).reshape([3, 4]).rechunk([2, 3]);
    /// let big = x.extract(&x.gt(6.0));
    /// assert_eq!(big.compute().unwrap().as_slice().unwrap(), [7.0, 8.0, 9.0, 10.0, 11.0]);
    /// ```
    pub fn extract(&self, mask: &Array<bool>) -> Array<T> {
        if let Err(e) = same_shape("extract", "mask", self, mask) {
            return Array::from_error(e);
        }
        let flat = self.reshape([-1]);
        let chunks = match flat.layer() {
            Ok(l) => l.chunks.clone(),
            Err(e) => return Array::from_error(e),
        };
        let mask = mask.reshape([-1]).rechunk_to(chunks.clone());
        let (flat, mask) = match (flat.layer(), mask.layer()) {
            (Ok(f), Ok(m)) => (Arc::clone(f), Arc::clone(m)),
            (Err(e), _) | (_, Err(e)) => return Array::from_error(e),
        };
        let n = chunks[0].len();
        Array::from_layer(new_layer(
            "extract",
            Tokenizer::new("extract").add(T::NAME),
            vec![0],
            vec![vec![0; n]],
            vec![flat, mask],
            Extract::<T>(PhantomData),
            4,
        ))
    }
}

/// That `other` (the operation's `what`) has `x`'s shape, both built.
fn same_shape<T: Element, U: Element>(
    operation: &'static str,
    what: &str,
    x: &Array<T>,
    other: &Array<U>,
) -> Result<(), crate::array::ShapeError> {
    let (x, o) = (x.layer()?, other.layer()?);
    if x.shape == o.shape {
        return Ok(());
    }
    Err(crate::array::ShapeError::new(
        operation,
        format!(
            "{what} of shape {:?} for an array of shape {:?}",
            o.shape, x.shape
        ),
    ))
}

/// The distinct values, ascending, NaN last and once (NumPy's `unique`).
struct UniqueR;

impl UniqueR {
    fn sorted<T: Numeric>(mut v: Vec<T>) -> Vec<T> {
        v.sort_unstable_by(nan_last);
        v.dedup_by(|a, b| nan_last(a, b).is_eq());
        v
    }
}

impl<T: Numeric> Reducer<T> for UniqueR {
    type Acc = Vec<T>;
    type Out = ArrayD<T>;
    fn empty(&self) -> Vec<T> {
        Vec::new()
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Vec<T> {
        Self::sorted(v.iter().copied().collect())
    }
    fn merge(&self, mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
        a.extend(b);
        Self::sorted(a)
    }
    fn finish(&self, v: Vec<T>) -> Result<ArrayD<T>, BoxError> {
        Ok(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v)?)
    }
}

/// Counts of each non-negative integer (NumPy's `bincount`), at least `minlength`.
struct BincountR {
    minlength: usize,
}

/// Counts so far, or the first value that cannot be counted.
type Counts = Result<Vec<i64>, String>;

impl<T: Numeric> Reducer<T> for BincountR {
    type Acc = Counts;
    type Out = ArrayD<i64>;
    fn empty(&self) -> Counts {
        Ok(Vec::new())
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Counts {
        let mut counts: Vec<i64> = Vec::new();
        for &x in v.iter() {
            let i = bin(x.to_f64(), &x)?;
            if i >= counts.len() {
                counts.resize(i + 1, 0);
            }
            counts[i] += 1;
        }
        Ok(counts)
    }
    fn merge(&self, a: Counts, b: Counts) -> Counts {
        merge_bins(a, b)
    }
    fn finish(&self, counts: Counts) -> Result<ArrayD<i64>, BoxError> {
        finish_bins(counts, self.minlength)
    }
}

/// The bin of value `f` (shown as `shown` in the error): a non-negative whole number.
fn bin(f: f64, shown: &dyn std::fmt::Debug) -> Result<usize, String> {
    if f >= 0.0 && f.fract() == 0.0 && f < (1_u64 << 40) as f64 {
        Ok(f as usize)
    } else {
        Err(format!(
            "bincount counts non-negative integers below 2^40; got {shown:?}"
        ))
    }
}

/// Two blocks' bins added, the shorter padded with zeros (or the first error).
fn merge_bins<N: Copy + Default + std::ops::AddAssign>(
    a: Result<Vec<N>, String>,
    b: Result<Vec<N>, String>,
) -> Result<Vec<N>, String> {
    let (mut a, b) = (a?, b?);
    if a.len() < b.len() {
        a.resize(b.len(), N::default());
    }
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
    Ok(a)
}

/// The bins as a 1-d array of at least `minlength`.
fn finish_bins<N: Clone + Default>(
    bins: Result<Vec<N>, String>,
    minlength: usize,
) -> Result<ArrayD<N>, BoxError> {
    let mut bins = bins?;
    if bins.len() < minlength {
        bins.resize(minlength, N::default());
    }
    Ok(ArrayD::from_shape_vec(IxDyn(&[bins.len()]), bins)?)
}

/// Sums of the weights of each non-negative integer (NumPy's `bincount(x, weights)`),
/// over pairs (value, weight) packed as complex numbers.
struct WeightedBincountR {
    minlength: usize,
}

/// Weight sums so far, or the first value that cannot be counted.
type Sums = Result<Vec<f64>, String>;

impl Reducer<Complex64> for WeightedBincountR {
    type Acc = Sums;
    type Out = ArrayD<f64>;
    fn empty(&self) -> Sums {
        Ok(Vec::new())
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, Complex64, D>) -> Sums {
        let mut sums: Vec<f64> = Vec::new();
        for pair in v.iter() {
            let i = bin(pair.re, &pair.re)?;
            if i >= sums.len() {
                sums.resize(i + 1, 0.0);
            }
            sums[i] += pair.im;
        }
        Ok(sums)
    }
    fn merge(&self, a: Sums, b: Sums) -> Sums {
        merge_bins(a, b)
    }
    fn finish(&self, sums: Sums) -> Result<ArrayD<f64>, BoxError> {
        finish_bins(sums, self.minlength)
    }
}

impl<T: Numeric> Array<T> {
    /// The distinct values, ascending (NaN last, once), as a 1-d array (NumPy's and
    /// Dask's `unique`): each block's sorted distinct values, merged in a tree. Its
    /// length is unknown until computed (see [`Array::extract`]).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::from_ndarray(ndarray::arr1(&[3_i64, 1, 3, 2, 1]), 2);
    /// assert_eq!(x.unique().compute().unwrap().as_slice().unwrap(), [1, 2, 3]);
    /// ```
    pub fn unique(&self) -> Array<T> {
        self.reduce_to_vector("unique", (), None, UniqueR)
    }

    /// How many times each of `0, 1, ..., max` occurs (NumPy's `bincount`), with at
    /// least `minlength` counts. The values must be non-negative whole numbers (an
    /// error names the first that is not). The length is unknown until computed.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::from_ndarray(ndarray::arr1(&[0_i64, 3, 1, 3]), 3);
    /// assert_eq!(x.bincount(0).compute().unwrap().as_slice().unwrap(), [1, 1, 0, 2]);
    /// assert_eq!(x.bincount(6).compute().unwrap().len(), 6);
    /// ```
    pub fn bincount(&self, minlength: usize) -> Array<i64> {
        self.reduce_to_vector("bincount", minlength, None, BincountR { minlength })
    }

    /// The sum of the weights of each of `0, 1, ..., max` (NumPy's `bincount(x,
    /// weights=w, minlength=)`): `weights` has this array's shape, and bin `i` adds the
    /// weight of every element equal to `i`. As [`Array::bincount`] otherwise.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::from_ndarray;
    /// let x = from_ndarray(ndarray::arr1(&[0_i64, 3, 1, 3]), 3);
    /// let w = from_ndarray(ndarray::arr1(&[0.5, 1.0, 2.0, 0.25]), 2);
    /// let sums = x.bincount_weighted(&w, 0).compute().unwrap();
    /// assert_eq!(sums.as_slice().unwrap(), [0.5, 2.0, 0.0, 1.25]);
    /// ```
    pub fn bincount_weighted(&self, weights: &Array<f64>, minlength: usize) -> Array<f64> {
        if let Err(e) = same_shape("bincount_weighted", "weights", self, weights) {
            return Array::from_error(e);
        }
        let pairs = crate::array::elementwise::zip_with(
            "bincount_pairs",
            Tokenizer::new("bincount_pairs").add(T::NAME),
            self.into(),
            weights.into(),
            |v: T, w: f64| Complex64::new(v.to_f64(), w),
        );
        pairs.reduce_to_vector(
            "bincount_weighted",
            minlength,
            None,
            WeightedBincountR { minlength },
        )
    }
}

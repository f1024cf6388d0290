//! Arrays made from nothing, from values, or from data that already exists.

use super::{Array, BlockTask, ChunkSpec, Element, Kernel, ShapeError, leaf_task, region};
use crate::Delayed;
use crate::delayed::node;
use ndarray::{ArrayD, Dimension, IxDyn, Slice};
use std::sync::Arc;

/// An array whose block `idx` is `make(offsets and lengths of the block)`.
pub(crate) fn generated<T: Element>(
    name: &'static str,
    shape: &[usize],
    chunks: ChunkSpec,
    make: impl Fn(&[(usize, usize)]) -> ArrayD<T> + Send + Sync + 'static,
) -> Array<T> {
    let chunks = match chunks.resolve(shape, std::mem::size_of::<T>()) {
        Ok(c) => c,
        Err(e) => return Array::from_error(ShapeError::new(name, e.message)),
    };
    let make = Arc::new(make);
    let all = chunks.clone();
    Array::new(name, shape.to_vec(), chunks, move |idx| {
        let region = region(&all, idx);
        let whole = Arc::clone(&make);
        let kernel: Kernel<T> = Arc::new(move |_| Ok(whole(&region)));
        let make = Arc::clone(&make);
        BlockTask {
            leaves: Vec::new(),
            kernel,
            region: Some(Arc::new(move |r| Ok(make(r)))),
        }
    })
}

fn lengths(region: &[(usize, usize)]) -> IxDyn {
    IxDyn(&region.iter().map(|(_, l)| *l).collect::<Vec<_>>())
}

/// An array of `value`.
///
/// ```
/// use dask_runtime::array::full;
/// assert_eq!(full([2, 3], 7_i64, 2).compute().unwrap().sum(), 42);
/// ```
pub fn full<T: Element>(
    shape: impl AsRef<[usize]>,
    value: T,
    chunks: impl Into<ChunkSpec>,
) -> Array<T> {
    generated("full", shape.as_ref(), chunks.into(), move |r| {
        ArrayD::from_elem(lengths(r), value)
    })
}

/// An array of zeros (`false` for `bool`).
pub fn zeros<T: Element>(shape: impl AsRef<[usize]>, chunks: impl Into<ChunkSpec>) -> Array<T> {
    full(shape, T::default(), chunks)
}

/// An array of ones.
pub fn ones<T: Element + num_traits::One>(
    shape: impl AsRef<[usize]>,
    chunks: impl Into<ChunkSpec>,
) -> Array<T> {
    full(shape, T::one(), chunks)
}

/// `0, 1, ..., n - 1` as `f64`, in blocks of about [`AUTO_CHUNK_BYTES`](super::AUTO_CHUNK_BYTES)
/// (use [`Array::rechunk`] or [`arange_with`] for others).
pub fn arange(n: usize) -> Array<f64> {
    arange_with(0.0, n as f64, 1.0, ChunkSpec::Auto)
}

/// `start, start + step, ...` up to `stop` (excluded), like NumPy's `arange`.
///
/// ```
/// use dask_runtime::array::arange_with;
/// let x = arange_with(1.0, 2.0, 0.25, 2).compute().unwrap();
/// assert_eq!(x.iter().copied().collect::<Vec<_>>(), [1.0, 1.25, 1.5, 1.75]);
/// ```
pub fn arange_with(start: f64, stop: f64, step: f64, chunks: impl Into<ChunkSpec>) -> Array<f64> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Array::failed(
            "arange",
            format!("start {start}, stop {stop}, step {step}: step must be finite and non-zero"),
        );
    }
    let n = ((stop - start) / step).ceil().max(0.0);
    // Past 2^53 elements f64 steps no longer tell elements apart; far more than any
    // memory holds anyway.
    if n.is_nan() || n > 9_007_199_254_740_992.0 {
        return Array::failed(
            "arange",
            format!("start {start}, stop {stop}, step {step}: {n:e} elements is too many"),
        );
    }
    let n = n as usize;
    generated("arange", &[n], chunks.into(), move |r| {
        let (off, len) = r[0];
        ArrayD::from_shape_fn(IxDyn(&[len]), |i| start + (off + i[0]) as f64 * step)
    })
}

/// `num` evenly spaced values from `start` to `stop` (both included), like NumPy's
/// `linspace`.
pub fn linspace(start: f64, stop: f64, num: usize, chunks: impl Into<ChunkSpec>) -> Array<f64> {
    let step = if num > 1 {
        (stop - start) / (num - 1) as f64
    } else {
        0.0
    };
    generated("linspace", &[num], chunks.into(), move |r| {
        let (off, len) = r[0];
        ArrayD::from_shape_fn(IxDyn(&[len]), |i| {
            let k = off + i[0];
            if k + 1 == num && num > 1 {
                stop
            } else {
                start + k as f64 * step
            }
        })
    })
}

/// The `n` by `n` identity matrix.
pub fn eye(n: usize, chunks: impl Into<ChunkSpec>) -> Array<f64> {
    generated("eye", &[n, n], chunks.into(), |r| {
        let (r0, c0) = (r[0].0, r[1].0);
        ArrayD::from_shape_fn(
            lengths(r),
            |i| if r0 + i[0] == c0 + i[1] { 1.0 } else { 0.0 },
        )
    })
}

/// An array cut from data in memory; each block copies its part when it runs.
///
/// ```
/// use dask_runtime::array::from_ndarray;
/// let a = ndarray::Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64);
/// let x = from_ndarray(a.clone(), [2, 3]);
/// assert_eq!(x.numblocks(), [2, 2]);
/// assert_eq!(x.compute().unwrap(), a.into_dyn());
/// ```
pub fn from_ndarray<T: Element, D: Dimension>(
    data: ndarray::Array<T, D>,
    chunks: impl Into<ChunkSpec>,
) -> Array<T> {
    let data = Arc::new(data.into_dyn());
    let shape = data.shape().to_vec();
    generated("from_ndarray", &shape, chunks.into(), move |r| {
        data.slice_each_axis(|ax| {
            let (start, len) = r[ax.axis.index()];
            Slice::from(start..start + len)
        })
        .to_owned()
    })
}

/// A one-block array whose values a `Delayed` computes (Dask's `from_delayed`). The
/// value's shape is checked against `shape` when it is computed.
///
/// ```
/// use dask_runtime::{array::from_delayed, delayed_value};
/// let d = delayed_value(ndarray::arr1(&[1.0, 2.0]).into_dyn());
/// assert_eq!(from_delayed(d, [2]).sum().compute().unwrap(), 3.0);
/// ```
pub fn from_delayed<T: Element>(value: Delayed<ArrayD<T>>, shape: impl AsRef<[usize]>) -> Array<T> {
    let shape = shape.as_ref().to_vec();
    let expected = shape.clone();
    let checked = node(
        "from_delayed",
        (crate::delayed::Arg::node(value), ()),
        move |(v, ()), inputs| {
            let v = v.take(inputs)?;
            if v.shape() != expected.as_slice() {
                return Err(format!(
                    "from_delayed: the value has shape {:?}, declared {expected:?}",
                    v.shape()
                )
                .into());
            }
            Ok(T::into_block(v))
        },
    );
    let chunks = shape.iter().map(|&n| vec![n]).collect();
    Array::new("from_delayed", shape, chunks, move |_| {
        leaf_task(checked.clone())
    })
}

//! Arrays made from nothing, from values, or from data that already exists.

use super::layer::{self, BlockOp, BlockValue, Layer, Region, Regional, Tokenizer, block};
use super::{Array, ChunkSpec, Element, ShapeError};
use crate::Delayed;
use crate::delayed::node;
use crate::error::BoxError;
use crate::graph::NodeRef;
use ndarray::{ArrayD, Dimension, IxDyn, Slice};
use std::hash::Hasher;
use std::marker::PhantomData;
use std::sync::Arc;

/// Blocks made from nothing: `make` gets the region (global offsets and lengths) to make.
/// Every region made by a function of the region (a generator, a file read), which
/// may fail.
struct GenerateFallibly<T, F>(F, PhantomData<fn() -> T>);

impl<T, F> BlockOp for GenerateFallibly<T, F>
where
    T: Element,
    F: Fn(&Region) -> Result<ArrayD<T>, BoxError> + Send + Sync + 'static,
{
    fn deps(&self, _: &Layer, _: &[usize], _: &mut Vec<(usize, Vec<usize>)>) {}
    fn regional(&self) -> Option<&dyn Regional> {
        Some(self)
    }
}

impl<T, F> Regional for GenerateFallibly<T, F>
where
    T: Element,
    F: Fn(&Region) -> Result<ArrayD<T>, BoxError> + Send + Sync + 'static,
{
    fn input_region(&self, _: &Layer, _: usize, region: &Region) -> Vec<(usize, usize)> {
        region.to_vec()
    }
    fn run_region(
        &self,
        _: &Layer,
        region: &Region,
        _: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        Ok(block((self.0)(region)?))
    }
}

/// [`generated`] with a `make` that may fail: its error fails the block's task.
pub(crate) fn generated_fallibly<T: Element>(
    label: &'static str,
    token: Tokenizer,
    shape: &[usize],
    chunks: ChunkSpec,
    make: impl Fn(&Region) -> Result<ArrayD<T>, BoxError> + Send + Sync + 'static,
) -> Array<T> {
    let chunks = match chunks.resolve(shape, std::mem::size_of::<T>()) {
        Ok(c) => c,
        Err(e) => return Array::from_error(ShapeError::new(label, e.message)),
    };
    Array::from_op(
        label,
        token.add(T::NAME),
        shape.to_vec(),
        chunks,
        Vec::new(),
        GenerateFallibly(make, PhantomData),
    )
}

/// An array whose every region is `make(offsets and lengths of the region)`; `token`
/// holds the parameters that decide the values.
pub(crate) fn generated<T: Element>(
    label: &'static str,
    token: Tokenizer,
    shape: &[usize],
    chunks: ChunkSpec,
    make: impl Fn(&Region) -> ArrayD<T> + Send + Sync + 'static,
) -> Array<T> {
    generated_fallibly(label, token, shape, chunks, move |region| Ok(make(region)))
}

fn lengths(region: &Region) -> IxDyn {
    IxDyn(&layer::lengths(region))
}

/// An array of `value`.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::full;
/// assert_eq!(full([2, 3], 7_i64, 2).compute().unwrap().sum(), 42);
/// ```
pub fn full<T: Element>(
    shape: impl AsRef<[usize]>,
    value: T,
    chunks: impl Into<ChunkSpec>,
) -> Array<T> {
    T::full_array(shape.as_ref(), value, chunks.into())
}

/// [`full`], compiled once per element type.
pub(crate) fn full_in<T: Element>(shape: &[usize], value: T, chunks: ChunkSpec) -> Array<T> {
    let token = Tokenizer::new("full").add(value.bits());
    generated("full", token, shape, chunks, move |r| {
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
/// # use dask_runtime as dask;
/// use dask::array::arange_with;
/// let x = arange_with(1.0, 2.0, 0.25, 2).compute().unwrap();
/// assert_eq!(x.iter().copied().collect::<Vec<_>>(), [1.0, 1.25, 1.5, 1.75]);
/// ```
pub fn arange_with(start: f64, stop: f64, step: f64, chunks: impl Into<ChunkSpec>) -> Array<f64> {
    arange_in(start, stop, step, chunks.into())
}

fn arange_in(start: f64, stop: f64, step: f64, chunks: ChunkSpec) -> Array<f64> {
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
    let token = Tokenizer::new("arange").add([start.to_bits(), stop.to_bits(), step.to_bits()]);
    generated("arange", token, &[n], chunks, move |r| {
        let (off, len) = r[0];
        ArrayD::from_shape_fn(IxDyn(&[len]), |i| start + (off + i[0]) as f64 * step)
    })
}

/// `num` evenly spaced values from `start` to `stop` (both included), like NumPy's
/// `linspace`.
pub fn linspace(start: f64, stop: f64, num: usize, chunks: impl Into<ChunkSpec>) -> Array<f64> {
    linspace_in(start, stop, num, chunks.into())
}

fn linspace_in(start: f64, stop: f64, num: usize, chunks: ChunkSpec) -> Array<f64> {
    let step = if num > 1 {
        (stop - start) / (num - 1) as f64
    } else {
        0.0
    };
    let token = Tokenizer::new("linspace").add([start.to_bits(), stop.to_bits()]);
    generated("linspace", token, &[num], chunks, move |r| {
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
    eye_in(n, chunks.into())
}

fn eye_in(n: usize, chunks: ChunkSpec) -> Array<f64> {
    generated("eye", Tokenizer::new("eye"), &[n, n], chunks, |r| {
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
/// # use dask_runtime as dask;
/// use dask::array::from_ndarray;
/// let a = ndarray::Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64);
/// let x = from_ndarray(a.clone(), [2, 3]);
/// assert_eq!(x.numblocks(), [2, 2]);
/// assert_eq!(x.compute().unwrap(), a.into_dyn());
/// ```
pub fn from_ndarray<T: Element, D: Dimension>(
    data: ndarray::Array<T, D>,
    chunks: impl Into<ChunkSpec>,
) -> Array<T> {
    T::from_data(data.into_dyn(), chunks.into())
}

/// [`from_ndarray`], compiled once per element type.
pub(crate) fn from_data_in<T: Element>(data: ArrayD<T>, chunks: ChunkSpec) -> Array<T> {
    let data = Arc::new(data);
    let shape = data.shape().to_vec();
    // Dask's tokenize hashes the data too: equal data, equal names.
    let mut hasher = std::hash::DefaultHasher::new();
    data.iter().for_each(|v| hasher.write_u64(v.bits()));
    let token = Tokenizer::new("from_ndarray").add(hasher.finish());
    generated("from_ndarray", token, &shape, chunks, move |r| {
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
/// # use dask_runtime as dask;
/// use dask::{array::from_delayed, delayed_value};
/// let d = delayed_value(ndarray::arr1(&[1.0, 2.0]).into_dyn());
/// assert_eq!(from_delayed(d, [2]).sum().compute().unwrap(), 3.0);
/// ```
pub fn from_delayed<T: Element>(value: Delayed<ArrayD<T>>, shape: impl AsRef<[usize]>) -> Array<T> {
    let shape = shape.as_ref().to_vec();
    let expected = shape.clone();
    let key = value.key();
    let checked: Delayed<BlockValue> = node(
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
            Ok(block(v))
        },
    );
    let chunks = shape.iter().map(|&n| vec![n]).collect();
    Array::from_op(
        "from_delayed",
        Tokenizer::new("from_delayed").add(key),
        shape,
        chunks,
        Vec::new(),
        External(Arc::clone(checked.node())),
    )
}

/// A block an existing graph node computes.
struct External(NodeRef);

impl BlockOp for External {
    fn deps(&self, _: &Layer, _: &[usize], _: &mut Vec<(usize, Vec<usize>)>) {}
    fn run(&self, _: &Layer, _: &[usize], _: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        Err("internal: an external block runs as its own node".into())
    }
    fn external(&self) -> Option<&NodeRef> {
        Some(&self.0)
    }
}

//! Chunked n-d arrays: `dask.array` for Rust, on `ndarray`.
//!
//! An [`Array`] is lazy: a shape, its chunks (block sizes per axis, Dask's form) and the
//! operation that makes its blocks from the blocks of its inputs. Creating and combining
//! arrays runs nothing; `compute()` runs the blocks as tasks on the executor.
//!
//! ```
//! use dask::array::{self, random};
//!
//! let x = random::default_rng(42).normal(0.0, 1.0, [1_000, 1_000], [250, 250]);
//! let z = (&x - x.mean()) / x.std();            // reductions are operands
//! let (m, s) = dask::compute((z.mean(), z.std())).unwrap();
//! assert!(m.abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
//! let col: ndarray::ArrayD<f64> = x.sum_axis(0).compute().unwrap();
//! assert_eq!(col.shape(), [1_000]);
//! # use dask_runtime as dask;
//! ```
//!
//! # How blocks are shared, fused and streamed
//!
//! Each operation adds one *layer* to a graph of layers, as Dask's `HighLevelGraph`
//! does; nothing is fused while you build. A layer has a [`name`](Array::name) derived
//! from its operation, its parameters and its inputs' names (Dask's `tokenize`), and
//! its blocks are keyed `(name, block index)`: the same expression built twice has the
//! same keys, and a compute makes it once.
//!
//! At compute time, over everything computed together (`dask::compute((a, b, ...))`):
//!
//! - a block read by several consumers (`x` in `(x.sum(), x.max())`, in `&x + &x`, in
//!   `(&x - x.mean()) / x.std()`) is one task: made once, handed to every consumer,
//!   freed after the last one reads it;
//! - a block read by one consumer is made inside the consumer's task when the consumer
//!   is blockwise (elementwise steps, slices, transposes) or reads only it: a chain of
//!   elementwise steps is one task a block (Dask's blockwise fusion), at most 32 steps
//!   a task, so a million-step chain runs as tasks of 32 steps;
//! - a reduction whose input blocks are generated or elementwise and read by nothing
//!   else folds each block a strip of rows at a time (about 256 KB, in cache) and never
//!   makes the whole block: the mission's mean of an 800 MB array peaks at a few MB;
//! - a shared block is never copied to be transposed or cut: its consumers read it
//!   through a window (the block, a region, an axis order);
//! - blocks read only by full reductions, some through a transpose, are made and folded
//!   in pairs: in `(x + x.t()).mean()`, one task makes blocks `(i, j)` and `(j, i)` of
//!   `x` and folds blocks `(i, j)` and `(j, i)` of the sum a tile at a time, each tile
//!   of `x` read once for both (`tiles.rs`).
//!
//! # Errors
//!
//! A mistake (shapes that do not broadcast, chunks that do not cover the shape, an axis
//! out of range) is kept in the array and returned by `compute()`, [`Array::check`] or
//! [`Array::try_shape`] as [`Error::Shape`] naming the operation and the shapes. The
//! plain accessors ([`Array::shape`], [`Array::len`], ...) have nothing true to return
//! for such an array and panic, naming the error; call `check()` first where an
//! expression may be wrong.

mod block_product;
mod blocks;
mod blockwise;
mod buffers;
mod chunks;
mod complex;
mod create;
mod dot;
mod element;
mod elementwise;
#[cfg(feature = "fft")]
pub mod fft;
mod layer;
#[cfg(feature = "linalg")]
pub mod linalg;
mod lower;
mod npy;
mod overlap;
pub mod random;
mod reduce;
mod scalar;
mod scan;
mod stream;
mod structure;
#[cfg(test)]
mod test;
mod tiles;
mod window;
mod wire;
#[cfg(feature = "zarr")]
mod zarr;

pub use blockwise::{BlockOptions, blockwise, map_blocks};
pub use chunks::{
    AUTO_CHUNK_BYTES, ChunkSpec, DEFAULT_MAX_BLOCKS, FULL, max_blocks, set_max_blocks,
};
pub use create::{
    arange, arange_with, eye, from_delayed, from_ndarray, full, linspace, ones, zeros,
};
pub use element::Element;
pub use elementwise::{Analytic, CastTo, FloorDivision, Operand, where_};
pub use ndarray::{NewAxis, s};
pub use npy::from_npy;
pub use num_complex::{Complex32, Complex64};
pub use overlap::{Boundary, Depth};
pub use reduce::Numeric;
pub use scalar::Scalar;
pub use structure::{NewShape, SliceArg, concatenate, stack};
#[cfg(feature = "zarr")]
pub use zarr::{Compression, ZarrElement, ZarrOptions, from_zarr};

pub(crate) use layer::ShapeError;
use layer::{BlockOp, BlockValue, Layer, Token, Tokenizer};

use crate::delayed::{Batch, BatchPart, Outputs};
use crate::graph::NodeRef;
use crate::{Computable, Error, Options};
use ndarray::ArrayD;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// A lazy, chunked n-d array of `T` (`f64`, `f32`, the integers `i8` to `u64`, or
/// `bool`). See the
/// [module docs](self).
pub struct Array<T> {
    pub(crate) layer: Result<Arc<Layer>, ShapeError>,
    element: PhantomData<fn() -> T>,
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            layer: self.layer.clone(),
            element: PhantomData,
        }
    }
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.layer {
            Ok(l) if l.op.unknown_chunks() => write!(
                f,
                "Array<{}>(shape=[unknown], {} blocks of unknown length, name={})",
                T::NAME,
                l.chunks.first().map_or(0, Vec::len),
                l.name()
            ),
            Ok(l) => write!(
                f,
                "Array<{}>(shape={:?}, chunks={:?}, name={})",
                T::NAME,
                l.shape,
                l.chunks,
                l.name()
            ),
            Err(e) => write!(
                f,
                "Array<{}>(error in `{}`: {})",
                T::NAME,
                e.operation,
                e.message
            ),
        }
    }
}

impl<T: Element> Array<T> {
    /// A new layer over `inputs`. `token` already holds the label and parameters; the
    /// inputs, shape and chunks are added here.
    pub(crate) fn from_op(
        label: &'static str,
        token: Tokenizer,
        shape: Vec<usize>,
        chunks: Vec<Vec<usize>>,
        inputs: Vec<Arc<Layer>>,
        op: impl BlockOp,
    ) -> Self {
        Array::from_layer(layer_over(label, token, shape, chunks, inputs, op))
    }

    /// The array of a layer, or of the error met building it.
    pub(crate) fn from_result(layer: Result<Arc<Layer>, ShapeError>) -> Self {
        match layer {
            Ok(l) => Array::from_layer(l),
            Err(e) => Array::from_error(e),
        }
    }

    /// The array `build` makes from this one's layer (this one's error if it has one).
    pub(crate) fn then<U: Element>(
        &self,
        build: impl FnOnce(&Arc<Layer>) -> Result<Arc<Layer>, ShapeError>,
    ) -> Array<U> {
        Array::from_result(self.layer().and_then(build))
    }

    pub(crate) fn from_layer(layer: Arc<Layer>) -> Self {
        Array {
            layer: Ok(layer),
            element: PhantomData,
        }
    }

    pub(crate) fn failed(operation: &'static str, message: String) -> Self {
        Array::from_error(ShapeError::new(operation, message))
    }

    pub(crate) fn from_error(error: ShapeError) -> Self {
        Array {
            layer: Err(error),
            element: PhantomData,
        }
    }

    /// The layer, for building on: an array whose chunk sizes are unknown is an error
    /// here (nothing can be built on sizes it does not have yet).
    pub(crate) fn layer(&self) -> Result<&Arc<Layer>, ShapeError> {
        let l = self.layer.as_ref().map_err(Clone::clone)?;
        if l.op.unknown_chunks() {
            return Err(ShapeError::new(
                l.label,
                "the chunk sizes of this array are unknown until it is computed (Dask's nan \
                 chunks): call compute_chunk_sizes() or persist() first"
                    .into(),
            ));
        }
        Ok(l)
    }

    /// The layer whatever its chunks: for computing it.
    pub(crate) fn any_layer(&self) -> Result<&Arc<Layer>, ShapeError> {
        self.layer.as_ref().map_err(Clone::clone)
    }

    /// Whether the chunk sizes are known (false after `extract` or `unique` until
    /// [`Array::compute_chunk_sizes`]; Dask's `nan` chunks).
    pub fn chunks_known(&self) -> bool {
        self.layer.as_ref().is_ok_and(|l| !l.op.unknown_chunks())
    }

    /// The same array with its chunk sizes known: the blocks are computed to measure
    /// them (Dask's `compute_chunk_sizes`) and computed again when the result is. Use
    /// [`Array::persist`] to keep them instead.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::arange;
    /// let x = arange(10).rechunk(4);
    /// let odd = x.extract(&x.mod_(2.0).eq_elem(1.0));
    /// assert!(!odd.chunks_known());
    /// let odd = odd.compute_chunk_sizes().unwrap();
    /// assert_eq!(odd.chunks(), [vec![2, 2, 1]]);
    /// assert_eq!(odd.sum().compute().unwrap(), 25.0);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Array::compute`].
    pub fn compute_chunk_sizes(&self) -> Result<Array<T>, Error> {
        let layer = self.any_layer()?;
        if !layer.op.unknown_chunks() {
            return Ok(self.clone());
        }
        let lengths = block_lengths::<T>(&self.computed_blocks()?)?;
        Ok(Array::from_layer(layer_over(
            layer.label,
            Tokenizer::new("known").add(&lengths),
            vec![lengths.iter().sum()],
            vec![lengths],
            vec![Arc::clone(layer)],
            blocks::Same,
        )))
    }

    /// Every block, computed (in the grid's row-major order).
    pub(crate) fn computed_blocks(&self) -> Result<Vec<BlockValue>, Error> {
        let nodes = self.block_nodes()?;
        let refs: Vec<&NodeRef> = nodes.iter().collect();
        let values = crate::executor::execute(&refs, &crate::Options::new())?;
        values
            .into_iter()
            .map(|v| {
                v.downcast::<BlockValue>()
                    .map(|b| (*b).clone())
                    .map_err(|_| Error::Internal("an array task's output is not a block".into()))
            })
            .collect()
    }

    /// The layer, for the accessors that have nothing true to return for a failed
    /// array.
    fn valid(&self) -> &Layer {
        match &self.layer {
            Ok(l) if l.op.unknown_chunks() => panic!(
                "the shape and chunks of this `{}` array are unknown until it is computed \
                 (use `compute_chunk_sizes()` first, or `chunks_known()` to ask)",
                l.label
            ),
            Ok(l) => l,
            Err(e) => panic!(
                "this array failed to build in `{}`: {} (use `check()` or `try_shape()` to \
                 handle the error)",
                e.operation, e.message
            ),
        }
    }

    /// The array's shape.
    ///
    /// # Panics
    ///
    /// If building the array failed (see [`Array::try_shape`]).
    pub fn shape(&self) -> &[usize] {
        &self.valid().shape
    }

    /// The array's shape, or the error kept from building it.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::zeros;
    /// let bad = &zeros::<f64>([3, 4], 2) + &zeros::<f64>([5], 2);
    /// assert!(bad.try_shape().is_err());
    /// assert_eq!(zeros::<f64>([3, 4], 2).try_shape().unwrap(), [3, 4]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] naming the operation and the shapes.
    pub fn try_shape(&self) -> Result<&[usize], Error> {
        Ok(&self.layer()?.shape)
    }

    /// The block sizes along each axis (Dask's `chunks`).
    ///
    /// # Panics
    ///
    /// If building the array failed (see [`Array::check`]).
    pub fn chunks(&self) -> &[Vec<usize>] {
        &self.valid().chunks
    }

    /// The array's name: its operation and a hash of the operation's parameters and
    /// its inputs' names (Dask's `tokenize`). Equal expressions have equal names; block
    /// `idx` is keyed `(name, idx)`.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::random::default_rng;
    /// let a = default_rng(1).normal(0.0, 1.0, [10], 5);
    /// let b = default_rng(1).normal(0.0, 1.0, [10], 5);
    /// assert_eq!((&a + 1.0).name(), (&b + 1.0).name());
    /// assert_ne!((&a + 1.0).name(), (&a + 2.0).name());
    /// assert!((&a + 1.0).name().starts_with("add-"));
    /// ```
    ///
    /// # Panics
    ///
    /// If building the array failed (see [`Array::check`]).
    pub fn name(&self) -> String {
        self.valid().name()
    }

    /// The same array under `name`, which fully specifies its blocks' keys (Dask's
    /// `name=`): two arrays given one name are taken to be equal. For closures, which
    /// otherwise get a name unique to each call.
    pub fn named(&self, name: &str) -> Array<T> {
        match &self.layer {
            Ok(l) => {
                // The name alone (and the shape) is the token: arrays given one name are
                // one layer in a compute, whatever made them.
                let token = Tokenizer::new("named")
                    .add(name)
                    .add(&l.shape)
                    .add(&l.chunks)
                    .finish();
                Array::from_layer(Arc::new(Layer {
                    token,
                    label: l.label,
                    shape: l.shape.clone(),
                    chunks: l.chunks.clone(),
                    inputs: vec![Arc::clone(l)],
                    op: Box::new(blocks::Same),
                    split_every: l.split_every,
                }))
            }
            Err(e) => Array::from_error(e.clone()),
        }
    }

    /// The number of axes.
    ///
    /// # Panics
    ///
    /// If building the array failed (see [`Array::check`]).
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of blocks along each axis.
    ///
    /// # Panics
    ///
    /// If building the array failed (see [`Array::check`]).
    pub fn numblocks(&self) -> Vec<usize> {
        self.valid().grid()
    }

    /// The number of blocks.
    ///
    /// # Panics
    ///
    /// If building the array failed (see [`Array::check`]).
    pub fn nblocks(&self) -> usize {
        self.numblocks().iter().product()
    }

    /// The number of elements.
    ///
    /// # Panics
    ///
    /// If building the array failed (see [`Array::check`]).
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether the array has no elements.
    ///
    /// # Panics
    ///
    /// If building the array failed (see [`Array::check`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `Ok` if the expression is well formed; the kept shape error otherwise.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::zeros;
    /// let bad = &zeros::<f64>([3, 4], 2) + &zeros::<f64>([5], 2);
    /// let err = bad.check().unwrap_err();
    /// assert!(format!("{err:#}").contains("[3, 4] and [5]"), "{err}");
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] naming the operation and the shapes.
    pub fn check(&self) -> Result<(), Error> {
        self.layer()?;
        Ok(())
    }

    /// Sets how many partial results a reduction on this array combines in one task
    /// (Dask's `split_every`; 4 by default).
    pub fn with_split_every(&self, n: usize) -> Array<T> {
        match &self.layer {
            Ok(l) if n >= 2 => Array::from_layer(new_layer(
                l.label,
                Tokenizer::new("split_every").add(n),
                l.shape.clone(),
                l.chunks.clone(),
                vec![Arc::clone(l)],
                blocks::Same,
                n,
            )),
            Ok(_) => Array::failed(
                "with_split_every",
                format!("split_every must be at least 2, not {n}"),
            ),
            Err(e) => Array::from_error(e.clone()),
        }
    }

    /// Computes the whole array on the default scheduler.
    ///
    /// # Errors
    ///
    /// A kept shape error, or a failed task.
    pub fn compute(&self) -> Result<ArrayD<T>, Error> {
        self.compute_with(Options::new())
    }

    /// Computes the whole array as `options` say: a [`Scheduler`](crate::Scheduler),
    /// or [`Options`] with callbacks, a cancel token, a deadline or retries.
    ///
    /// # Errors
    ///
    /// As [`Array::compute`], and as [`Delayed::compute_with`](crate::Delayed::compute_with).
    pub fn compute_with(&self, options: impl Into<Options>) -> Result<ArrayD<T>, Error> {
        crate::compute_with(self, options)
    }

    /// The task nodes of the array's blocks, planned on their own, row-major.
    pub(crate) fn block_nodes(&self) -> Result<Vec<NodeRef>, Error> {
        let layer = Arc::clone(self.any_layer()?);
        lower::lower(&[layer])?
            .pop()
            .ok_or_else(|| Error::Internal("no nodes for the array".into()))
    }
}

/// An array layer over `inputs`, reduced `split_every` at a time as its first input.
pub(crate) fn layer_over(
    label: &'static str,
    token: Tokenizer,
    shape: Vec<usize>,
    chunks: Vec<Vec<usize>>,
    inputs: Vec<Arc<Layer>>,
    op: impl BlockOp,
) -> Arc<Layer> {
    let split_every = inputs.first().map_or(4, |i| i.split_every);
    new_layer(label, token, shape, chunks, inputs, op, split_every)
}

/// A layer over `inputs`, its token completed with the inputs, shape and chunks.
pub(crate) fn new_layer(
    label: &'static str,
    token: Tokenizer,
    shape: Vec<usize>,
    chunks: Vec<Vec<usize>>,
    inputs: Vec<Arc<Layer>>,
    op: impl BlockOp,
    split_every: usize,
) -> Arc<Layer> {
    let token = inputs
        .iter()
        .fold(token, |t, i| t.input(i))
        .add(&shape)
        .add(&chunks)
        .add(split_every)
        .finish();
    Arc::new(Layer {
        token,
        label,
        shape,
        chunks,
        inputs,
        op: Box::new(op),
        split_every,
    })
}

/// The arrays of one compute, planned together (see the module docs).
#[derive(Default)]
pub(crate) struct ArrayBatch {
    roots: Vec<Arc<Layer>>,
    nodes: HashMap<Token, Vec<NodeRef>>,
}

impl ArrayBatch {
    pub(crate) fn add(&mut self, layer: &Arc<Layer>) {
        self.roots.push(Arc::clone(layer));
    }

    pub(crate) fn nodes(&self, layer: &Layer) -> Result<&[NodeRef], Error> {
        self.nodes
            .get(&layer.token)
            .map(Vec::as_slice)
            .ok_or_else(|| Error::Internal(format!("{} was not planned", layer.label)))
    }
}

impl BatchPart for ArrayBatch {
    fn prepare(&mut self) -> Result<(), Error> {
        let roots = std::mem::take(&mut self.roots);
        let nodes = lower::lower(&roots)?;
        self.nodes.extend(roots.iter().map(|r| r.token).zip(nodes));
        Ok(())
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

impl<T: Element> Computable for Array<T> {
    type Output = ArrayD<T>;
    fn declare(&self, batch: &mut Batch) {
        if let Ok(layer) = &self.layer {
            batch.part::<ArrayBatch>().add(layer);
        }
    }
    fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
        let layer = self.any_layer()?;
        out.extend_from_slice(batch.part::<ArrayBatch>().nodes(layer)?);
        Ok(())
    }
    fn collect_values(&self, values: &mut Outputs) -> Result<ArrayD<T>, Error> {
        let layer = self.any_layer()?;
        let block = assemble(layer, values, T::ops())?;
        window::owned_array::<T>(block).map_err(|e| Error::Internal(e.to_string()))
    }
}

/// The whole array of `layer` from its blocks' values, each checked against its
/// chunks.
fn assemble(
    layer: &Layer,
    values: &mut Outputs,
    ops: &'static element::ElementOps,
) -> Result<BlockValue, Error> {
    let grid = layer.grid();
    let n: usize = grid.iter().product();
    let mut blocks = Vec::with_capacity(n);
    for flat in 0..n {
        let (value, _) = values.next_value()?;
        blocks.push((flat, collect_block(value)?));
    }
    if layer.op.unknown_chunks() {
        // 1-d blocks of lengths known only now: laid end to end.
        let mut at = 0;
        let mut pieces = Vec::with_capacity(n);
        for (_, value) in &blocks {
            let shape = (ops.shape)(value).map_err(|e| Error::Internal(e.to_string()))?;
            let len = shape.first().copied().unwrap_or(0);
            pieces.push((value, vec![(0, at, len)]));
            at += len;
        }
        return (ops.assemble)(&[at], &pieces).map_err(|e| Error::Internal(e.to_string()));
    }
    let mut pieces = Vec::with_capacity(n);
    for (flat, value) in &blocks {
        let idx = layer::unflatten(&grid, *flat);
        let region = layer.region(&idx);
        let shape = (ops.shape)(value).map_err(|e| Error::Internal(e.to_string()))?;
        let expected = layer::lengths(&region);
        if shape != expected {
            return Err(ShapeError::new(
                layer.label,
                format!("block {idx:?} has shape {shape:?}, expected {expected:?}"),
            )
            .into());
        }
        pieces.push((
            value,
            region.iter().map(|&(at, len)| (0, at, len)).collect(),
        ));
    }
    (ops.assemble)(&layer.shape, &pieces).map_err(|e| Error::Internal(e.to_string()))
}

/// The lengths of 1-d blocks whose sizes were unknown until computed.
pub(crate) fn block_lengths<T: Element>(blocks: &[BlockValue]) -> Result<Vec<usize>, Error> {
    blocks
        .iter()
        .map(|b| (T::ops().shape)(b).map(|s| s.first().copied().unwrap_or(1)))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|e| Error::Internal(e.to_string()))
}

/// A block task's output as the executor hands it back: the node's `BlockValue`.
fn collect_block(value: crate::graph::Value) -> Result<BlockValue, Error> {
    let shared = value
        .downcast::<BlockValue>()
        .map_err(|_| Error::Internal("an array task's output is not a block".into()))?;
    Ok(Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone()))
}

//! Chunked n-d arrays: `dask.array` for Rust, on `ndarray`.
//!
//! An [`Array`] is lazy: a shape, its chunks (block sizes per axis, Dask's form) and, per
//! block, how to compute it. Creating and combining arrays runs nothing; `compute()`
//! builds a task graph (one task per block, fused across elementwise steps, plus tree
//! reductions) and runs it on the executor, with memory bounded by the blocks in flight.
//!
//! ```
//! use dask_runtime::array::{self, random};
//!
//! let x = random::default_rng(42).normal(0.0, 1.0, [1_000, 1_000], [250, 250]);
//! let y = &x + &x.t();                        // fused: no task per step
//! let m: f64 = y.mean().compute().unwrap();   // a full reduction is a Delayed
//! assert!(m.abs() < 0.01);
//! let col: ndarray::ArrayD<f64> = x.sum_axis(0).compute().unwrap();
//! assert_eq!(col.shape(), [1_000]);
//! ```
//!
//! A mistake (shapes that do not broadcast, chunks that do not cover the shape, an axis
//! out of range) is kept in the array and returned by `compute()` (or [`Array::check`]) as
//! [`Error::Shape`] naming the operation and the shapes; nothing panics.

mod block_product;
mod buffers;
mod chunks;
mod create;
mod element;
mod elementwise;
mod npy;
pub mod random;
mod reduce;
mod structure;
#[cfg(test)]
mod test;

pub use chunks::{
    AUTO_CHUNK_BYTES, ChunkSpec, DEFAULT_MAX_BLOCKS, FULL, max_blocks, set_max_blocks,
};
pub use create::{
    arange, arange_with, eye, from_delayed, from_ndarray, full, linspace, ones, zeros,
};
pub use element::{AnyBlock, Element};
pub use elementwise::{Operand, where_};
pub use npy::from_npy;
pub use reduce::Numeric;
pub use structure::{concatenate, stack};

use crate::delayed::{Arg, node};
use crate::error::BoxError;
use crate::{Delayed, Error, Options};
use ndarray::{ArrayD, Dimension, IxDyn, Slice};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// A shape mistake found while building an array expression, kept until `compute()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ShapeError {
    operation: &'static str,
    message: String,
}

impl ShapeError {
    pub(crate) fn new(operation: &'static str, message: String) -> Self {
        ShapeError { operation, message }
    }
}

impl From<ShapeError> for Error {
    fn from(e: ShapeError) -> Error {
        Error::Shape {
            operation: e.operation,
            message: e.message,
        }
    }
}

/// Computes one block from the values of its leaf tasks.
pub(crate) type Kernel<T> = Arc<dyn Fn(&[AnyBlock]) -> Result<ArrayD<T>, BoxError> + Send + Sync>;

/// How to get one block: the graph nodes it reads (none for a generator) and the
/// function that makes the block from their values. Elementwise steps compose kernels,
/// so a chain of them is one task per block.
pub(crate) struct BlockTask<T> {
    pub(crate) leaves: Vec<Delayed<AnyBlock>>,
    pub(crate) kernel: Kernel<T>,
    /// For blocks that need no leaves (generators and elementwise steps over them):
    /// any sub-region of the block, in the array's global coordinates. A reduction
    /// folds a block strip by strip with it, in cache, instead of making it whole.
    pub(crate) region: Option<RegionFn<T>>,
}

/// Computes the elements of a region (`(start, len)` per axis, global coordinates).
pub(crate) type RegionFn<T> =
    Arc<dyn Fn(&[(usize, usize)]) -> Result<ArrayD<T>, BoxError> + Send + Sync>;

pub(crate) type Blocks<T> = Arc<dyn Fn(&[usize]) -> BlockTask<T> + Send + Sync>;

pub(crate) struct Def<T> {
    pub(crate) shape: Vec<usize>,
    pub(crate) chunks: Vec<Vec<usize>>,
    /// The name of the operation that made the array: its tasks' name.
    pub(crate) name: &'static str,
    pub(crate) blocks: Blocks<T>,
    /// How many partial results a reduction combines in one task (Dask's default: 4).
    pub(crate) split_every: usize,
    /// The blocks as graph nodes, made on first use and shared by every consumer.
    nodes: OnceLock<Arc<Vec<Delayed<AnyBlock>>>>,
}

impl<T: Element> Def<T> {
    /// The blocks as graph nodes, in row-major order; made once per array.
    pub(crate) fn nodes(&self) -> Arc<Vec<Delayed<AnyBlock>>> {
        self.nodes
            .get_or_init(|| {
                Arc::new(
                    Array::<T>::block_indices(&self.chunks)
                        .iter()
                        .map(|idx| materialize(self.name, (self.blocks)(idx)))
                        .collect(),
                )
            })
            .clone()
    }
}

/// A lazy, chunked n-d array of `T` (`f64`, `f32`, `i64` or `bool`). See the
/// [module docs](self).
pub struct Array<T> {
    pub(crate) def: Result<Arc<Def<T>>, ShapeError>,
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            def: self.def.clone(),
        }
    }
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.def {
            Ok(d) => write!(
                f,
                "Array<{}>(shape={:?}, chunks={:?}, name={})",
                T::NAME,
                d.shape,
                d.chunks,
                d.name
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
    pub(crate) fn new(
        name: &'static str,
        shape: Vec<usize>,
        chunks: Vec<Vec<usize>>,
        blocks: impl Fn(&[usize]) -> BlockTask<T> + Send + Sync + 'static,
    ) -> Self {
        Array {
            def: Ok(Arc::new(Def {
                shape,
                chunks,
                name,
                blocks: Arc::new(blocks),
                split_every: 4,
                nodes: OnceLock::new(),
            })),
        }
    }

    pub(crate) fn failed(operation: &'static str, message: String) -> Self {
        Array {
            def: Err(ShapeError::new(operation, message)),
        }
    }

    pub(crate) fn from_error(error: ShapeError) -> Self {
        Array { def: Err(error) }
    }

    /// The array's shape, or an empty slice if building it failed.
    pub fn shape(&self) -> &[usize] {
        self.def.as_ref().map_or(&[], |d| &d.shape)
    }

    /// The block sizes along each axis (Dask's `chunks`).
    pub fn chunks(&self) -> &[Vec<usize>] {
        self.def.as_ref().map_or(&[], |d| &d.chunks)
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of blocks along each axis.
    pub fn numblocks(&self) -> Vec<usize> {
        self.chunks().iter().map(Vec::len).collect()
    }

    /// The number of blocks.
    pub fn nblocks(&self) -> usize {
        self.chunks().iter().map(Vec::len).product()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `Ok` if the expression is well formed; the kept shape error otherwise.
    ///
    /// ```
    /// use dask_runtime::array::zeros;
    /// let bad = &zeros::<f64>([3, 4], 2) + &zeros::<f64>([5], 2);
    /// let err = bad.check().unwrap_err();
    /// assert!(err.to_string().contains("[3, 4] and [5]"), "{err}");
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] naming the operation and the shapes.
    pub fn check(&self) -> Result<(), Error> {
        self.def()?;
        Ok(())
    }

    pub(crate) fn def(&self) -> Result<&Arc<Def<T>>, ShapeError> {
        self.def.as_ref().map_err(Clone::clone)
    }

    /// Sets how many partial results a reduction on this array combines in one task.
    pub fn with_split_every(&self, n: usize) -> Array<T> {
        match &self.def {
            Ok(d) if n >= 2 => {
                let d = d.clone();
                Array::new(d.name, d.shape.clone(), d.chunks.clone(), move |idx| {
                    (d.blocks)(idx)
                })
                .set_split_every(n)
            }
            Ok(_) => Array::failed(
                "with_split_every",
                format!("split_every must be at least 2, not {n}"),
            ),
            Err(e) => Array::from_error(e.clone()),
        }
    }

    fn set_split_every(mut self, n: usize) -> Self {
        if let Ok(d) = &mut self.def
            && let Some(d) = Arc::get_mut(d)
        {
            d.split_every = n;
        }
        self
    }

    /// Every block index, in row-major order.
    pub(crate) fn block_indices(chunks: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let grid: Vec<usize> = chunks.iter().map(Vec::len).collect();
        ndarray::indices(IxDyn(&grid))
            .into_iter()
            .map(|i| i.slice().to_vec())
            .collect()
    }

    /// The blocks as graph nodes, in row-major order; made once per array.
    pub(crate) fn block_nodes(&self) -> Result<Arc<Vec<Delayed<AnyBlock>>>, ShapeError> {
        Ok(self.def()?.nodes())
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
    /// As [`Array::compute`], and as [`Delayed::compute_with`].
    pub fn compute_with(&self, options: impl Into<Options>) -> Result<ArrayD<T>, Error> {
        let d = self.def()?;
        let mut blocks = crate::compute_with(self.block_nodes()?.as_slice(), options)?;
        let indices = Self::block_indices(&d.chunks);
        let mut regions = Vec::with_capacity(blocks.len());
        for (idx, block) in indices.iter().zip(&blocks) {
            let block = typed::<T>(block).map_err(|e| Error::Internal(e.to_string()))?;
            let region = region(&d.chunks, idx);
            let expected: Vec<usize> = region.iter().map(|(_, len)| *len).collect();
            if block.shape() != expected.as_slice() {
                return Err(ShapeError::new(
                    d.name,
                    format!(
                        "block {idx:?} has shape {:?}, expected {expected:?}",
                        block.shape()
                    ),
                )
                .into());
            }
            regions.push(region);
        }
        if blocks.len() == 1
            && let Some(only) = blocks.pop()
        {
            // One block: hand it over instead of copying it into a new array.
            let block = typed::<T>(&only)
                .map_err(|e| Error::Internal(e.to_string()))?
                .clone();
            drop(only);
            return Ok(Arc::try_unwrap(block).unwrap_or_else(|shared| (*shared).clone()));
        }
        let mut out = ArrayD::<T>::default(IxDyn(&d.shape));
        for (region, block) in regions.iter().zip(&blocks) {
            let block = typed::<T>(block).map_err(|e| Error::Internal(e.to_string()))?;
            out.slice_each_axis_mut(|ax| {
                let (start, len) = region[ax.axis.index()];
                Slice::from(start..start + len)
            })
            .assign(&**block);
        }
        Ok(out)
    }

    /// Computes the blocks now and keeps them in memory: a new array whose blocks are
    /// ready, for expressions used many times.
    ///
    /// # Errors
    ///
    /// As [`Array::compute`].
    pub fn persist(&self) -> Result<Array<T>, Error> {
        let d = self.def()?;
        let blocks = crate::compute(self.block_nodes()?.as_slice())?;
        let blocks: Vec<Arc<ArrayD<T>>> = blocks
            .iter()
            .map(|b| {
                typed::<T>(b)
                    .cloned()
                    .map_err(|e| Error::Internal(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let grid: Vec<usize> = d.chunks.iter().map(Vec::len).collect();
        let blocks = Arc::new(blocks);
        Ok(Array::new(
            "persist",
            d.shape.clone(),
            d.chunks.clone(),
            move |idx| {
                let block = Arc::clone(&blocks[flat_index(&grid, idx)]);
                BlockTask {
                    leaves: Vec::new(),
                    kernel: Arc::new(move |_| Ok((*block).clone())),
                    region: None,
                }
            },
        ))
    }

    /// The blocks as `Delayed`s, in an array the shape of the block grid.
    ///
    /// # Errors
    ///
    /// A kept shape error.
    pub fn to_delayed(&self) -> Result<ArrayD<Delayed<ArrayD<T>>>, Error> {
        let nodes = self.block_nodes()?;
        let grid = self.numblocks();
        let delayed: Vec<Delayed<ArrayD<T>>> = nodes
            .iter()
            .map(|n| n.try_map(|b| typed::<T>(&b).map(|a| (**a).clone())))
            .collect();
        ArrayD::from_shape_vec(IxDyn(&grid), delayed).map_err(|e| Error::Internal(e.to_string()))
    }

    /// Cuts the array into new blocks. Each new block reads the old blocks it overlaps;
    /// an old block is computed once, whatever number of new blocks read it.
    ///
    /// ```
    /// use dask_runtime::array::arange;
    /// let x = arange(10).rechunk(4);
    /// assert_eq!(x.chunks(), [vec![4, 4, 2]]);
    /// assert_eq!(x.compute().unwrap().iter().copied().collect::<Vec<_>>(), (0..10).map(|v| v as f64).collect::<Vec<_>>());
    /// ```
    pub fn rechunk(&self, chunks: impl Into<ChunkSpec>) -> Array<T> {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return Array::from_error(e),
        };
        let new = match chunks.into().resolve(&d.shape, std::mem::size_of::<T>()) {
            Ok(c) => c,
            Err(e) => return Array::from_error(ShapeError::new("rechunk", e.message)),
        };
        self.rechunk_to(new)
    }

    pub(crate) fn rechunk_to(&self, new: Vec<Vec<usize>>) -> Array<T> {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return Array::from_error(e),
        };
        if new == d.chunks {
            return self.clone();
        }
        let source = d.clone();
        let old_offsets: Vec<Vec<usize>> = d.chunks.iter().map(|c| chunks::offsets(c)).collect();
        let new_chunks = new.clone();
        let old_grid: Vec<usize> = d.chunks.iter().map(Vec::len).collect();
        Array::new("rechunk", d.shape.clone(), new, move |idx| {
            let target = region(&new_chunks, idx);
            // Per axis: the old blocks that overlap the new block.
            let ranges: Vec<Vec<usize>> = target
                .iter()
                .enumerate()
                .map(|(ax, &(start, len))| {
                    (0..old_offsets[ax].len())
                        .filter(|&b| {
                            let (s, l) = (old_offsets[ax][b], d.chunks[ax][b]);
                            s < start + len && start < s + l || (len == 0 && l == 0)
                        })
                        .collect()
                })
                .collect();
            let pieces: Vec<Vec<usize>> = cartesian(&ranges);
            let nodes = source.nodes();
            let leaves = pieces
                .iter()
                .map(|old| nodes[flat_index(&old_grid, old)].clone())
                .collect();
            let (old_offsets, old_chunks) = (old_offsets.clone(), d.chunks.clone());
            let kernel: Kernel<T> = Arc::new(move |values| {
                let shape: Vec<usize> = target.iter().map(|(_, l)| *l).collect();
                let mut out = ArrayD::<T>::default(IxDyn(&shape));
                for (old, value) in pieces.iter().zip(values) {
                    let block = typed::<T>(value)?;
                    // The overlap, in the old block's and in the new block's coordinates.
                    let overlap: Vec<(usize, usize, usize)> = (0..shape.len())
                        .map(|ax| {
                            let (os, ol) = (old_offsets[ax][old[ax]], old_chunks[ax][old[ax]]);
                            let (ts, tl) = target[ax];
                            let start = os.max(ts);
                            let end = (os + ol).min(ts + tl);
                            (start - os, start - ts, end.saturating_sub(start))
                        })
                        .collect();
                    out.slice_each_axis_mut(|ax| {
                        let (_, at, len) = overlap[ax.axis.index()];
                        Slice::from(at..at + len)
                    })
                    .assign(&block.slice_each_axis(|ax| {
                        let (from, _, len) = overlap[ax.axis.index()];
                        Slice::from(from..from + len)
                    }));
                }
                Ok(out)
            });
            BlockTask {
                leaves,
                kernel,
                region: None,
            }
        })
    }

    /// Applies `f` to every block (its values and its block index); `f` must keep the
    /// block's shape (checked when the block is computed). Dask's `map_blocks`.
    ///
    /// ```
    /// use dask_runtime::array::ones;
    /// let x = ones::<f64>([4, 4], 2).map_blocks(|block, index| {
    ///     block.mapv(|v| v * (1 + index[0] * 2 + index[1]) as f64)
    /// });
    /// assert_eq!(x.compute().unwrap()[[3, 3]], 4.0);
    /// ```
    pub fn map_blocks<U, F>(&self, f: F) -> Array<U>
    where
        U: Element,
        F: Fn(ndarray::ArrayViewD<'_, T>, &[usize]) -> ArrayD<U> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.map_block_tasks("map_blocks", move |idx, input| {
            let f = Arc::clone(&f);
            let idx = idx.to_vec();
            compose(input, move |block| {
                let expected = block.shape().to_vec();
                let out = f(block.view(), &idx);
                if out.shape() == expected.as_slice() {
                    Ok(out)
                } else {
                    Err(format!(
                        "map_blocks: block {idx:?} came back with shape {:?}, expected {expected:?}",
                        out.shape()
                    )
                    .into())
                }
            })
        })
    }

    /// A new array of the same shape and chunks whose block `idx` is `make(idx, input's
    /// block task)`.
    pub(crate) fn map_block_tasks<U: Element>(
        &self,
        name: &'static str,
        make: impl Fn(&[usize], BlockTask<T>) -> BlockTask<U> + Send + Sync + 'static,
    ) -> Array<U> {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return Array::from_error(e),
        };
        let blocks = d.blocks.clone();
        Array::new(name, d.shape.clone(), d.chunks.clone(), move |idx| {
            make(idx, blocks(idx))
        })
        .set_split_every(d.split_every)
    }
}

/// Runs a block task as one graph node.
pub(crate) fn materialize<T: Element>(name: &'static str, task: BlockTask<T>) -> Delayed<AnyBlock> {
    let kernel = task.kernel;
    let args: Vec<Arg<AnyBlock>> = task.leaves.into_iter().map(Arg::node).collect();
    node(name, args, move |args: &Vec<Arg<AnyBlock>>, inputs| {
        let values = args
            .iter()
            .map(|a| a.take(inputs))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(T::into_block(kernel(&values)?))
    })
}

/// Combines `parts` in a tree, `split_every` at a time (Dask's `split_every`): each
/// group of values becomes one by `merge`. `None` when there are no parts.
pub(crate) fn tree_merge<V: Clone + Send + Sync + 'static>(
    name: &'static str,
    mut parts: Vec<Delayed<V>>,
    split_every: usize,
    merge: impl Fn(Vec<V>) -> Result<V, BoxError> + Send + Sync + 'static,
) -> Option<Delayed<V>> {
    let merge = Arc::new(merge);
    while parts.len() > 1 {
        parts = parts
            .chunks(split_every.max(2))
            .map(|group| {
                if let [one] = group {
                    return one.clone();
                }
                let merge = Arc::clone(&merge);
                let args: Vec<Arg<V>> = group.iter().cloned().map(Arg::node).collect();
                node(name, args, move |args: &Vec<Arg<V>>, inputs| {
                    let values = args
                        .iter()
                        .map(|a| a.take(inputs))
                        .collect::<Result<Vec<_>, _>>()?;
                    merge(values)
                })
            })
            .collect();
    }
    parts.pop()
}

/// A block task that applies `f` to the block `input` makes.
pub(crate) fn compose<T: Element, U: Element>(
    input: BlockTask<T>,
    f: impl Fn(ArrayD<T>) -> Result<ArrayD<U>, BoxError> + Send + Sync + 'static,
) -> BlockTask<U> {
    let inner = input.kernel;
    BlockTask {
        leaves: input.leaves,
        kernel: Arc::new(move |values| f(inner(values)?)),
        region: None,
    }
}

/// Like [`compose`] for an `f` that works on any part of a block (an elementwise map,
/// a transpose given `map_region`): the region function is kept.
pub(crate) fn compose_regional<T: Element, U: Element>(
    input: BlockTask<T>,
    map_region: impl Fn(&[(usize, usize)]) -> Vec<(usize, usize)> + Send + Sync + 'static,
    f: impl Fn(ArrayD<T>) -> Result<ArrayD<U>, BoxError> + Send + Sync + 'static,
) -> BlockTask<U> {
    let f = Arc::new(f);
    let region = input.region.clone().map(|inner| {
        let f = Arc::clone(&f);
        Arc::new(move |r: &[(usize, usize)]| f(inner(&map_region(r))?)) as RegionFn<U>
    });
    let task = compose(input, move |b| f(b));
    BlockTask { region, ..task }
}

/// A block task that reads leaf `0` as it is.
pub(crate) fn leaf_task<T: Element>(leaf: Delayed<AnyBlock>) -> BlockTask<T> {
    BlockTask {
        leaves: vec![leaf],
        kernel: Arc::new(|values| Ok((**typed::<T>(&values[0])?).clone())),
        region: None,
    }
}

/// The typed block inside an [`AnyBlock`].
pub(crate) fn typed<T: Element>(block: &AnyBlock) -> Result<&Arc<ArrayD<T>>, BoxError> {
    T::from_block(block).ok_or_else(|| format!("a block is not of {}", T::NAME).into())
}

/// `(start, len)` of block `idx` along each axis.
pub(crate) fn region(chunks: &[Vec<usize>], idx: &[usize]) -> Vec<(usize, usize)> {
    chunks
        .iter()
        .zip(idx)
        .map(|(c, &i)| (c[..i].iter().sum(), c[i]))
        .collect()
}

/// The row-major position of block `idx` in a grid.
pub(crate) fn flat_index(grid: &[usize], idx: &[usize]) -> usize {
    grid.iter().zip(idx).fold(0, |acc, (&g, &i)| acc * g + i)
}

/// Every combination of one value from each list, in row-major order.
pub(crate) fn cartesian(lists: &[Vec<usize>]) -> Vec<Vec<usize>> {
    lists.iter().fold(vec![Vec::new()], |acc, list| {
        acc.iter()
            .flat_map(|prefix| {
                list.iter().map(move |&v| {
                    let mut p = prefix.clone();
                    p.push(v);
                    p
                })
            })
            .collect()
    })
}

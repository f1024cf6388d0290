//! Operations on whole blocks: rechunking, `map_blocks`, keeping blocks in memory
//! (`persist`) and handing them out as `Delayed`s.

use super::chunks::offsets;
use super::element::{ElementOps, Piece};
use super::layer::{
    BlockOp, BlockValue, Layer, Region, Regional, Tokenizer, block, cartesian, lengths,
};
use super::window::view;
use super::{Array, ChunkSpec, Element, ShapeError};
use crate::error::BoxError;
use crate::{Delayed, Error};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use std::sync::Arc;

/// Runs `op` once a block of `layer` for what it writes (`to_npy`, `to_zarr`): each
/// block is made by the task that writes it, so the array is never whole in memory.
/// `op` returns [`written`] for its block.
pub(crate) fn write_blocks(
    label: &'static str,
    path: &std::path::Path,
    layer: Arc<Layer>,
    op: impl BlockOp,
) -> Result<(), Error> {
    let grid = layer.grid();
    let writes: Array<bool> = Array::from_op(
        label,
        Tokenizer::new(label).add(path).unique(),
        grid.clone(),
        grid.iter().map(|&n| vec![1; n]).collect(),
        vec![layer],
        op,
    );
    writes.compute().map(|_| ())
}

/// What a [`write_blocks`] task makes: a marker, one `true` for its block.
pub(crate) fn written(idx: &[usize]) -> BlockValue {
    block(ArrayD::from_elem(IxDyn(&vec![1; idx.len()]), true))
}

/// The input's block as it is: a renamed array, or one with another `split_every`.
pub(crate) struct Same;

impl BlockOp for Same {
    fn blockwise(&self) -> bool {
        true
    }
    fn regional(&self) -> Option<&dyn Regional> {
        Some(self)
    }
}

impl Regional for Same {
    fn input_region(&self, _: &Layer, _: usize, region: &Region) -> Vec<(usize, usize)> {
        region.to_vec()
    }
    fn run_region(
        &self,
        _: &Layer,
        _: &Region,
        mut inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        inputs
            .pop()
            .ok_or_else(|| "internal: no input region".into())
    }
}

/// New blocks cut from the old blocks they overlap.
struct Rechunk(&'static ElementOps);

impl Rechunk {
    /// Per axis, the old blocks that overlap new block `idx`.
    fn pieces(layer: &Layer, idx: &[usize]) -> Vec<Vec<usize>> {
        let old = &layer.inputs[0].chunks;
        let target = layer.region(idx);
        let ranges: Vec<Vec<usize>> = target
            .iter()
            .enumerate()
            .map(|(ax, &(start, len))| {
                let starts = offsets(&old[ax]);
                (0..old[ax].len())
                    .filter(|&b| {
                        let (s, l) = (starts[b], old[ax][b]);
                        s < start + len && start < s + l || (len == 0 && l == 0)
                    })
                    .collect()
            })
            .collect();
        cartesian(&ranges)
    }
}

impl BlockOp for Rechunk {
    fn deps(&self, layer: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.extend(Self::pieces(layer, idx).into_iter().map(|p| (0, p)));
    }

    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let old = &layer.inputs[0];
        let target = layer.region(idx);
        let pieces: Vec<Piece<'_>> = Self::pieces(layer, idx)
            .iter()
            .zip(&inputs)
            .map(|(piece, value)| {
                let source = old.region(piece);
                // The overlap, in the old block's and in the new block's coordinates.
                let parts = source
                    .iter()
                    .zip(&target)
                    .map(|(&(os, ol), &(ts, tl))| {
                        let start = os.max(ts);
                        let end = (os + ol).min(ts + tl);
                        (start - os, start - ts, end.saturating_sub(start))
                    })
                    .collect();
                (value, parts)
            })
            .collect();
        (self.0.assemble)(&lengths(&target), &pieces)
    }
}

/// `f` applied to each block with its index.
struct MapBlocks<F>(F);

impl<T, U, F> BlockOp for MapBlocks<(F, std::marker::PhantomData<fn(T) -> U>)>
where
    T: Element,
    U: Element,
    F: Fn(ArrayViewD<'_, T>, &[usize]) -> ArrayD<U> + Send + Sync + 'static,
{
    fn run(
        &self,
        _: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let input = view::<T>(inputs.first().ok_or("internal: no input block")?)?;
        let out = (self.0.0)(input.view(), idx);
        if out.shape() != input.shape() {
            return Err(format!(
                "map_blocks: block {idx:?} came back with shape {:?}, expected {:?}",
                out.shape(),
                input.shape()
            )
            .into());
        }
        Ok(block(out))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// Blocks already in memory.
struct Stored(Vec<BlockValue>);

impl BlockOp for Stored {
    fn deps(&self, _: &Layer, _: &[usize], _: &mut Vec<(usize, Vec<usize>)>) {}
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        _: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let flat = super::layer::flat_index(&layer.grid(), idx);
        self.0
            .get(flat)
            .cloned()
            .ok_or_else(|| "internal: a stored block is missing".into())
    }
}

impl<T: Element> Array<T> {
    /// Cuts the array into new blocks. Each new block reads the old blocks it overlaps;
    /// an old block is computed once, whatever number of new blocks read it.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::arange;
    /// let x = arange(10).rechunk(4);
    /// assert_eq!(x.chunks(), [vec![4, 4, 2]]);
    /// assert_eq!(x.compute().unwrap().iter().copied().collect::<Vec<_>>(), (0..10).map(|v| v as f64).collect::<Vec<_>>());
    /// ```
    pub fn rechunk(&self, chunks: impl Into<ChunkSpec>) -> Array<T> {
        let layer = match self.layer() {
            Ok(l) => l,
            Err(e) => return Array::from_error(e),
        };
        match chunks
            .into()
            .resolve(&layer.shape, std::mem::size_of::<T>())
        {
            Ok(c) => self.rechunk_to(c),
            Err(e) => Array::from_error(ShapeError::new("rechunk", e.message)),
        }
    }

    pub(crate) fn rechunk_to(&self, new: Vec<Vec<usize>>) -> Array<T> {
        match self.layer() {
            Ok(l) => Array::from_layer(rechunk_layer(l, new, T::ops())),
            Err(e) => Array::from_error(e),
        }
    }

    /// Applies `f` to every block (its values and its block index); `f` must keep the
    /// block's shape (checked when the block is computed). Dask's `map_blocks`. The
    /// result's name is unique to this call: give it one with [`Array::named`] to
    /// have equal calls share their blocks.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::ones;
    /// let x = ones::<f64>([4, 4], 2).map_blocks(|block, index| {
    ///     block.mapv(|v| v * (1 + index[0] * 2 + index[1]) as f64)
    /// });
    /// assert_eq!(x.compute().unwrap()[[3, 3]], 4.0);
    /// ```
    pub fn map_blocks<U, F>(&self, f: F) -> Array<U>
    where
        U: Element,
        F: Fn(ArrayViewD<'_, T>, &[usize]) -> ArrayD<U> + Send + Sync + 'static,
    {
        let layer = match self.layer() {
            Ok(l) => l,
            Err(e) => return Array::from_error(e),
        };
        Array::from_op(
            "map_blocks",
            Tokenizer::new("map_blocks").unique(),
            layer.shape.clone(),
            layer.chunks.clone(),
            vec![Arc::clone(layer)],
            MapBlocks((f, std::marker::PhantomData::<fn(T) -> U>)),
        )
    }

    /// Computes the blocks now and keeps them in memory: a new array with the same name
    /// whose blocks are ready, for expressions used many times.
    ///
    /// # Errors
    ///
    /// As [`Array::compute`].
    pub fn persist(&self) -> Result<Array<T>, Error> {
        let layer = self.any_layer()?;
        let blocks = self.computed_blocks()?;
        // Chunk sizes unknown until now (`extract`, `unique`) are read off the blocks.
        let (shape, chunks) = if layer.op.unknown_chunks() {
            let lengths = super::block_lengths::<T>(&blocks)?;
            (vec![lengths.iter().sum()], vec![lengths])
        } else {
            (layer.shape.clone(), layer.chunks.clone())
        };
        Ok(Array::from_layer(Arc::new(Layer {
            token: layer.token,
            label: layer.label,
            shape,
            chunks,
            inputs: Vec::new(),
            op: Box::new(Stored(blocks)),
            split_every: layer.split_every,
        })))
    }

    /// The blocks as `Delayed`s, in an array the shape of the block grid.
    ///
    /// # Errors
    ///
    /// A kept shape error.
    pub fn to_delayed(&self) -> Result<ArrayD<Delayed<ArrayD<T>>>, Error> {
        let grid = self.any_layer()?.grid();
        let delayed: Vec<Delayed<ArrayD<T>>> = self
            .block_nodes()?
            .into_iter()
            .map(|n| Delayed::<BlockValue>::from_node(n).try_map(super::window::owned_array::<T>))
            .collect();
        ArrayD::from_shape_vec(IxDyn(&grid), delayed).map_err(|e| Error::Internal(e.to_string()))
    }
}

/// `layer` cut into blocks `new`.
pub(crate) fn rechunk_layer(
    layer: &Arc<Layer>,
    new: Vec<Vec<usize>>,
    ops: &'static ElementOps,
) -> Arc<Layer> {
    if new == layer.chunks {
        return Arc::clone(layer);
    }
    super::new_layer(
        "rechunk",
        Tokenizer::new("rechunk"),
        layer.shape.clone(),
        new,
        vec![Arc::clone(layer)],
        Rechunk(ops),
        layer.split_every,
    )
}

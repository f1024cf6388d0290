//! Operations that move elements between positions or blocks: transpose, slicing,
//! expand_dims, concatenate and stack (each output block reads one input block), and
//! reshape (over a rechunk that gives each block whole rows of both shapes).
//!
//! The layers are built by plain functions over type-erased layers and an element
//! type's [`ElementOps`]; the generic methods only pick the table.

use super::blocks::rechunk_layer;
use super::element::ElementOps;
use super::layer::{BlockOp, BlockValue, Layer, Region, Regional, ShapeError, Tokenizer};
use super::{Array, Element, layer_over};
use crate::error::BoxError;
use ndarray::{Slice, SliceInfo, SliceInfoElem};
use std::sync::Arc;

/// The axes in a new order: output axis `i` is input axis `perm[i]`.
struct Transpose {
    perm: Vec<usize>,
    ops: &'static ElementOps,
}

impl BlockOp for Transpose {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let mut source = vec![0; idx.len()];
        for (out_axis, &in_axis) in self.perm.iter().enumerate() {
            source[in_axis] = idx[out_axis];
        }
        out.push((0, source));
    }
    fn blockwise(&self) -> bool {
        true
    }
    fn regional(&self) -> Option<&dyn Regional> {
        Some(self)
    }
}

impl Regional for Transpose {
    fn permutes(&self) -> bool {
        self.perm.iter().enumerate().any(|(i, &p)| i != p)
    }
    fn input_region(&self, _: &Layer, _: usize, region: &Region) -> Vec<(usize, usize)> {
        // A region of the output is the permuted region of the input.
        let mut input = vec![(0, 0); region.len()];
        for (out_axis, &in_axis) in self.perm.iter().enumerate() {
            input[in_axis] = region[out_axis];
        }
        input
    }
    fn run_region(
        &self,
        _: &Layer,
        _: &Region,
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let input = inputs
            .into_iter()
            .next()
            .ok_or("internal: no input block")?;
        // Only the strides change: no copy. Consumers take any layout.
        (self.ops.permute)(input, &self.perm)
    }
}

/// A length-1 axis inserted at `axis`.
struct ExpandDims {
    axis: usize,
    ops: &'static ElementOps,
}

impl BlockOp for ExpandDims {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let mut source = idx.to_vec();
        source.remove(self.axis);
        out.push((0, source));
    }
    fn blockwise(&self) -> bool {
        true
    }
    fn regional(&self) -> Option<&dyn Regional> {
        Some(self)
    }
}

impl Regional for ExpandDims {
    fn input_region(&self, _: &Layer, _: usize, region: &Region) -> Vec<(usize, usize)> {
        let mut r = region.to_vec();
        r.remove(self.axis);
        r
    }
    fn run_region(
        &self,
        _: &Layer,
        _: &Region,
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let input = inputs
            .into_iter()
            .next()
            .ok_or("internal: no input block")?;
        (self.ops.insert_axis)(input, self.axis)
    }
}

/// What an output axis of a slice reads: for each of its blocks, the input block
/// along `input_axis` and the local slice of it; or nothing (a new axis).
enum OutAxis {
    Range {
        input_axis: usize,
        blocks: Vec<(usize, Slice)>,
    },
    New,
}

/// A slice: output blocks are slices of one input block each, then shaped to the
/// output block (axes indexed away, new axes added).
struct SliceBlocks {
    axes: Vec<OutAxis>,
    /// Input axes taken at one index: `(axis, block, index within it)`.
    fixed: Vec<(usize, usize, usize)>,
    ops: &'static ElementOps,
}

impl SliceBlocks {
    /// The input block and the local slice of it, per input axis, for output block `idx`.
    fn source(&self, input_ndim: usize, idx: &[usize]) -> (Vec<usize>, Vec<Slice>) {
        let mut block = vec![0; input_ndim];
        let mut local = vec![Slice::from(..); input_ndim];
        for (axis, &i) in self.axes.iter().zip(idx) {
            if let OutAxis::Range { input_axis, blocks } = axis {
                block[*input_axis] = blocks[i].0;
                local[*input_axis] = blocks[i].1;
            }
        }
        for &(axis, b, at) in &self.fixed {
            block[axis] = b;
            local[axis] = Slice::new(at as isize, Some(at as isize + 1), 1);
        }
        (block, local)
    }
}

impl BlockOp for SliceBlocks {
    fn deps(&self, layer: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.push((0, self.source(layer.inputs[0].shape.len(), idx).0));
    }
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let input = inputs.first().ok_or("internal: no input block")?;
        let (_, local) = self.source(layer.inputs[0].shape.len(), idx);
        let sliced = (self.ops.slice)(input, &local)?;
        if self.fixed.is_empty() && self.axes.iter().all(|a| matches!(a, OutAxis::Range { .. })) {
            return Ok(sliced);
        }
        // Drop the indexed axes and add the new ones: the same elements, in order.
        (self.ops.reshape)(sliced, &super::layer::lengths(&layer.region(idx)))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// Each block reshaped (row-major) to the output block's shape; block `i` of the
/// output is block `[i, 0, ...]` of the input.
struct ReshapeBlocks(&'static ElementOps);

impl BlockOp for ReshapeBlocks {
    // The input's and the output's grids hold the same blocks in the same row-major
    // order (axes that are not cut have one block).
    fn deps(&self, layer: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let flat = super::layer::flat_index(&layer.grid(), idx);
        out.push((0, super::layer::unflatten(&layer.inputs[0].grid(), flat)));
    }
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let input = inputs
            .into_iter()
            .next()
            .ok_or("internal: no input block")?;
        (self.0.reshape)(input, &super::layer::lengths(&layer.region(idx)))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// Output blocks taken from several inputs (`concatenate`), or one input a block
/// along a new axis (`stack`).
struct Gather {
    axis: usize,
    /// For `concatenate`: per block along the axis, its input and local block.
    owners: Vec<(usize, usize)>,
    /// `stack`: the axis is new, one input a block along it.
    stacked: bool,
    ops: &'static ElementOps,
}

impl BlockOp for Gather {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let mut at = idx.to_vec();
        if self.stacked {
            let which = at.remove(self.axis);
            out.push((which, at));
        } else {
            let (which, local) = self.owners[idx[self.axis]];
            at[self.axis] = local;
            out.push((which, at));
        }
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let input = inputs
            .into_iter()
            .next()
            .ok_or("internal: no input block")?;
        if self.stacked {
            (self.ops.insert_axis)(input, self.axis)
        } else {
            Ok(input)
        }
    }
    fn blockwise(&self) -> bool {
        true
    }
}

fn transpose(
    d: &Arc<Layer>,
    axes: &[usize],
    ops: &'static ElementOps,
) -> Result<Arc<Layer>, ShapeError> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    if sorted != (0..d.shape.len()).collect::<Vec<_>>() {
        return Err(ShapeError::new(
            "transpose",
            format!(
                "axes {axes:?} are not a permutation of the axes of shape {:?}",
                d.shape
            ),
        ));
    }
    Ok(layer_over(
        "transpose",
        Tokenizer::new("transpose").add(axes),
        axes.iter().map(|&a| d.shape[a]).collect(),
        axes.iter().map(|&a| d.chunks[a].clone()).collect(),
        vec![Arc::clone(d)],
        Transpose {
            perm: axes.to_vec(),
            ops,
        },
    ))
}

fn slice(
    d: &Arc<Layer>,
    elems: &[SliceInfoElem],
    ops: &'static ElementOps,
) -> Result<Arc<Layer>, ShapeError> {
    let taken = elems
        .iter()
        .filter(|e| !matches!(e, SliceInfoElem::NewAxis))
        .count();
    if taken > d.shape.len() {
        return Err(ShapeError::new(
            "slice",
            format!(
                "{taken} indices for a {}-d array of shape {:?}",
                d.shape.len(),
                d.shape
            ),
        ));
    }
    let mut axes = Vec::new();
    let mut fixed = Vec::new();
    let (mut shape, mut chunks) = (Vec::new(), Vec::new());
    let mut input_axis = 0;
    let whole = SliceInfoElem::Slice {
        start: 0,
        end: None,
        step: 1,
    };
    let rest = std::iter::repeat_n(&whole, d.shape.len() - taken);
    for elem in elems.iter().chain(rest) {
        match *elem {
            SliceInfoElem::NewAxis => {
                axes.push(OutAxis::New);
                shape.push(1);
                chunks.push(vec![1]);
            }
            SliceInfoElem::Index(i) => {
                let n = d.shape[input_axis];
                let at = if i < 0 { i + n as isize } else { i };
                if at < 0 || at >= n as isize {
                    return Err(ShapeError::new(
                        "slice",
                        format!("index {i} is out of range for axis {input_axis} of length {n}"),
                    ));
                }
                let (block, local) = block_of(&d.chunks[input_axis], at as usize);
                fixed.push((input_axis, block, local));
                input_axis += 1;
            }
            SliceInfoElem::Slice { start, end, step } => {
                let (blocks, lengths) =
                    slice_axis(&d.chunks[input_axis], Slice { start, end, step })
                        .map_err(|m| ShapeError::new("slice", format!("axis {input_axis}: {m}")))?;
                shape.push(lengths.iter().sum());
                chunks.push(lengths);
                axes.push(OutAxis::Range { input_axis, blocks });
                input_axis += 1;
            }
        }
    }
    let key: Vec<String> = elems.iter().map(|e| format!("{e:?}")).collect();
    Ok(layer_over(
        "slice",
        Tokenizer::new("slice").add(key),
        shape,
        chunks,
        vec![Arc::clone(d)],
        SliceBlocks { axes, fixed, ops },
    ))
}

/// The block holding position `at` along an axis cut into `chunks`, and `at` within it.
fn block_of(chunks: &[usize], at: usize) -> (usize, usize) {
    let mut start = 0;
    for (b, &len) in chunks.iter().enumerate() {
        if at < start + len {
            return (b, at - start);
        }
        start += len;
    }
    (chunks.len().saturating_sub(1), 0)
}

/// Per output block of one axis, the input block and the local slice; and the output
/// chunks.
type AxisSlices = (Vec<(usize, Slice)>, Vec<usize>);

/// One axis sliced as ndarray's `Slice` says (negative bounds count from the end; a
/// negative step walks the range from its end): per output block, the input block and
/// the local slice of it, and the output chunks. Each output block comes from one
/// input block, so the chunks follow the input's.
fn slice_axis(chunks: &[usize], s: Slice) -> Result<AxisSlices, String> {
    if s.step == 0 {
        return Err("a step of 0".into());
    }
    let n: usize = chunks.iter().sum();
    let clamp = |v: isize| -> usize {
        let v = if v < 0 { v + n as isize } else { v };
        v.clamp(0, n as isize) as usize
    };
    let start = clamp(s.start);
    let end = s.end.map_or(n, clamp).max(start);
    let step = s.step.unsigned_abs();
    // The selected positions, ascending: from `start` forward, or from `end - 1` back.
    let count = (end - start).div_ceil(step);
    let first = if s.step > 0 || count == 0 {
        start
    } else {
        start + (end - start - 1) % step
    };
    let mut per_block: Vec<(usize, usize, usize)> = Vec::new(); // (block, lo, hi) local
    let mut block_start = 0;
    for (b, &len) in chunks.iter().enumerate() {
        let (lo, hi) = (block_start.max(first), (block_start + len).min(end));
        if lo < hi && count > 0 {
            // The first selected position at or after `lo`.
            let lo = first + (lo - first).div_ceil(step) * step;
            if lo < hi {
                let last = lo + (hi - 1 - lo) / step * step;
                per_block.push((b, lo - block_start, last - block_start + 1));
            }
        }
        block_start += len;
    }
    if s.step < 0 {
        per_block.reverse();
    }
    let mut blocks = Vec::with_capacity(per_block.len());
    let mut lengths = Vec::with_capacity(per_block.len());
    for (b, lo, hi) in per_block {
        lengths.push((hi - lo - 1) / step + 1);
        blocks.push((b, Slice::new(lo as isize, Some(hi as isize), s.step)));
    }
    if blocks.is_empty() {
        blocks.push((0, Slice::new(0, Some(0), 1)));
        lengths.push(0);
    }
    Ok((blocks, lengths))
}

fn reshape(
    d: &Arc<Layer>,
    shape: &[usize],
    ops: &'static ElementOps,
) -> Result<Arc<Layer>, ShapeError> {
    let (n_in, n_out): (usize, usize) = (d.shape.iter().product(), shape.iter().product());
    if n_in != n_out {
        return Err(ShapeError::new(
            "reshape",
            format!(
                "cannot reshape {:?} ({n_in} elements) into {shape:?} ({n_out} elements)",
                d.shape
            ),
        ));
    }
    let token = Tokenizer::new("reshape").add(shape);
    let whole = |shape: &[usize]| shape.iter().map(|&n| vec![n]).collect::<Vec<_>>();
    if d.shape.is_empty() || shape.is_empty() || n_in == 0 {
        let source = rechunk_layer(d, whole(&d.shape), ops);
        return Ok(layer_over(
            "reshape",
            token,
            shape.to_vec(),
            whole(shape),
            vec![source],
            ReshapeBlocks(ops),
        ));
    }
    if let Some((in_chunks, out_chunks)) = matched_chunks(&d.shape, &d.chunks, shape) {
        let source = rechunk_layer(d, in_chunks, ops);
        return Ok(layer_over(
            "reshape",
            token,
            shape.to_vec(),
            out_chunks,
            vec![source],
            ReshapeBlocks(ops),
        ));
    }
    // No axes match up ((6, 4) into (4, 6)): blocks of whole rows of both shapes.
    let row_in: usize = d.shape[1..].iter().product();
    let row_out: usize = shape[1..].iter().product();
    let lcm = row_in / gcd(row_in, row_out) * row_out;
    let unit = (lcm / row_in.max(1)).max(1); // input rows a block must hold a multiple of
    let wanted = d.chunks[0][0].max(1).div_ceil(unit) * unit;
    let mut in_chunks = whole(&d.shape);
    in_chunks[0] = regular_chunks(d.shape[0], wanted);
    let source = rechunk_layer(d, in_chunks.clone(), ops);
    let mut out_chunks = whole(shape);
    out_chunks[0] = in_chunks[0]
        .iter()
        .map(|r| r * row_in / row_out.max(1))
        .collect();
    Ok(layer_over(
        "reshape",
        token,
        shape.to_vec(),
        out_chunks,
        vec![source],
        ReshapeBlocks(ops),
    ))
}

/// Blocks of `size` along an axis of length `n`, the last what is left (one empty
/// block for an empty axis).
pub(crate) fn regular_chunks(n: usize, size: usize) -> Vec<usize> {
    if n == 0 {
        return vec![0];
    }
    let size = size.max(1);
    let mut out = vec![size; n / size];
    if !n.is_multiple_of(size) {
        out.push(n % size);
    }
    out
}

/// The shape `dims` asks for (one `-1` inferred), for an array of `shape`.
fn resolve_shape(shape: &[usize], dims: &[i64]) -> Result<Vec<usize>, ShapeError> {
    let fail = |why: String| Err(ShapeError::new("reshape", why));
    let total: usize = shape.iter().product();
    let unknown: Vec<usize> = (0..dims.len()).filter(|&i| dims[i] == -1).collect();
    if unknown.len() > 1 || dims.iter().any(|&d| d < -1) {
        return fail(format!(
            "{dims:?}: lengths must be >= 0, with at most one -1"
        ));
    }
    let mut known = 1_usize;
    for &d in dims.iter().filter(|&&d| d >= 0) {
        match usize::try_from(d).ok().and_then(|d| known.checked_mul(d)) {
            Some(k) => known = k,
            None => return fail(format!("{dims:?} has too many elements")),
        }
    }
    let mut out: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
    if let [at] = unknown[..] {
        if known == 0 || !total.is_multiple_of(known) {
            return fail(format!(
                "cannot reshape {shape:?} ({total} elements) into {dims:?}: -1 has no whole length"
            ));
        }
        out[at] = total / known;
    }
    Ok(out)
}

/// Block sizes along each axis.
type Chunks = Vec<Vec<usize>>;

/// Dask's `reshape_rechunk`: the chunks of the input and of the output when the axes
/// match up from the right (equal lengths, several input axes merged into one, one
/// split into several), keeping blocks about their size; `None` when they do not.
fn matched_chunks(
    inshape: &[usize],
    inchunks: &[Vec<usize>],
    outshape: &[usize],
) -> Option<(Chunks, Chunks)> {
    let mut ins: Vec<Vec<usize>> = inshape.iter().map(|&n| vec![n]).collect();
    let mut outs: Vec<Vec<usize>> = outshape.iter().map(|&n| vec![n]).collect();
    let largest = |c: &[usize]| c.iter().copied().max().unwrap_or(1).max(1);
    let (mut ii, mut oi) = (inshape.len() as isize - 1, outshape.len() as isize - 1);
    while ii >= 0 || oi >= 0 {
        let din = if ii >= 0 { inshape[ii as usize] } else { 1 };
        let dout = if oi >= 0 { outshape[oi as usize] } else { 1 };
        if ii >= 0 && oi >= 0 && din == dout {
            ins[ii as usize] = inchunks[ii as usize].clone();
            outs[oi as usize] = inchunks[ii as usize].clone();
            (ii, oi) = (ii - 1, oi - 1);
        } else if ii >= 0 && din == 1 {
            ii -= 1;
        } else if oi >= 0 && dout == 1 {
            oi -= 1;
        } else if ii < 0 || oi < 0 {
            return None;
        } else if din < dout {
            // Input axes left..=ii merge into output axis oi.
            let (mut left, mut product) = (ii, din);
            while product < dout && left > 0 {
                left -= 1;
                product *= inshape[left as usize];
            }
            if product != dout {
                return None;
            }
            let group = left as usize..=ii as usize;
            let inner: usize = inshape[left as usize + 1..=ii as usize].iter().product();
            let whole_inner = group.clone().skip(1).all(|a| inchunks[a].len() == 1);
            let first = if whole_inner {
                inchunks[left as usize].clone()
            } else {
                let block: usize = group.clone().map(|a| largest(&inchunks[a])).product();
                regular_chunks(inshape[left as usize], block / inner.max(1))
            };
            outs[oi as usize] = first.iter().map(|c| c * inner).collect();
            ins[left as usize] = first;
            (ii, oi) = (left - 1, oi - 1);
        } else {
            // Input axis ii splits into output axes left..=oi.
            let (mut left, mut product) = (oi, dout);
            while product < din && left > 0 {
                left -= 1;
                product *= outshape[left as usize];
            }
            if product != din {
                return None;
            }
            let inner: usize = outshape[left as usize + 1..=oi as usize].iter().product();
            let chunks = &inchunks[ii as usize];
            let first = if chunks.iter().all(|c| c % inner == 0) {
                chunks.clone()
            } else {
                let size = (largest(chunks) + inner / 2) / inner.max(1) * inner;
                regular_chunks(din, size.max(inner))
            };
            outs[left as usize] = first.iter().map(|c| c / inner.max(1)).collect();
            ins[ii as usize] = first;
            (ii, oi) = (ii - 1, left - 1);
        }
    }
    Some((ins, outs))
}

fn expand_dims(
    d: &Arc<Layer>,
    axis: usize,
    ops: &'static ElementOps,
) -> Result<Arc<Layer>, ShapeError> {
    if axis > d.shape.len() {
        return Err(ShapeError::new(
            "expand_dims",
            format!(
                "axis {axis} is out of range for a {}-d array",
                d.shape.len()
            ),
        ));
    }
    let mut shape = d.shape.clone();
    shape.insert(axis, 1);
    let mut chunks = d.chunks.clone();
    chunks.insert(axis, vec![1]);
    Ok(layer_over(
        "expand_dims",
        Tokenizer::new("expand_dims").add(axis),
        shape,
        chunks,
        vec![Arc::clone(d)],
        ExpandDims { axis, ops },
    ))
}

/// A shape for [`Array::reshape`]: lengths as `usize`, or as signed integers with one
/// `-1` to infer (`[3, -1]`, `&[35]`, `x.shape()`, `vec![2, 5]`). A 0-d shape is
/// `[0_usize; 0]`.
pub trait NewShape {
    /// The lengths, `-1` for the one to infer.
    fn dims(&self) -> Vec<i64>;
}

macro_rules! new_shape {
    ($($t:ty),*) => {$(
        impl NewShape for &[$t] {
            fn dims(&self) -> Vec<i64> {
                self.iter().map(|&d| i64::try_from(d).unwrap_or(i64::MAX)).collect()
            }
        }
        impl<const N: usize> NewShape for [$t; N] {
            fn dims(&self) -> Vec<i64> {
                self.as_slice().dims()
            }
        }
        impl<const N: usize> NewShape for &[$t; N] {
            fn dims(&self) -> Vec<i64> {
                self.as_slice().dims()
            }
        }
        impl NewShape for Vec<$t> {
            fn dims(&self) -> Vec<i64> {
                self.as_slice().dims()
            }
        }
    )*};
}
new_shape!(usize, isize, i32, i64);

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

impl<T: Element> Array<T> {
    /// The transpose: axes reversed. Fused with what made the blocks.
    pub fn t(&self) -> Array<T> {
        let n = self.layer.as_ref().map_or(0, |l| l.shape.len());
        self.transpose(&(0..n).rev().collect::<Vec<_>>())
    }

    /// The axes in the order `axes` gives (NumPy's `transpose(axes)`).
    pub fn transpose(&self, axes: &[usize]) -> Array<T> {
        self.then(|d| transpose(d, axes, T::ops()))
    }

    /// NumPy's basic indexing with ndarray's `s![]` (re-exported as
    /// [`dask::array::s`](crate::array::s)): ranges with steps, negative bounds counting
    /// from the end and negative steps (ndarray's meaning: the range walked from its
    /// end, so `s![..;-1]` reverses), an integer index that drops its axis, and
    /// `NewAxis`. Missing trailing axes are taken whole; a plain `&[Slice]` works too.
    /// Each output block is a slice of one input block: the chunks follow the input's.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::{arange, s};
    /// let x = arange(24).rechunk(5).reshape([4, 6]);
    /// let y = x.slice(s![1..;2, ..;-2]);
    /// assert_eq!(y.shape(), [2, 3]);
    /// assert_eq!(y.compute().unwrap(), ndarray::arr2(&[[11.0, 9.0, 7.0], [23.0, 21.0, 19.0]]).into_dyn());
    /// assert_eq!(x.slice(s![2, 1..3]).compute().unwrap(), ndarray::arr1(&[13.0, 14.0]).into_dyn());
    /// assert_eq!(x.slice(s![.., ndarray::NewAxis, 0]).shape(), [4, 1]);
    /// ```
    pub fn slice(&self, info: impl SliceArg) -> Array<T> {
        let elems = info.elems();
        self.then(|d| slice(d, &elems, T::ops()))
    }

    /// The slabs at `indices` along `axis`, in that order, repeats allowed (NumPy's
    /// `take`, `x[[3, 0, 3]]` on one axis). Output blocks hold as many indices as the
    /// input's largest chunk along the axis; each reads only the blocks its indices
    /// fall in.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::arange(12).rechunk(5).reshape([4, 3]);
    /// let rows = x.take(&[3, 0, 3], 0).compute().unwrap();
    /// assert_eq!(rows, ndarray::arr2(&[[9.0, 10.0, 11.0], [0.0, 1.0, 2.0], [9.0, 10.0, 11.0]]).into_dyn());
    /// assert!(x.take(&[4], 0).check().is_err());
    /// ```
    pub fn take(&self, indices: &[usize], axis: usize) -> Array<T> {
        self.then(|d| take(d, indices, axis, T::ops()))
    }

    /// The same elements in a new shape (row-major order, like NumPy); one length may
    /// be `-1`, inferred from the others. Blocks keep about their size (Dask's reshape
    /// rechunking): axes of equal length keep their chunks, axes merged into one are cut
    /// along the first of them only, an axis split into several along the first of
    /// those; a reshape that matches no axes up falls back to blocks of whole rows.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::{arange, zeros};
    /// let x = arange(12).rechunk(4).reshape([3, 4]);
    /// assert_eq!(x.compute().unwrap()[[2, 1]], 9.0);
    /// assert_eq!(arange(12).reshape([2, -1, 3]).shape(), [2, 2, 3]);
    /// // A 10,000 x 10,000 array in blocks of 1,000 x 1,000, flattened: blocks of 10^6.
    /// let flat = zeros::<f64>([10_000, 10_000], 1_000).reshape([-1]);
    /// assert_eq!(flat.chunks()[0][0], 1_000_000);
    /// ```
    pub fn reshape(&self, shape: impl NewShape) -> Array<T> {
        let dims = shape.dims();
        self.then(|d| {
            let shape = resolve_shape(&d.shape, &dims)?;
            reshape(d, &shape, T::ops())
        })
    }

    /// Inserts an axis of length 1 at `axis` (NumPy's `expand_dims`). After an axis
    /// reduction it keeps the reduced axis: `x.max_axis(1).expand_dims(1)` is NumPy's
    /// `x.max(axis=1, keepdims=True)`.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::ones;
    /// let x = ones::<f64>([3, 4], 2).max_axis(1).expand_dims(1);
    /// assert_eq!(x.shape(), [3, 1]);
    /// ```
    pub fn expand_dims(&self, axis: usize) -> Array<T> {
        self.then(|d| expand_dims(d, axis, T::ops()))
    }
}

/// Fancy indexing along one axis: output block `k` along the axis gathers the input
/// slabs at `picks[k]`, `(input block, index within it)` each.
struct Take {
    axis: usize,
    picks: Vec<Vec<(usize, usize)>>,
    ops: &'static ElementOps,
}

impl Take {
    /// The input blocks output block `idx` reads, each once, in first-use order.
    fn sources(&self, idx: &[usize]) -> Vec<usize> {
        let mut blocks: Vec<usize> = Vec::new();
        for &(b, _) in &self.picks[idx[self.axis]] {
            if !blocks.contains(&b) {
                blocks.push(b);
            }
        }
        blocks
    }
}

impl BlockOp for Take {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        for b in self.sources(idx) {
            let mut at = idx.to_vec();
            at[self.axis] = b;
            out.push((0, at));
        }
    }
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let sources = self.sources(idx);
        let shape = super::layer::lengths(&layer.region(idx));
        let pieces: Vec<super::element::Piece<'_>> = self.picks[idx[self.axis]]
            .iter()
            .enumerate()
            .map(|(k, &(b, local))| {
                let at = sources.iter().position(|&s| s == b).unwrap_or(0);
                let parts = shape
                    .iter()
                    .enumerate()
                    .map(|(ax, &n)| {
                        if ax == self.axis {
                            (local, k, 1)
                        } else {
                            (0, 0, n)
                        }
                    })
                    .collect();
                (&inputs[at], parts)
            })
            .collect();
        (self.ops.assemble)(&shape, &pieces)
    }
}

fn take(
    d: &Arc<Layer>,
    indices: &[usize],
    axis: usize,
    ops: &'static ElementOps,
) -> Result<Arc<Layer>, ShapeError> {
    let Some(&n) = d.shape.get(axis) else {
        return Err(ShapeError::new(
            "take",
            format!(
                "axis {axis} is out of range for a {}-d array",
                d.shape.len()
            ),
        ));
    };
    if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
        return Err(ShapeError::new(
            "take",
            format!("index {bad} is out of range for axis {axis} of length {n}"),
        ));
    }
    // Output blocks of the input's largest chunk along the axis (Dask's default), each
    // reading the input blocks its indices fall in.
    let size = d.chunks[axis].iter().copied().max().unwrap_or(1).max(1);
    let picks: Vec<Vec<(usize, usize)>> = indices
        .chunks(size)
        .map(|group| {
            group
                .iter()
                .map(|&i| block_of(&d.chunks[axis], i))
                .collect()
        })
        .collect();
    let mut shape = d.shape.clone();
    shape[axis] = indices.len();
    let mut chunks = d.chunks.clone();
    chunks[axis] = picks.iter().map(Vec::len).collect();
    if chunks[axis].is_empty() {
        chunks[axis] = vec![0];
    }
    let picks = if picks.is_empty() {
        vec![Vec::new()]
    } else {
        picks
    };
    Ok(layer_over(
        "take",
        Tokenizer::new("take").add((indices, axis)),
        shape,
        chunks,
        vec![Arc::clone(d)],
        Take { axis, picks, ops },
    ))
}

/// The layers of `arrays`, or the first kept error.
fn layers_of<T: Element>(arrays: &[Array<T>]) -> Result<Vec<Arc<Layer>>, ShapeError> {
    arrays.iter().map(|a| a.layer().map(Arc::clone)).collect()
}

/// Joins arrays along an existing axis. Shapes must match on the other axes (chunks are
/// made to match the first array's there).
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{concatenate, ones, zeros};
/// let x = concatenate(&[zeros::<f64>([2, 3], 2), ones::<f64>([1, 3], 2)], 0);
/// assert_eq!(x.shape(), [3, 3]);
/// assert_eq!(x.sum().compute().unwrap(), 3.0);
/// ```
pub fn concatenate<T: Element>(arrays: &[Array<T>], axis: usize) -> Array<T> {
    Array::from_result(layers_of(arrays).and_then(|l| concatenate_layers(&l, axis, T::ops())))
}

fn concatenate_layers(
    defs: &[Arc<Layer>],
    axis: usize,
    ops: &'static ElementOps,
) -> Result<Arc<Layer>, ShapeError> {
    let first = defs
        .first()
        .ok_or_else(|| ShapeError::new("concatenate", "no arrays to concatenate".into()))?;
    let ndim = first.shape.len();
    if axis >= ndim {
        return Err(ShapeError::new(
            "concatenate",
            format!("axis {axis} is out of range for {ndim}-d arrays"),
        ));
    }
    for d in defs {
        let same = d.shape.len() == ndim
            && (0..ndim).all(|ax| ax == axis || d.shape[ax] == first.shape[ax]);
        if !same {
            let shapes: Vec<String> = defs.iter().map(|d| format!("{:?}", d.shape)).collect();
            return Err(ShapeError::new(
                "concatenate",
                format!("shapes {} differ off axis {axis}", shapes.join(", ")),
            ));
        }
    }
    let inputs: Vec<Arc<Layer>> = defs
        .iter()
        .map(|d| {
            let mut c = first.chunks.clone();
            c[axis] = d.chunks[axis].clone();
            rechunk_layer(d, c, ops)
        })
        .collect();
    let mut chunks = first.chunks.clone();
    chunks[axis] = defs.iter().flat_map(|d| d.chunks[axis].clone()).collect();
    let mut shape = first.shape.clone();
    shape[axis] = defs.iter().map(|d| d.shape[axis]).sum();
    let owners: Vec<(usize, usize)> = defs
        .iter()
        .enumerate()
        .flat_map(|(i, d)| (0..d.chunks[axis].len()).map(move |b| (i, b)))
        .collect();
    Ok(layer_over(
        "concatenate",
        Tokenizer::new("concatenate").add(axis),
        shape,
        chunks,
        inputs,
        Gather {
            axis,
            owners,
            stacked: false,
            ops,
        },
    ))
}

/// Stacks arrays of one shape along a new axis at position `axis`.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{ones, stack, zeros};
/// let x = stack(&[zeros::<f64>([2], 1), ones::<f64>([2], 1)], 1);
/// assert_eq!(x.compute().unwrap(), ndarray::arr2(&[[0.0, 1.0], [0.0, 1.0]]).into_dyn());
/// ```
pub fn stack<T: Element>(arrays: &[Array<T>], axis: usize) -> Array<T> {
    Array::from_result(layers_of(arrays).and_then(|l| stack_layers(&l, axis, T::ops())))
}

fn stack_layers(
    defs: &[Arc<Layer>],
    axis: usize,
    ops: &'static ElementOps,
) -> Result<Arc<Layer>, ShapeError> {
    let first = defs
        .first()
        .ok_or_else(|| ShapeError::new("stack", "no arrays to stack".into()))?;
    if axis > first.shape.len() {
        return Err(ShapeError::new(
            "stack",
            format!(
                "axis {axis} is out of range for {}-d arrays",
                first.shape.len()
            ),
        ));
    }
    if let Some(d) = defs.iter().find(|d| d.shape != first.shape) {
        return Err(ShapeError::new(
            "stack",
            format!(
                "all arrays need one shape: {:?} and {:?}",
                first.shape, d.shape
            ),
        ));
    }
    let inputs: Vec<Arc<Layer>> = defs
        .iter()
        .map(|d| rechunk_layer(d, first.chunks.clone(), ops))
        .collect();
    let mut shape = first.shape.clone();
    shape.insert(axis, defs.len());
    let mut chunks = first.chunks.clone();
    chunks.insert(axis, vec![1; defs.len()]);
    Ok(layer_over(
        "stack",
        Tokenizer::new("stack").add(axis),
        shape,
        chunks,
        inputs,
        Gather {
            axis,
            owners: Vec::new(),
            stacked: true,
            ops,
        },
    ))
}

/// What [`Array::slice`] takes: ndarray's `s![]`, or per-axis `Slice`s.
pub trait SliceArg {
    /// The indices, one per axis (or `NewAxis`).
    fn elems(&self) -> Vec<SliceInfoElem>;
}

impl<T: AsRef<[SliceInfoElem]>, Din: ndarray::Dimension, Dout: ndarray::Dimension> SliceArg
    for SliceInfo<T, Din, Dout>
{
    fn elems(&self) -> Vec<SliceInfoElem> {
        self.as_ref().to_vec()
    }
}

impl SliceArg for &[Slice] {
    fn elems(&self) -> Vec<SliceInfoElem> {
        self.iter().map(|&s| s.into()).collect()
    }
}

impl<const N: usize> SliceArg for &[Slice; N] {
    fn elems(&self) -> Vec<SliceInfoElem> {
        self.iter().map(|&s| s.into()).collect()
    }
}

impl SliceArg for Vec<Slice> {
    fn elems(&self) -> Vec<SliceInfoElem> {
        self.iter().map(|&s| s.into()).collect()
    }
}

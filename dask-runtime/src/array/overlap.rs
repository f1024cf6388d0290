//! `map_overlap`: a function over each block grown by its neighbours' edges (Dask's
//! `overlap`, then `map_blocks`, then `trim`, as one layer).
//!
//! Each block reads the blocks that hold its margin, copies its region grown by
//! `depth` on every side (the array's own edges filled as the [`Boundary`] says) into
//! one buffer, runs the function on it and keeps the middle. A depth larger than the
//! neighbouring block reads further blocks, where Dask rechunks first.

use super::chunks::offsets;
use super::layer::{BlockOp, BlockValue, Layer, Tokenizer, block, cartesian};
use super::window::{view, window};
use super::{Array, Element, ShapeError};
use crate::error::BoxError;
use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
use std::marker::PhantomData;
use std::sync::Arc;

/// What a block's margin holds beyond the array's edge (Dask's `boundary=`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Boundary<T> {
    /// The edge mirrored, the edge element included: `... b a | a b ...` (Dask's
    /// `"reflect"`, NumPy's `"symmetric"` padding).
    Reflect,
    /// The array wraps around: the left margin is the right edge (Dask's `"periodic"`).
    Periodic,
    /// The edge element repeated (Dask's `"nearest"`).
    Nearest,
    /// A constant (Dask's `boundary=value`).
    Constant(T),
    /// No margin at the array's edge: the function sees edge blocks smaller by the
    /// depth (Dask's `"none"`).
    None,
}

/// The overlap on each axis: one number for every axis (`1`), or one an axis
/// (`[1, 0]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Depth(Depths);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Depths {
    Every(usize),
    PerAxis(Vec<usize>),
}

impl From<usize> for Depth {
    fn from(d: usize) -> Self {
        Depth(Depths::Every(d))
    }
}

impl<const N: usize> From<[usize; N]> for Depth {
    fn from(d: [usize; N]) -> Self {
        Depth(Depths::PerAxis(d.to_vec()))
    }
}

impl From<Vec<usize>> for Depth {
    fn from(d: Vec<usize>) -> Self {
        Depth(Depths::PerAxis(d))
    }
}

impl From<&[usize]> for Depth {
    fn from(d: &[usize]) -> Self {
        Depth(Depths::PerAxis(d.to_vec()))
    }
}

impl Depth {
    fn per_axis(&self, ndim: usize) -> Result<Vec<usize>, String> {
        match &self.0 {
            Depths::Every(d) => Ok(vec![*d; ndim]),
            Depths::PerAxis(d) if d.len() == ndim => Ok(d.clone()),
            Depths::PerAxis(d) => Err(format!(
                "depth {d:?} has {} axes, the array {ndim}",
                d.len()
            )),
        }
    }
}

/// A run of the grown block along one axis, copied from one input block (`from` its
/// position there, walked backwards when `reversed`) or, with no block, the constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    block: Option<usize>,
    from: usize,
    at: usize,
    len: usize,
    reversed: bool,
}

/// The plan for one axis of one block: the margins and the segments that fill the
/// grown block.
#[derive(Debug, PartialEq, Eq)]
struct AxisPlan {
    before: usize,
    len: usize,
    segments: Vec<Segment>,
}

/// Where the element at position `g` (maybe outside `0..n`) of an axis comes from.
fn source(g: isize, n: usize, boundary: BoundaryKind) -> Option<usize> {
    let n = n as isize;
    if (0..n).contains(&g) {
        return Some(g as usize);
    }
    match boundary {
        BoundaryKind::Periodic => Some(g.rem_euclid(n) as usize),
        BoundaryKind::Reflect => {
            let m = g.rem_euclid(2 * n);
            Some(if m < n { m } else { 2 * n - 1 - m } as usize)
        }
        BoundaryKind::Nearest => Some(g.clamp(0, n - 1) as usize),
        BoundaryKind::Constant | BoundaryKind::None => None,
    }
}

/// [`Boundary`] without its value: what the planning needs, compiled once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BoundaryKind {
    Reflect,
    Periodic,
    Nearest,
    Constant,
    None,
}

impl<T> Boundary<T> {
    fn kind(&self) -> BoundaryKind {
        match self {
            Boundary::Reflect => BoundaryKind::Reflect,
            Boundary::Periodic => BoundaryKind::Periodic,
            Boundary::Nearest => BoundaryKind::Nearest,
            Boundary::Constant(_) => BoundaryKind::Constant,
            Boundary::None => BoundaryKind::None,
        }
    }
}

/// How block `b` of an axis with blocks `chunks` grows by `depth`.
fn plan_axis(chunks: &[usize], b: usize, depth: usize, boundary: BoundaryKind) -> AxisPlan {
    let n: usize = chunks.iter().sum();
    let starts = offsets(chunks);
    let (start, len) = (starts[b], chunks[b]);
    let inside = |reach: usize| {
        if boundary == BoundaryKind::None || n == 0 {
            reach
        } else {
            depth
        }
    };
    let before = inside(depth.min(start));
    let after = inside(depth.min(n - start - len));
    let mut segments: Vec<Segment> = Vec::new();
    for at in 0..before + len + after {
        let g = (start + at) as isize - before as isize;
        let (block, from) = match source(g, n, boundary) {
            Some(s) => {
                // The block holding element `s`: the last whose start is at most `s`.
                let k = starts.partition_point(|&o| o <= s) - 1;
                (Some(k), s - starts[k])
            }
            None => (None, 0),
        };
        if let Some(last) = segments.last_mut()
            && last.block == block
            && last.at + last.len == at
        {
            // A reversed run holds `from`, `from - 1`, ...: it walks the source down.
            let forward = !last.reversed && from == last.from + last.len;
            let backward = (last.reversed || last.len == 1)
                && last.from >= last.len
                && from == last.from - last.len;
            if block.is_none() || forward || backward {
                last.reversed = block.is_some() && !forward;
                last.len += 1;
                continue;
            }
        }
        segments.push(Segment {
            block,
            from,
            at,
            len: 1,
            reversed: false,
        });
    }
    AxisPlan {
        before,
        len,
        segments,
    }
}

/// The per-axis plans of block `idx`.
fn plan(layer: &Layer, idx: &[usize], depth: &[usize], boundary: BoundaryKind) -> Vec<AxisPlan> {
    let chunks = &layer.inputs[0].chunks;
    (0..idx.len())
        .map(|ax| plan_axis(&chunks[ax], idx[ax], depth[ax], boundary))
        .collect()
}

/// Per axis, the input blocks the plans read, in order.
fn blocks_read(plans: &[AxisPlan]) -> Vec<Vec<usize>> {
    plans
        .iter()
        .map(|p| {
            let mut b: Vec<usize> = p.segments.iter().filter_map(|s| s.block).collect();
            b.sort_unstable();
            b.dedup();
            b
        })
        .collect()
}

/// The block grown by its margins, from the blocks it reads.
fn grown<T: Element>(
    plans: &[AxisPlan],
    inputs: &[BlockValue],
    fill: T,
) -> Result<ArrayD<T>, BoxError> {
    let shape: Vec<usize> = plans
        .iter()
        .map(|p| p.segments.iter().map(|s| s.len).sum())
        .collect();
    let read = blocks_read(plans);
    let len = shape.iter().product();
    // Only a constant boundary leaves parts that no block covers.
    let values = if plans
        .iter()
        .any(|p| p.segments.iter().any(|s| s.block.is_none()))
    {
        let mut values = super::buffers::take::<T>(len);
        values.resize(len, fill);
        values
    } else {
        super::buffers::take_filled::<T>(len)
    };
    let mut out = ArrayD::from_shape_vec(IxDyn(&shape), values)?;
    let per_axis: Vec<Vec<usize>> = plans
        .iter()
        .map(|p| (0..p.segments.len()).collect())
        .collect();
    for combo in cartesian(&per_axis) {
        let segments: Vec<Segment> = combo
            .iter()
            .enumerate()
            .map(|(ax, &k)| plans[ax].segments[k])
            .collect();
        let Some(blocks) = segments
            .iter()
            .map(|s| s.block)
            .collect::<Option<Vec<usize>>>()
        else {
            continue; // the constant, already there
        };
        // The input's position among the blocks read, row-major over `read`.
        let position = blocks.iter().zip(&read).fold(0, |acc, (b, list)| {
            acc * list.len() + list.iter().position(|x| x == b).unwrap_or(0)
        });
        let source = view::<T>(
            inputs
                .get(position)
                .ok_or("internal: a margin block is missing")?,
        )?;
        let part = source.slice_each_axis(|a| {
            let s = segments[a.axis.index()];
            let step = if s.reversed { -1 } else { 1 };
            let first = if s.reversed {
                s.from + 1 - s.len
            } else {
                s.from
            };
            Slice::new(first as isize, Some((first + s.len) as isize), step)
        });
        out.slice_each_axis_mut(|a| {
            let s = segments[a.axis.index()];
            Slice::from(s.at..s.at + s.len)
        })
        .assign(&part);
    }
    Ok(out)
}

struct MapOverlap<T, U, F> {
    f: F,
    depth: Vec<usize>,
    boundary: Boundary<T>,
    types: PhantomData<fn(T) -> U>,
}

impl<T, U, F> BlockOp for MapOverlap<T, U, F>
where
    T: Element,
    U: Element,
    F: Fn(ArrayViewD<'_, T>, &[usize]) -> ArrayD<U> + Send + Sync + 'static,
{
    fn deps(&self, layer: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let plans = plan(layer, idx, &self.depth, self.boundary.kind());
        out.extend(cartesian(&blocks_read(&plans)).into_iter().map(|b| (0, b)));
    }

    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let plans = plan(layer, idx, &self.depth, self.boundary.kind());
        let fill = match self.boundary {
            Boundary::Constant(v) => v,
            _ => T::default(),
        };
        let grown = grown(&plans, &inputs, fill)?;
        // The blocks read are spent (where this task is their last reader): their
        // memory makes the next blocks on this thread.
        inputs.into_iter().for_each(super::buffers::recycle_any);
        let result = (self.f)(grown.view(), idx);
        if result.shape() != grown.shape() {
            return Err(format!(
                "map_overlap: block {idx:?} grown to {:?} came back with shape {:?}; the \
                 function must keep the shape it is given",
                grown.shape(),
                result.shape()
            )
            .into());
        }
        super::buffers::recycle(grown);
        // The middle, as a window onto the result: no copy.
        let middle: Vec<(usize, usize)> = plans.iter().map(|p| (p.before, p.len)).collect();
        let shape = result.shape().to_vec();
        window(&block(result), &shape, &middle)
    }
}

impl<T: Element> Array<T> {
    /// Applies `f` to every block grown by `depth` elements of its neighbours on each
    /// side, then cuts the margins off the result (Dask's `map_overlap`): stencils,
    /// filters, finite differences. At the array's edges the margin is filled as
    /// `boundary` says. `f` gets the grown block and the block's index and must return
    /// an array of the grown block's shape (checked when the block is computed).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::{Boundary, arange, s};
    /// // A 3-point moving sum over blocks of 4, the ends wrapping around.
    /// let x = arange(10).rechunk(4);
    /// let sums = x.map_overlap(1, Boundary::Periodic, |b, _| {
    ///     let mut out = b.to_owned();
    ///     let n = b.len();
    ///     out.slice_mut(s![1..n - 1]).assign(
    ///         &(&b.slice(s![..n - 2]) + &b.slice(s![1..n - 1]) + &b.slice(s![2..])),
    ///     );
    ///     out
    /// });
    /// let v = sums.compute().unwrap();
    /// assert_eq!(v[0], 9.0 + 0.0 + 1.0);
    /// assert_eq!(v[5], 4.0 + 5.0 + 6.0);
    /// ```
    pub fn map_overlap<U, F>(
        &self,
        depth: impl Into<Depth>,
        boundary: Boundary<T>,
        f: F,
    ) -> Array<U>
    where
        U: Element,
        F: Fn(ArrayViewD<'_, T>, &[usize]) -> ArrayD<U> + Send + Sync + 'static,
    {
        let layer = match self.layer() {
            Ok(l) => l,
            Err(e) => return Array::from_error(e),
        };
        let depth = match depth.into().per_axis(layer.shape.len()) {
            Ok(d) => d,
            Err(message) => return Array::from_error(ShapeError::new("map_overlap", message)),
        };
        let mut token = Tokenizer::new("map_overlap").add(&depth).unique();
        if let Boundary::Constant(v) = boundary {
            token = token.add(v.bits());
        }
        Array::from_op(
            "map_overlap",
            token,
            layer.shape.clone(),
            layer.chunks.clone(),
            vec![Arc::clone(layer)],
            MapOverlap {
                f,
                depth,
                boundary,
                types: PhantomData,
            },
        )
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn seg(block: usize, from: usize, at: usize, len: usize, reversed: bool) -> Segment {
        Segment {
            block: Some(block),
            from,
            at,
            len,
            reversed,
        }
    }

    #[test]
    fn an_axis_grows_from_its_neighbours_and_its_boundary() {
        // Blocks [3, 3, 2] (elements 0..8), depth 2.
        let chunks = [3, 3, 2];
        let p = plan_axis(&chunks, 1, 2, BoundaryKind::Reflect);
        assert_eq!((p.before, p.len), (2, 3));
        assert_eq!(
            p.segments,
            [
                seg(0, 1, 0, 2, false),
                seg(1, 0, 2, 3, false),
                seg(2, 0, 5, 2, false)
            ]
        );
        // Reflect at the left edge: elements 1, 0 | 0, 1, 2 | 3, 4.
        let p = plan_axis(&chunks, 0, 2, BoundaryKind::Reflect);
        assert_eq!(
            p.segments,
            [
                seg(0, 1, 0, 2, true),
                seg(0, 0, 2, 3, false),
                seg(1, 0, 5, 2, false)
            ]
        );
        // Periodic at the right edge: 4, 5 | 6, 7 | 0, 1.
        let p = plan_axis(&chunks, 2, 2, BoundaryKind::Periodic);
        assert_eq!(
            p.segments,
            [
                seg(1, 1, 0, 2, false),
                seg(2, 0, 2, 2, false),
                seg(0, 0, 4, 2, false)
            ]
        );
        // Nearest: 7, 7 after the last; none: no margin at the edge.
        let p = plan_axis(&chunks, 2, 2, BoundaryKind::Nearest);
        assert_eq!(
            p.segments[2..],
            [seg(2, 1, 4, 1, false), seg(2, 1, 5, 1, false)]
        );
        let p = plan_axis(&chunks, 2, 2, BoundaryKind::None);
        assert_eq!((p.before, p.len, p.segments.len()), (2, 2, 2));
        // A depth past the neighbour reads two blocks on that side.
        let p = plan_axis(&[2, 2, 2], 2, 3, BoundaryKind::Constant);
        assert_eq!(p.segments[0], seg(0, 1, 0, 1, false));
        assert_eq!(p.segments.last().map(|s| (s.block, s.len)), Some((None, 3)));
    }
}

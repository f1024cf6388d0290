//! Reductions over all elements (a `Delayed` of the value) or along one axis (an array),
//! as trees: one partial result a block, combined `split_every` at a time (Dask's
//! default is 4). Sums are compensated (Neumaier) and variances merge exact per-block
//! moments (Chan et al.), so a mean of 10^8 values is right to about 1e-15.

use super::{Array, Element, ShapeError, region};
use crate::delayed::{Arg, node};
use crate::error::BoxError;
use crate::{Delayed, Error};
use ndarray::{ArrayD, ArrayView, Axis, Dimension, IxDyn, Zip};
use std::sync::{Arc, OnceLock};

/// A numeric element type: `f64`, `f32` or `i64`.
pub trait Numeric: Element + PartialOrd {
    /// The value as `f64`.
    fn to_f64(self) -> f64;
    #[doc(hidden)]
    type Sum: Clone + Send + Sync + 'static;
    #[doc(hidden)]
    fn sum_zero() -> Self::Sum;
    #[doc(hidden)]
    fn sum_add(acc: Self::Sum, v: Self) -> Self::Sum;
    #[doc(hidden)]
    fn sum_merge(a: Self::Sum, b: Self::Sum) -> Self::Sum;
    #[doc(hidden)]
    fn sum_view<D: Dimension>(v: ArrayView<'_, Self, D>) -> Self::Sum {
        v.iter().fold(Self::sum_zero(), |a, &x| Self::sum_add(a, x))
    }
    #[doc(hidden)]
    fn sum_finish(acc: Self::Sum) -> Self;
    #[doc(hidden)]
    fn prod(a: Self, b: Self) -> Self;
    #[doc(hidden)]
    fn one() -> Self;
}

/// A compensated sum: the running sum and the error it dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct Compensated(f64, f64);

impl Compensated {
    #[inline(always)]
    fn add(self, x: f64) -> Self {
        let Compensated(s, c) = self;
        let t = s + x;
        if !t.is_finite() {
            // An infinity (or NaN) reached the sum: it stands as IEEE says (inf - inf is
            // NaN only when both occur); the compensation would turn it into NaN.
            return Compensated(t, c);
        }
        let c = if s.abs() >= x.abs() {
            c + ((s - t) + x)
        } else {
            c + ((x - t) + s)
        };
        Compensated(t, c)
    }
    fn merge(self, other: Self) -> Self {
        Compensated(self.0, self.1 + other.1).add(other.0)
    }
    fn value(self) -> f64 {
        self.0 + self.1
    }
}

/// A compensated sum of `values` mapped by `f`: runs of 256 summed with 8 independent
/// accumulators (fast, error about 256 ulps of the run), the runs added with Neumaier's
/// compensation (so the error does not grow with the number of runs).
#[inline]
fn compensated_sum<T: Copy>(values: &[T], f: impl Fn(T) -> f64) -> Compensated {
    let mut total = Compensated::default();
    for run in values.chunks(256) {
        let mut lanes = [0.0_f64; 8];
        let mut groups = run.chunks_exact(8);
        for g in &mut groups {
            for (lane, &v) in lanes.iter_mut().zip(g) {
                *lane += f(v);
            }
        }
        let tail: f64 = groups.remainder().iter().map(|&v| f(v)).sum();
        let run_sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
            + tail;
        total = total.add(run_sum);
    }
    total
}

/// [`compensated_sum`] over any view: contiguous ones take the fast path.
fn view_sum<T: Numeric, D: Dimension>(
    v: &ArrayView<'_, T, D>,
    f: impl Fn(T) -> f64,
) -> Compensated {
    match v.as_slice_memory_order() {
        Some(s) => compensated_sum(s, f),
        None => v.iter().fold(Compensated::default(), |a, &x| a.add(f(x))),
    }
}

macro_rules! float_numeric {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            fn to_f64(self) -> f64 { self as f64 }
            type Sum = Compensated;
            fn sum_zero() -> Compensated { Compensated::default() }
            #[inline(always)]
            fn sum_add(acc: Compensated, v: Self) -> Compensated { acc.add(v as f64) }
            fn sum_merge(a: Compensated, b: Compensated) -> Compensated { a.merge(b) }
            fn sum_view<D: Dimension>(v: ArrayView<'_, Self, D>) -> Compensated {
                view_sum(&v, |x: $t| x as f64)
            }
            fn sum_finish(acc: Compensated) -> Self { acc.value() as $t }
            fn prod(a: Self, b: Self) -> Self { a * b }
            fn one() -> Self { 1.0 }
        }
    )*};
}
float_numeric!(f64, f32);

impl Numeric for i64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    type Sum = i64;
    fn sum_zero() -> i64 {
        0
    }
    fn sum_add(acc: i64, v: i64) -> i64 {
        acc.wrapping_add(v)
    }
    fn sum_merge(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }
    fn sum_finish(acc: i64) -> i64 {
        acc
    }
    fn prod(a: i64, b: i64) -> i64 {
        a.wrapping_mul(b)
    }
    fn one() -> i64 {
        1
    }
}

/// One kind of reduction: fold values into a partial result, merge partials, finish.
pub(crate) trait Reducer<T>: Send + Sync + 'static {
    type Acc: Clone + Send + Sync + 'static;
    type Out: Clone + Send + Sync + 'static;
    fn empty(&self) -> Self::Acc;
    /// Folds `values` in logical order; positions (for arg-reductions) count from 0.
    fn fold<D: Dimension>(&self, values: ArrayView<'_, T, D>) -> Self::Acc;
    /// Turns positions local to a block into global ones.
    fn rebase(&self, acc: Self::Acc, _global: &dyn Fn(usize) -> usize) -> Self::Acc {
        acc
    }
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    fn finish(&self, acc: Self::Acc) -> Result<Self::Out, BoxError>;
}

struct SumR;
impl<T: Numeric> Reducer<T> for SumR {
    type Acc = T::Sum;
    type Out = T;
    fn empty(&self) -> T::Sum {
        T::sum_zero()
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> T::Sum {
        T::sum_view(v)
    }
    fn merge(&self, a: T::Sum, b: T::Sum) -> T::Sum {
        T::sum_merge(a, b)
    }
    fn finish(&self, acc: T::Sum) -> Result<T, BoxError> {
        Ok(T::sum_finish(acc))
    }
}

struct ProdR;
impl<T: Numeric> Reducer<T> for ProdR {
    type Acc = T;
    type Out = T;
    fn empty(&self) -> T {
        T::one()
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> T {
        v.iter().fold(T::one(), |a, &x| T::prod(a, x))
    }
    fn merge(&self, a: T, b: T) -> T {
        T::prod(a, b)
    }
    fn finish(&self, acc: T) -> Result<T, BoxError> {
        Ok(acc)
    }
}

/// Count, mean and sum of squared deviations: exact moments that merge.
#[derive(Clone, Copy, Debug, Default)]
pub struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

fn moments<T: Numeric, D: Dimension>(v: ArrayView<'_, T, D>) -> Moments {
    let n = v.len() as f64;
    if n == 0.0 {
        return Moments::default();
    }
    // Two passes over a block that is in cache: the mean, then squared deviations
    // from it, each summed in lanes (a per-element compensated sum is a serial
    // dependency chain, 2x slower).
    let mean = view_sum(&v, Numeric::to_f64).value() / n;
    let m2 = view_sum(&v, |x| {
        let d = x.to_f64() - mean;
        d * d
    })
    .value();
    Moments { n, mean, m2 }
}

fn merge_moments(a: Moments, b: Moments) -> Moments {
    if a.n == 0.0 {
        return b;
    }
    if b.n == 0.0 {
        return a;
    }
    let n = a.n + b.n;
    let delta = b.mean - a.mean;
    Moments {
        n,
        mean: a.mean + delta * (b.n / n),
        m2: a.m2 + b.m2 + delta * delta * (a.n * b.n / n),
    }
}

/// A mean needs one pass: a compensated sum and a count.
struct MeanR;
impl<T: Numeric> Reducer<T> for MeanR {
    type Acc = (f64, Compensated);
    type Out = f64;
    fn empty(&self) -> Self::Acc {
        (0.0, Compensated::default())
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Self::Acc {
        (v.len() as f64, view_sum(&v, Numeric::to_f64))
    }
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        (a.0 + b.0, a.1.merge(b.1))
    }
    fn finish(&self, (n, sum): Self::Acc) -> Result<f64, BoxError> {
        Ok(if n == 0.0 { f64::NAN } else { sum.value() / n })
    }
}

#[derive(Clone, Copy)]
enum Stat {
    Var(f64),
    Std(f64),
}

struct MomentsR(Stat);
impl<T: Numeric> Reducer<T> for MomentsR {
    type Acc = Moments;
    type Out = f64;
    fn empty(&self) -> Moments {
        Moments::default()
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Moments {
        moments(v)
    }
    fn merge(&self, a: Moments, b: Moments) -> Moments {
        merge_moments(a, b)
    }
    fn finish(&self, m: Moments) -> Result<f64, BoxError> {
        Ok(match self.0 {
            Stat::Var(ddof) | Stat::Std(ddof) if m.n - ddof <= 0.0 => f64::NAN,
            Stat::Var(ddof) => m.m2 / (m.n - ddof),
            Stat::Std(ddof) => (m.m2 / (m.n - ddof)).sqrt(),
        })
    }
}

/// Min or max; a NaN wins, as in NumPy.
struct ExtremeR {
    max: bool,
}
impl<T: Numeric> Reducer<T> for ExtremeR {
    type Acc = Option<T>;
    type Out = T;
    fn empty(&self) -> Option<T> {
        None
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Option<T> {
        v.iter()
            .fold(None, |a, &x| Reducer::<T>::merge(self, a, Some(x)))
    }
    #[allow(clippy::eq_op)] // `x != x` is the NaN test for any T
    fn merge(&self, a: Option<T>, b: Option<T>) -> Option<T> {
        match (a, b) {
            (None, o) | (o, None) => o,
            (Some(x), _) if x != x => Some(x),
            (_, Some(y)) if y != y => Some(y),
            (Some(x), Some(y)) => Some(if (y > x) == self.max && y != x { y } else { x }),
        }
    }
    fn finish(&self, acc: Option<T>) -> Result<T, BoxError> {
        acc.ok_or_else(|| {
            format!(
                "{} of an empty array (it has no identity)",
                if self.max { "max" } else { "min" }
            )
            .into()
        })
    }
}

/// Position of the min or max (the first one; the first NaN wins, as in NumPy).
struct ArgR {
    max: bool,
}
impl<T: Numeric> Reducer<T> for ArgR {
    type Acc = Option<(T, usize)>;
    type Out = i64;
    fn empty(&self) -> Self::Acc {
        None
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Self::Acc {
        v.iter().enumerate().fold(None, |a, (i, &x)| {
            Reducer::<T>::merge(self, a, Some((x, i)))
        })
    }
    fn rebase(&self, acc: Self::Acc, global: &dyn Fn(usize) -> usize) -> Self::Acc {
        acc.map(|(v, i)| (v, global(i)))
    }
    #[allow(clippy::eq_op)]
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        match (a, b) {
            (None, o) | (o, None) => o,
            (Some((x, i)), Some((y, j))) => {
                let pick_b = if x != x {
                    y != y && j < i
                } else if y != y {
                    true
                } else if x == y {
                    j < i
                } else {
                    (y > x) == self.max
                };
                Some(if pick_b { (y, j) } else { (x, i) })
            }
        }
    }
    fn finish(&self, acc: Self::Acc) -> Result<i64, BoxError> {
        acc.map(|(_, i)| i as i64)
            .ok_or_else(|| "argmin/argmax of an empty array".into())
    }
}

struct BoolR {
    all: bool,
}
impl Reducer<bool> for BoolR {
    type Acc = bool;
    type Out = bool;
    fn empty(&self) -> bool {
        self.all
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, bool, D>) -> bool {
        if self.all {
            v.iter().all(|&x| x)
        } else {
            v.iter().any(|&x| x)
        }
    }
    fn merge(&self, a: bool, b: bool) -> bool {
        if self.all { a && b } else { a || b }
    }
    fn finish(&self, acc: bool) -> Result<bool, BoxError> {
        Ok(acc)
    }
}

/// A `Delayed` that fails with a kept shape error when computed.
fn failed<O: Send + Sync + 'static>(name: &'static str, e: ShapeError) -> Delayed<O> {
    node(name, (), move |(), _| {
        Err(Box::new(Error::from(e.clone())) as BoxError)
    })
}

/// Merges `parts` in a tree, `split_every` at a time.
fn tree<T, R: Reducer<T>>(
    name: &'static str,
    r: &Arc<R>,
    parts: Vec<Delayed<R::Acc>>,
    split_every: usize,
) -> Delayed<R::Acc> {
    let merger = Arc::clone(r);
    super::tree_merge(name, parts, split_every, move |values| {
        Ok(values
            .into_iter()
            .fold(merger.empty(), |a, b| merger.merge(a, b)))
    })
    .unwrap_or_else(|| {
        let r = Arc::clone(r);
        node(name, (), move |(), _| Ok(r.empty()))
    })
}

/// Elements a strip holds when a reduction makes a block a strip of rows at a time:
/// 256 KB of f64, in L2 cache (smaller strips measured slower, larger ones spill).
const STRIP_ELEMENTS: usize = 32_768;

/// Makes the block `region` a strip of rows at a time (each about [`STRIP_ELEMENTS`]
/// elements) with `strip`, hands each to `visit` with its region and its first row's
/// offset into the block, then recycles its memory for the next one.
fn for_each_strip<T: Element>(
    strip: &super::RegionFn<T>,
    region: &[(usize, usize)],
    mut visit: impl FnMut(&[(usize, usize)], usize, ndarray::ArrayViewD<'_, T>),
) -> Result<(), BoxError> {
    let Some(&(start, rows)) = region.first() else {
        return Ok(());
    };
    let row: usize = region[1..].iter().map(|(_, l)| *l).product();
    let per_strip = (STRIP_ELEMENTS / row.max(1)).max(1);
    let mut part = region.to_vec();
    for at in (0..rows).step_by(per_strip) {
        part[0] = (start + at, per_strip.min(rows - at));
        let values = strip(&part)?;
        visit(&part, at, values.view());
        super::buffers::recycle(values);
    }
    Ok(())
}

/// Lanes folded together, a transposed panel at a time: enough lanes that each row
/// of the panel copies a cache line, few enough that the panel stays in cache.
const PANEL_LANES: usize = 64;

/// Folds every lane of `block` along `axis`, in the row-major order of the other
/// axes, with positions rebased by `+ base`. Lanes across memory (any axis but the
/// last) are first copied a panel at a time into contiguous rows, so the fold reads
/// memory in order and in cache instead of striding through the whole block.
fn fold_lanes<T: Element, R: Reducer<T>>(
    r: &R,
    block: ndarray::ArrayViewD<'_, T>,
    axis: usize,
    base: usize,
) -> Vec<R::Acc> {
    // Lanes that already lie in order in memory are folded where they are: the last
    // axis of a row-major block, the first of a transposed one.
    let in_order =
        |b: &ndarray::ArrayViewD<'_, T>| b.len_of(Axis(axis)) <= 1 || b.stride_of(Axis(axis)) == 1;
    if in_order(&block) {
        return fold_each_lane(r, block, axis, base);
    }
    let block = block.as_standard_layout();
    let data = match block.as_slice() {
        Some(data) if !in_order(&block.view()) => data,
        // The axis is the last one; or, unreachable, row-major is not contiguous.
        _ => return fold_each_lane(r, block.view(), axis, base),
    };
    let shape = block.shape();
    let len = shape[axis];
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let fold = |lane: &[T]| fold_lane(r, ndarray::ArrayView1::from(lane), base);
    let mut accs = Vec::with_capacity(outer * inner);
    let mut panel = vec![T::default(); PANEL_LANES.min(inner) * len];
    for o in 0..outer {
        let slab = &data[o * len * inner..(o + 1) * len * inner];
        for first in (0..inner).step_by(PANEL_LANES) {
            let width = PANEL_LANES.min(inner - first);
            for (k, row) in slab.chunks_exact(inner).enumerate() {
                for (j, &v) in row[first..first + width].iter().enumerate() {
                    panel[j * len + k] = v;
                }
            }
            accs.extend(panel.chunks_exact(len).take(width).map(fold));
        }
    }
    accs
}

/// Every lane along `axis` folded in place, in the row-major order of the other axes.
fn fold_each_lane<T: Element, R: Reducer<T>>(
    r: &R,
    block: ndarray::ArrayViewD<'_, T>,
    axis: usize,
    base: usize,
) -> Vec<R::Acc> {
    let lanes = block.lanes(Axis(axis));
    lanes.into_iter().map(|l| fold_lane(r, l, base)).collect()
}

/// One lane folded, its positions rebased by `+ base`.
fn fold_lane<T: Element, R: Reducer<T>>(
    r: &R,
    lane: ndarray::ArrayView1<'_, T>,
    base: usize,
) -> R::Acc {
    r.rebase(r.fold(lane), &|p| p + base)
}

/// [`fold_lanes`] over a block made a strip of rows at a time, in cache, by `strip`.
fn fold_lanes_by_strip<T: Element, R: Reducer<T>>(
    r: &R,
    strip: &super::RegionFn<T>,
    block_region: &[(usize, usize)],
    axis: usize,
    offset: usize,
) -> Result<Vec<R::Acc>, BoxError> {
    let mut accs: Vec<R::Acc> = Vec::new();
    for_each_strip(strip, block_region, |_, at, values| {
        if axis == 0 {
            // Every strip holds a piece of every lane.
            let folded = fold_lanes(r, values, 0, offset + at);
            accs = if accs.is_empty() {
                folded
            } else {
                std::mem::take(&mut accs)
                    .into_iter()
                    .zip(folded)
                    .map(|(a, b)| r.merge(a, b))
                    .collect()
            };
        } else {
            // Each strip holds whole lanes, in order.
            accs.extend(fold_lanes(r, values, axis, offset));
        }
    })?;
    Ok(accs)
}

/// The global row-major index of position `p` (row-major) of a block.
fn global_index(region: &[(usize, usize)], shape: &[usize], p: usize) -> usize {
    let mut rest = p;
    let mut local = vec![0; region.len()];
    for ax in (0..region.len()).rev() {
        let len = region[ax].1.max(1);
        local[ax] = rest % len;
        rest /= len;
    }
    (0..region.len()).fold(0, |acc, ax| acc * shape[ax] + region[ax].0 + local[ax])
}

impl<T: Element> Array<T> {
    fn reduce_all<R: Reducer<T>>(&self, name: &'static str, r: R) -> Delayed<R::Out> {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return failed(name, e),
        };
        let r = Arc::new(r);
        let parts: Vec<Delayed<R::Acc>> = Self::block_indices(&d.chunks)
            .into_iter()
            .map(|idx| {
                let task = (d.blocks)(&idx);
                let region = region(&d.chunks, &idx);
                let (r, shape, kernel) = (Arc::clone(&r), d.shape.clone(), task.kernel);
                // A 0-d block has no rows to cut into strips.
                let strip_fn = task.region.filter(|_| !region.is_empty());
                let args: Vec<Arg<super::AnyBlock>> =
                    task.leaves.into_iter().map(Arg::node).collect();
                node(
                    name,
                    args,
                    move |args: &Vec<Arg<super::AnyBlock>>, inputs| {
                        if let Some(strip) = &strip_fn {
                            // Make and fold the block a strip of rows at a time, in cache.
                            let mut acc = r.empty();
                            for_each_strip(strip, &region, |part, _, values| {
                                let folded =
                                    r.rebase(r.fold(values), &|p| global_index(part, &shape, p));
                                let before = std::mem::replace(&mut acc, r.empty());
                                acc = r.merge(before, folded);
                            })?;
                            return Ok(acc);
                        }
                        let values = args
                            .iter()
                            .map(|a| a.take(inputs))
                            .collect::<Result<Vec<_>, _>>()?;
                        let block = kernel(&values)?;
                        let acc = r.fold(block.view());
                        Ok(r.rebase(acc, &|p| global_index(&region, &shape, p)))
                    },
                )
            })
            .collect();
        let total = tree(name, &r, parts, d.split_every);
        total.try_map(move |acc| r.finish(acc))
    }

    fn reduce_axis<R>(&self, name: &'static str, axis: usize, keepdims: bool, r: R) -> Array<R::Out>
    where
        R: Reducer<T>,
        R::Out: Element,
    {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return Array::from_error(e),
        };
        if axis >= d.shape.len() {
            return Array::failed(
                name,
                format!(
                    "axis {axis} is out of range for a {}-d array of shape {:?}",
                    d.shape.len(),
                    d.shape
                ),
            );
        }
        let mut shape = d.shape.clone();
        let mut chunks = d.chunks.clone();
        if keepdims {
            shape[axis] = 1;
            chunks[axis] = vec![1];
        } else {
            shape.remove(axis);
            chunks.remove(axis);
        }
        let r = Arc::new(r);
        let out_chunks = chunks.clone();
        let out_grid: Vec<usize> = chunks.iter().map(Vec::len).collect();
        let source = d.clone();
        let finals: Arc<OnceLock<Vec<Delayed<super::AnyBlock>>>> = Arc::default();
        Array::new(name, shape, chunks, move |idx| {
            let nodes = finals.get_or_init(|| {
                let offsets = super::chunks::offsets(&source.chunks[axis]);
                Self::block_indices(&out_chunks)
                    .iter()
                    .map(|out| {
                        let parts = (0..source.chunks[axis].len())
                            .map(|k| {
                                let mut idx: Vec<usize> = out.clone();
                                if keepdims {
                                    idx[axis] = k;
                                } else {
                                    idx.insert(axis, k);
                                }
                                let task = (source.blocks)(&idx);
                                let (r, kernel, offset) = (Arc::clone(&r), task.kernel, offsets[k]);
                                let block_region = region(&source.chunks, &idx);
                                // A block with an empty axis has no strips, only empty lanes.
                                let strip_fn = task
                                    .region
                                    .filter(|_| block_region.iter().all(|&(_, l)| l > 0));
                                let args: Vec<Arg<super::AnyBlock>> =
                                    task.leaves.into_iter().map(Arg::node).collect();
                                node(
                                    name,
                                    args,
                                    move |args: &Vec<Arg<super::AnyBlock>>, inputs| {
                                        let mut lane_shape: Vec<usize> =
                                            block_region.iter().map(|(_, l)| *l).collect();
                                        lane_shape.remove(axis);
                                        let accs = match &strip_fn {
                                            Some(strip) => fold_lanes_by_strip(
                                                &*r,
                                                strip,
                                                &block_region,
                                                axis,
                                                offset,
                                            )?,
                                            None => {
                                                let values = args
                                                    .iter()
                                                    .map(|a| a.take(inputs))
                                                    .collect::<Result<Vec<_>, _>>()?;
                                                let block = kernel(&values)?;
                                                fold_lanes(&*r, block.view(), axis, offset)
                                            }
                                        };
                                        Ok(ArrayD::from_shape_vec(IxDyn(&lane_shape), accs)?)
                                    },
                                )
                            })
                            .collect::<Vec<Delayed<ArrayD<R::Acc>>>>();
                        let merged = tree_arrays(name, &r, parts, source.split_every);
                        let r = Arc::clone(&r);
                        node(name, (Arg::node(merged), ()), move |(m, ()), inputs| {
                            let m = m.take(inputs)?;
                            let finished =
                                m.iter()
                                    .map(|a| r.finish(a.clone()))
                                    .collect::<Result<Vec<_>, _>>()?;
                            let mut out = ArrayD::from_shape_vec(m.raw_dim(), finished)?;
                            if keepdims {
                                out.insert_axis_inplace(Axis(axis));
                            }
                            Ok(R::Out::into_block(out))
                        })
                    })
                    .collect()
            });
            super::leaf_task(nodes[super::flat_index(&out_grid, idx)].clone())
        })
    }
}

/// Elementwise tree merge of partial arrays.
fn tree_arrays<T, R: Reducer<T>>(
    name: &'static str,
    r: &Arc<R>,
    parts: Vec<Delayed<ArrayD<R::Acc>>>,
    split_every: usize,
) -> Delayed<ArrayD<R::Acc>> {
    let r = Arc::clone(r);
    super::tree_merge(name, parts, split_every, move |values| {
        let mut values = values.into_iter();
        let mut acc = values.next().ok_or("an empty group")?;
        for b in values {
            Zip::from(&mut acc)
                .and(&b)
                .for_each(|x, y| *x = r.merge(x.clone(), y.clone()));
        }
        Ok(acc)
    })
    .unwrap_or_else(|| node(name, (), |(), _| Err("no blocks".into())))
}

impl<T: Numeric> Array<T> {
    /// The sum of all elements (compensated for floats, wrapping for `i64`).
    pub fn sum(&self) -> Delayed<T> {
        self.reduce_all("sum", SumR)
    }
    /// The product of all elements.
    pub fn prod(&self) -> Delayed<T> {
        self.reduce_all("prod", ProdR)
    }
    /// The mean of all elements (NaN for an empty array).
    pub fn mean(&self) -> Delayed<f64> {
        self.reduce_all("mean", MeanR)
    }
    /// The variance with `ddof` 0, like NumPy.
    pub fn var(&self) -> Delayed<f64> {
        self.var_ddof(0.0)
    }
    /// The variance dividing by `n - ddof`.
    pub fn var_ddof(&self, ddof: f64) -> Delayed<f64> {
        self.reduce_all("var", MomentsR(Stat::Var(ddof)))
    }
    /// The standard deviation with `ddof` 0, like NumPy.
    pub fn std(&self) -> Delayed<f64> {
        self.std_ddof(0.0)
    }
    /// The standard deviation dividing by `n - ddof`.
    pub fn std_ddof(&self, ddof: f64) -> Delayed<f64> {
        self.reduce_all("std", MomentsR(Stat::Std(ddof)))
    }
    /// The smallest element (an error for an empty array; NaN if any is NaN).
    pub fn min(&self) -> Delayed<T> {
        self.reduce_all("min", ExtremeR { max: false })
    }
    /// The largest element (an error for an empty array; NaN if any is NaN).
    pub fn max(&self) -> Delayed<T> {
        self.reduce_all("max", ExtremeR { max: true })
    }
    /// The row-major index of the first smallest element.
    pub fn argmin(&self) -> Delayed<usize> {
        self.reduce_all("argmin", ArgR { max: false })
            .map(|i| i as usize)
    }
    /// The row-major index of the first largest element.
    pub fn argmax(&self) -> Delayed<usize> {
        self.reduce_all("argmax", ArgR { max: true })
            .map(|i| i as usize)
    }

    /// Sums along `axis`, which disappears.
    pub fn sum_axis(&self, axis: usize) -> Array<T> {
        self.reduce_axis("sum", axis, false, SumR)
    }
    /// Sums along `axis`, keeping it with length 1.
    pub fn sum_axis_keepdims(&self, axis: usize) -> Array<T> {
        self.reduce_axis("sum", axis, true, SumR)
    }
    /// Products along `axis`.
    pub fn prod_axis(&self, axis: usize) -> Array<T> {
        self.reduce_axis("prod", axis, false, ProdR)
    }
    /// Means along `axis`.
    pub fn mean_axis(&self, axis: usize) -> Array<f64> {
        self.reduce_axis("mean", axis, false, MeanR)
    }
    /// Means along `axis`, keeping it with length 1.
    pub fn mean_axis_keepdims(&self, axis: usize) -> Array<f64> {
        self.reduce_axis("mean", axis, true, MeanR)
    }
    /// Variances along `axis` dividing by `n - ddof`.
    pub fn var_axis(&self, axis: usize, ddof: f64) -> Array<f64> {
        self.reduce_axis("var", axis, false, MomentsR(Stat::Var(ddof)))
    }
    /// Standard deviations along `axis` dividing by `n - ddof`.
    pub fn std_axis(&self, axis: usize, ddof: f64) -> Array<f64> {
        self.reduce_axis("std", axis, false, MomentsR(Stat::Std(ddof)))
    }
    /// Minima along `axis`.
    pub fn min_axis(&self, axis: usize) -> Array<T> {
        self.reduce_axis("min", axis, false, ExtremeR { max: false })
    }
    /// Maxima along `axis`.
    pub fn max_axis(&self, axis: usize) -> Array<T> {
        self.reduce_axis("max", axis, false, ExtremeR { max: true })
    }
    /// Positions of the minima along `axis`.
    pub fn argmin_axis(&self, axis: usize) -> Array<i64> {
        self.reduce_axis("argmin", axis, false, ArgR { max: false })
    }
    /// Positions of the maxima along `axis`.
    pub fn argmax_axis(&self, axis: usize) -> Array<i64> {
        self.reduce_axis("argmax", axis, false, ArgR { max: true })
    }
}

impl Array<bool> {
    /// Whether any element is true.
    pub fn any(&self) -> Delayed<bool> {
        self.reduce_all("any", BoolR { all: false })
    }
    /// Whether every element is true (true for an empty array).
    pub fn all(&self) -> Delayed<bool> {
        self.reduce_all("all", BoolR { all: true })
    }
    /// Whether any element is true, along `axis`.
    pub fn any_axis(&self, axis: usize) -> Array<bool> {
        self.reduce_axis("any", axis, false, BoolR { all: false })
    }
    /// Whether every element is true, along `axis`.
    pub fn all_axis(&self, axis: usize) -> Array<bool> {
        self.reduce_axis("all", axis, false, BoolR { all: true })
    }
}

//! Reductions over all elements (a [`Scalar`]) or along one axis (an array), as trees
//! of layers: one partial result a block, merged `split_every` at a time along the
//! reduced axes (Dask's default is 4), then finished. Sums are compensated (Neumaier)
//! and variances merge exact per-block moments (Chan et al.).

mod custom;
mod data_sized;
mod lanes;
pub(crate) mod numerics;
mod quantile;
mod reducers;

pub use numerics::Numeric;

use super::layer::{
    BlockOp, BlockValue, Folder, Layer, Region, Streaming, Tokenizer, block, cartesian, owned,
};
use super::window::{owned_array, view};
use super::{Array, Element, Scalar, new_layer};
use crate::error::BoxError;
use lanes::{fold_lanes, global_index};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice, Zip};
use reducers::{
    ArgR, ArgTopR, BoolR, ExtremeR, HistR, MeanR, MomentsR, NanMeanR, ProdR, PtpR, Reducer,
    SkipNan, Stat, SumR, TopR,
};
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

/// The view of `part` (global coordinates) in `data`, whose first element is at `origin`.
fn part_of<'a, T: Element>(
    data: &'a BlockValue,
    part: &Region,
    origin: &[usize],
) -> Result<ArrayViewD<'a, T>, BoxError> {
    let mut data = view::<T>(data)?;
    if data.ndim() != part.len() {
        return Err("internal: a strip of another rank".into());
    }
    data.slice_each_axis_inplace(|ax| {
        let (start, len) = part[ax.axis.index()];
        let from = start - origin[ax.axis.index()];
        Slice::from(from..from + len)
    });
    Ok(data)
}

/// Folds each input block into one partial result.
struct FoldAll<T, R>(Arc<R>, PhantomData<fn(T)>);

/// [`FoldAll`]'s folder: the partial so far.
struct AllFolder<'a, T, R: Reducer<T>> {
    r: &'a R,
    shape: &'a [usize],
    acc: Option<R::Acc>,
    element: PhantomData<fn(T)>,
}

impl<T: Element, R: Reducer<T>> Folder for AllFolder<'_, T, R> {
    fn fold(&mut self, part: &Region, data: &BlockValue, origin: &[usize]) -> Result<(), BoxError> {
        let values = part_of::<T>(data, part, origin)?;
        let folded = self
            .r
            .rebase(self.r.fold(values), &|p| global_index(part, self.shape, p));
        self.acc = Some(match self.acc.take() {
            Some(acc) => self.r.merge(acc, folded),
            None => folded,
        });
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<BlockValue, BoxError> {
        Ok(block(self.acc.unwrap_or_else(|| self.r.empty())))
    }
}

// Run on a block in memory by the default: the folder over its strips.
impl<T: Element, R: Reducer<T>> BlockOp for FoldAll<T, R> {
    fn blockwise(&self) -> bool {
        true
    }
    fn streaming(&self) -> Option<&dyn Streaming> {
        Some(self)
    }
}

impl<T: Element, R: Reducer<T>> Streaming for FoldAll<T, R> {
    fn folder<'a>(&'a self, layer: &'a Layer, _: &[usize], _: &Region) -> Box<dyn Folder + 'a> {
        Box::new(AllFolder::<T, R> {
            r: &self.0,
            shape: &layer.inputs[0].shape,
            acc: None,
            element: PhantomData,
        })
    }
    fn any_order(&self) -> bool {
        R::ANY_ORDER
    }
}

/// The layer of one partial result a block of `layer`, made by `op`.
fn partials(
    label: &'static str,
    token: &Tokenizer,
    layer: &Arc<Layer>,
    op: impl BlockOp,
) -> Arc<Layer> {
    let grid = layer.grid();
    new_layer(
        label,
        token.clone().add("fold"),
        grid.clone(),
        grid.iter().map(|&n| vec![1; n]).collect(),
        vec![Arc::clone(layer)],
        op,
        layer.split_every,
    )
}

/// Folds each input block whole, whatever its shape: the partials of an array whose
/// chunk sizes are unknown until computed (`extract`, `unique`), so no region of it
/// can be named beforehand.
struct FoldWhole<T, R>(Arc<R>, PhantomData<fn(T)>);

impl<T: Element, R: Reducer<T>> BlockOp for FoldWhole<T, R> {
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let data = inputs.first().ok_or("internal: a fold without its block")?;
        Ok(block(self.0.fold(view::<T>(data)?)))
    }
}

/// Folds the lanes of each input block along `axes` into partial results, an array of
/// them the shape of the block without those axes.
struct FoldLanes<T, R> {
    r: Arc<R>,
    /// The reduced axes, ascending.
    axes: Vec<usize>,
    element: PhantomData<fn(T)>,
}

/// [`FoldLanes`]'s folder: the lanes' partials so far.
struct LanesFolder<'a, T, R: Reducer<T>> {
    r: &'a R,
    axes: &'a [usize],
    /// The input block's region.
    input: Vec<(usize, usize)>,
    accs: Vec<R::Acc>,
    element: PhantomData<fn(T)>,
}

impl<T: Element, R: Reducer<T>> Folder for LanesFolder<'_, T, R> {
    fn fold(&mut self, part: &Region, data: &BlockValue, origin: &[usize]) -> Result<(), BoxError> {
        let values = part_of::<T>(data, part, origin)?;
        let folded = match self.axes {
            // Positions along the axis count from the array's start.
            &[axis] => fold_lanes(self.r, values, axis, part[axis].0),
            axes => fold_over(self.r, values, axes),
        };
        if self.axes.contains(&0) && !self.accs.is_empty() {
            // Strips are cut along axis 0: each holds a piece of every lane.
            self.accs = std::mem::take(&mut self.accs)
                .into_iter()
                .zip(folded)
                .map(|(a, b)| self.r.merge(a, b))
                .collect();
        } else {
            // Each strip holds whole lanes, in order (or is the first piece of all).
            self.accs.extend(folded);
        }
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<BlockValue, BoxError> {
        let mut shape = super::layer::lengths(&self.input);
        for &axis in self.axes.iter().rev() {
            shape.remove(axis);
        }
        let n: usize = shape.iter().product();
        let mut accs = self.accs;
        if accs.is_empty() {
            // An empty axis: every lane folds nothing.
            accs = (0..n).map(|_| self.r.empty()).collect();
        }
        Ok(block(ArrayD::from_shape_vec(IxDyn(&shape), accs)?))
    }
}

// Run on a block in memory by the default: the folder over its strips.
impl<T: Element, R: Reducer<T>> BlockOp for FoldLanes<T, R> {
    fn blockwise(&self) -> bool {
        true
    }
    fn streaming(&self) -> Option<&dyn Streaming> {
        Some(self)
    }
}

impl<T: Element, R: Reducer<T>> Streaming for FoldLanes<T, R> {
    fn folder<'a>(&'a self, _: &'a Layer, _: &[usize], input: &Region) -> Box<dyn Folder + 'a> {
        Box::new(LanesFolder::<T, R> {
            r: &self.r,
            axes: &self.axes,
            input: input.to_vec(),
            accs: Vec::new(),
            element: PhantomData,
        })
    }
}

/// Every lane over several `axes` (ascending) folded, in the row-major order of the
/// other axes: the view's axes put kept-first, copied row-major, each lane a row.
fn fold_over<T: Element, R: Reducer<T>>(
    r: &R,
    values: ArrayViewD<'_, T>,
    axes: &[usize],
) -> Vec<R::Acc> {
    let kept: Vec<usize> = (0..values.ndim()).filter(|a| !axes.contains(a)).collect();
    let order: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let lanes: usize = kept.iter().map(|&a| values.len_of(Axis(a))).product();
    let width: usize = axes.iter().map(|&a| values.len_of(Axis(a))).product();
    let rows = values
        .permuted_axes(IxDyn(&order))
        .as_standard_layout()
        .into_owned();
    match rows.as_slice() {
        Some(data) if width > 0 => data
            .chunks_exact(width)
            .map(|lane| r.fold(ndarray::ArrayView1::from(lane)))
            .collect(),
        _ => (0..lanes).map(|_| r.empty()).collect(),
    }
}

/// Merges partial results `split` at a time along the reduced axes.
type Merge = Box<dyn Fn(Vec<BlockValue>) -> Result<BlockValue, BoxError> + Send + Sync>;

/// One level of a reduction tree.
pub(crate) struct Tree {
    /// Which axes of the grid are reduced.
    pub(crate) axes: Vec<bool>,
    pub(crate) split: usize,
    pub(crate) merge: Merge,
}

impl BlockOp for Tree {
    fn deps(&self, layer: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let below = layer.inputs[0].grid();
        let ranges: Vec<Vec<usize>> = idx
            .iter()
            .zip(&below)
            .zip(&self.axes)
            .map(|((&i, &n), &reduced)| {
                if reduced {
                    (i * self.split..((i + 1) * self.split).min(n)).collect()
                } else {
                    vec![i]
                }
            })
            .collect();
        out.extend(cartesian(&ranges).into_iter().map(|at| (0, at)));
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        (self.merge)(inputs)
    }
}

/// Merge levels over `partials` (a grid of partial results) until the reduced axes
/// have one block each.
pub(crate) fn tree(
    label: &'static str,
    token: &Tokenizer,
    mut partials: Arc<Layer>,
    axes: &[bool],
    split: usize,
    merge: impl Fn(Vec<BlockValue>) -> Result<BlockValue, BoxError> + Send + Sync + Clone + 'static,
) -> Arc<Layer> {
    let split = split.max(2);
    let mut level = 0_usize;
    while partials.grid().iter().zip(axes).any(|(&n, &r)| r && n > 1) {
        level += 1;
        let grid: Vec<usize> = partials
            .grid()
            .iter()
            .zip(axes)
            .map(|(&n, &r)| if r { n.div_ceil(split) } else { n })
            .collect();
        let merge = merge.clone();
        partials = new_layer(
            label,
            token.clone().add(("tree", level)),
            grid.clone(),
            grid.iter().map(|&n| vec![1; n]).collect(),
            vec![partials],
            Tree {
                axes: axes.to_vec(),
                split,
                merge: Box::new(merge),
            },
            split,
        );
    }
    partials
}

/// Turns the one remaining partial result into the 0-d answer.
struct FinishAll<T, R>(Arc<R>, PhantomData<fn(T)>);

impl<T: Element, R: Reducer<T>> BlockOp for FinishAll<T, R>
where
    R::Out: Element,
{
    fn deps(&self, layer: &Layer, _: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.push((0, vec![0; layer.inputs[0].chunks.len()]));
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let acc = owned::<R::Acc>(inputs.into_iter().next().ok_or("internal: no partial")?)?;
        let out = self.0.finish(acc)?;
        Ok(block(ArrayD::from_elem(IxDyn(&[]), out)))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// Turns the one remaining partial result into a 1-d answer: of known length, or
/// (`unknown`) of a length known once computed (`unique`, `bincount`).
struct FinishVector<T, R>(Arc<R>, PhantomData<fn(T)>, bool);

impl<T: Element, U: Element, R: Reducer<T, Out = ArrayD<U>>> BlockOp for FinishVector<T, R> {
    fn deps(&self, layer: &Layer, _: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.push((0, vec![0; layer.inputs[0].chunks.len()]));
    }
    fn run(
        &self,
        layer: &Layer,
        _: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let acc = owned::<R::Acc>(inputs.into_iter().next().ok_or("internal: no partial")?)?;
        let out = self.0.finish(acc)?;
        if !self.2 && out.shape() != layer.shape.as_slice() {
            return Err(format!("internal: {} elements, not {:?}", out.len(), layer.shape).into());
        }
        Ok(block(out))
    }
    fn blockwise(&self) -> bool {
        true
    }
    fn unknown_chunks(&self) -> bool {
        self.2
    }
}

/// Turns merged lanes into output blocks, without the axes or keeping them as length 1.
struct FinishLanes<T, R> {
    r: Arc<R>,
    /// The reduced axes, ascending.
    axes: Vec<usize>,
    keepdims: bool,
    element: PhantomData<fn(T)>,
}

impl<T: Element, R: Reducer<T>> BlockOp for FinishLanes<T, R>
where
    R::Out: Element,
{
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let mut at = idx.to_vec();
        for &axis in &self.axes {
            if self.keepdims {
                at[axis] = 0;
            } else {
                at.insert(axis, 0);
            }
        }
        out.push((0, at));
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let lanes =
            owned_array::<R::Acc>(inputs.into_iter().next().ok_or("internal: no partial")?)?;
        let finished = lanes
            .iter()
            .map(|a| self.r.finish(a.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = ArrayD::from_shape_vec(lanes.raw_dim(), finished)?;
        if self.keepdims {
            for &axis in &self.axes {
                out.insert_axis_inplace(Axis(axis));
            }
        }
        Ok(block(out))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

impl<T: Element> Array<T> {
    /// Each block folded into a partial result, the partials merged by a tree into
    /// one: the layer a full reduction finishes from.
    fn fold_all<R: Reducer<T>>(
        &self,
        token: &Tokenizer,
        label: &'static str,
        r: &Arc<R>,
    ) -> Result<Arc<Layer>, super::ShapeError> {
        let layer = Arc::clone(self.any_layer()?);
        let unknown = layer.op.unknown_chunks();
        if unknown && R::POSITIONAL {
            return Err(super::ShapeError::new(
                label,
                "positions need the chunk sizes, which are unknown until computed (Dask's \
                 nan chunks): call compute_chunk_sizes() first"
                    .into(),
            ));
        }
        let grid = layer.grid();
        let split = layer.split_every;
        // One partial a block: a block of unknown size (known only once made) is
        // folded whole, any other a strip at a time.
        let partials = if unknown {
            partials(label, token, &layer, FoldWhole(Arc::clone(r), PhantomData))
        } else {
            partials(label, token, &layer, FoldAll(Arc::clone(r), PhantomData))
        };
        let merger = Arc::clone(r);
        Ok(tree(
            label,
            token,
            partials,
            &vec![true; grid.len()],
            split,
            move |values: Vec<BlockValue>| {
                let mut acc = merger.empty();
                for v in values {
                    acc = merger.merge(acc, owned::<R::Acc>(v)?);
                }
                Ok(block(acc))
            },
        ))
    }

    fn reduce_all<R>(&self, label: &'static str, params: impl Hash, r: R) -> Scalar<R::Out>
    where
        R: Reducer<T>,
        R::Out: Element,
    {
        let token = Tokenizer::new(label).add(params).add(T::NAME);
        let r = Arc::new(r);
        let merged = match self.fold_all(&token, label, &r) {
            Ok(m) => m,
            Err(e) => return Scalar::from_array(Array::from_error(e)),
        };
        Scalar::from_array(Array::from_op(
            label,
            token.add("finish"),
            Vec::new(),
            Vec::new(),
            vec![merged],
            FinishAll(r, PhantomData),
        ))
    }

    /// A reduction whose answer is a 1-d array of `len` values (`topk`, `histogram`),
    /// or with `len` `None`, of a length known once computed (`unique`).
    fn reduce_to_vector<U, R>(
        &self,
        label: &'static str,
        params: impl Hash,
        len: impl Into<Option<usize>>,
        r: R,
    ) -> Array<U>
    where
        U: Element,
        R: Reducer<T, Out = ArrayD<U>>,
    {
        let token = Tokenizer::new(label).add(params).add(T::NAME);
        let r = Arc::new(r);
        let merged = match self.fold_all(&token, label, &r) {
            Ok(m) => m,
            Err(e) => return Array::from_error(e),
        };
        let len: Option<usize> = len.into();
        let unknown = len.is_none();
        let len = len.unwrap_or(0);
        Array::from_op(
            label,
            token.add("finish"),
            vec![len],
            vec![vec![len]],
            vec![merged],
            FinishVector(r, PhantomData, unknown),
        )
    }

    fn reduce_axes<R>(
        &self,
        label: &'static str,
        params: impl Hash,
        axes: &[usize],
        keepdims: bool,
        r: R,
    ) -> Array<R::Out>
    where
        R: Reducer<T>,
        R::Out: Element,
    {
        let layer = match self.layer() {
            Ok(l) => Arc::clone(l),
            Err(e) => return Array::from_error(e),
        };
        if let Some(&axis) = axes.iter().find(|&&a| a >= layer.shape.len()) {
            return Array::failed(
                label,
                format!(
                    "axis {axis} is out of range for a {}-d array of shape {:?}",
                    layer.shape.len(),
                    layer.shape
                ),
            );
        }
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != axes.len() {
            return Array::failed(label, format!("axes {axes:?} name an axis twice"));
        }
        let axes = sorted;
        let token = Tokenizer::new(label).add((params, &axes)).add(T::NAME);
        let (mut shape, mut chunks) = (layer.shape.clone(), layer.chunks.clone());
        for &axis in axes.iter().rev() {
            if keepdims {
                shape[axis] = 1;
                chunks[axis] = vec![1];
            } else {
                shape.remove(axis);
                chunks.remove(axis);
            }
        }
        let r = Arc::new(r);
        let grid = layer.grid();
        let split = layer.split_every;
        let partials = new_layer(
            label,
            token.clone().add("fold"),
            grid.clone(),
            grid.iter().map(|&n| vec![1; n]).collect(),
            vec![layer],
            FoldLanes {
                r: Arc::clone(&r),
                axes: axes.clone(),
                element: PhantomData,
            },
            split,
        );
        let merger = Arc::clone(&r);
        let reduced: Vec<bool> = (0..grid.len()).map(|a| axes.contains(&a)).collect();
        let merged = tree(label, &token, partials, &reduced, split, move |values| {
            let mut values = values.into_iter();
            let mut acc = owned_array::<R::Acc>(values.next().ok_or("an empty group")?)?;
            for v in values {
                let b = view::<R::Acc>(&v)?;
                Zip::from(&mut acc)
                    .and(b)
                    .for_each(|x, y| *x = merger.merge(x.clone(), y.clone()));
            }
            Ok(block(acc))
        });
        Array::from_op(
            label,
            token.add(("finish", keepdims)),
            shape,
            chunks,
            vec![merged],
            FinishLanes {
                r,
                axes,
                keepdims,
                element: PhantomData,
            },
        )
    }
}

/// A reduction, as the element types' [`Reduce`] runs it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Reduction {
    Sum,
    Prod,
    Min,
    Max,
    Mean,
    Var(f64),
    Std(f64),
    ArgMin,
    ArgMax,
    Any,
    All,
    Ptp,
    NanSum,
    NanProd,
    NanMin,
    NanMax,
    NanMean,
    NanVar(f64),
    NanStd(f64),
    NanArgMin,
    NanArgMax,
}

/// The reductions of one element type, written once per type in this crate (not in
/// the user's): the generic methods on `Array<T>` only call these.
#[doc(hidden)]
pub trait Reduce: Element {
    /// Reductions whose result is a `Self` (`None`: over all elements, a 0-d array).
    fn reduce_same(a: &Array<Self>, r: Reduction, axis: Option<(&[usize], bool)>) -> Array<Self>;
    /// Reductions whose result is an `f64`.
    fn reduce_f64(a: &Array<Self>, r: Reduction, axis: Option<(&[usize], bool)>) -> Array<f64>;
    /// Reductions whose result is a position.
    fn reduce_i64(a: &Array<Self>, r: Reduction, axis: Option<(&[usize], bool)>) -> Array<i64>;
    /// The matrix product.
    fn matmul(a: &Array<Self>, b: &Array<Self>) -> Array<Self>;
    /// Matrix products over stacks of matrices.
    fn batched_matmul(a: &Array<Self>, b: &Array<Self>) -> Array<Self>;
    /// Cumulative sums or products along an axis.
    fn scan(a: &Array<Self>, axis: usize, how: super::scan::Accumulate) -> Array<Self>;
    /// The `k` largest values, largest first.
    fn top(a: &Array<Self>, k: usize) -> Array<Self>;
    /// The positions of the `k` largest values, largest first.
    fn argtop(a: &Array<Self>, k: usize) -> Array<i64>;
    /// Counts in `bins` equal bins over `range`.
    fn histogram_of(a: &Array<Self>, bins: usize, range: (f64, f64)) -> Array<i64>;
}

/// `r` over all elements (`axis` `None`) or along an axis, kept or not.
fn reduce<T: Element, R>(
    a: &Array<T>,
    label: &'static str,
    params: impl Hash,
    r: R,
    axis: Option<(&[usize], bool)>,
) -> Array<R::Out>
where
    R: Reducer<T>,
    R::Out: Element,
{
    match axis {
        None => a.reduce_all(label, params, r).into_array(),
        Some((axes, keepdims)) => a.reduce_axes(label, params, axes, keepdims, r),
    }
}

fn not_for<T: Element, U: Element>(r: Reduction) -> Array<U> {
    Array::failed(
        "reduce",
        format!("internal: {r:?} of {} has no {} result", T::NAME, U::NAME),
    )
}

macro_rules! numeric_reductions {
    ($($t:ty),*) => {$(
        impl Reduce for $t {
            fn reduce_same(a: &Array<$t>, r: Reduction, axis: Option<(&[usize], bool)>) -> Array<$t> {
                match r {
                    Reduction::Sum => reduce(a, "sum", (), SumR, axis),
                    Reduction::Prod => reduce(a, "prod", (), ProdR, axis),
                    Reduction::Min => reduce(a, "min", (), ExtremeR::min(false), axis),
                    Reduction::Max => reduce(a, "max", (), ExtremeR::max(false), axis),
                    Reduction::Ptp => reduce(a, "ptp", (), PtpR, axis),
                    Reduction::NanSum => reduce(a, "nansum", (), SkipNan(SumR), axis),
                    Reduction::NanProd => reduce(a, "nanprod", (), SkipNan(ProdR), axis),
                    Reduction::NanMin => reduce(a, "nanmin", (), ExtremeR::min(true), axis),
                    Reduction::NanMax => reduce(a, "nanmax", (), ExtremeR::max(true), axis),
                    other => not_for::<$t, $t>(other),
                }
            }
            fn reduce_f64(a: &Array<$t>, r: Reduction, axis: Option<(&[usize], bool)>) -> Array<f64> {
                match r {
                    Reduction::Mean => reduce(a, "mean", (), MeanR, axis),
                    Reduction::Var(d) => reduce(a, "var", d.to_bits(), MomentsR(Stat::Var(d)), axis),
                    Reduction::Std(d) => reduce(a, "std", d.to_bits(), MomentsR(Stat::Std(d)), axis),
                    Reduction::NanMean => reduce(a, "nanmean", (), NanMeanR, axis),
                    Reduction::NanVar(d) => {
                        reduce(a, "nanvar", d.to_bits(), SkipNan(MomentsR(Stat::Var(d))), axis)
                    }
                    Reduction::NanStd(d) => {
                        reduce(a, "nanstd", d.to_bits(), SkipNan(MomentsR(Stat::Std(d))), axis)
                    }
                    other => not_for::<$t, f64>(other),
                }
            }
            fn reduce_i64(a: &Array<$t>, r: Reduction, axis: Option<(&[usize], bool)>) -> Array<i64> {
                match r {
                    Reduction::ArgMin => {
                        reduce(a, "argmin", (), ArgR { max: false, skip_nan: false }, axis)
                    }
                    Reduction::ArgMax => {
                        reduce(a, "argmax", (), ArgR { max: true, skip_nan: false }, axis)
                    }
                    Reduction::NanArgMin => {
                        reduce(a, "nanargmin", (), ArgR { max: false, skip_nan: true }, axis)
                    }
                    Reduction::NanArgMax => {
                        reduce(a, "nanargmax", (), ArgR { max: true, skip_nan: true }, axis)
                    }
                    other => not_for::<$t, i64>(other),
                }
            }
            fn matmul(a: &Array<$t>, b: &Array<$t>) -> Array<$t> {
                super::dot::matmul(a, b)
            }
            fn batched_matmul(a: &Array<$t>, b: &Array<$t>) -> Array<$t> {
                super::dot::batched_matmul(a, b)
            }
            fn scan(a: &Array<$t>, axis: usize, how: super::scan::Accumulate) -> Array<$t> {
                super::scan::scan(a, axis, how)
            }
            fn top(a: &Array<$t>, k: usize) -> Array<$t> {
                a.reduce_to_vector("topk", k, k, TopR { k })
            }
            fn argtop(a: &Array<$t>, k: usize) -> Array<i64> {
                a.reduce_to_vector("argtopk", k, k, ArgTopR { k })
            }
            fn histogram_of(a: &Array<$t>, bins: usize, range: (f64, f64)) -> Array<i64> {
                let (lo, hi) = range;
                if bins == 0 || !lo.is_finite() || !hi.is_finite() || lo >= hi {
                    return Array::failed(
                        "histogram",
                        format!("{bins} bins over [{lo}, {hi}]: need at least one bin and finite lo < hi"),
                    );
                }
                let params = (bins, lo.to_bits(), hi.to_bits());
                a.reduce_to_vector("histogram", params, bins, HistR { bins, lo, hi })
            }
        }
    )*};
}
numeric_reductions!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64);

impl Reduce for bool {
    fn reduce_same(a: &Array<bool>, r: Reduction, axis: Option<(&[usize], bool)>) -> Array<bool> {
        match r {
            Reduction::Any => reduce(a, "any", (), BoolR { all: false }, axis),
            Reduction::All => reduce(a, "all", (), BoolR { all: true }, axis),
            other => not_for::<bool, bool>(other),
        }
    }
    fn reduce_f64(_: &Array<bool>, r: Reduction, _: Option<(&[usize], bool)>) -> Array<f64> {
        not_for::<bool, f64>(r)
    }
    fn reduce_i64(_: &Array<bool>, r: Reduction, _: Option<(&[usize], bool)>) -> Array<i64> {
        not_for::<bool, i64>(r)
    }
    fn matmul(_: &Array<bool>, _: &Array<bool>) -> Array<bool> {
        Array::failed("dot", "bool arrays have no matrix product".into())
    }
    fn batched_matmul(_: &Array<bool>, _: &Array<bool>) -> Array<bool> {
        Array::failed("matmul", "bool arrays have no matrix product".into())
    }
    fn scan(_: &Array<bool>, _: usize, how: super::scan::Accumulate) -> Array<bool> {
        Array::failed("scan", format!("bool arrays have no {how:?}"))
    }
    fn top(_: &Array<bool>, _: usize) -> Array<bool> {
        Array::failed("topk", "bool arrays have no topk".into())
    }
    fn argtop(_: &Array<bool>, _: usize) -> Array<i64> {
        Array::failed("argtopk", "bool arrays have no argtopk".into())
    }
    fn histogram_of(_: &Array<bool>, _: usize, _: (f64, f64)) -> Array<i64> {
        Array::failed("histogram", "bool arrays have no histogram".into())
    }
}

// Each full reduction: a 0-d lazy value, compiled once per element type (`Reduce`).
macro_rules! full_reductions {
    ($($(#[$doc:meta])* $name:ident -> $out:ty, $via:ident, |$($p:ident: $pt:ty),*| $kind:expr;)*) => {
        impl<T: Numeric> Array<T> {$(
            $(#[$doc])*
            pub fn $name(&self $(, $p: $pt)*) -> Scalar<$out> {
                Scalar::from_array(T::$via(self, $kind, None))
            }
        )*}
    };
}

full_reductions! {
    /// The sum of all elements (compensated for floats, wrapping for `i64`).
    sum -> T, reduce_same, | | Reduction::Sum;
    /// The product of all elements.
    prod -> T, reduce_same, | | Reduction::Prod;
    /// The mean of all elements (NaN for an empty array).
    mean -> f64, reduce_f64, | | Reduction::Mean;
    /// The variance dividing by `n - ddof` (`var()` is ddof 0, like NumPy).
    var_ddof -> f64, reduce_f64, |ddof: f64| Reduction::Var(ddof);
    /// The standard deviation dividing by `n - ddof` (`std()` is ddof 0, like NumPy).
    std_ddof -> f64, reduce_f64, |ddof: f64| Reduction::Std(ddof);
    /// The smallest element (an error for an empty array; NaN if any is NaN).
    min -> T, reduce_same, | | Reduction::Min;
    /// The largest element (an error for an empty array; NaN if any is NaN).
    max -> T, reduce_same, | | Reduction::Max;
    /// The row-major index of the first smallest element (NumPy's `argmin`).
    argmin -> i64, reduce_i64, | | Reduction::ArgMin;
    /// The row-major index of the first largest element (NumPy's `argmax`).
    argmax -> i64, reduce_i64, | | Reduction::ArgMax;
    /// The spread, largest minus smallest element (NumPy's `ptp`).
    ptp -> T, reduce_same, | | Reduction::Ptp;
    // NumPy's nan-functions: NaN values are skipped (for `i64`, which has none, they
    // are the plain reductions).
    /// The sum of the elements that are not NaN (0 when all are).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::from_ndarray(ndarray::arr1(&[1.0, f64::NAN, 3.0]), 2);
    /// assert!(x.sum().compute().unwrap().is_nan());
    /// assert_eq!(x.nansum().compute().unwrap(), 4.0);
    /// assert_eq!(x.nanmean().compute().unwrap(), 2.0);
    /// assert_eq!(x.nanargmax().compute().unwrap(), 2);
    /// ```
    nansum -> T, reduce_same, | | Reduction::NanSum;
    /// The product of the elements that are not NaN.
    nanprod -> T, reduce_same, | | Reduction::NanProd;
    /// The smallest element that is not NaN (NaN when all are; an error when empty).
    nanmin -> T, reduce_same, | | Reduction::NanMin;
    /// The largest element that is not NaN (NaN when all are; an error when empty).
    nanmax -> T, reduce_same, | | Reduction::NanMax;
    /// The mean of the elements that are not NaN (NaN when all are).
    nanmean -> f64, reduce_f64, | | Reduction::NanMean;
    /// The variance of the elements that are not NaN, dividing by `n - ddof`.
    nanvar_ddof -> f64, reduce_f64, |ddof: f64| Reduction::NanVar(ddof);
    /// The standard deviation of the elements that are not NaN, dividing by `n - ddof`.
    nanstd_ddof -> f64, reduce_f64, |ddof: f64| Reduction::NanStd(ddof);
    /// The position of the first smallest element that is not NaN (an error when all
    /// are NaN).
    nanargmin -> i64, reduce_i64, | | Reduction::NanArgMin;
    /// The position of the first largest element that is not NaN.
    nanargmax -> i64, reduce_i64, | | Reduction::NanArgMax;
}

impl<T: Numeric> Array<T> {
    /// The `k` largest elements, largest first (Dask's `topk`; NaN counts as largest,
    /// as in NumPy's sort): each block keeps its `k` largest, and the tree merges them.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::from_ndarray(ndarray::arr1(&[5_i64, 1, 9, 3, 7, 2]), 2);
    /// assert_eq!(x.topk(3).compute().unwrap(), ndarray::arr1(&[9, 7, 5]).into_dyn());
    /// assert!(x.topk(7).compute().is_err());
    /// ```
    pub fn topk(&self, k: usize) -> Array<T> {
        T::top(self, k)
    }

    /// The positions (in the flattened array) of the `k` largest elements, largest
    /// first, the lower position first among equal values (Dask's `argtopk`; NaN counts
    /// as largest, as in [`Array::topk`]).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::from_ndarray(ndarray::arr1(&[5_i64, 1, 9, 3, 9, 2]), 2);
    /// assert_eq!(x.argtopk(3).compute().unwrap(), ndarray::arr1(&[2, 4, 0]).into_dyn());
    /// assert!(x.argtopk(7).compute().is_err());
    /// ```
    pub fn argtopk(&self, k: usize) -> Array<i64> {
        T::argtop(self, k)
    }

    /// Counts of the elements in `bins` equal bins over `range` (NumPy's and Dask's
    /// `histogram` with a range): each bin holds its left edge, the last also its right
    /// edge; values outside the range and NaN are not counted. Returns the counts and
    /// the `bins + 1` edges.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::arange(10).rechunk(3);
    /// let (counts, edges) = x.histogram(4, (0.0, 8.0));
    /// assert_eq!(counts.compute().unwrap(), ndarray::arr1(&[2, 2, 2, 3]).into_dyn());
    /// assert_eq!(edges, [0.0, 2.0, 4.0, 6.0, 8.0]);
    /// ```
    pub fn histogram(&self, bins: usize, range: (f64, f64)) -> (Array<i64>, Vec<f64>) {
        let (lo, hi) = range;
        let edges = (0..=bins)
            .map(|i| lo + (hi - lo) * i as f64 / bins.max(1) as f64)
            .collect();
        (T::histogram_of(self, bins, range), edges)
    }

    /// The variance with `ddof` 0, like NumPy.
    pub fn var(&self) -> Scalar<f64> {
        self.var_ddof(0.0)
    }
    /// The standard deviation with `ddof` 0, like NumPy.
    pub fn std(&self) -> Scalar<f64> {
        self.std_ddof(0.0)
    }
    /// The variance of the elements that are not NaN, ddof 0.
    pub fn nanvar(&self) -> Scalar<f64> {
        self.nanvar_ddof(0.0)
    }
    /// The standard deviation of the elements that are not NaN, ddof 0.
    pub fn nanstd(&self) -> Scalar<f64> {
        self.nanstd_ddof(0.0)
    }
}

// Each axis reduction, with its `_keepdims` form (NumPy's `keepdims=True`: the axis
// stays with length 1, so the result broadcasts against the input).
macro_rules! axis_reductions {
    ($bound:path; $($(#[$doc:meta])* $name:ident $keep:ident -> $out:ty, $via:ident, |$($p:ident: $pt:ty),*| $kind:expr;)*) => {
        impl<T: $bound> Array<T> {$(
            $(#[$doc])*
            pub fn $name(&self, axis: usize $(, $p: $pt)*) -> Array<$out> {
                T::$via(self, $kind, Some((&[axis], false)))
            }
            $(#[$doc])*
            #[doc = ""]
            #[doc = concat!("Keeps the axis with length 1 (NumPy's `keepdims=True`).")]
            pub fn $keep(&self, axis: usize $(, $p: $pt)*) -> Array<$out> {
                T::$via(self, $kind, Some((&[axis], true)))
            }
        )*}
    };
}

axis_reductions! {
    Numeric;
    /// Sums along `axis`.
    sum_axis sum_axis_keepdims -> T, reduce_same, | | Reduction::Sum;
    /// Products along `axis`.
    prod_axis prod_axis_keepdims -> T, reduce_same, | | Reduction::Prod;
    /// Means along `axis`.
    mean_axis mean_axis_keepdims -> f64, reduce_f64, | | Reduction::Mean;
    /// Variances along `axis` dividing by `n - ddof`.
    var_axis var_axis_keepdims -> f64, reduce_f64, |ddof: f64| Reduction::Var(ddof);
    /// Standard deviations along `axis` dividing by `n - ddof`.
    std_axis std_axis_keepdims -> f64, reduce_f64, |ddof: f64| Reduction::Std(ddof);
    /// Minima along `axis`.
    min_axis min_axis_keepdims -> T, reduce_same, | | Reduction::Min;
    /// Maxima along `axis`.
    max_axis max_axis_keepdims -> T, reduce_same, | | Reduction::Max;
    /// Positions of the minima along `axis`.
    argmin_axis argmin_axis_keepdims -> i64, reduce_i64, | | Reduction::ArgMin;
    /// Positions of the maxima along `axis`.
    argmax_axis argmax_axis_keepdims -> i64, reduce_i64, | | Reduction::ArgMax;
    /// Spreads (max - min) along `axis`.
    ptp_axis ptp_axis_keepdims -> T, reduce_same, | | Reduction::Ptp;
    /// Sums of the elements that are not NaN along `axis`.
    nansum_axis nansum_axis_keepdims -> T, reduce_same, | | Reduction::NanSum;
    /// Products of the elements that are not NaN along `axis`.
    nanprod_axis nanprod_axis_keepdims -> T, reduce_same, | | Reduction::NanProd;
    /// Means of the elements that are not NaN along `axis`.
    nanmean_axis nanmean_axis_keepdims -> f64, reduce_f64, | | Reduction::NanMean;
    /// Variances of the elements that are not NaN along `axis`, dividing by `n - ddof`.
    nanvar_axis nanvar_axis_keepdims -> f64, reduce_f64, |ddof: f64| Reduction::NanVar(ddof);
    /// Standard deviations of the elements that are not NaN along `axis`.
    nanstd_axis nanstd_axis_keepdims -> f64, reduce_f64, |ddof: f64| Reduction::NanStd(ddof);
    /// Minima of the elements that are not NaN along `axis`.
    nanmin_axis nanmin_axis_keepdims -> T, reduce_same, | | Reduction::NanMin;
    /// Maxima of the elements that are not NaN along `axis`.
    nanmax_axis nanmax_axis_keepdims -> T, reduce_same, | | Reduction::NanMax;
    /// Positions of the minima that are not NaN along `axis`.
    nanargmin_axis nanargmin_axis_keepdims -> i64, reduce_i64, | | Reduction::NanArgMin;
    /// Positions of the maxima that are not NaN along `axis`.
    nanargmax_axis nanargmax_axis_keepdims -> i64, reduce_i64, | | Reduction::NanArgMax;
}

// Each reduction over several axes at once (NumPy's `axis=(0, 2)`), with its
// `_keepdims` form; the positions (`argmin`) take one axis, as in NumPy.
macro_rules! axes_reductions {
    ($($(#[$doc:meta])* $name:ident $keep:ident -> $out:ty, $via:ident, |$($p:ident: $pt:ty),*| $kind:expr;)*) => {
        impl<T: Numeric> Array<T> {$(
            $(#[$doc])*
            pub fn $name(&self, axes: &[usize] $(, $p: $pt)*) -> Array<$out> {
                T::$via(self, $kind, Some((axes, false)))
            }
            $(#[$doc])*
            #[doc = ""]
            #[doc = "Keeps the axes with length 1 (NumPy's `keepdims=True`)."]
            pub fn $keep(&self, axes: &[usize] $(, $p: $pt)*) -> Array<$out> {
                T::$via(self, $kind, Some((axes, true)))
            }
        )*}
    };
}

axes_reductions! {
    /// Sums over `axes` at once.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::ones::<f64>([2, 3, 4], 2);
    /// assert_eq!(x.sum_axes(&[0, 2]).compute().unwrap(), ndarray::arr1(&[8.0, 8.0, 8.0]).into_dyn());
    /// assert_eq!(x.mean_axes_keepdims(&[0, 2]).shape(), [1, 3, 1]);
    /// ```
    sum_axes sum_axes_keepdims -> T, reduce_same, | | Reduction::Sum;
    /// Products over `axes` at once.
    prod_axes prod_axes_keepdims -> T, reduce_same, | | Reduction::Prod;
    /// Means over `axes` at once.
    mean_axes mean_axes_keepdims -> f64, reduce_f64, | | Reduction::Mean;
    /// Variances over `axes` at once, dividing by `n - ddof`.
    var_axes var_axes_keepdims -> f64, reduce_f64, |ddof: f64| Reduction::Var(ddof);
    /// Standard deviations over `axes` at once, dividing by `n - ddof`.
    std_axes std_axes_keepdims -> f64, reduce_f64, |ddof: f64| Reduction::Std(ddof);
    /// Minima over `axes` at once.
    min_axes min_axes_keepdims -> T, reduce_same, | | Reduction::Min;
    /// Maxima over `axes` at once.
    max_axes max_axes_keepdims -> T, reduce_same, | | Reduction::Max;
    /// Spreads (max - min) over `axes` at once.
    ptp_axes ptp_axes_keepdims -> T, reduce_same, | | Reduction::Ptp;
    /// Sums of the elements that are not NaN over `axes` at once.
    nansum_axes nansum_axes_keepdims -> T, reduce_same, | | Reduction::NanSum;
    /// Means of the elements that are not NaN over `axes` at once.
    nanmean_axes nanmean_axes_keepdims -> f64, reduce_f64, | | Reduction::NanMean;
    /// Variances of the elements that are not NaN over `axes`, dividing by `n - ddof`.
    nanvar_axes nanvar_axes_keepdims -> f64, reduce_f64, |ddof: f64| Reduction::NanVar(ddof);
    /// Standard deviations of the elements that are not NaN over `axes`.
    nanstd_axes nanstd_axes_keepdims -> f64, reduce_f64, |ddof: f64| Reduction::NanStd(ddof);
    /// Minima of the elements that are not NaN over `axes` at once.
    nanmin_axes nanmin_axes_keepdims -> T, reduce_same, | | Reduction::NanMin;
    /// Maxima of the elements that are not NaN over `axes` at once.
    nanmax_axes nanmax_axes_keepdims -> T, reduce_same, | | Reduction::NanMax;
}

impl Array<bool> {
    /// How many elements are true (NumPy's `sum` of a bool array).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::arange(10).rechunk(3);
    /// assert_eq!(x.gt(6.5).sum().compute().unwrap(), 3);
    /// assert_eq!(x.gt(6.5).mean().compute().unwrap(), 0.3);
    /// ```
    pub fn sum(&self) -> Scalar<i64> {
        self.astype::<i64>().sum()
    }
    /// The fraction of elements that are true (NumPy's `mean` of a bool array).
    pub fn mean(&self) -> Scalar<f64> {
        self.astype::<i64>().mean()
    }
    /// How many elements are true along `axis`.
    pub fn sum_axis(&self, axis: usize) -> Array<i64> {
        self.astype::<i64>().sum_axis(axis)
    }
    /// The fraction of elements that are true along `axis`.
    pub fn mean_axis(&self, axis: usize) -> Array<f64> {
        self.astype::<i64>().mean_axis(axis)
    }
    /// Whether any element is true.
    pub fn any(&self) -> Scalar<bool> {
        Scalar::from_array(bool::reduce_same(self, Reduction::Any, None))
    }
    /// Whether every element is true (true for an empty array).
    pub fn all(&self) -> Scalar<bool> {
        Scalar::from_array(bool::reduce_same(self, Reduction::All, None))
    }
    /// Whether any element is true, along `axis`.
    pub fn any_axis(&self, axis: usize) -> Array<bool> {
        bool::reduce_same(self, Reduction::Any, Some((&[axis], false)))
    }
    /// Whether any element is true, along `axis`, keeping it with length 1.
    pub fn any_axis_keepdims(&self, axis: usize) -> Array<bool> {
        bool::reduce_same(self, Reduction::Any, Some((&[axis], true)))
    }
    /// Whether every element is true, along `axis`.
    pub fn all_axis(&self, axis: usize) -> Array<bool> {
        bool::reduce_same(self, Reduction::All, Some((&[axis], false)))
    }
    /// Whether every element is true, along `axis`, keeping it with length 1.
    pub fn all_axis_keepdims(&self, axis: usize) -> Array<bool> {
        bool::reduce_same(self, Reduction::All, Some((&[axis], true)))
    }
}

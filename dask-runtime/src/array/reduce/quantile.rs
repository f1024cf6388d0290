//! Percentiles and medians: over all elements (exact on one block, Dask's merge of
//! per-block percentiles otherwise) and along an axis (exact: the axis made one block,
//! as Dask's `median` does).
//!
//! Everything here works on `f64`: the generic methods cast first (a fused elementwise
//! step), so the sorting code is compiled once, in this crate.

use super::reducers::Reducer;
use super::{Array, BlockOp, BlockValue, Layer, Tokenizer, block};
use crate::array::elementwise::CastTo;
use crate::array::window::view;
use crate::array::{Element, ShapeError};
use crate::error::BoxError;
use ndarray::{ArrayD, ArrayView, Axis, Dimension, IxDyn};
use std::sync::Arc;

/// NumPy's default (`linear`) percentile `q` (0 to 100) of `sorted`, which is not empty.
fn linear(sorted: &[f64], q: f64) -> f64 {
    let at = q / 100.0 * (sorted.len() - 1) as f64;
    let (lo, frac) = (at.floor() as usize, at - at.floor());
    let hi = (lo + 1).min(sorted.len() - 1);
    // NumPy's form: exact at both ends, monotone in between.
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// The sorted values of `values`, or `None` if one is NaN (the answer is NaN).
fn sorted(values: impl Iterator<Item = f64>) -> Option<Vec<f64>> {
    let mut v: Vec<f64> = values.collect();
    if v.iter().any(|x| x.is_nan()) {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    Some(v)
}

/// The percentiles each part is summarised at: every whole percent and the ones asked.
fn grid(q: &[f64]) -> Vec<f64> {
    let mut g: Vec<f64> = (0..=100).map(f64::from).chain(q.iter().copied()).collect();
    g.sort_unstable_by(f64::total_cmp);
    g.dedup();
    g
}

/// What a part of the array says about its percentiles.
#[derive(Clone, Debug, Default)]
pub(crate) struct Summary {
    /// Elements seen.
    n: f64,
    nan: bool,
    /// Exact mode: every value.
    values: Vec<f64>,
    /// Merging mode: per part (a block, or a strip of one), its element count and its
    /// percentiles at each point of [`grid`].
    parts: Vec<(f64, Vec<f64>)>,
}

/// Percentiles `q` over all elements.
pub(crate) struct PercentileR {
    q: Vec<f64>,
    /// Keep every value (an array of one block: the answer is exact).
    exact: bool,
}

impl Reducer<f64> for PercentileR {
    type Acc = Summary;
    type Out = ArrayD<f64>;
    fn empty(&self) -> Summary {
        Summary::default()
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, f64, D>) -> Summary {
        let n = v.len() as f64;
        let Some(values) = sorted(v.iter().copied()) else {
            return Summary {
                n,
                nan: true,
                ..Summary::default()
            };
        };
        if self.exact || values.is_empty() {
            return Summary {
                n,
                values,
                ..Summary::default()
            };
        }
        let at = grid(&self.q).iter().map(|&g| linear(&values, g)).collect();
        Summary {
            n,
            parts: vec![(n, at)],
            ..Summary::default()
        }
    }
    fn merge(&self, mut a: Summary, b: Summary) -> Summary {
        a.n += b.n;
        a.nan |= b.nan;
        if a.nan {
            a.values.clear();
            a.parts.clear();
            return a;
        }
        a.values.extend(b.values);
        a.parts.extend(b.parts);
        a
    }
    fn finish(&self, s: Summary) -> Result<ArrayD<f64>, BoxError> {
        let nq = self.q.len();
        if s.n == 0.0 {
            return Err("percentile of an empty array".into());
        }
        if s.nan {
            return Ok(ArrayD::from_elem(IxDyn(&[nq]), f64::NAN));
        }
        let out: Vec<f64> = if self.exact {
            let mut v = s.values;
            v.sort_unstable_by(f64::total_cmp);
            self.q.iter().map(|&q| linear(&v, q)).collect()
        } else {
            merged(&s.parts, &grid(&self.q), &self.q)
        };
        Ok(ArrayD::from_shape_vec(IxDyn(&[nq]), out)?)
    }
}

/// The fraction of a part's elements at or below `x`, read off its percentile curve
/// (linear between the points of `grid`).
fn fraction_below(at: &[f64], grid: &[f64], x: f64) -> f64 {
    let k = at.partition_point(|&v| v <= x);
    if k == 0 {
        return 0.0;
    }
    if k == at.len() {
        return 1.0;
    }
    let (v0, v1) = (at[k - 1], at[k]);
    let (g0, g1) = (grid[k - 1], grid[k]);
    (g0 + (g1 - g0) * (x - v0) / (v1 - v0)) / 100.0
}

/// The parts' percentile curves merged (each weighted by its elements, as Dask's
/// `merge_percentiles` weights them), and each `q` read off the merged curve: the
/// value where the fraction of elements below it reaches `q` percent. The merged curve
/// is linear between the parts' points, so the answer is found among them and
/// interpolated.
fn merged(parts: &[(f64, Vec<f64>)], grid: &[f64], q: &[f64]) -> Vec<f64> {
    let total: f64 = parts.iter().map(|(n, _)| n).sum();
    let below = |x: f64| {
        parts
            .iter()
            .map(|(n, at)| n * fraction_below(at, grid, x))
            .sum::<f64>()
            / total
    };
    let mut candidates: Vec<f64> = parts
        .iter()
        .flat_map(|(_, at)| at.iter().copied())
        .collect();
    candidates.sort_unstable_by(f64::total_cmp);
    candidates.dedup();
    q.iter()
        .map(|&q| {
            let want = q / 100.0;
            // The first point where the curve reaches `want` (it is 1 at the last).
            let k = candidates.partition_point(|&c| below(c) < want);
            let hi = candidates[k.min(candidates.len() - 1)];
            let Some(&lo) = k.checked_sub(1).and_then(|j| candidates.get(j)) else {
                return hi;
            };
            let (f0, f1) = (below(lo), below(hi));
            if f1 > f0 {
                lo + (hi - lo) * (want - f0) / (f1 - f0)
            } else {
                hi
            }
        })
        .collect()
}

/// Percentiles along one axis, which is one block: each lane sorted, exact.
struct LanePercentiles {
    axis: usize,
    q: Vec<f64>,
    /// The percentiles are the output's first axis (NumPy's layout); without it, one
    /// percentile (a median) and no such axis.
    q_axis: bool,
}

impl BlockOp for LanePercentiles {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let mut at = if self.q_axis {
            idx[1..].to_vec()
        } else {
            idx.to_vec()
        };
        at.insert(self.axis, 0);
        out.push((0, at));
    }
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let input = view::<f64>(inputs.first().ok_or("internal: no input block")?)?;
        let shape = super::super::layer::lengths(&layer.region(idx));
        let lanes = input.lanes(Axis(self.axis));
        let count = lanes.clone().into_iter().len();
        let mut out = vec![f64::NAN; count * self.q.len()];
        for (k, lane) in lanes.into_iter().enumerate() {
            if lane.is_empty() {
                return Err("percentile along an axis of length 0".into());
            }
            if let Some(v) = sorted(lane.iter().copied()) {
                for (j, &q) in self.q.iter().enumerate() {
                    out[j * count + k] = linear(&v, q);
                }
            }
        }
        Ok(block(ArrayD::from_shape_vec(IxDyn(&shape), out)?))
    }
}

fn checked_q(q: &[f64]) -> Result<Vec<f64>, ShapeError> {
    if q.is_empty() || q.iter().any(|q| !(0.0..=100.0).contains(q)) {
        return Err(ShapeError::new(
            "percentile",
            format!("q {q:?}: give at least one, each from 0 to 100"),
        ));
    }
    Ok(q.to_vec())
}

impl Array<f64> {
    fn percentile_all(&self, q: &[f64]) -> Array<f64> {
        let q = match checked_q(q) {
            Ok(q) => q,
            Err(e) => return Array::from_error(e),
        };
        let exact = match self.layer() {
            Ok(l) => l.grid().iter().product::<usize>() == 1,
            Err(e) => return Array::from_error(e),
        };
        let params: Vec<u64> = q.iter().map(|v| v.to_bits()).collect();
        let len = q.len();
        self.reduce_to_vector("percentile", (params, exact), len, PercentileR { q, exact })
    }

    fn percentile_lanes(&self, q: &[f64], axis: usize, q_axis: bool) -> Array<f64> {
        let q = match checked_q(q) {
            Ok(q) => q,
            Err(e) => return Array::from_error(e),
        };
        let layer = match self.layer() {
            Ok(l) => Arc::clone(l),
            Err(e) => return Array::from_error(e),
        };
        if axis >= layer.shape.len() {
            let n = layer.shape.len();
            return Array::failed("percentile", format!("axis {axis} of a {n}-d array"));
        }
        // The axis whole in each block, the other axes' chunks kept.
        let mut whole = layer.chunks.clone();
        whole[axis] = vec![layer.shape[axis]];
        let input = crate::array::blocks::rechunk_layer(&layer, whole, f64::ops());
        let (mut shape, mut chunks) = (input.shape.clone(), input.chunks.clone());
        shape.remove(axis);
        chunks.remove(axis);
        if q_axis {
            shape.insert(0, q.len());
            chunks.insert(0, vec![q.len()]);
        }
        let params: Vec<u64> = q.iter().map(|v| v.to_bits()).collect();
        let token = Tokenizer::new("percentile").add((params, axis, q_axis));
        Array::from_op(
            "percentile",
            token,
            shape,
            chunks,
            vec![input],
            LanePercentiles { axis, q, q_axis },
        )
    }
}

impl<T: Element + CastTo<f64>> Array<T> {
    /// The percentiles `q` (0 to 100) of all elements, NumPy's linear interpolation,
    /// as a 1-d array of `q.len()` values. On an array of one block the answer is
    /// exact; on several, each block (a strip at a time) is summarised by its
    /// percentiles at every whole percent and at `q`, and the answer is read off the
    /// summaries' curves merged, weighted by their elements, as Dask's `percentile`
    /// merges per-block percentiles (Dask summarises at `q` alone, so ours is closer).
    /// Any NaN makes every answer NaN, as in NumPy.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::arange(101);
    /// let p = x.percentile(&[0.0, 25.0, 50.0, 100.0]).compute().unwrap();
    /// assert_eq!(p.as_slice().unwrap(), [0.0, 25.0, 50.0, 100.0]);
    /// let approx = x.rechunk(10).percentile(&[50.0]).compute().unwrap();
    /// assert!((approx[0] - 50.0).abs() < 1.0);
    /// ```
    pub fn percentile(&self, q: &[f64]) -> Array<f64> {
        self.astype::<f64>().percentile_all(q)
    }

    /// The percentiles `q` along `axis`, exact: the axis is made one block (Dask's
    /// `percentile` along an axis needs the same). The result's first axis is `q`
    /// (NumPy's layout), then the other axes.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::arange(12).reshape([3, 4]).rechunk([1, 2]);
    /// let p = x.percentile_axis(&[0.0, 100.0], 0).compute().unwrap();
    /// assert_eq!(p.shape(), [2, 4]);
    /// assert_eq!(p[[1, 3]], 11.0);
    /// ```
    pub fn percentile_axis(&self, q: &[f64], axis: usize) -> Array<f64> {
        self.astype::<f64>().percentile_lanes(q, axis, true)
    }

    /// The median along `axis`, exact (Dask's `median`: the axis made one block).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::arange(12).reshape([3, 4]).rechunk([1, 2]);
    /// assert_eq!(x.median_axis(1).compute().unwrap().as_slice().unwrap(), [1.5, 5.5, 9.5]);
    /// ```
    pub fn median_axis(&self, axis: usize) -> Array<f64> {
        self.astype::<f64>().percentile_lanes(&[50.0], axis, false)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn linear_interpolation_is_numpys() {
        let v = [1.0, 2.0, 4.0, 8.0];
        // np.percentile([1, 2, 4, 8], [0, 10, 50, 90, 100])
        let want = [1.0, 1.3, 3.0, 6.8, 8.0];
        for (q, w) in [0.0, 10.0, 50.0, 90.0, 100.0].into_iter().zip(want) {
            assert!((linear(&v, q) - w).abs() < 1e-12, "{q}");
        }
        assert_eq!(linear(&[5.0], 30.0), 5.0);
    }
}

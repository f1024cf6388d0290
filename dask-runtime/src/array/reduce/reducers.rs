//! The kinds of reduction: how values fold into a partial result, how partials
//! merge, and how the last one becomes the answer.

use super::numerics::{Compensated, Moments, Numeric, merge_moments, moments, view_sum};
use crate::error::BoxError;
use ndarray::{ArrayView, Dimension};

/// One kind of reduction: fold values into a partial result, merge partials, finish.
pub(crate) trait Reducer<T>: Send + Sync + 'static {
    type Acc: Clone + Send + Sync + 'static;
    type Out: Clone + Send + Sync + 'static;
    fn empty(&self) -> Self::Acc;
    /// Folds `values` in logical order; positions (for arg-reductions) count from 0.
    fn fold<D: Dimension>(&self, values: ArrayView<'_, T, D>) -> Self::Acc;
    /// Whether the result holds positions ([`Reducer::rebase`] moves them): those need
    /// the blocks' sizes, so an array of unknown chunk sizes cannot be reduced so.
    const POSITIONAL: bool = false;
    /// Turns positions local to a block into global ones.
    fn rebase(&self, acc: Self::Acc, _global: &dyn Fn(usize) -> usize) -> Self::Acc {
        acc
    }
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    fn finish(&self, acc: Self::Acc) -> Result<Self::Out, BoxError>;
    /// Whether parts may be folded in any order and any shape (merges commute, up to
    /// rounding; positions are global): true of every built-in reduction.
    const ANY_ORDER: bool = true;
}

pub(crate) struct SumR;
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

pub(crate) struct ProdR;
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

/// A mean needs one pass: a compensated sum and a count.
pub(crate) struct MeanR;
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
pub(crate) enum Stat {
    Var(f64),
    Std(f64),
}

pub(crate) struct MomentsR(pub(crate) Stat);
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

/// `x != x`: NaN for floats, never for integers.
#[allow(clippy::eq_op)]
pub(crate) fn is_nan<T: PartialEq + Copy>(x: T) -> bool {
    x != x
}

/// NumPy's `nanmean` in one pass: NaNs count as absent (a sum that adds 0 for them,
/// and a count without them), with no copy of the values that are kept.
pub(crate) struct NanMeanR;
impl<T: Numeric> Reducer<T> for NanMeanR {
    type Acc = (f64, Compensated);
    type Out = f64;
    fn empty(&self) -> Self::Acc {
        (0.0, Compensated::default())
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Self::Acc {
        let nans = v.iter().filter(|&&x| is_nan(x)).count();
        let sum = view_sum(&v, |x| {
            let f = x.to_f64();
            if f.is_nan() { 0.0 } else { f }
        });
        ((v.len() - nans) as f64, sum)
    }
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        (a.0 + b.0, a.1.merge(b.1))
    }
    fn finish(&self, (n, sum): Self::Acc) -> Result<f64, BoxError> {
        Ok(if n == 0.0 { f64::NAN } else { sum.value() / n })
    }
}

/// `R` over the values that are not NaN (NumPy's `nansum`, `nanmean`, ...).
pub(crate) struct SkipNan<R>(pub(crate) R);
impl<T: Numeric, R: Reducer<T>> Reducer<T> for SkipNan<R> {
    type Acc = R::Acc;
    type Out = R::Out;
    fn empty(&self) -> R::Acc {
        self.0.empty()
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> R::Acc {
        if !v.iter().any(|&x| is_nan(x)) {
            return self.0.fold(v);
        }
        let kept: Vec<T> = v.iter().copied().filter(|&x| !is_nan(x)).collect();
        self.0.fold(ndarray::ArrayView1::from(&kept[..]))
    }
    fn merge(&self, a: R::Acc, b: R::Acc) -> R::Acc {
        self.0.merge(a, b)
    }
    fn finish(&self, acc: R::Acc) -> Result<R::Out, BoxError> {
        self.0.finish(acc)
    }
}

/// The spread, max - min (NumPy's `ptp`); a NaN wins.
pub(crate) struct PtpR;
impl<T: Numeric> Reducer<T> for PtpR {
    type Acc = (Option<T>, Option<T>);
    type Out = T;
    fn empty(&self) -> Self::Acc {
        (None, None)
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Self::Acc {
        let (lo, hi) = (ExtremeR::min(false), ExtremeR::max(false));
        (lo.fold(v.view()), hi.fold(v))
    }
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        let (lo, hi) = (ExtremeR::min(false), ExtremeR::max(false));
        (
            Reducer::<T>::merge(&lo, a.0, b.0),
            Reducer::<T>::merge(&hi, a.1, b.1),
        )
    }
    fn finish(&self, (lo, hi): Self::Acc) -> Result<T, BoxError> {
        match (lo, hi) {
            (Some(lo), Some(hi)) => Ok(T::difference(hi, lo)),
            _ => Err("ptp of an empty array (it has no identity)".into()),
        }
    }
}

/// Min or max; a NaN wins, as in NumPy, unless NaNs are skipped (`nanmin`: NaN only
/// when every value is).
pub(crate) struct ExtremeR {
    pub(crate) max: bool,
    pub(crate) skip_nan: bool,
}

impl ExtremeR {
    pub(crate) fn min(skip_nan: bool) -> Self {
        ExtremeR {
            max: false,
            skip_nan,
        }
    }
    pub(crate) fn max(skip_nan: bool) -> Self {
        ExtremeR {
            max: true,
            skip_nan,
        }
    }
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
    fn merge(&self, a: Option<T>, b: Option<T>) -> Option<T> {
        match (a, b) {
            (None, o) | (o, None) => o,
            // Skipping: a NaN loses to any number (and stands when all are NaN).
            (Some(x), Some(y)) if self.skip_nan && is_nan(x) => Some(y),
            (Some(x), Some(y)) if self.skip_nan && is_nan(y) => Some(x),
            (Some(x), _) if is_nan(x) => Some(x),
            (_, Some(y)) if is_nan(y) => Some(y),
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

/// Position of the min or max (the first one; the first NaN wins, as in NumPy, unless
/// NaNs are skipped: `nanargmin`, an error when every value is NaN).
pub(crate) struct ArgR {
    pub(crate) max: bool,
    pub(crate) skip_nan: bool,
}
impl<T: Numeric> Reducer<T> for ArgR {
    type Acc = Option<(T, usize)>;
    type Out = i64;
    fn empty(&self) -> Self::Acc {
        None
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Self::Acc {
        v.iter()
            .enumerate()
            .filter(|(_, x)| !(self.skip_nan && is_nan(**x)))
            .fold(None, |a, (i, &x)| {
                Reducer::<T>::merge(self, a, Some((x, i)))
            })
    }
    const POSITIONAL: bool = true;
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
        acc.map(|(_, i)| i as i64).ok_or_else(|| {
            if self.skip_nan {
                "nanargmin/nanargmax of an empty or all-NaN slice".into()
            } else {
                "argmin/argmax of an empty array".into()
            }
        })
    }
}

pub(crate) struct BoolR {
    pub(crate) all: bool,
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

/// NumPy's order for sorting: NaN after every number.
pub(crate) fn nan_last<T: PartialOrd + Copy>(a: &T, b: &T) -> std::cmp::Ordering {
    match (is_nan(*a), is_nan(*b)) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// The `k` largest values, largest first (Dask's `topk`; NaN counts as largest, as in
/// NumPy's sort).
pub(crate) struct TopR {
    pub(crate) k: usize,
}
impl<T: Numeric> Reducer<T> for TopR {
    type Acc = Vec<T>;
    type Out = ndarray::ArrayD<T>;
    fn empty(&self) -> Vec<T> {
        Vec::new()
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Vec<T> {
        self.keep(v.iter().copied().collect())
    }
    fn merge(&self, mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
        a.extend(b);
        self.keep(a)
    }
    fn finish(&self, top: Vec<T>) -> Result<ndarray::ArrayD<T>, BoxError> {
        if top.len() < self.k {
            return Err(format!("topk({}) of an array of {} elements", self.k, top.len()).into());
        }
        Ok(ndarray::ArrayD::from_shape_vec(
            ndarray::IxDyn(&[top.len()]),
            top,
        )?)
    }
}

impl TopR {
    /// The `k` largest of `values`, largest first.
    fn keep<T: Numeric>(&self, mut values: Vec<T>) -> Vec<T> {
        let by = |a: &T, b: &T| nan_last(b, a);
        if values.len() > self.k && self.k > 0 {
            values.select_nth_unstable_by(self.k - 1, by);
        }
        values.truncate(self.k);
        values.sort_unstable_by(by);
        values
    }
}

/// The positions of the `k` largest values, largest first, the lower position first
/// among equals (Dask's `argtopk`; NaN counts as largest).
pub(crate) struct ArgTopR {
    pub(crate) k: usize,
}
impl<T: Numeric> Reducer<T> for ArgTopR {
    type Acc = Vec<(T, usize)>;
    type Out = ndarray::ArrayD<i64>;
    fn empty(&self) -> Self::Acc {
        Vec::new()
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Self::Acc {
        self.keep(v.iter().copied().enumerate().map(|(i, x)| (x, i)).collect())
    }
    const POSITIONAL: bool = true;
    fn rebase(&self, acc: Self::Acc, global: &dyn Fn(usize) -> usize) -> Self::Acc {
        acc.into_iter().map(|(x, i)| (x, global(i))).collect()
    }
    fn merge(&self, mut a: Self::Acc, b: Self::Acc) -> Self::Acc {
        a.extend(b);
        self.keep(a)
    }
    fn finish(&self, top: Self::Acc) -> Result<ndarray::ArrayD<i64>, BoxError> {
        if top.len() < self.k {
            return Err(
                format!("argtopk({}) of an array of {} elements", self.k, top.len()).into(),
            );
        }
        let positions: Vec<i64> = top.into_iter().map(|(_, i)| i as i64).collect();
        Ok(ndarray::ArrayD::from_shape_vec(
            ndarray::IxDyn(&[positions.len()]),
            positions,
        )?)
    }
}

impl ArgTopR {
    /// The `k` largest of `values` with their positions, largest first.
    fn keep<T: Numeric>(&self, mut values: Vec<(T, usize)>) -> Vec<(T, usize)> {
        let by = |a: &(T, usize), b: &(T, usize)| nan_last(&b.0, &a.0).then(a.1.cmp(&b.1));
        if values.len() > self.k && self.k > 0 {
            values.select_nth_unstable_by(self.k - 1, by);
        }
        values.truncate(self.k);
        values.sort_unstable_by(by);
        values
    }
}

/// Counts of values in `bins` equal bins over `[lo, hi]` (NumPy's `histogram`: each bin
/// holds its left edge, the last also its right edge; values outside and NaN are not
/// counted).
pub(crate) struct HistR {
    pub(crate) bins: usize,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
}
impl<T: Numeric> Reducer<T> for HistR {
    type Acc = Vec<i64>;
    type Out = ndarray::ArrayD<i64>;
    fn empty(&self) -> Vec<i64> {
        vec![0; self.bins]
    }
    fn fold<D: Dimension>(&self, v: ArrayView<'_, T, D>) -> Vec<i64> {
        let mut counts = vec![0; self.bins];
        let width = (self.hi - self.lo) / self.bins as f64;
        for &x in v.iter() {
            let x = x.to_f64();
            if x >= self.lo && x <= self.hi {
                let bin = (((x - self.lo) / width) as usize).min(self.bins - 1);
                counts[bin] += 1;
            }
        }
        counts
    }
    fn merge(&self, mut a: Vec<i64>, b: Vec<i64>) -> Vec<i64> {
        a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        a
    }
    fn finish(&self, counts: Vec<i64>) -> Result<ndarray::ArrayD<i64>, BoxError> {
        Ok(ndarray::ArrayD::from_shape_vec(
            ndarray::IxDyn(&[self.bins]),
            counts,
        )?)
    }
}

//! The numbers under the reductions: compensated sums and mergeable moments, so a
//! mean of 10^8 values is right to about 1e-15.

use super::super::Element;
use ndarray::{ArrayView, Dimension};

/// A numeric element type: `f64`, `f32` or `i64`.
pub trait Numeric: Element + PartialOrd + super::Reduce {
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
    /// `a + b` (wrapping for integers), as a running total adds.
    #[doc(hidden)]
    fn plus(a: Self, b: Self) -> Self;
    #[doc(hidden)]
    fn prod(a: Self, b: Self) -> Self;
    #[doc(hidden)]
    fn one() -> Self;
    /// `a - b` (wrapping for `i64`).
    #[doc(hidden)]
    fn difference(a: Self, b: Self) -> Self;
}

/// A compensated sum: the running sum and the error it dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct Compensated(f64, f64);

// By hand, as a pair: serde's derive would add a proc-macro stack to every build.
impl serde::Serialize for Compensated {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.0, self.1).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Compensated {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <(f64, f64)>::deserialize(d).map(|(s, c)| Compensated(s, c))
    }
}

impl Compensated {
    #[inline(always)]
    pub(crate) fn add(self, x: f64) -> Self {
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
    pub(crate) fn merge(self, other: Self) -> Self {
        Compensated(self.0, self.1 + other.1).add(other.0)
    }
    pub(crate) fn value(self) -> f64 {
        self.0 + self.1
    }
}

/// A compensated sum of `values` mapped by `f`: runs of 256 summed with 8 independent
/// accumulators (fast, error about 256 ulps of the run), the runs added with Neumaier's
/// compensation (so the error does not grow with the number of runs).
#[inline]
pub(crate) fn compensated_sum<T: Copy>(values: &[T], f: impl Fn(T) -> f64) -> Compensated {
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
pub(crate) fn view_sum<T: Numeric, D: Dimension>(
    v: &ArrayView<'_, T, D>,
    f: impl Fn(T) -> f64,
) -> Compensated {
    if let Some(s) = v.as_slice_memory_order() {
        return compensated_sum(s, f);
    }
    if v.ndim() > 0 && v.strides().last() == Some(&1) {
        // Rows of a window (a block's middle, a strip): each row is contiguous.
        return v
            .rows()
            .into_iter()
            .fold(Compensated::default(), |a, row| match row.as_slice() {
                Some(s) => a.merge(compensated_sum(s, &f)),
                None => row.iter().fold(a, |a, &x| a.add(f(x))),
            });
    }
    v.iter().fold(Compensated::default(), |a, &x| a.add(f(x)))
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
            fn plus(a: Self, b: Self) -> Self { a + b }
            fn one() -> Self { 1.0 }
            fn difference(a: Self, b: Self) -> Self { a - b }
        }
    )*};
}
float_numeric!(f64, f32);

macro_rules! int_numeric {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
            type Sum = $t;
            fn sum_zero() -> $t {
                0
            }
            fn sum_add(acc: $t, v: $t) -> $t {
                acc.wrapping_add(v)
            }
            fn sum_merge(a: $t, b: $t) -> $t {
                a.wrapping_add(b)
            }
            fn sum_finish(acc: $t) -> $t {
                acc
            }
            fn prod(a: $t, b: $t) -> $t {
                a.wrapping_mul(b)
            }
            fn plus(a: $t, b: $t) -> $t {
                a.wrapping_add(b)
            }
            fn one() -> $t {
                1
            }
            fn difference(a: $t, b: $t) -> $t {
                a.wrapping_sub(b)
            }
        }
    )*};
}
int_numeric!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Count, mean and sum of squared deviations: exact moments that merge.
#[derive(Clone, Copy, Debug, Default)]
pub struct Moments {
    pub(crate) n: f64,
    pub(crate) mean: f64,
    pub(crate) m2: f64,
}

// By hand, as a triple (see `Compensated`).
impl serde::Serialize for Moments {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.n, self.mean, self.m2).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Moments {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <(f64, f64, f64)>::deserialize(d).map(|(n, mean, m2)| Moments { n, mean, m2 })
    }
}

pub(crate) fn moments<T: Numeric, D: Dimension>(v: ArrayView<'_, T, D>) -> Moments {
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

pub(crate) fn merge_moments(a: Moments, b: Moments) -> Moments {
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

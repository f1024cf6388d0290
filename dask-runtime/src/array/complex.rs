//! Complex element types, `Complex64` and `Complex32` (num-complex's, re-exported as
//! `dask::array::{Complex64, Complex32}`): arithmetic with arrays and scalars, casts
//! from real types, the real and imaginary parts, and the reductions that need no
//! order (`sum`, `mean`, `prod`). Complex numbers have no order, so `gt`, `min` and
//! `sort`-based functions are not there (NumPy orders them lexicographically).

use super::dot::{batched_matmul, dot_by, matmul, matmul_by, outer_by, tensordot_by};
use super::elementwise::{CastTo, Comparison, Operand, Unary, binary};
use super::layer::Tokenizer;
use super::{Array, Element, Scalar};
use num_complex::{Complex, Complex32, Complex64};

/// Only `==` and `!=` compare complex numbers.
pub(crate) fn compare<T: Element>(a: Operand<T>, b: Operand<T>, op: Comparison) -> Array<bool> {
    match op {
        Comparison::Eq => binary("eq", a, b, |a: T, b: T| a == b),
        Comparison::Ne => binary("ne", a, b, |a: T, b: T| a != b),
        other => Array::failed(
            "compare",
            format!("{other:?}: complex numbers have no order"),
        ),
    }
}

/// The elementwise functions of complex numbers (`floor`, `ceil` and `abs`, whose
/// result is real, are not among them: see [`Array::norm`]).
pub(crate) fn complex_unary<F>(a: &Array<Complex<F>>, op: Unary) -> Array<Complex<F>>
where
    F: num_traits::Float + Send + Sync + std::fmt::Debug + Default + 'static,
    Complex<F>: Element,
{
    let map = |label: &'static str, f: fn(Complex<F>) -> Complex<F>| {
        a.map_named(label, Tokenizer::new(label), f)
    };
    match op {
        Unary::Sqrt => map("sqrt", |v| v.sqrt()),
        Unary::Exp => map("exp", |v| v.exp()),
        Unary::Ln => map("ln", |v| v.ln()),
        Unary::Sin => map("sin", |v| v.sin()),
        Unary::Cos => map("cos", |v| v.cos()),
        Unary::Tan => map("tan", |v| v.tan()),
        other => Array::failed(
            "unary",
            format!("{other:?} is not defined on complex numbers"),
        ),
    }
}

macro_rules! complex_methods {
    ($c:ident, $f:ty) => {
        impl Array<$c> {
            /// The real parts.
            pub fn re(&self) -> Array<$f> {
                self.map_named("re", Tokenizer::new("re"), |v: $c| v.re)
            }
            /// The imaginary parts.
            pub fn im(&self) -> Array<$f> {
                self.map_named("im", Tokenizer::new("im"), |v: $c| v.im)
            }
            /// NumPy's `dot` of complex arrays, as [`Array::dot`] of real ones: the
            /// matrix product (each output block a tree sum of block products), a
            /// matrix times a vector, the inner product (a 0-d array; not conjugated,
            /// as NumPy's `dot`), and for more axes the sum over `self`'s last axis and
            /// `other`'s second-to-last.
            ///
            /// ```
            /// # use dask_runtime as dask;
            /// use dask::array::{Complex64, from_ndarray};
            /// let i = Complex64::new(0.0, 1.0);
            /// let a = from_ndarray(ndarray::arr2(&[[i, 1.0.into()], [2.0.into(), i]]), 1);
            /// let v = from_ndarray(ndarray::arr1(&[1.0.into(), i]), 1);
            /// assert_eq!(a.dot(&v).compute().unwrap().as_slice().unwrap(), [2.0 * i, 1.0.into()]);
            /// ```
            pub fn dot(&self, other: &Array<$c>) -> Array<$c> {
                dot_by(self, other, matmul::<$c>)
            }
            /// NumPy's `matmul` (`@`), as [`Array::matmul`] of real arrays: stacks of
            /// matrices broadcast over their leading axes.
            ///
            /// ```
            /// # use dask_runtime as dask;
            /// use dask::array::{Complex64, from_ndarray};
            /// let i = Complex64::new(0.0, 1.0);
            /// let a = from_ndarray(ndarray::Array3::from_elem((2, 2, 2), i).into_dyn(), 1);
            /// let p = a.matmul(&a).compute().unwrap();
            /// assert_eq!(p.shape(), [2, 2, 2]);
            /// assert_eq!(p[[1, 0, 1]], Complex64::new(-2.0, 0.0));
            /// ```
            pub fn matmul(&self, other: &Array<$c>) -> Array<$c> {
                matmul_by(self, other, matmul::<$c>, batched_matmul::<$c>)
            }
            /// The sum of products over `axes.0` of `self` and `axes.1` of `other`
            /// (NumPy's `tensordot`, no conjugation), as [`Array::tensordot`] of real
            /// arrays.
            pub fn tensordot(&self, other: &Array<$c>, axes: (&[usize], &[usize])) -> Array<$c> {
                tensordot_by(self, other, axes, matmul::<$c>)
            }
            /// The outer product of the two arrays flattened (NumPy's `outer`, no
            /// conjugation).
            pub fn outer(&self, other: &Array<$c>) -> Array<$c> {
                outer_by(self, other, |x: $c, y: $c| x * y)
            }
            /// The complex conjugates.
            pub fn conj(&self) -> Array<$c> {
                self.map_named("conj", Tokenizer::new("conj"), |v: $c| v.conj())
            }
            /// The magnitudes (NumPy's `abs` of a complex array).
            pub fn norm(&self) -> Array<$f> {
                self.map_named("norm", Tokenizer::new("norm"), |v: $c| v.norm())
            }
            /// The angles, in radians (NumPy's `angle`).
            pub fn arg(&self) -> Array<$f> {
                self.map_named("arg", Tokenizer::new("arg"), |v: $c| v.arg())
            }
            /// The sum of all elements.
            pub fn sum(&self) -> Scalar<$c> {
                self.reduction(|p| p.sum(), |a, b| a + b, |s| s)
            }
            /// The product of all elements.
            pub fn prod(&self) -> Scalar<$c> {
                self.reduction(|p| p.product(), |a, b| a * b, |s| s)
            }
            /// The mean of all elements (NaN for none, as NumPy's).
            pub fn mean(&self) -> Scalar<$c> {
                self.reduction(
                    |p| (p.sum(), p.len()),
                    |a, b| (a.0 + b.0, a.1 + b.1),
                    |(s, n)| s / (n as $f),
                )
            }
        }
    };
}
complex_methods!(Complex64, f64);
complex_methods!(Complex32, f32);

macro_rules! to_complex {
    ($($from:ty),*) => {$(
        impl CastTo<Complex64> for $from {
            #[allow(clippy::cast_lossless, clippy::unnecessary_cast)]
            fn cast(self) -> Complex64 {
                Complex64::new(self as f64, 0.0)
            }
        }
        impl CastTo<Complex32> for $from {
            #[allow(clippy::cast_lossless, clippy::unnecessary_cast)]
            fn cast(self) -> Complex32 {
                Complex32::new(self as f32, 0.0)
            }
        }
    )*};
}
to_complex!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64);

impl CastTo<Complex64> for Complex64 {
    fn cast(self) -> Complex64 {
        self
    }
}
impl CastTo<Complex32> for Complex32 {
    fn cast(self) -> Complex32 {
        self
    }
}
impl CastTo<Complex64> for Complex32 {
    fn cast(self) -> Complex64 {
        Complex64::new(f64::from(self.re), f64::from(self.im))
    }
}
impl CastTo<Complex32> for Complex64 {
    fn cast(self) -> Complex32 {
        Complex32::new(self.re as f32, self.im as f32)
    }
}

//! Elementwise operations with NumPy's broadcasting: one layer each, whose block reads
//! the same block of each input; a chain of them is fused into one task a block at
//! compute time. Inputs whose chunks differ along an axis are rechunked to a common
//! refinement first.

use super::blocks::rechunk_layer;
use super::chunks::offsets;
use super::create::full;
use super::element::ElementOps;
use super::layer::{BlockOp, BlockValue, Layer, Region, Regional, Tokenizer, block};
use super::window::view;
use super::{Array, ChunkSpec, Element, Scalar, ShapeError};
use crate::error::BoxError;
use ndarray::IxDyn;
use num_complex::{Complex32, Complex64};
use num_traits::Float;
use std::ops::{Add, Div, Mul, Neg, Not, Rem, Sub};
use std::sync::Arc;

/// One side of an elementwise operation: an array or a scalar.
#[derive(Debug)]
pub enum Operand<T: Element> {
    /// An array, broadcast against the others.
    Array(Array<T>),
    /// A value, as a 0-d array.
    Scalar(T),
}

impl<T: Element> From<Array<T>> for Operand<T> {
    fn from(a: Array<T>) -> Self {
        Operand::Array(a)
    }
}

impl<T: Element> From<&Array<T>> for Operand<T> {
    fn from(a: &Array<T>) -> Self {
        Operand::Array(a.clone())
    }
}

impl<T: Element> From<Scalar<T>> for Operand<T> {
    fn from(s: Scalar<T>) -> Self {
        Operand::Array(s.into_array())
    }
}

impl<T: Element> From<&Scalar<T>> for Operand<T> {
    fn from(s: &Scalar<T>) -> Self {
        Operand::Array(s.as_array().clone())
    }
}

macro_rules! scalar_operand {
    ($($t:ty),*) => {$(
        impl From<$t> for Operand<$t> {
            fn from(v: $t) -> Self {
                Operand::Scalar(v)
            }
        }
    )*};
}
scalar_operand!(
    f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, bool, Complex64, Complex32
);

impl<T: Element> Operand<T> {
    fn into_array(self) -> Array<T> {
        match self {
            Operand::Array(a) => a,
            Operand::Scalar(v) => full([], v, ChunkSpec::Uniform(1)),
        }
    }
}

/// An input of an elementwise operation, its element type erased.
struct Input {
    layer: Arc<Layer>,
    /// Its element type's operations, to rechunk it where the inputs' chunks differ.
    ops: &'static ElementOps,
}

fn input<T: Element>(a: &Array<T>) -> Result<Input, ShapeError> {
    // Unknown chunk sizes are allowed here: see `unknown_elementwise`.
    Ok(Input {
        layer: Arc::clone(a.any_layer()?),
        ops: T::ops(),
    })
}

/// An elementwise step over arrays whose chunk sizes are unknown until computed
/// (`extract`, `unique`; Dask's `nan` chunks) and scalars: block `i` of each such
/// array, combined whatever its length (blocks that turn out to differ in length are
/// an error then, as in Dask).
struct UnknownElementwise {
    /// Per input: whether it is a scalar (0-d, one block) rather than an array of
    /// unknown chunks.
    scalars: Vec<bool>,
    /// The shape of a block of the first array input.
    shape_of: fn(&BlockValue) -> Result<Vec<usize>, BoxError>,
    combine: Combine,
}

impl BlockOp for UnknownElementwise {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        for (i, &scalar) in self.scalars.iter().enumerate() {
            out.push((i, if scalar { Vec::new() } else { idx.to_vec() }));
        }
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let first = self
            .scalars
            .iter()
            .position(|&s| !s)
            .and_then(|i| inputs.get(i))
            .ok_or("internal: an elementwise step without an array")?;
        let shape = (self.shape_of)(first)?;
        (self.combine)(inputs, &shape)
    }
    fn unknown_chunks(&self) -> bool {
        true
    }
}

/// [`elementwise`] when some input's chunk sizes are unknown: the others must be
/// scalars, and those inputs must have as many blocks as each other.
fn unknown_elementwise<T: Element>(
    label: &'static str,
    token: Tokenizer,
    inputs: Vec<Input>,
    combine: Combine,
) -> Array<T> {
    let mut blocks = None;
    for i in &inputs {
        if i.layer.op.unknown_chunks() {
            let n = i.layer.chunks.first().map_or(0, Vec::len);
            if blocks.is_some_and(|b| b != n) {
                return Array::failed(
                    label,
                    "arrays of unknown chunk sizes with different numbers of blocks".into(),
                );
            }
            blocks = Some(n);
        } else if !i.layer.shape.is_empty() {
            return Array::failed(
                label,
                format!(
                    "an array of unknown chunk sizes (Dask's nan chunks) combines only with \
                     scalars and arrays like it, not with shape {:?}: call \
                     compute_chunk_sizes() first",
                    i.layer.shape
                ),
            );
        }
    }
    let n = blocks.unwrap_or(0);
    let scalars: Vec<bool> = inputs
        .iter()
        .map(|i| !i.layer.op.unknown_chunks())
        .collect();
    let Some(shape_of) = inputs
        .iter()
        .find(|i| i.layer.op.unknown_chunks())
        .map(|i| i.ops.shape)
    else {
        return Array::failed(label, "internal: no array of unknown chunks".into());
    };
    let layers = inputs.into_iter().map(|i| i.layer).collect();
    Array::from_layer(super::new_layer(
        label,
        token,
        vec![0],
        vec![vec![0; n]],
        layers,
        UnknownElementwise {
            scalars,
            shape_of,
            combine,
        },
        4,
    ))
}

/// Combines the inputs' blocks (broadcastable to the output block) into the output
/// block of the given shape.
type Combine = Box<dyn Fn(Vec<BlockValue>, &[usize]) -> Result<BlockValue, BoxError> + Send + Sync>;

/// An elementwise step: each output block reads the same block of each input (block 0
/// along the axes an input is stretched on).
struct Elementwise {
    /// Per input: how many axes it lacks on the left, and which of its axes stretch.
    inputs: Vec<(usize, Vec<bool>)>,
    combine: Combine,
}

impl BlockOp for Elementwise {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        for (i, (pad, stretched)) in self.inputs.iter().enumerate() {
            let at = stretched
                .iter()
                .enumerate()
                .map(|(ax, &s)| if s { 0 } else { idx[pad + ax] })
                .collect();
            out.push((i, at));
        }
    }
    fn blockwise(&self) -> bool {
        true
    }
    fn regional(&self) -> Option<&dyn Regional> {
        Some(self)
    }
}

impl Regional for Elementwise {
    fn input_region(&self, _: &Layer, input: usize, region: &Region) -> Vec<(usize, usize)> {
        let (pad, stretched) = &self.inputs[input];
        stretched
            .iter()
            .enumerate()
            .map(|(ax, &s)| if s { (0, 1) } else { region[pad + ax] })
            .collect()
    }
    fn run_region(
        &self,
        _: &Layer,
        region: &Region,
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        (self.combine)(inputs, &super::layer::lengths(region))
    }
}

/// The elementwise combination of `inputs`, broadcast together (NumPy's rules); inputs
/// whose chunks differ along an axis are rechunked to a common refinement first.
fn elementwise<T: Element>(
    label: &'static str,
    token: Tokenizer,
    inputs: Vec<Result<Input, ShapeError>>,
    combine: Combine,
) -> Array<T> {
    let inputs = match inputs.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(i) => i,
        Err(e) => return Array::from_error(e),
    };
    if inputs.iter().any(|i| i.layer.op.unknown_chunks()) {
        return unknown_elementwise(label, token, inputs, combine);
    }
    let ndim = inputs
        .iter()
        .map(|i| i.layer.shape.len())
        .max()
        .unwrap_or(0);
    // The output shape, NumPy's rules: align on the right; a length-1 axis stretches.
    let mut shape = vec![1_usize; ndim];
    for i in &inputs {
        let pad = ndim - i.layer.shape.len();
        for (ax, &n) in i.layer.shape.iter().enumerate() {
            let out = &mut shape[pad + ax];
            if *out == 1 {
                *out = n;
            } else if n != 1 && n != *out {
                let shapes: Vec<String> = inputs
                    .iter()
                    .map(|i| format!("{:?}", i.layer.shape))
                    .collect();
                return Array::failed(
                    label,
                    format!(
                        "shapes {} do not broadcast (axis {} has lengths {} and {n})",
                        shapes.join(" and "),
                        pad + ax,
                        *out
                    ),
                );
            }
        }
    }
    // The output chunks: a common refinement of the inputs' chunks on each axis.
    let mut chunks: Vec<Vec<usize>> = Vec::with_capacity(ndim);
    for (ax, &len) in shape.iter().enumerate() {
        let mut bounds: Vec<usize> = Vec::new();
        for i in &inputs {
            let pad = ndim - i.layer.shape.len();
            if ax >= pad && i.layer.shape[ax - pad] == len {
                let c = &i.layer.chunks[ax - pad];
                bounds.extend(offsets(c).into_iter().chain([c.iter().sum()]));
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let axis_chunks: Vec<usize> = bounds.windows(2).map(|w| w[1] - w[0]).collect();
        chunks.push(if axis_chunks.is_empty() {
            vec![len]
        } else {
            axis_chunks
        });
    }
    let mut layers = Vec::with_capacity(inputs.len());
    let mut broadcast = Vec::with_capacity(inputs.len());
    for i in inputs {
        let in_shape = &i.layer.shape;
        let pad = ndim - in_shape.len();
        let stretched: Vec<bool> = (0..in_shape.len())
            .map(|ax| in_shape[ax] != shape[pad + ax])
            .collect();
        let want: Vec<Vec<usize>> = (0..in_shape.len())
            .map(|ax| {
                if stretched[ax] {
                    i.layer.chunks[ax].clone()
                } else {
                    chunks[pad + ax].clone()
                }
            })
            .collect();
        layers.push(rechunk_layer(&i.layer, want, i.ops));
        broadcast.push((pad, stretched));
    }
    Array::from_op(
        label,
        token,
        shape,
        chunks,
        layers,
        Elementwise {
            inputs: broadcast,
            combine,
        },
    )
}

/// `f` applied elementwise to `a` and `b`, broadcast together. `token` names `f` (the
/// label of a built-in operation, or a unique token for a closure).
pub(crate) fn zip_with<A: Element, B: Element, C: Element>(
    label: &'static str,
    token: Tokenizer,
    a: Operand<A>,
    b: Operand<B>,
    f: impl Fn(A, B) -> C + Send + Sync + 'static,
) -> Array<C> {
    let (a, b) = (a.into_array(), b.into_array());
    let combine: Combine = Box::new(move |mut blocks, shape| {
        let (y, x) = (blocks.pop(), blocks.pop());
        let (Some(x), Some(y)) = (x, y) else {
            return Err("internal: an elementwise step without its two inputs".into());
        };
        let out = {
            let xa = view::<A>(&x)?;
            let ya = view::<B>(&y)?;
            let xb = xa
                .broadcast(IxDyn(shape))
                .ok_or("block does not broadcast")?;
            let yb = ya
                .broadcast(IxDyn(shape))
                .ok_or("block does not broadcast")?;
            super::buffers::zip_map(&xb, &yb, &f)?
        };
        // The inputs are spent: their memory makes the next strips.
        super::buffers::recycle_value::<A>(x);
        super::buffers::recycle_value::<B>(y);
        Ok(block(out))
    });
    elementwise(label, token, vec![input(&a), input(&b)], combine)
}

/// `a` where `condition` holds, `b` elsewhere, broadcast together: NumPy's `where`.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{arange, where_};
/// let x = arange(6).rechunk(4);
/// let y = where_(&x.gt(2.0), &x, 0.0);
/// assert_eq!(y.compute().unwrap().iter().copied().collect::<Vec<_>>(), [0.0, 0.0, 0.0, 3.0, 4.0, 5.0]);
/// ```
pub fn where_<T: Element>(
    condition: &Array<bool>,
    a: impl Into<Operand<T>>,
    b: impl Into<Operand<T>>,
) -> Array<T> {
    let (a, b) = (a.into().into_array(), b.into().into_array());
    elementwise::<T>(
        "where",
        Tokenizer::new("where"),
        vec![input(condition), input(&a), input(&b)],
        Box::new(|blocks, shape| (T::ops().select)(&blocks, shape)),
    )
}

impl<T: Element> Array<T> {
    /// A new array with `value` where `mask` is true and this array's elements
    /// elsewhere: Dask's `x[mask] = value`, without mutating (`mask` and `value`
    /// broadcast, so `value` may be a scalar, an array or a reduction).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::arange(5).rechunk(2);
    /// let clipped = x.assign_where(&x.gt(2.5), 2.5);
    /// assert_eq!(clipped.compute().unwrap(), ndarray::arr1(&[0.0, 1.0, 2.0, 2.5, 2.5]).into_dyn());
    /// ```
    pub fn assign_where(&self, mask: &Array<bool>, value: impl Into<Operand<T>>) -> Array<T> {
        where_(mask, value, self)
    }

    /// `f` applied to every element, fused with what made the block. The result's name
    /// is unique to this call (see [`Array::named`]).
    pub fn mapv<U: Element>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Array<U> {
        self.map_named("mapv", Tokenizer::new("mapv").unique(), f)
    }

    /// `f` applied to every element; `token` names `f` and its parameters.
    pub(crate) fn map_named<U: Element>(
        &self,
        label: &'static str,
        token: Tokenizer,
        f: impl Fn(T) -> U + Send + Sync + 'static,
    ) -> Array<U> {
        let combine: Combine = Box::new(move |mut blocks, _| {
            let x = blocks.pop().ok_or("internal: a map without its input")?;
            let out = super::buffers::map(&view::<T>(&x)?.view(), &f)?;
            super::buffers::recycle_value::<T>(x);
            Ok(block(out))
        });
        elementwise(label, token, vec![input(self)], combine)
    }
}

/// `f(a, b)` elementwise, named `label`: a scalar side is captured in the step (and
/// named by its bits) rather than broadcast as a 0-d block.
pub(crate) fn binary<T: Element, U: Element>(
    label: &'static str,
    a: Operand<T>,
    b: Operand<T>,
    f: impl Fn(T, T) -> U + Copy + Send + Sync + 'static,
) -> Array<U> {
    match (a, b) {
        (Operand::Array(a), Operand::Scalar(v)) => a.map_named(
            label,
            Tokenizer::new(label).add(("rhs", v.bits())),
            move |x| f(x, v),
        ),
        (Operand::Scalar(v), Operand::Array(b)) => b.map_named(
            label,
            Tokenizer::new(label).add(("lhs", v.bits())),
            move |x| f(v, x),
        ),
        (a, b) => zip_with(label, Tokenizer::new(label), a, b, f),
    }
}

/// A comparison, as [`Element::compare`] runs it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Comparison {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

/// `a <op> b` elementwise, compiled once per element type (see [`Element::compare`]).
pub(crate) fn compare<T: Element + PartialOrd>(
    a: Operand<T>,
    b: Operand<T>,
    op: Comparison,
) -> Array<bool> {
    match op {
        Comparison::Gt => binary("gt", a, b, |a, b| a > b),
        Comparison::Ge => binary("ge", a, b, |a, b| a >= b),
        Comparison::Lt => binary("lt", a, b, |a, b| a < b),
        Comparison::Le => binary("le", a, b, |a, b| a <= b),
        Comparison::Eq => binary("eq", a, b, |a, b| a == b),
        Comparison::Ne => binary("ne", a, b, |a, b| a != b),
    }
}

macro_rules! comparisons {
    ($bound:path; $($method:ident $op:tt $kind:ident),*) => {
        impl<T: Element + $bound> Array<T> {$(
            #[doc = concat!("Elementwise `self ", stringify!($op), " other`, a `bool` array.")]
            pub fn $method(&self, other: impl Into<Operand<T>>) -> Array<bool> {
                T::compare(self.into(), other.into(), Comparison::$kind)
            }
        )*}
    };
}
comparisons!(PartialOrd; gt > Gt, ge >= Ge, lt < Lt, le <= Le);
comparisons!(PartialEq; eq_elem == Eq, ne_elem != Ne);

impl Array<bool> {
    /// Elementwise `and`.
    pub fn and(&self, other: impl Into<Operand<bool>>) -> Array<bool> {
        binary("and", self.into(), other.into(), |a, b| a && b)
    }
    /// Elementwise `or`.
    pub fn or(&self, other: impl Into<Operand<bool>>) -> Array<bool> {
        binary("or", self.into(), other.into(), |a, b| a || b)
    }
}

impl Not for &Array<bool> {
    type Output = Array<bool>;
    fn not(self) -> Array<bool> {
        self.map_named("not", Tokenizer::new("not"), |v| !v)
    }
}

impl Not for Array<bool> {
    type Output = Array<bool>;
    fn not(self) -> Array<bool> {
        !&self
    }
}

/// A one-argument elementwise function, as [`Element::unary`] runs it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Unary {
    Sqrt,
    Exp,
    Ln,
    Sin,
    Cos,
    Tan,
    Floor,
    Ceil,
    Abs,
}

/// `op` of each element of a float array, compiled once per type.
pub(crate) fn float_unary<T: Element + Float>(a: &Array<T>, op: Unary) -> Array<T> {
    let map = |label: &'static str, f: fn(T) -> T| a.map_named(label, Tokenizer::new(label), f);
    match op {
        Unary::Sqrt => map("sqrt", |v| v.sqrt()),
        Unary::Exp => map("exp", |v| v.exp()),
        Unary::Ln => map("ln", |v| v.ln()),
        Unary::Sin => map("sin", |v| v.sin()),
        Unary::Cos => map("cos", |v| v.cos()),
        Unary::Tan => map("tan", |v| v.tan()),
        Unary::Floor => map("floor", |v| v.floor()),
        Unary::Ceil => map("ceil", |v| v.ceil()),
        Unary::Abs => map("abs", |v| v.abs()),
    }
}

/// The absolute value of an integer (wrapping at `MIN`, as NumPy's); itself for
/// unsigned ones.
pub(crate) trait IntAbs: Element {
    fn int_abs(self) -> Self;
}

macro_rules! int_abs {
    ($($t:ty => $f:expr),*) => {$(
        impl IntAbs for $t {
            fn int_abs(self) -> $t {
                $f(self)
            }
        }
    )*};
}
int_abs!(i8 => i8::wrapping_abs, i16 => i16::wrapping_abs, i32 => i32::wrapping_abs,
    i64 => i64::wrapping_abs, u8 => std::convert::identity, u16 => std::convert::identity,
    u32 => std::convert::identity, u64 => std::convert::identity);

/// [`float_unary`] for integers: only `abs` applies.
pub(crate) fn int_unary<T: IntAbs>(a: &Array<T>, op: Unary) -> Array<T> {
    match op {
        Unary::Abs => a.map_named("abs", Tokenizer::new("abs"), T::int_abs),
        other => Array::failed("unary", format!("{other:?} is not defined on {}", T::NAME)),
    }
}

/// Booleans have no [`Unary`] function.
pub(crate) fn bool_unary(_: &Array<bool>, op: Unary) -> Array<bool> {
    Array::failed("unary", format!("{op:?} is not defined on bool"))
}

/// The element types with `sqrt`, `exp`, `ln`, `sin`, `cos` and `tan`: the real and
/// the complex floating-point types.
pub trait Analytic: Element {}
impl Analytic for f64 {}
impl Analytic for f32 {}
impl Analytic for Complex64 {}
impl Analytic for Complex32 {}

macro_rules! ufuncs {
    ($bound:path; $($method:ident $kind:ident),*) => {
        impl<T: Element + $bound> Array<T> {$(
            #[doc = concat!("Elementwise `", stringify!($method), "`.")]
            pub fn $method(&self) -> Array<T> {
                T::unary(self, Unary::$kind)
            }
        )*}
    };
}
ufuncs!(Analytic; sqrt Sqrt, exp Exp, ln Ln, sin Sin, cos Cos, tan Tan);
ufuncs!(Float; floor Floor, ceil Ceil);

impl<T: Element + Float> Array<T> {
    /// Elementwise `self ^ exponent`.
    pub fn powf(&self, exponent: T) -> Array<T> {
        let token = Tokenizer::new("powf").add(exponent.bits());
        self.map_named("powf", token, move |v| v.powf(exponent))
    }
}

impl<T: Element + num_traits::Signed> Array<T> {
    /// Elementwise absolute value.
    pub fn abs(&self) -> Array<T> {
        T::unary(self, Unary::Abs)
    }
}

impl<T: Element + PartialOrd> Array<T> {
    /// Each element limited to `[low, high]` (NaN stays NaN).
    pub fn clip(&self, low: T, high: T) -> Array<T> {
        let token = Tokenizer::new("clip").add((low.bits(), high.bits()));
        self.map_named("clip", token, move |v| {
            if v < low {
                low
            } else if v > high {
                high
            } else {
                v
            }
        })
    }
}

impl Array<i64> {
    /// The elements as `f64`.
    pub fn to_f64(&self) -> Array<f64> {
        self.astype::<f64>()
    }
}

/// NumPy's `//` and `%` for one element type: the quotient rounded toward minus
/// infinity and the remainder with the divisor's sign (`-7 // 2 == -4`, `-7 % 2 == 1`,
/// `-7.0 % 2.0 == 1.0`). Rust's `/` and `%`, which the operators keep, round toward
/// zero. An integer divided by zero gives 0, as NumPy's does (with a warning there).
pub trait FloorDivision: Element {
    /// `a // b`, compiled once per type.
    #[doc(hidden)]
    fn floor_divide_of(a: Operand<Self>, b: Operand<Self>) -> Array<Self>;
    /// `a % b` with NumPy's sign, compiled once per type.
    #[doc(hidden)]
    fn mod_of(a: Operand<Self>, b: Operand<Self>) -> Array<Self>;
}

macro_rules! float_floor_division {
    ($($t:ty),*) => {$(
        impl FloorDivision for $t {
            fn floor_divide_of(a: Operand<$t>, b: Operand<$t>) -> Array<$t> {
                binary("floor_divide", a, b, |a: $t, b: $t| (a / b).floor())
            }
            fn mod_of(a: Operand<$t>, b: Operand<$t>) -> Array<$t> {
                binary("mod", a, b, |a: $t, b: $t| {
                    let r = a % b;
                    if r != 0.0 && (r < 0.0) != (b < 0.0) { r + b } else { r }
                })
            }
        }
    )*};
}
float_floor_division!(f64, f32);

macro_rules! int_floor_division {
    ($($t:ty),*) => {$(
        impl FloorDivision for $t {
            fn floor_divide_of(a: Operand<$t>, b: Operand<$t>) -> Array<$t> {
                binary("floor_divide", a, b, |a: $t, b: $t| {
                    if b == 0 {
                        return 0;
                    }
                    let q = a.wrapping_div(b);
                    #[allow(unused_comparisons)]
                    let negative = (a < 0) != (b < 0);
                    if a.wrapping_rem(b) != 0 && negative {
                        q.wrapping_sub(1)
                    } else {
                        q
                    }
                })
            }
            fn mod_of(a: Operand<$t>, b: Operand<$t>) -> Array<$t> {
                binary("mod", a, b, |a: $t, b: $t| {
                    if b == 0 {
                        return 0;
                    }
                    let r = a.wrapping_rem(b);
                    #[allow(unused_comparisons)]
                    let negative = (r < 0) != (b < 0);
                    if r != 0 && negative {
                        r.wrapping_add(b)
                    } else {
                        r
                    }
                })
            }
        }
    )*};
}
int_floor_division!(i8, i16, i32, i64, u8, u16, u32, u64);

impl<T: FloorDivision> Array<T> {
    /// NumPy's `self // other`: the quotient rounded toward minus infinity.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::from_ndarray(ndarray::arr1(&[-7_i64, 7, -8]), 2);
    /// let q: Vec<i64> = x.floor_divide(2).compute().unwrap().iter().copied().collect();
    /// let r: Vec<i64> = x.mod_(2).compute().unwrap().iter().copied().collect();
    /// assert_eq!((q, r), (vec![-4, 3, -4], vec![1, 1, 0]));
    /// let y = dask::array::from_ndarray(ndarray::arr1(&[-7.0, 7.0]), 1);
    /// assert_eq!(y.mod_(-2.0).compute().unwrap(), ndarray::arr1(&[-1.0, -1.0]).into_dyn());
    /// ```
    pub fn floor_divide(&self, other: impl Into<Operand<T>>) -> Array<T> {
        T::floor_divide_of(self.into(), other.into())
    }

    /// NumPy's `self % other`: the remainder with the divisor's sign.
    pub fn mod_(&self, other: impl Into<Operand<T>>) -> Array<T> {
        T::mod_of(self.into(), other.into())
    }
}

/// A conversion between element types as NumPy's `astype` does it: floats to integers
/// truncate toward zero (saturating at the integer's range; NaN becomes 0), numbers to
/// `bool` are `!= 0`, `bool` to numbers is 0 or 1.
pub trait CastTo<U>: Element {
    /// The value as a `U`.
    fn cast(self) -> U;
}

macro_rules! casts {
    ($($from:ty => $($to:ty),+);+ $(;)?) => {$($(
        impl CastTo<$to> for $from {
            #[allow(clippy::cast_lossless, clippy::unnecessary_cast)]
            fn cast(self) -> $to {
                self as $to
            }
        }
    )+)+};
}
casts!(f64 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; f32 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; i8 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; i16 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; i32 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; i64 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; u8 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; u16 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; u32 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64; u64 => f64, f32, i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! to_bool {
    ($($from:ty),+) => {$(
        impl CastTo<bool> for $from {
            #[allow(clippy::float_cmp)]
            fn cast(self) -> bool {
                self != (0 as $from)
            }
        }
        impl CastTo<$from> for bool {
            fn cast(self) -> $from {
                u8::from(self) as $from
            }
        }
    )+};
}
to_bool!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64);

impl CastTo<bool> for bool {
    fn cast(self) -> bool {
        self
    }
}

impl<T: Element> Array<T> {
    /// The elements converted to `U` (NumPy's `astype`; see [`CastTo`] for how).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::from_ndarray(ndarray::arr1(&[-1.7, 0.0, 2.9]), 2);
    /// let ints: Vec<i64> = x.astype::<i64>().compute().unwrap().iter().copied().collect();
    /// assert_eq!(ints, [-1, 0, 2]);
    /// let counted = x.gt(0.0).astype::<i64>().sum().compute().unwrap();
    /// assert_eq!(counted, 1);
    /// ```
    pub fn astype<U: Element>(&self) -> Array<U>
    where
        T: CastTo<U>,
    {
        let token = Tokenizer::new("astype").add((T::NAME, U::NAME));
        self.map_named("astype", token, CastTo::<U>::cast)
    }
}

/// Integer division by zero gives 0 and `i64::MIN / -1` wraps to `i64::MIN`, as
/// NumPy's do, rather than a panic in a worker.
macro_rules! int_div_rem {
    ($($t:ident),*) => {
        /// Integer `/` and `%` by zero give 0, and `MIN / -1` wraps, as NumPy's do,
        /// rather than a panic in a worker.
        mod int_division {$(
            pub(super) mod $t {
                pub(crate) fn div(a: $t, b: $t) -> $t {
                    if b == 0 { 0 } else { a.wrapping_div(b) }
                }
                pub(crate) fn rem(a: $t, b: $t) -> $t {
                    if b == 0 { 0 } else { a.wrapping_rem(b) }
                }
            }
        )*}
    };
}
int_div_rem!(i8, i16, i32, i64, u8, u16, u32, u64);

// Each operator is written once per element type as a plain function (in a module per
// operator), so the user's crate compiles only the one-line trait impls that call it.
macro_rules! arithmetic {
    ($Trait:ident $method:ident $name:literal $module:ident; $($t:ident => $f:expr),*) => {
        #[allow(non_snake_case)]
        mod $module {
            use super::*;
            $(pub(super) fn $t(a: Operand<$t>, b: Operand<$t>) -> Array<$t> {
                binary::<$t, $t>($name, a, b, $f)
            })*
        }
        $(
        impl<R: Into<Operand<$t>>> $Trait<R> for &Array<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: R) -> Array<$t> {
                $module::$t(self.into(), rhs.into())
            }
        }
        impl<R: Into<Operand<$t>>> $Trait<R> for Array<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: R) -> Array<$t> {
                $module::$t(self.into(), rhs.into())
            }
        }
        impl $Trait<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn $method(self, rhs: &Array<$t>) -> Array<$t> {
                $module::$t(self.into(), rhs.into())
            }
        }
        impl $Trait<Array<$t>> for $t {
            type Output = Array<$t>;
            fn $method(self, rhs: Array<$t>) -> Array<$t> {
                $module::$t(self.into(), rhs.into())
            }
        }
        impl $Trait<&Array<$t>> for Scalar<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: &Array<$t>) -> Array<$t> {
                $module::$t(self.into(), rhs.into())
            }
        }
        impl $Trait<Array<$t>> for Scalar<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: Array<$t>) -> Array<$t> {
                $module::$t(self.into(), rhs.into())
            }
        }
        impl $Trait<Scalar<$t>> for Scalar<$t> {
            type Output = Scalar<$t>;
            fn $method(self, rhs: Scalar<$t>) -> Scalar<$t> {
                Scalar::from_array($module::$t(self.into(), rhs.into()))
            }
        }
        impl $Trait<&Scalar<$t>> for Scalar<$t> {
            type Output = Scalar<$t>;
            fn $method(self, rhs: &Scalar<$t>) -> Scalar<$t> {
                Scalar::from_array($module::$t(self.into(), rhs.into()))
            }
        }
        impl $Trait<$t> for Scalar<$t> {
            type Output = Scalar<$t>;
            fn $method(self, rhs: $t) -> Scalar<$t> {
                Scalar::from_array($module::$t(self.into(), rhs.into()))
            }
        }
        impl $Trait<Scalar<$t>> for $t {
            type Output = Scalar<$t>;
            fn $method(self, rhs: Scalar<$t>) -> Scalar<$t> {
                Scalar::from_array($module::$t(self.into(), rhs.into()))
            }
        }
    )*};
}
arithmetic!(Add add "add" add_ops; f64 => |a, b| a + b, f32 => |a, b| a + b, i8 => i8::wrapping_add, i16 => i16::wrapping_add, i32 => i32::wrapping_add, i64 => i64::wrapping_add, u8 => u8::wrapping_add, u16 => u16::wrapping_add, u32 => u32::wrapping_add, u64 => u64::wrapping_add, Complex64 => |a, b| a + b, Complex32 => |a, b| a + b);
arithmetic!(Sub sub "sub" sub_ops; f64 => |a, b| a - b, f32 => |a, b| a - b, i8 => i8::wrapping_sub, i16 => i16::wrapping_sub, i32 => i32::wrapping_sub, i64 => i64::wrapping_sub, u8 => u8::wrapping_sub, u16 => u16::wrapping_sub, u32 => u32::wrapping_sub, u64 => u64::wrapping_sub, Complex64 => |a, b| a - b, Complex32 => |a, b| a - b);
arithmetic!(Mul mul "mul" mul_ops; f64 => |a, b| a * b, f32 => |a, b| a * b, i8 => i8::wrapping_mul, i16 => i16::wrapping_mul, i32 => i32::wrapping_mul, i64 => i64::wrapping_mul, u8 => u8::wrapping_mul, u16 => u16::wrapping_mul, u32 => u32::wrapping_mul, u64 => u64::wrapping_mul, Complex64 => |a, b| a * b, Complex32 => |a, b| a * b);
arithmetic!(Div div "div" div_ops; f64 => |a, b| a / b, f32 => |a, b| a / b, i8 => int_division::i8::div, i16 => int_division::i16::div, i32 => int_division::i32::div, i64 => int_division::i64::div, u8 => int_division::u8::div, u16 => int_division::u16::div, u32 => int_division::u32::div, u64 => int_division::u64::div, Complex64 => |a, b| a / b, Complex32 => |a, b| a / b);
arithmetic!(Rem rem "rem" rem_ops; f64 => |a, b| a % b, f32 => |a, b| a % b, i8 => int_division::i8::rem, i16 => int_division::i16::rem, i32 => int_division::i32::rem, i64 => int_division::i64::rem, u8 => int_division::u8::rem, u16 => int_division::u16::rem, u32 => int_division::u32::rem, u64 => int_division::u64::rem);

macro_rules! negation {
    ($($t:ty => $f:expr),*) => {$(
        impl Neg for &Array<$t> {
            type Output = Array<$t>;
            fn neg(self) -> Array<$t> {
                self.map_named("neg", Tokenizer::new("neg"), $f)
            }
        }
        impl Neg for Array<$t> {
            type Output = Array<$t>;
            fn neg(self) -> Array<$t> {
                -&self
            }
        }
        impl Neg for Scalar<$t> {
            type Output = Scalar<$t>;
            fn neg(self) -> Scalar<$t> {
                Scalar::from_array(-self.into_array())
            }
        }
    )*};
}
negation!(Complex64 => |v: Complex64| -v, Complex32 => |v: Complex32| -v, f64 => |v: f64| -v, f32 => |v: f32| -v, i8 => i8::wrapping_neg, i16 => i16::wrapping_neg, i32 => i32::wrapping_neg, i64 => i64::wrapping_neg);

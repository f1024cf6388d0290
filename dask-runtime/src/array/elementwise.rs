//! Elementwise operations with NumPy's broadcasting. Each one composes the block
//! functions of its inputs, so a chain of them is one task per block (Dask's blockwise
//! fusion); inputs whose chunks differ along an axis are rechunked to a common
//! refinement first.

use super::chunks::offsets;
use super::create::full;
use super::{Array, BlockTask, ChunkSpec, Element, Kernel, ShapeError, typed};
use crate::error::BoxError;
use ndarray::{ArrayD, IxDyn, Zip};
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

macro_rules! scalar_operand {
    ($($t:ty),*) => {$(
        impl From<$t> for Operand<$t> {
            fn from(v: $t) -> Self {
                Operand::Scalar(v)
            }
        }
    )*};
}
scalar_operand!(f64, f32, i64, bool);

impl<T: Element> Operand<T> {
    fn into_array(self) -> Array<T> {
        match self {
            Operand::Array(a) => a,
            Operand::Scalar(v) => full([], v, ChunkSpec::Uniform(1)),
        }
    }
}

type Rechunker = Arc<dyn Fn(Vec<Vec<usize>>) -> Result<Input, ShapeError> + Send + Sync>;

/// An input of an elementwise operation, its element type erased.
struct Input {
    shape: Vec<usize>,
    chunks: Vec<Vec<usize>>,
    blocks: super::Blocks<super::AnyBlock>,
    /// Rechunks this input (it is only rechunked where the chunks of inputs differ).
    rechunk: Rechunker,
}

fn input<T: Element>(a: &Array<T>) -> Result<Input, ShapeError> {
    let d = a.def()?.clone();
    let a = a.clone();
    Ok(Input {
        shape: d.shape.clone(),
        chunks: d.chunks.clone(),
        blocks: Arc::new(move |idx| {
            let task = (d.blocks)(idx);
            let inner = task.kernel;
            // Wrap the block as a one-element "block of blocks": an AnyBlock.
            let region = task.region.map(|r| {
                Arc::new(move |at: &[(usize, usize)]| {
                    Ok(ArrayD::from_elem(IxDyn(&[]), T::into_block(r(at)?)))
                }) as super::RegionFn<super::AnyBlock>
            });
            BlockTask {
                leaves: task.leaves,
                kernel: Arc::new(move |values| {
                    Ok(ArrayD::from_elem(IxDyn(&[]), T::into_block(inner(values)?)))
                }),
                region,
            }
        }),
        rechunk: Arc::new(move |chunks| input(&a.rechunk_to(chunks))),
    })
}

/// The elementwise combination of `inputs`: `combine` gets each input's block (as an
/// `AnyBlock`, broadcastable to the output block) and the output block's shape.
fn elementwise<T: Element>(
    name: &'static str,
    inputs: Vec<Result<Input, ShapeError>>,
    combine: impl Fn(&[super::AnyBlock], &[usize]) -> Result<ArrayD<T>, BoxError>
    + Send
    + Sync
    + 'static,
) -> Array<T> {
    let inputs = match inputs.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(i) => i,
        Err(e) => return Array::from_error(e),
    };
    let ndim = inputs.iter().map(|i| i.shape.len()).max().unwrap_or(0);
    // The output shape, NumPy's rules: align on the right; a length-1 axis stretches.
    let mut shape = vec![1_usize; ndim];
    for i in &inputs {
        let pad = ndim - i.shape.len();
        for (ax, &n) in i.shape.iter().enumerate() {
            let out = &mut shape[pad + ax];
            if *out == 1 {
                *out = n;
            } else if n != 1 && n != *out {
                let shapes: Vec<String> = inputs.iter().map(|i| format!("{:?}", i.shape)).collect();
                return Array::failed(
                    name,
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
            let pad = ndim - i.shape.len();
            if ax >= pad && i.shape[ax - pad] == len {
                let c = &i.chunks[ax - pad];
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
    let mut aligned = Vec::with_capacity(inputs.len());
    for i in inputs {
        let pad = ndim - i.shape.len();
        let want: Vec<Vec<usize>> = (0..i.shape.len())
            .map(|ax| {
                if i.shape[ax] == shape[pad + ax] {
                    chunks[pad + ax].clone()
                } else {
                    i.chunks[ax].clone()
                }
            })
            .collect();
        if want == i.chunks {
            aligned.push(i);
        } else {
            match (i.rechunk)(want) {
                Ok(r) => aligned.push(r),
                Err(e) => return Array::from_error(e),
            }
        }
    }
    let combine = Arc::new(combine);
    let out_chunks = chunks.clone();
    let out_shape = shape.clone();
    Array::new(name, shape, chunks, move |idx| {
        let block_shape: Vec<usize> = out_chunks.iter().zip(idx).map(|(c, &i)| c[i]).collect();
        let mut leaves = Vec::new();
        let mut parts: Vec<(usize, Kernel<super::AnyBlock>)> = Vec::new();
        // Region functions of the inputs, with the axes each input broadcasts along.
        type Regional = (super::RegionFn<super::AnyBlock>, usize, Vec<bool>);
        let mut regions: Option<Vec<Regional>> = Some(Vec::new());
        for i in &aligned {
            let pad = ndim - i.shape.len();
            let stretched: Vec<bool> = (0..i.shape.len())
                .map(|ax| i.shape[ax] != out_shape[pad + ax])
                .collect();
            let in_idx: Vec<usize> = (0..i.shape.len())
                .map(|ax| if stretched[ax] { 0 } else { idx[pad + ax] })
                .collect();
            let task = (i.blocks)(&in_idx);
            regions = match (regions, task.region) {
                (Some(mut list), Some(r)) => {
                    list.push((r, pad, stretched));
                    Some(list)
                }
                _ => None,
            };
            parts.push((task.leaves.len(), task.kernel));
            leaves.extend(task.leaves);
        }
        let region = regions.map(|inputs| {
            let combine = Arc::clone(&combine);
            Arc::new(move |r: &[(usize, usize)]| {
                let shape: Vec<usize> = r.iter().map(|(_, l)| *l).collect();
                let blocks = inputs
                    .iter()
                    .map(|(f, pad, stretched)| {
                        let at: Vec<(usize, usize)> = stretched
                            .iter()
                            .enumerate()
                            .map(|(ax, &s)| if s { (0, 1) } else { r[pad + ax] })
                            .collect();
                        f(&at)?
                            .into_iter()
                            .next()
                            .ok_or_else(|| BoxError::from("empty wrapped block"))
                    })
                    .collect::<Result<Vec<_>, BoxError>>()?;
                let out = combine(&blocks, &shape);
                // The inputs' strips are spent: their memory makes the next ones.
                blocks.into_iter().for_each(super::buffers::recycle_block);
                out
            }) as super::RegionFn<T>
        });
        let combine = Arc::clone(&combine);
        let kernel: Kernel<T> = Arc::new(move |values| {
            let mut rest = values;
            let mut blocks = Vec::with_capacity(parts.len());
            for (n, kernel) in &parts {
                let (mine, others) = rest.split_at(*n);
                rest = others;
                let wrapped = kernel(mine)?;
                blocks.push(wrapped.into_iter().next().ok_or("empty wrapped block")?);
            }
            combine(&blocks, &block_shape)
        });
        BlockTask {
            leaves,
            kernel,
            region,
        }
    })
}

/// `f` applied elementwise to `a` and `b`, broadcast together.
pub(crate) fn zip_with<A: Element, B: Element, C: Element>(
    name: &'static str,
    a: Operand<A>,
    b: Operand<B>,
    f: impl Fn(A, B) -> C + Send + Sync + 'static,
) -> Array<C> {
    let (a, b) = (a.into_array(), b.into_array());
    elementwise(name, vec![input(&a), input(&b)], move |blocks, shape| {
        let x = typed::<A>(&blocks[0])?;
        let y = typed::<B>(&blocks[1])?;
        let x = x
            .broadcast(IxDyn(shape))
            .ok_or("block does not broadcast")?;
        let y = y
            .broadcast(IxDyn(shape))
            .ok_or("block does not broadcast")?;
        Ok(super::buffers::zip_map(&x, &y, &f)?)
    })
}

/// `a` where `condition` holds, `b` elsewhere, broadcast together: NumPy's `where`.
///
/// ```
/// use dask_runtime::array::{arange, where_};
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
    elementwise(
        "where",
        vec![input(condition), input(&a), input(&b)],
        |blocks, shape| {
            let c = typed::<bool>(&blocks[0])?;
            let x = typed::<T>(&blocks[1])?;
            let y = typed::<T>(&blocks[2])?;
            let s = IxDyn(shape);
            let (c, x, y) = (
                c.broadcast(s.clone()).ok_or("block does not broadcast")?,
                x.broadcast(s.clone()).ok_or("block does not broadcast")?,
                y.broadcast(s).ok_or("block does not broadcast")?,
            );
            Ok(Zip::from(&c)
                .and(&x)
                .and(&y)
                .map_collect(|&c, &x, &y| if c { x } else { y }))
        },
    )
}

impl<T: Element> Array<T> {
    /// `f` applied to every element, fused with what made the block.
    pub fn mapv<U: Element>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Array<U> {
        self.map_named("mapv", f)
    }

    pub(crate) fn map_named<U: Element>(
        &self,
        name: &'static str,
        f: impl Fn(T) -> U + Send + Sync + 'static,
    ) -> Array<U> {
        let f = Arc::new(f);
        self.map_block_tasks(name, move |_, task| {
            let f = Arc::clone(&f);
            super::compose_regional(task, <[(usize, usize)]>::to_vec, move |block| {
                let out = super::buffers::map(&block.view(), |v| f(v))?;
                super::buffers::recycle(block);
                Ok(out)
            })
        })
    }
}

macro_rules! comparisons {
    ($($method:ident $name:literal $op:tt),*) => {
        impl<T: Element + PartialOrd> Array<T> {$(
            #[doc = concat!("Elementwise `self ", stringify!($op), " other`, a `bool` array.")]
            pub fn $method(&self, other: impl Into<Operand<T>>) -> Array<bool> {
                zip_with($name, self.into(), other.into(), |a, b| a $op b)
            }
        )*}
    };
}
comparisons!(gt "gt" >, ge "ge" >=, lt "lt" <, le "le" <=, eq_elem "eq" ==, ne_elem "ne" !=);

impl Array<bool> {
    /// Elementwise `and`.
    pub fn and(&self, other: impl Into<Operand<bool>>) -> Array<bool> {
        zip_with("and", self.into(), other.into(), |a, b| a && b)
    }
    /// Elementwise `or`.
    pub fn or(&self, other: impl Into<Operand<bool>>) -> Array<bool> {
        zip_with("or", self.into(), other.into(), |a, b| a || b)
    }
}

impl Not for &Array<bool> {
    type Output = Array<bool>;
    fn not(self) -> Array<bool> {
        self.map_named("not", |v| !v)
    }
}

impl Not for Array<bool> {
    type Output = Array<bool>;
    fn not(self) -> Array<bool> {
        !&self
    }
}

macro_rules! float_ufuncs {
    ($($method:ident),*) => {
        impl<T: Element + Float> Array<T> {$(
            #[doc = concat!("Elementwise `", stringify!($method), "`.")]
            pub fn $method(&self) -> Array<T> {
                self.map_named(stringify!($method), |v| v.$method())
            }
        )*}
    };
}
float_ufuncs!(sqrt, exp, ln, sin, cos, tan, floor, ceil);

impl<T: Element + Float> Array<T> {
    /// Elementwise `self ^ exponent`.
    pub fn powf(&self, exponent: T) -> Array<T> {
        self.map_named("powf", move |v| v.powf(exponent))
    }
}

impl<T: Element + num_traits::Signed> Array<T> {
    /// Elementwise absolute value.
    pub fn abs(&self) -> Array<T> {
        self.map_named("abs", |v| v.abs())
    }
}

impl<T: Element + PartialOrd> Array<T> {
    /// Each element limited to `[low, high]` (NaN stays NaN).
    pub fn clip(&self, low: T, high: T) -> Array<T> {
        self.map_named("clip", move |v| {
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
        self.map_named("astype", |v| v as f64)
    }
}

macro_rules! arithmetic {
    ($Trait:ident $method:ident $name:literal; $($t:ty),*) => {$(
        impl $Trait<&Array<$t>> for &Array<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: &Array<$t>) -> Array<$t> {
                zip_with($name, self.into(), rhs.into(), <$t as $Trait>::$method)
            }
        }
        impl $Trait<Array<$t>> for Array<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: Array<$t>) -> Array<$t> {
                zip_with($name, self.into(), rhs.into(), <$t as $Trait>::$method)
            }
        }
        impl $Trait<&Array<$t>> for Array<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: &Array<$t>) -> Array<$t> {
                zip_with($name, self.into(), rhs.into(), <$t as $Trait>::$method)
            }
        }
        impl $Trait<Array<$t>> for &Array<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: Array<$t>) -> Array<$t> {
                zip_with($name, self.into(), rhs.into(), <$t as $Trait>::$method)
            }
        }
        impl $Trait<$t> for &Array<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: $t) -> Array<$t> {
                self.map_named($name, move |v| <$t as $Trait>::$method(v, rhs))
            }
        }
        impl $Trait<$t> for Array<$t> {
            type Output = Array<$t>;
            fn $method(self, rhs: $t) -> Array<$t> {
                (&self).$method(rhs)
            }
        }
        impl $Trait<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn $method(self, rhs: &Array<$t>) -> Array<$t> {
                rhs.map_named($name, move |v| <$t as $Trait>::$method(self, v))
            }
        }
        impl $Trait<Array<$t>> for $t {
            type Output = Array<$t>;
            fn $method(self, rhs: Array<$t>) -> Array<$t> {
                self.$method(&rhs)
            }
        }
    )*};
}
arithmetic!(Add add "add"; f64, f32, i64);
arithmetic!(Sub sub "sub"; f64, f32, i64);
arithmetic!(Mul mul "mul"; f64, f32, i64);
arithmetic!(Div div "div"; f64, f32);
arithmetic!(Rem rem "rem"; f64, f32);

macro_rules! integer_division {
    ($Trait:ident $method:ident $name:literal $wrapping:ident) => {
        impl $Trait<&Array<i64>> for &Array<i64> {
            type Output = Array<i64>;
            /// Integer division by zero gives 0 and `i64::MIN / -1` wraps to `i64::MIN`,
            /// as NumPy's do, rather than a panic in a worker.
            fn $method(self, rhs: &Array<i64>) -> Array<i64> {
                zip_with($name, self.into(), rhs.into(), |a: i64, b: i64| {
                    if b == 0 { 0 } else { a.$wrapping(b) }
                })
            }
        }
        impl $Trait<i64> for &Array<i64> {
            type Output = Array<i64>;
            fn $method(self, rhs: i64) -> Array<i64> {
                self.map_named($name, move |v| if rhs == 0 { 0 } else { v.$wrapping(rhs) })
            }
        }
    };
}
integer_division!(Div div "div" wrapping_div);
integer_division!(Rem rem "rem" wrapping_rem);

macro_rules! negation {
    ($($t:ty),*) => {$(
        impl Neg for &Array<$t> {
            type Output = Array<$t>;
            fn neg(self) -> Array<$t> {
                self.map_named("neg", |v: $t| -v)
            }
        }
        impl Neg for Array<$t> {
            type Output = Array<$t>;
            fn neg(self) -> Array<$t> {
                -&self
            }
        }
    )*};
}
negation!(f64, f32, i64);

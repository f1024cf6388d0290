//! The element types an [`Array`](super::Array) holds.

use super::elementwise::{Comparison, Operand, Unary};
use super::layer::BlockValue;
use super::window::{owned_array, view};
use super::{Array, ChunkSpec};
use crate::error::BoxError;
use ndarray::{ArrayD, Axis, IxDyn, Slice, Zip};
use num_complex::{Complex32, Complex64};
use std::fmt::Debug;

/// An element type of [`Array`](super::Array): `f64`, `f32`, the integers `i8` to `i64`
/// and `u8` to `u64`, or `bool`.
pub trait Element: Copy + Send + Sync + Debug + PartialEq + Default + 'static {
    /// The element's name, as in error messages (`f64`).
    const NAME: &'static str;
    /// The `.npy` type string (`<f8`).
    #[doc(hidden)]
    const NPY_DESCR: &'static str;
    /// A value from its `.npy` bytes.
    #[doc(hidden)]
    fn npy_read(bytes: &[u8], big_endian: bool) -> Self;
    /// Appends the value's `.npy` bytes (little-endian).
    #[doc(hidden)]
    fn npy_write(self, out: &mut Vec<u8>);
    /// The value's bits, for array names (`-0.0` and `0.0` differ, as NaNs do).
    #[doc(hidden)]
    fn bits(self) -> u64;
    #[doc(hidden)]
    fn spare() -> &'static super::buffers::Spare<Self>;
    /// The block operations of this type, compiled once in this crate.
    #[doc(hidden)]
    fn ops() -> &'static ElementOps;
    /// `a <op> b`, compiled once in this crate.
    #[doc(hidden)]
    fn compare(a: Operand<Self>, b: Operand<Self>, op: Comparison) -> Array<bool>;
    /// `op` of each element, compiled once in this crate.
    #[doc(hidden)]
    fn unary(a: &Array<Self>, op: Unary) -> Array<Self>;
    /// An array of `value`, compiled once in this crate.
    #[doc(hidden)]
    fn full_array(shape: &[usize], value: Self, chunks: ChunkSpec) -> Array<Self>;
    /// An array cut from `data`, compiled once in this crate.
    #[doc(hidden)]
    fn from_data(data: ArrayD<Self>, chunks: ChunkSpec) -> Array<Self>;
}

/// The block operations the type-erased array machinery needs of an element type:
/// plain function pointers made in this crate for each type, so that a user's crate
/// compiles none of them again (it only picks the table).
#[doc(hidden)]
#[derive(Debug)]
pub struct ElementOps {
    /// The block's shape.
    pub(crate) shape: fn(&BlockValue) -> Result<Vec<usize>, BoxError>,
    /// The block with its axes permuted (no copy when nobody else holds it).
    pub(crate) permute: fn(BlockValue, &[usize]) -> Result<BlockValue, BoxError>,
    /// The block with a length-1 axis inserted.
    pub(crate) insert_axis: fn(BlockValue, usize) -> Result<BlockValue, BoxError>,
    /// A slice of the block, copied.
    pub(crate) slice: fn(&BlockValue, &[Slice]) -> Result<BlockValue, BoxError>,
    /// The block's elements, row-major, in a new shape.
    pub(crate) reshape: fn(BlockValue, &[usize]) -> Result<BlockValue, BoxError>,
    /// A block of `shape` filled from pieces: each copies the part `(from, len)` of
    /// its source to `at`, per axis.
    pub(crate) assemble: fn(&[usize], &[Piece<'_>]) -> Result<BlockValue, BoxError>,
    /// `where`: per element, the second block's value where the first (bool) is true,
    /// the third's elsewhere; the three broadcast to `shape`.
    pub(crate) select: fn(&[BlockValue], &[usize]) -> Result<BlockValue, BoxError>,
}

/// One source of [`ElementOps::assemble`]: a block and, per axis, `(from, at, len)`.
pub(crate) type Piece<'a> = (&'a BlockValue, Vec<(usize, usize, usize)>);

fn shape<T: Element>(block: &BlockValue) -> Result<Vec<usize>, BoxError> {
    Ok(view::<T>(block)?.shape().to_vec())
}

fn permute<T: Element>(block: BlockValue, axes: &[usize]) -> Result<BlockValue, BoxError> {
    super::window::permuted::<T>(block, axes)
}

fn insert_axis<T: Element>(block: BlockValue, axis: usize) -> Result<BlockValue, BoxError> {
    let values = owned_array::<T>(block)?;
    Ok(super::layer::block(values.insert_axis(Axis(axis))))
}

fn slice<T: Element>(block: &BlockValue, slices: &[Slice]) -> Result<BlockValue, BoxError> {
    let values = view::<T>(block)?;
    Ok(super::layer::block(
        values
            .slice_each_axis(|ax| slices[ax.axis.index()])
            .to_owned(),
    ))
}

/// Reshaped in row-major order, copied first only when its layout is not row-major
/// (a transposed block is a view with permuted strides).
fn reshape<T: Element>(block: BlockValue, shape: &[usize]) -> Result<BlockValue, BoxError> {
    let values = owned_array::<T>(block)?;
    let values = if values.is_standard_layout() {
        values
    } else {
        values.as_standard_layout().into_owned()
    };
    Ok(super::layer::block(
        values.into_shape_with_order(IxDyn(shape))?,
    ))
}

fn assemble<T: Element>(shape: &[usize], pieces: &[Piece<'_>]) -> Result<BlockValue, BoxError> {
    if let [(only, parts)] = pieces
        && parts
            .iter()
            .zip(shape)
            .all(|(&(from, at, len), &n)| from == 0 && at == 0 && len == n)
        && view::<T>(only)?.shape() == shape
    {
        // The block is its one piece, whole: no copy.
        return Ok(std::sync::Arc::clone(only));
    }
    let mut out = ArrayD::<T>::default(IxDyn(shape));
    for (source, parts) in pieces {
        let source = view::<T>(source)?;
        out.slice_each_axis_mut(|ax| {
            let (_, at, len) = parts[ax.axis.index()];
            Slice::from(at..at + len)
        })
        .assign(&source.slice_each_axis(|ax| {
            let (from, _, len) = parts[ax.axis.index()];
            Slice::from(from..from + len)
        }));
    }
    Ok(super::layer::block(out))
}

fn select<T: Element>(blocks: &[BlockValue], shape: &[usize]) -> Result<BlockValue, BoxError> {
    let [c, x, y] = blocks else {
        return Err("internal: `where` without its three inputs".into());
    };
    let s = IxDyn(shape);
    let c = view::<bool>(c)?;
    let x = view::<T>(x)?;
    let y = view::<T>(y)?;
    let (c, x, y) = (
        c.broadcast(s.clone()).ok_or("block does not broadcast")?,
        x.broadcast(s.clone()).ok_or("block does not broadcast")?,
        y.broadcast(s).ok_or("block does not broadcast")?,
    );
    Ok(super::layer::block(
        Zip::from(&c)
            .and(&x)
            .and(&y)
            .map_collect(|&c, &x, &y| if c { x } else { y }),
    ))
}

macro_rules! element {
    ($t:ty, $bits:expr, $unary:path, $descr:literal, $read:expr, $write:expr) => {
        element!(
            $t,
            $bits,
            $unary,
            $descr,
            $read,
            $write,
            super::elementwise::compare
        );
    };
    ($t:ty, $bits:expr, $unary:path, $descr:literal, $read:expr, $write:expr, $compare:path) => {
        impl Element for $t {
            const NAME: &'static str = stringify!($t);
            const NPY_DESCR: &'static str = $descr;
            fn npy_read(bytes: &[u8], big_endian: bool) -> $t {
                $read(bytes, big_endian)
            }
            fn npy_write(self, out: &mut Vec<u8>) {
                $write(self, out)
            }
            fn bits(self) -> u64 {
                $bits(self)
            }
            fn spare() -> &'static super::buffers::Spare<Self> {
                thread_local! {
                    static SPARE: std::cell::RefCell<Vec<Vec<$t>>> = const {
                        std::cell::RefCell::new(Vec::new())
                    };
                }
                &SPARE
            }
            fn ops() -> &'static ElementOps {
                static OPS: ElementOps = ElementOps {
                    shape: shape::<$t>,
                    permute: permute::<$t>,
                    insert_axis: insert_axis::<$t>,
                    slice: slice::<$t>,
                    reshape: reshape::<$t>,
                    assemble: assemble::<$t>,
                    select: select::<$t>,
                };
                &OPS
            }
            fn compare(a: Operand<$t>, b: Operand<$t>, op: Comparison) -> Array<bool> {
                $compare(a, b, op)
            }
            fn unary(a: &Array<$t>, op: Unary) -> Array<$t> {
                $unary(a, op)
            }
            fn full_array(shape: &[usize], value: $t, chunks: ChunkSpec) -> Array<$t> {
                super::create::full_in(shape, value, chunks)
            }
            fn from_data(data: ArrayD<$t>, chunks: ChunkSpec) -> Array<$t> {
                super::create::from_data_in(data, chunks)
            }
        }
    };
}

/// Reads a number from its bytes in either order (`bytes` has the number's size: the
/// reader cuts them so; a short slice reads as zero rather than panicking).
macro_rules! npy_read {
    ($t:ty) => {
        |bytes: &[u8], big_endian: bool| {
            let raw = bytes.try_into().unwrap_or([0; size_of::<$t>()]);
            if big_endian {
                <$t>::from_be_bytes(raw)
            } else {
                <$t>::from_le_bytes(raw)
            }
        }
    };
}

/// Appends a number's little-endian bytes.
fn npy_write_le<const N: usize>(bytes: [u8; N], out: &mut Vec<u8>) {
    out.extend_from_slice(&bytes);
}

element!(
    f64,
    f64::to_bits,
    super::elementwise::float_unary,
    "<f8",
    npy_read!(f64),
    |v: f64, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    f32,
    |v: f32| u64::from(v.to_bits()),
    super::elementwise::float_unary,
    "<f4",
    npy_read!(f32),
    |v: f32, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    i8,
    |v: i8| v as u64,
    super::elementwise::int_unary,
    "|i1",
    npy_read!(i8),
    |v: i8, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    i16,
    |v: i16| v as u64,
    super::elementwise::int_unary,
    "<i2",
    npy_read!(i16),
    |v: i16, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    i32,
    |v: i32| v as u64,
    super::elementwise::int_unary,
    "<i4",
    npy_read!(i32),
    |v: i32, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    i64,
    |v: i64| v as u64,
    super::elementwise::int_unary,
    "<i8",
    npy_read!(i64),
    |v: i64, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    u8,
    |v: u8| v as u64,
    super::elementwise::int_unary,
    "|u1",
    npy_read!(u8),
    |v: u8, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    u16,
    |v: u16| v as u64,
    super::elementwise::int_unary,
    "<u2",
    npy_read!(u16),
    |v: u16, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    u32,
    |v: u32| v as u64,
    super::elementwise::int_unary,
    "<u4",
    npy_read!(u32),
    |v: u32, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    u64,
    std::convert::identity::<u64>,
    super::elementwise::int_unary,
    "<u8",
    npy_read!(u64),
    |v: u64, out| npy_write_le(v.to_le_bytes(), out)
);
element!(
    bool,
    u64::from,
    super::elementwise::bool_unary,
    "|b1",
    |bytes: &[u8], _| bytes.first().is_some_and(|&b| b != 0),
    |v: bool, out: &mut Vec<u8>| out.push(u8::from(v))
);

/// A complex number's `.npy` bytes: the real part, then the imaginary one.
macro_rules! complex_element {
    ($t:ident, $f:ty, $descr:literal, $bits:expr) => {
        element!(
            $t,
            $bits,
            super::complex::complex_unary,
            $descr,
            |bytes: &[u8], big_endian: bool| {
                let half = bytes.len() / 2;
                let part = |b: &[u8]| {
                    let raw = b.try_into().unwrap_or([0; size_of::<$f>()]);
                    if big_endian {
                        <$f>::from_be_bytes(raw)
                    } else {
                        <$f>::from_le_bytes(raw)
                    }
                };
                num_complex::Complex::new(part(&bytes[..half]), part(&bytes[half..]))
            },
            |v: $t, out: &mut Vec<u8>| {
                npy_write_le(v.re.to_le_bytes(), out);
                npy_write_le(v.im.to_le_bytes(), out);
            },
            super::complex::compare
        );
    };
}
complex_element!(Complex64, f64, "<c16", |v: Complex64| {
    v.re.to_bits() ^ v.im.to_bits().rotate_left(29)
});
complex_element!(Complex32, f32, "<c8", |v: Complex32| {
    u64::from(v.re.to_bits()) << 32 | u64::from(v.im.to_bits())
});

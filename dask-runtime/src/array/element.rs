//! The element types an [`Array`](super::Array) holds, and the type-erased block that
//! carries any of them through the task graph.

use ndarray::ArrayD;
use std::fmt::Debug;
use std::sync::Arc;

/// A block of any element type, shared: what array tasks pass each other.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnyBlock {
    /// `f64` elements.
    F64(Arc<ArrayD<f64>>),
    /// `f32` elements.
    F32(Arc<ArrayD<f32>>),
    /// `i64` elements.
    I64(Arc<ArrayD<i64>>),
    /// `bool` elements.
    Bool(Arc<ArrayD<bool>>),
}

/// An element type of [`Array`](super::Array): `f64`, `f32`, `i64` or `bool`.
pub trait Element:
    Copy
    + Send
    + Sync
    + Debug
    + PartialEq
    + Default
    + ndarray_npy::WritableElement
    + ndarray_npy::ReadableElement
    + 'static
{
    /// The element's name, as in error messages (`f64`).
    const NAME: &'static str;
    #[doc(hidden)]
    fn into_block(block: ArrayD<Self>) -> AnyBlock;
    #[doc(hidden)]
    fn from_block(block: &AnyBlock) -> Option<&Arc<ArrayD<Self>>>;
    #[doc(hidden)]
    fn spare() -> &'static super::buffers::Spare<Self>;
}

macro_rules! element {
    ($t:ty, $variant:ident) => {
        impl Element for $t {
            const NAME: &'static str = stringify!($t);
            fn into_block(block: ArrayD<Self>) -> AnyBlock {
                AnyBlock::$variant(Arc::new(block))
            }
            fn from_block(block: &AnyBlock) -> Option<&Arc<ArrayD<Self>>> {
                match block {
                    AnyBlock::$variant(b) => Some(b),
                    _ => None,
                }
            }
            fn spare() -> &'static super::buffers::Spare<Self> {
                thread_local! {
                    static SPARE: std::cell::RefCell<Vec<Vec<$t>>> = const {
                        std::cell::RefCell::new(Vec::new())
                    };
                }
                &SPARE
            }
        }
    };
}

element!(f64, F64);
element!(f32, F32);
element!(i64, I64);
element!(bool, Bool);

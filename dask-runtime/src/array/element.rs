//! The element types an [`Array`](super::Array) holds.

use std::fmt::Debug;

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
    /// The value's bits, for array names (`-0.0` and `0.0` differ, as NaNs do).
    #[doc(hidden)]
    fn bits(self) -> u64;
    #[doc(hidden)]
    fn spare() -> &'static super::buffers::Spare<Self>;
}

macro_rules! element {
    ($t:ty, $bits:expr) => {
        impl Element for $t {
            const NAME: &'static str = stringify!($t);
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
        }
    };
}

element!(f64, f64::to_bits);
element!(f32, |v: f32| u64::from(v.to_bits()));
element!(i64, |v: i64| v as u64);
element!(bool, u64::from);

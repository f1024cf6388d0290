//! How a task's output crosses to another process (MPI ranks): bytes out, a value back.
//!
//! A node knows its output type only when it is built, so the codec is chosen there: a
//! `#[delayed(distributed)]` function's node carries serde's (postcard bytes), an array
//! block task carries the array layer's, and every other node carries none; its value
//! stays in the process that made it (the placement keeps it beside its readers).

use super::node::Value;
use crate::error::BoxError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::Arc;

/// Encodes and decodes one node's output.
// Read by the MPI scheduler only (and tests).
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub struct Wire {
    /// The value as bytes.
    pub(crate) encode: fn(&Value) -> Result<Vec<u8>, BoxError>,
    /// The value back from [`Wire::encode`]'s bytes.
    pub(crate) decode: fn(&[u8]) -> Result<Value, BoxError>,
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wire")
    }
}

/// A value that can cross to another process: serde's `Serialize` and `Deserialize`.
/// A `#[delayed(distributed)]` function's output must be one; the compiler says so at
/// the function's return type otherwise.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross to another process",
    label = "a `#[delayed(distributed)]` function's output must implement serde's `Serialize` and `Deserialize`",
    note = "derive them: `#[derive(serde::Serialize, serde::Deserialize)]`, or drop `distributed` to keep the value in the process that makes it"
)]
pub trait Distributable: Send + Sync + 'static {
    /// The codec of this type's values.
    #[doc(hidden)]
    fn wire() -> &'static Wire;
}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Distributable for T {
    fn wire() -> &'static Wire {
        &SerdeWire::<T>::WIRE
    }
}

/// How a node of output `R` picks its codec: a zero-size type, so nodes pay nothing.
pub(crate) trait WireOf<R>: Send + Sync + 'static {
    fn wire(&self) -> Option<&'static Wire>;
}

/// No codec: the value stays where it is made.
impl<R> WireOf<R> for () {
    fn wire(&self) -> Option<&'static Wire> {
        None
    }
}

/// serde's codec, in postcard's compact format.
pub(crate) struct Serde;

struct SerdeWire<T>(PhantomData<fn() -> T>);

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> SerdeWire<T> {
    const WIRE: Wire = Wire {
        encode: encode::<T>,
        decode: decode::<T>,
    };
}

/// A value of type `T` as postcard bytes.
pub(crate) fn encode<T: Serialize + Send + Sync + 'static>(
    value: &Value,
) -> Result<Vec<u8>, BoxError> {
    let value = value.downcast_ref::<T>().ok_or_else(|| {
        format!(
            "internal: a value to send is not a {}",
            std::any::type_name::<T>()
        )
    })?;
    Ok(postcard::to_stdvec(value)?)
}

/// A value of type `T` from [`encode`]'s bytes.
pub(crate) fn decode<T: DeserializeOwned + Send + Sync + 'static>(
    bytes: &[u8],
) -> Result<Value, BoxError> {
    let value: T = postcard::from_bytes(bytes).map_err(|e| {
        format!(
            "a {} received from another process does not decode: {e}",
            std::any::type_name::<T>()
        )
    })?;
    Ok(Arc::new(value))
}

impl<R: Distributable> WireOf<R> for Serde {
    fn wire(&self) -> Option<&'static Wire> {
        Some(R::wire())
    }
}

/// A codec chosen at run time (array blocks: the element type is in the layer).
impl<R> WireOf<R> for &'static Wire {
    fn wire(&self) -> Option<&'static Wire> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serde_value_crosses_and_comes_back_equal() {
        let wire = Serde.wire_of::<(String, Vec<f64>)>();
        let value: Value = Arc::new(("x".to_owned(), vec![1.5, -2.0]));
        let bytes = (wire.encode)(&value).unwrap();
        let back = (wire.decode)(&bytes).unwrap();
        assert_eq!(
            back.downcast_ref::<(String, Vec<f64>)>().unwrap(),
            &("x".to_owned(), vec![1.5, -2.0])
        );
        assert!((wire.encode)(&(Arc::new(1_u8) as Value)).is_err());
        assert!((wire.decode)(&[0xff]).is_err());
    }

    impl Serde {
        fn wire_of<R: Distributable>(&self) -> &'static Wire {
            WireOf::<R>::wire(self).unwrap()
        }
    }
}

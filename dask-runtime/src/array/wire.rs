//! How an array block task's value crosses to another process (the MPI scheduler): a
//! block of any element type (a window onto one is sent as the block it shows), or a
//! reduction's partial result.
//!
//! A block task's node holds a type-erased [`BlockValue`], so its codec tries the kinds
//! of value array tasks make, in a fixed list, and tags the bytes with the kind's place
//! in the list.

use super::layer::BlockValue;
use super::reduce::numerics::{Compensated, Moments};
use super::window::view;
use crate::error::BoxError;
use crate::graph::{Value, Wire};
use ndarray::{ArrayD, IxDyn};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::{Arc, LazyLock};

/// The codec of every array block task.
pub(crate) static BLOCK_WIRE: Wire = Wire { encode, decode };

/// Bytes of a value if it is of the kind (`None` if not).
type EncodeIf = fn(&BlockValue) -> Option<Result<Vec<u8>, BoxError>>;

/// One kind of value: encodes it if `value` is one.
struct Kind {
    encode: EncodeIf,
    decode: fn(&[u8]) -> Result<BlockValue, BoxError>,
}

/// A plain value of type `T`: serde's codec, as a `#[delayed(distributed)]` value's.
fn plain<T: Serialize + DeserializeOwned + Send + Sync + 'static>() -> Kind {
    Kind {
        encode: |v| v.is::<T>().then(|| crate::graph::encode::<T>(v)),
        decode: crate::graph::decode::<T>,
    }
}

/// An n-d array of `T`, or a window onto one: its shape and its elements in order.
fn array<T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static>() -> Kind {
    Kind {
        encode: |v| {
            let a = view::<T>(v).ok()?;
            let elements: Vec<&T> = a.iter().collect();
            Some(postcard::to_stdvec(&(a.shape(), elements)).map_err(Into::into))
        },
        decode: |bytes| {
            let (shape, elements): (Vec<usize>, Vec<T>) = postcard::from_bytes(bytes)?;
            Ok(Arc::new(ArrayD::from_shape_vec(IxDyn(&shape), elements)?))
        },
    }
}

/// Blocks of an element type, and the partial results its reductions make.
macro_rules! element_kinds {
    ($($t:ty),*) => {
        vec![$(
            array::<$t>(),
            plain::<$t>(),
            plain::<Option<$t>>(),
            plain::<(Option<$t>, Option<$t>)>(),
            plain::<Option<($t, usize)>>(),
            plain::<Vec<$t>>(),
            plain::<Vec<($t, usize)>>(),
            array::<Option<$t>>(),
            array::<(Option<$t>, Option<$t>)>(),
            array::<Option<($t, usize)>>(),
        )*]
    };
}

static KINDS: LazyLock<Vec<Kind>> = LazyLock::new(|| {
    let mut kinds = element_kinds!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, bool);
    kinds.extend([
        array::<num_complex::Complex64>(),
        array::<num_complex::Complex32>(),
        plain::<Option<num_complex::Complex64>>(),
        plain::<Option<num_complex::Complex32>>(),
        plain::<Compensated>(),
        plain::<(f64, Compensated)>(),
        plain::<Moments>(),
        array::<Compensated>(),
        array::<(f64, Compensated)>(),
        array::<Moments>(),
    ]);
    kinds
});

fn encode(value: &Value) -> Result<Vec<u8>, BoxError> {
    let block = value
        .downcast_ref::<BlockValue>()
        .ok_or("internal: an array task's value is not a block")?;
    for (tag, kind) in KINDS.iter().enumerate() {
        if let Some(bytes) = (kind.encode)(block) {
            let mut out = (tag as u16).to_le_bytes().to_vec();
            out.extend_from_slice(&bytes?);
            return Ok(out);
        }
    }
    Err("internal: an array task made a value of a kind that cannot cross processes".into())
}

fn decode(bytes: &[u8]) -> Result<Value, BoxError> {
    let (tag, payload) = bytes
        .split_first_chunk::<2>()
        .ok_or("a block from another process is empty")?;
    let kind = KINDS
        .get(usize::from(u16::from_le_bytes(*tag)))
        .ok_or("a block from another process has an unknown kind")?;
    let block = (kind.decode)(payload)?;
    Ok(Arc::new(block))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(block: BlockValue) -> BlockValue {
        let value: Value = Arc::new(block);
        let bytes = encode(&value).unwrap();
        let back = decode(&bytes).unwrap();
        Arc::clone(back.downcast_ref::<BlockValue>().unwrap())
    }

    #[test]
    fn blocks_windows_and_partials_cross_and_come_back_equal() {
        let a = ndarray::Array::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64).into_dyn();
        let back = round_trip(Arc::new(a.clone()));
        assert_eq!(back.downcast_ref::<ArrayD<f64>>(), Some(&a));

        let shared: BlockValue = Arc::new(a.clone());
        let t = super::super::window::permuted::<f64>(Arc::clone(&shared), &[1, 0]).unwrap();
        let back = round_trip(t);
        assert_eq!(back.downcast_ref::<ArrayD<f64>>(), Some(&a.t().to_owned()));

        let flags = ArrayD::from_elem(IxDyn(&[2]), true);
        let back = round_trip(Arc::new(flags.clone()));
        assert_eq!(back.downcast_ref::<ArrayD<bool>>(), Some(&flags));

        let partial = (2.5_f64, Compensated::default());
        let back = round_trip(Arc::new(partial));
        assert_eq!(
            back.downcast_ref::<(f64, Compensated)>().map(|p| p.0),
            Some(2.5)
        );

        let lanes = ArrayD::from_elem(IxDyn(&[2, 1]), Some((3_i64, 7_usize)));
        let back = round_trip(Arc::new(lanes.clone()));
        assert_eq!(
            back.downcast_ref::<ArrayD<Option<(i64, usize)>>>(),
            Some(&lanes)
        );

        let top = vec![(9.5_f64, 3_usize), (1.0, 0)];
        let back = round_trip(Arc::new(top.clone()));
        assert_eq!(back.downcast_ref::<Vec<(f64, usize)>>(), Some(&top));

        let unknown: Value = Arc::new(Arc::new("text") as BlockValue);
        assert!(encode(&unknown).is_err());
        assert!(decode(&[200, 0, 1]).is_err());
    }
}

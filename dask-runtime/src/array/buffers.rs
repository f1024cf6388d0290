//! Recycled element buffers for the strips a reduction makes and folds in a loop.
//!
//! Each strip of `(x + x.t()).mean()` allocates a few 256 KB temporaries and frees
//! them a moment later. glibc's malloc hands freed memory that size back to the OS
//! (munmap, or trimming a thread's arena) and the next strip faults it back in: 39% of
//! that benchmark's time was spent in the kernel. Instead, a worker thread keeps a
//! few freed buffers of each element type and the next strip reuses them.

use super::Element;
use super::layer::BlockValue;
use ndarray::{ArrayD, ArrayView, IxDyn, ShapeError, Zip};
use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

/// Buffers a thread keeps, per element type.
const KEEP: usize = 8;
/// Buffers above this go back to the allocator: whole blocks are not recycled, only
/// strips (256 KB of f64), so a thread holds at most `KEEP` times this.
const MAX_BYTES: usize = 1 << 20;

/// The thread's spare buffers of one element type.
pub type Spare<T> = LocalKey<RefCell<Vec<Vec<T>>>>;

/// An empty buffer with room for `len` elements, recycled when one is spare.
pub(crate) fn take<T: Element>(len: usize) -> Vec<T> {
    // try_with: during a thread's teardown the pool may be gone; then just allocate.
    let spare = T::spare()
        .try_with(|s| s.try_borrow_mut().ok()?.pop())
        .ok()
        .flatten();
    match spare {
        Some(mut v) if v.capacity() >= len => {
            v.clear();
            v
        }
        // Too small (a whole block after strips): growing it would copy it; a fresh
        // allocation does not.
        _ => Vec::with_capacity(len),
    }
}

/// Keeps `array`'s memory for a later [`take`] on this thread.
pub(crate) fn recycle<T: Element>(array: ArrayD<T>) {
    let (v, _) = array.into_raw_vec_and_offset();
    if v.capacity() == 0 || v.capacity() * size_of::<T>() > MAX_BYTES {
        return;
    }
    // If the pool is gone (thread teardown) or busy, the buffer is simply freed.
    let _ = T::spare().try_with(|s| {
        if let Ok(mut spare) = s.try_borrow_mut()
            && spare.len() < KEEP
        {
            spare.push(v);
        }
    });
}

/// Recycles a block (of `T`) nobody else holds.
pub(crate) fn recycle_value<T: Element>(value: BlockValue) {
    if let Ok(block) = value.downcast::<ArrayD<T>>()
        && let Ok(array) = Arc::try_unwrap(block)
    {
        recycle(array);
    }
}

/// Recycles a block of any element type nobody else holds.
pub(crate) fn recycle_any(value: BlockValue) {
    let value = match value.downcast::<ArrayD<f64>>() {
        Ok(block) => return recycle_value::<f64>(block),
        Err(other) => other,
    };
    let value = match value.downcast::<ArrayD<f32>>() {
        Ok(block) => return recycle_value::<f32>(block),
        Err(other) => other,
    };
    let value = match value.downcast::<ArrayD<i64>>() {
        Ok(block) => return recycle_value::<i64>(block),
        Err(other) => other,
    };
    if let Ok(block) = value.downcast::<ArrayD<bool>>() {
        recycle_value::<bool>(block);
    }
}

/// `f` of each element of `block`, in a recycled buffer.
pub(crate) fn map<T: Element, U: Element>(
    block: &ArrayView<'_, T, IxDyn>,
    f: impl Fn(T) -> U,
) -> Result<ArrayD<U>, ShapeError> {
    let mut values = take::<U>(block.len());
    if let Some(slice) = block.as_slice() {
        values.extend(slice.iter().map(|&v| f(v)));
        return ArrayD::from_shape_vec(block.raw_dim(), values);
    }
    // Another layout (a transposed block): fill, then assign in Zip's order.
    values.resize(block.len(), U::default());
    let mut out = ArrayD::from_shape_vec(block.raw_dim(), values)?;
    Zip::from(&mut out).and(block).for_each(|o, &v| *o = f(v));
    Ok(out)
}

/// `f` of each pair of elements of `a` and `b` (same shape), in a recycled buffer.
pub(crate) fn zip_map<A: Element, B: Element, C: Element>(
    a: &ArrayView<'_, A, IxDyn>,
    b: &ArrayView<'_, B, IxDyn>,
    f: impl Fn(A, B) -> C,
) -> Result<ArrayD<C>, ShapeError> {
    let mut values = take::<C>(a.len());
    if let (Some(x), Some(y)) = (a.as_slice(), b.as_slice())
        && x.len() == y.len()
    {
        values.extend(x.iter().zip(y).map(|(&p, &q)| f(p, q)));
        return ArrayD::from_shape_vec(a.raw_dim(), values);
    }
    values.resize(a.len(), C::default());
    let mut out = ArrayD::from_shape_vec(a.raw_dim(), values)?;
    Zip::from(&mut out)
        .and(a)
        .and(b)
        .for_each(|o, &p, &q| *o = f(p, q));
    Ok(out)
}

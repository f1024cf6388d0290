//! Recycled element buffers for the strips and blocks the array runtime makes and
//! frees in a loop.
//!
//! Each strip of `(x + x.t()).mean()` allocates a few 256 KB temporaries and frees
//! them a moment later. glibc's malloc hands freed memory that size back to the OS
//! (munmap, or trimming a thread's arena) and the next strip faults it back in: 39% of
//! that benchmark's time was spent in the kernel. The same holds for whole blocks: a
//! 3x3 stencil through `map_overlap` faulted in a fresh 8 MB block for every block
//! generated and every block grown by its margins (a sixth of its run). Instead, a
//! worker thread keeps a few freed buffers of each element type and the next strip or
//! block reuses them.

use super::Element;
use super::layer::BlockValue;
use ndarray::{ArrayD, ArrayView, IxDyn, ShapeError, Zip};
use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

/// Strip-sized buffers a thread keeps, per element type.
const KEEP: usize = 8;
/// Buffers up to this size are strips (256 KB of f64 for the mission's array); above
/// it, blocks.
const MAX_BYTES: usize = 1 << 20;
/// Block-sized buffers a thread keeps, per element type: what one task frees for the
/// next (a stencil's grown block and its inputs), so a thread holds at most
/// `BLOCKS_KEEP` blocks beyond those in flight.
const BLOCKS_KEEP: usize = 2;
/// Blocks above this go back to the allocator.
const MAX_BLOCK_BYTES: usize = 64 << 20;

/// The thread's spare buffers of one element type.
pub type Spare<T> = LocalKey<RefCell<Vec<Vec<T>>>>;

/// Whether a buffer of `len` elements of `T` is block-sized rather than strip-sized.
fn is_block<T>(len: usize) -> bool {
    len.saturating_mul(size_of::<T>()) > MAX_BYTES
}

/// An empty buffer with room for `len` elements, recycled when one is spare: the
/// smallest spare of its size class (strip or block) that fits.
pub(crate) fn take<T: Element>(len: usize) -> Vec<T> {
    match spare::<T>(len) {
        Some(mut v) => {
            v.clear();
            v
        }
        // None fits: growing a smaller one would copy it; a fresh allocation does not.
        None => Vec::with_capacity(len),
    }
}

/// A buffer of `len` elements for a caller that overwrites every one of them (a chunk
/// read from a file, a block grown by its margins): a recycled buffer keeps the values
/// of its last use rather than being zeroed first, a pass over the whole block saved.
pub(crate) fn take_filled<T: Element>(len: usize) -> Vec<T> {
    let mut v = spare::<T>(len).unwrap_or_default();
    v.truncate(len);
    v.resize(len, T::default());
    v
}

/// The smallest spare buffer of `len`'s size class with room for `len` elements.
fn spare<T: Element>(len: usize) -> Option<Vec<T>> {
    // try_with: during a thread's teardown the pool may be gone; then just allocate.
    T::spare()
        .try_with(|s| {
            let mut spare = s.try_borrow_mut().ok()?;
            let fit = spare
                .iter()
                .enumerate()
                .filter(|(_, v)| {
                    v.capacity() >= len && is_block::<T>(v.capacity()) == is_block::<T>(len)
                })
                .min_by_key(|(_, v)| v.capacity())?
                .0;
            Some(spare.swap_remove(fit))
        })
        .ok()
        .flatten()
}

/// Keeps `array`'s memory for a later [`take`] on this thread.
pub(crate) fn recycle<T: Element>(array: ArrayD<T>) {
    let (v, _) = array.into_raw_vec_and_offset();
    let bytes = v.capacity() * size_of::<T>();
    if bytes == 0 || bytes > MAX_BLOCK_BYTES {
        return;
    }
    // If the pool is gone (thread teardown) or busy, the buffer is simply freed.
    let _ = T::spare().try_with(|s| {
        if let Ok(mut spare) = s.try_borrow_mut() {
            let block = is_block::<T>(v.capacity());
            let room = if block { BLOCKS_KEEP } else { KEEP };
            let kept = spare
                .iter()
                .filter(|s| is_block::<T>(s.capacity()) == block)
                .count();
            if kept < room {
                spare.push(v);
            }
        }
    });
}

/// Recycles a block (of `T`), or the block under a window, that nobody else holds.
pub(crate) fn recycle_value<T: Element>(value: BlockValue) {
    if let Ok(block) = super::window::into_base(value).downcast::<ArrayD<T>>() {
        recycle_unshared(block);
    }
}

/// Recycles a block of any element type (or the block under a window) that nobody
/// else holds.
pub(crate) fn recycle_any(value: BlockValue) {
    let value = match super::window::into_base(value).downcast::<ArrayD<f64>>() {
        Ok(block) => return recycle_unshared(block),
        Err(other) => other,
    };
    let value = match value.downcast::<ArrayD<f32>>() {
        Ok(block) => return recycle_unshared(block),
        Err(other) => other,
    };
    let value = match value.downcast::<ArrayD<i64>>() {
        Ok(block) => return recycle_unshared(block),
        Err(other) => other,
    };
    if let Ok(block) = value.downcast::<ArrayD<bool>>() {
        recycle_unshared(block);
    }
}

/// Recycles `block` if this is its last holder.
fn recycle_unshared<T: Element>(block: Arc<ArrayD<T>>) {
    if let Ok(array) = Arc::try_unwrap(block) {
        recycle(array);
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

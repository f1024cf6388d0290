//! Views of blocks that other tasks made: a strip of a stored block, or a stored block
//! transposed, handed on without copying.
//!
//! A block read by two consumers is shared, so a consumer cannot take it apart; before
//! windows, `x.t()` of a shared block copied it (8 MB a block on the mission's array)
//! and a reduction folded a whole `x + x.t()` block made in memory. A [`Window`] is the
//! shared block, a region of it and an axis order; every reader sees it through
//! [`view`], as an ndarray view, and only a reader that must own its input copies it
//! ([`owned_array`]).

use super::layer::{BlockValue, Region, block, owned};
use crate::error::BoxError;
use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
use std::sync::Arc;

/// Part of a block, its axes reordered: output axis `i` is the base's axis `axes[i]`,
/// restricted to `region[axes[i]]` (in the base's own coordinates).
pub(crate) struct Window {
    /// Always a whole block, never another window.
    base: BlockValue,
    region: Vec<(usize, usize)>,
    axes: Vec<usize>,
}

/// The block under `value` if it is a window nobody else holds; else `value`.
pub(crate) fn into_base(value: BlockValue) -> BlockValue {
    match value.downcast::<Window>() {
        Ok(w) => match Arc::try_unwrap(w) {
            Ok(w) => w.base,
            Err(shared) => shared,
        },
        Err(other) => other,
    }
}

/// The block of `T` inside `value` (a block or a window of one), as a view.
pub(crate) fn view<T: Send + Sync + 'static>(
    value: &BlockValue,
) -> Result<ArrayViewD<'_, T>, BoxError> {
    if let Some(array) = value.downcast_ref::<ArrayD<T>>() {
        return Ok(array.view());
    }
    let w = value.downcast_ref::<Window>().ok_or_else(|| not_a::<T>())?;
    let base = w.base.downcast_ref::<ArrayD<T>>().ok_or_else(not_a::<T>)?;
    if base.ndim() != w.region.len() {
        return Err("internal: a window of another rank".into());
    }
    Ok(base
        .slice_each_axis(|ax| {
            let (start, len) = w.region[ax.axis.index()];
            Slice::from(start..start + len)
        })
        .permuted_axes(IxDyn(&w.axes)))
}

fn not_a<T>() -> BoxError {
    format!(
        "internal: a block is not an array of {}",
        std::any::type_name::<T>()
    )
    .into()
}

/// The block of `T` inside `value`, owned: moved out when nobody else holds it, else
/// copied (a window is copied to its own layout).
pub(crate) fn owned_array<T: Clone + Send + Sync + 'static>(
    value: BlockValue,
) -> Result<ArrayD<T>, BoxError> {
    if value.is::<Window>() {
        return Ok(view::<T>(&value)?.to_owned());
    }
    owned::<ArrayD<T>>(value)
}

/// `value` with its axes permuted (output axis `i` is input axis `axes[i]`): the block
/// itself when nobody else holds it, else a window onto it.
pub(crate) fn permuted<T: Send + Sync + 'static>(
    value: BlockValue,
    axes: &[usize],
) -> Result<BlockValue, BoxError> {
    let w = match value.downcast::<ArrayD<T>>() {
        Ok(array) => match Arc::try_unwrap(array) {
            Ok(array) => return Ok(block(array.permuted_axes(IxDyn(axes)))),
            Err(shared) => {
                let shape = shared.shape().to_vec();
                as_window(shared, &shape)
            }
        },
        Err(other) if other.is::<Window>() => as_window(other, &[]),
        Err(_) => return Err(not_a::<T>()),
    };
    if axes.len() != w.axes.len() {
        return Err("internal: a permutation of another rank".into());
    }
    Ok(block(Window {
        axes: axes.iter().map(|&a| w.axes[a]).collect(),
        region: w.region,
        base: w.base,
    }))
}

/// `region` of `value` (in its own coordinates, `(start, len)` per axis), not copied;
/// `shape` is the shape of `value`.
pub(crate) fn window(
    value: &BlockValue,
    shape: &[usize],
    region: &Region,
) -> Result<BlockValue, BoxError> {
    let w = as_window(Arc::clone(value), shape);
    if region.len() != w.axes.len() {
        return Err("internal: a region of another rank".into());
    }
    let mut base_region = w.region;
    for (&(start, len), &axis) in region.iter().zip(&w.axes) {
        let (from, whole) = base_region[axis];
        if start + len > whole {
            return Err("internal: a region outside its block".into());
        }
        base_region[axis] = (from + start, len);
    }
    Ok(block(Window {
        base: w.base,
        region: base_region,
        axes: w.axes,
    }))
}

/// `value` as a window: a window as it is, a whole block (of `shape`) the window of
/// all of it.
fn as_window(value: BlockValue, shape: &[usize]) -> Window {
    if let Some(w) = value.downcast_ref::<Window>() {
        return Window {
            base: Arc::clone(&w.base),
            region: w.region.clone(),
            axes: w.axes.clone(),
        };
    }
    Window {
        region: shape.iter().map(|&n| (0, n)).collect(),
        axes: (0..shape.len()).collect(),
        base: value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, s};

    fn grid(rows: usize, cols: usize) -> ArrayD<f64> {
        Array::from_shape_fn((rows, cols), |(i, j)| (i * 10 + j) as f64).into_dyn()
    }

    #[test]
    fn a_shared_block_is_transposed_without_a_copy() {
        let held = block(grid(3, 4));
        let t = permuted::<f64>(Arc::clone(&held), &[1, 0]).unwrap();
        assert!(t.is::<Window>(), "a shared block must not be copied");
        assert_eq!(view::<f64>(&t).unwrap(), grid(3, 4).t().into_dyn());
        // Nobody else holds it: permuted in place, a plain block.
        let alone = permuted::<f64>(block(grid(3, 4)), &[1, 0]).unwrap();
        assert!(alone.is::<ArrayD<f64>>());
        drop(held);
    }

    #[test]
    fn windows_of_windows_compose_regions_and_axis_orders() {
        let base = block(grid(5, 6));
        let t = permuted::<f64>(Arc::clone(&base), &[1, 0]).unwrap(); // 6 x 5
        let w = window(&t, &[6, 5], &[(1, 3), (2, 2)]).unwrap();
        let want = grid(5, 6).t().slice(s![1..4, 2..4]).to_owned().into_dyn();
        assert_eq!(view::<f64>(&w).unwrap(), want);
        let back = permuted::<f64>(w, &[1, 0]).unwrap();
        assert_eq!(view::<f64>(&back).unwrap(), want.t().into_dyn());
        assert_eq!(owned_array::<f64>(back).unwrap(), want.t().into_dyn());
        assert!(
            window(&t, &[6, 5], &[(4, 3), (0, 1)]).is_err(),
            "outside the block"
        );
        assert!(view::<i64>(&t).is_err(), "another element type");
    }
}

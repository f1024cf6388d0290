//! Folding lanes in cache: a transposed panel at a time for lanes across memory.

use super::super::Element;
use super::reducers::Reducer;
use ndarray::Axis;

/// Lanes folded together, a transposed panel at a time: enough lanes that each row
/// of the panel copies a cache line, few enough that the panel stays in cache.
const PANEL_LANES: usize = 64;

/// Folds every lane of `block` along `axis`, in the row-major order of the other
/// axes, with positions rebased by `+ base`. Lanes across memory (any axis but the
/// last) are first copied a panel at a time into contiguous rows, so the fold reads
/// memory in order and in cache instead of striding through the whole block.
pub(crate) fn fold_lanes<T: Element, R: Reducer<T>>(
    r: &R,
    block: ndarray::ArrayViewD<'_, T>,
    axis: usize,
    base: usize,
) -> Vec<R::Acc> {
    // Lanes that already lie in order in memory are folded where they are: the last
    // axis of a row-major block, the first of a transposed one.
    let in_order =
        |b: &ndarray::ArrayViewD<'_, T>| b.len_of(Axis(axis)) <= 1 || b.stride_of(Axis(axis)) == 1;
    if in_order(&block) {
        return fold_each_lane(r, block, axis, base);
    }
    let block = block.as_standard_layout();
    let data = match block.as_slice() {
        Some(data) if !in_order(&block.view()) => data,
        // The axis is the last one; or, unreachable, row-major is not contiguous.
        _ => return fold_each_lane(r, block.view(), axis, base),
    };
    let shape = block.shape();
    let len = shape[axis];
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let fold = |lane: &[T]| fold_lane(r, ndarray::ArrayView1::from(lane), base);
    let mut accs = Vec::with_capacity(outer * inner);
    let mut panel = vec![T::default(); PANEL_LANES.min(inner) * len];
    for o in 0..outer {
        let slab = &data[o * len * inner..(o + 1) * len * inner];
        for first in (0..inner).step_by(PANEL_LANES) {
            let width = PANEL_LANES.min(inner - first);
            for (k, row) in slab.chunks_exact(inner).enumerate() {
                for (j, &v) in row[first..first + width].iter().enumerate() {
                    panel[j * len + k] = v;
                }
            }
            accs.extend(panel.chunks_exact(len).take(width).map(fold));
        }
    }
    accs
}

/// Every lane along `axis` folded in place, in the row-major order of the other axes.
fn fold_each_lane<T: Element, R: Reducer<T>>(
    r: &R,
    block: ndarray::ArrayViewD<'_, T>,
    axis: usize,
    base: usize,
) -> Vec<R::Acc> {
    let lanes = block.lanes(Axis(axis));
    lanes.into_iter().map(|l| fold_lane(r, l, base)).collect()
}

/// One lane folded, its positions rebased by `+ base`.
fn fold_lane<T: Element, R: Reducer<T>>(
    r: &R,
    lane: ndarray::ArrayView1<'_, T>,
    base: usize,
) -> R::Acc {
    r.rebase(r.fold(lane), &|p| p + base)
}

/// The global row-major index of position `p` (row-major) of a block.
pub(crate) fn global_index(region: &[(usize, usize)], shape: &[usize], p: usize) -> usize {
    let mut rest = p;
    let mut local = vec![0; region.len()];
    for ax in (0..region.len()).rev() {
        let len = region[ax].1.max(1);
        local[ax] = rest % len;
        rest /= len;
    }
    (0..region.len()).fold(0, |acc, ax| acc * shape[ax] + region[ax].0 + local[ax])
}

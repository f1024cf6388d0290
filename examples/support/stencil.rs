//! The 3x3 smoothing stencil the array benchmark times and `tests/array_overlap.rs`
//! checks at block sizes that are recycled (the same nine slice-adds as the NumPy
//! function in `scripts/compare_dask_array.py`).

use ndarray::{ArrayD, ArrayViewD, Ix2, s};

/// The 3x3 mean of each element one away from the block's edge (the edge is the
/// margin `map_overlap` cuts off).
pub fn smooth(b: ArrayViewD<'_, f64>) -> ArrayD<f64> {
    let b = b.into_dimensionality::<Ix2>().expect("2-d");
    let (r, c) = b.dim();
    let mut out = b.to_owned();
    let mut inner = out.slice_mut(s![1..r - 1, 1..c - 1]);
    inner.fill(0.0);
    for di in 0..3 {
        for dj in 0..3 {
            inner += &b.slice(s![di..r - 2 + di, dj..c - 2 + dj]);
        }
    }
    inner /= 9.0;
    out.into_dyn()
}

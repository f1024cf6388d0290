//! Blocked Cholesky (the right-looking tile algorithm, as Dask's `cholesky` on square
//! chunks): with the matrix in `t x t` square tiles, step `k` factors the diagonal tile
//! (`L_kk L_kk^T = A_kk`), solves the tiles below it (`L_ik = A_ik L_kk^-T`), and
//! updates the trailing tiles (`A_ij -= L_ik L_jk^T`, `i >= j > k`). Every tile
//! operation is a task: the panel's tiles, and the trailing update's, run at once; no
//! task holds more than three tiles.

use super::LinalgElement;
use super::dense::{Step, adjoint_tile, from_faer, matrix_of, single, to_faer};
use crate::array::layer::{BlockValue, Layer, Tokenizer, block};
use crate::array::{Array, ShapeError, new_layer};
use crate::error::BoxError;
use ndarray::{Array2, ArrayD, IxDyn};
use std::sync::Arc;

/// `L` of the tile `a` (`a = L L^T`), or an error if `a` is not positive definite.
fn factor_tile<T: LinalgElement>(a: &ndarray::ArrayView2<'_, T>) -> Result<Array2<T>, BoxError> {
    let llt = to_faer(a)
        .llt(faer::Side::Lower)
        .map_err(|_| "the matrix is not positive definite")?;
    Ok(from_faer(llt.L()))
}

/// `A_ik L_kk^-H`: the conjugate transpose of the solution `X` of `L_kk X = A_ik^H`.
fn solve_panel<T: LinalgElement>(
    a: &ndarray::ArrayView2<'_, T>,
    l: &ndarray::ArrayView2<'_, T>,
) -> Array2<T> {
    let mut rhs = to_faer(&adjoint_tile(a).view());
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(
        to_faer(l).as_ref(),
        rhs.as_mut(),
        faer::Par::Seq,
    );
    let x = from_faer(rhs.as_ref()).reversed_axes();
    if T::COMPLEX { x.mapv(T::conj) } else { x }
}

/// The Cholesky factor of the square matrix `a` (`lower`: `L`; else `U = L^T`), in
/// tiles of `a`'s row chunks on both axes.
pub(crate) fn cholesky<T: LinalgElement>(
    a: &Array<T>,
    lower: bool,
) -> Result<Array<T>, ShapeError> {
    let layer = super::dense::matrix_layer("cholesky", a)?;
    let n = layer.shape[0];
    let tiles = layer.chunks[0].clone();
    let t = tiles.len();
    let token = Tokenizer::new("cholesky").add(T::NAME);
    let mut current = super::dense::square_tiles::<T>(&layer);
    for k in 0..t {
        // L_kk.
        let diag = single(
            "cholesky-diag",
            token.clone().add(("diag", k)),
            vec![Arc::clone(&current)],
            vec![(0, vec![k, k])],
            |values: Vec<BlockValue>| {
                Ok(block(factor_tile(&matrix_of::<T>(&values, 0)?)?.into_dyn()))
            },
        );
        // L_ik for i > k (the blocks above are empty, never read).
        let panel = new_layer(
            "cholesky-panel",
            token.clone().add(("panel", k)),
            vec![t],
            vec![vec![1; t]],
            vec![Arc::clone(&current), Arc::clone(&diag)],
            Step {
                deps: move |_: &Layer, idx: &[usize]| {
                    if idx[0] > k {
                        vec![(0, vec![idx[0], k]), (1, vec![0])]
                    } else {
                        Vec::new()
                    }
                },
                run: move |_: &Layer, idx: &[usize], values: Vec<BlockValue>| {
                    if idx[0] <= k {
                        return Ok(block(ArrayD::<T>::zeros(IxDyn(&[0, 0]))));
                    }
                    let (a, l) = (matrix_of::<T>(&values, 0)?, matrix_of::<T>(&values, 1)?);
                    Ok(block(solve_panel(&a, &l).into_dyn()))
                },
            },
            4,
        );
        // Every tile after step k: column k from the panel, the trailing tiles updated,
        // the rest as they were.
        current = new_layer(
            "cholesky-update",
            token.clone().add(("update", k)),
            vec![n, n],
            vec![tiles.clone(), tiles.clone()],
            vec![current, diag, panel],
            Step {
                deps: move |_: &Layer, idx: &[usize]| {
                    let (i, j) = (idx[0], idx[1]);
                    if i == k && j == k {
                        vec![(1, vec![0])]
                    } else if i > k && j == k {
                        vec![(2, vec![i])]
                    } else if i >= j && j > k {
                        vec![(0, vec![i, j]), (2, vec![i]), (2, vec![j])]
                    } else {
                        vec![(0, vec![i, j])]
                    }
                },
                run: move |_: &Layer, idx: &[usize], values: Vec<BlockValue>| {
                    let (i, j) = (idx[0], idx[1]);
                    if i >= j && j > k {
                        let (a, li, lj) = (
                            matrix_of::<T>(&values, 0)?,
                            matrix_of::<T>(&values, 1)?,
                            matrix_of::<T>(&values, 2)?,
                        );
                        let updated = &a - &li.dot(&adjoint_tile(&lj));
                        return Ok(block(updated.into_dyn()));
                    }
                    values
                        .into_iter()
                        .next()
                        .ok_or_else(|| "internal: a tile without its input".into())
                },
            },
            4,
        );
    }
    // The factor: the lower tiles (transposed into place for U), zeros elsewhere.
    Ok(Array::from_op(
        "cholesky",
        token.add(("factor", lower)),
        vec![n, n],
        vec![tiles.clone(), tiles],
        vec![current],
        Step {
            deps: move |_: &Layer, idx: &[usize]| {
                let (i, j) = (idx[0], idx[1]);
                match (lower, i >= j, i <= j) {
                    (true, true, _) => vec![(0, vec![i, j])],
                    (false, _, true) => vec![(0, vec![j, i])],
                    _ => Vec::new(),
                }
            },
            run: move |layer: &Layer,
                       idx: &[usize],
                       values: Vec<BlockValue>|
                  -> Result<BlockValue, BoxError> {
                let (i, j) = (idx[0], idx[1]);
                let shape = crate::array::layer::lengths(&layer.region(idx));
                if values.is_empty() {
                    return Ok(block(ArrayD::<T>::zeros(IxDyn(&shape))));
                }
                let tile = matrix_of::<T>(&values, 0)?;
                // A diagonal tile keeps only its own lower triangle.
                // U = L^H.
                let mut out: Array2<T> = if lower {
                    tile.to_owned()
                } else {
                    adjoint_tile(&tile).into_owned()
                };
                if i == j {
                    for ((r, c), v) in out.indexed_iter_mut() {
                        if (lower && c > r) || (!lower && r > c) {
                            *v = T::zero();
                        }
                    }
                }
                Ok(block(out.as_standard_layout().into_owned().into_dyn()))
            },
        },
    ))
}

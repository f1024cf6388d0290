//! Blocked triangular solves (Dask's `solve_triangular`), and the right-hand side put
//! in an LU's row order: the two halves of a blocked `solve`.
//!
//! Forward substitution with `a` in square tiles: row tile `i` of the solution is
//! `X_i = A_ii^-1 (B_i - sum_{j<i} A_ij X_j)`, one task per tile of `B`'s columns;
//! back substitution runs the same from the last row tile up.

use super::LinalgElement;
use super::dense::{Step, matrix_of, to_faer};
use crate::array::layer::{BlockValue, Layer, Tokenizer, block, typed};
use crate::array::{Array, ShapeError, new_layer};
use crate::error::BoxError;
use ndarray::ArrayView2;
use std::sync::Arc;

/// Which triangle of the tiles a solve reads, and whether its diagonal is ones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Triangle {
    pub(crate) lower: bool,
    /// The diagonal is taken as ones and never read (an LU's `L`).
    pub(crate) unit: bool,
}

/// `acc` overwritten by `A_ii^-1 acc`, for the triangle of the diagonal tile `a`.
fn solve_tile<T: LinalgElement>(
    a: &ArrayView2<'_, T>,
    acc: &ArrayView2<'_, T>,
    shape: Triangle,
    row0: usize,
) -> Result<ndarray::Array2<T>, BoxError> {
    if !shape.unit
        && let Some(d) = (0..a.nrows()).find(|&d| a[[d, d]] == T::zero())
    {
        // SciPy's words.
        return Err(format!(
            "singular matrix: resolution failed at diagonal {}",
            row0 + d
        )
        .into());
    }
    let (tri, mut x) = (to_faer(a), to_faer(acc));
    let par = faer::Par::Seq;
    use faer::linalg::triangular_solve as ts;
    match (shape.lower, shape.unit) {
        (true, false) => ts::solve_lower_triangular_in_place(tri.as_ref(), x.as_mut(), par),
        (true, true) => ts::solve_unit_lower_triangular_in_place(tri.as_ref(), x.as_mut(), par),
        (false, false) => ts::solve_upper_triangular_in_place(tri.as_ref(), x.as_mut(), par),
        (false, true) => ts::solve_unit_upper_triangular_in_place(tri.as_ref(), x.as_mut(), par),
    }
    Ok(super::dense::from_faer(x.as_ref()))
}

/// `X` with `A X = B`: `a` the square tiles (only `shape`'s triangle read), `b` a
/// matrix with as many rows. `B` is rechunked to the tiles' rows, its column chunks
/// kept; the result has `B`'s chunks after that.
pub(crate) fn substitute<T: LinalgElement>(
    a: &Arc<Layer>,
    b: &Arc<Layer>,
    shape: Triangle,
) -> Result<Array<T>, ShapeError> {
    let sizes = a.chunks[0].clone();
    let t = sizes.len();
    if b.shape.len() != 2 || b.shape[0] != a.shape[0] {
        return Err(ShapeError::new(
            "solve_triangular",
            format!(
                "b {:?} must be a matrix with the {} rows of a",
                b.shape, a.shape[0]
            ),
        ));
    }
    let columns = b.chunks[1].clone();
    let b = crate::array::blocks::rechunk_layer(b, vec![sizes.clone(), columns.clone()], T::ops());
    let starts = crate::array::chunks::offsets(&sizes);
    let order: Vec<usize> = if shape.lower {
        (0..t).collect()
    } else {
        (0..t).rev().collect()
    };
    let token = Tokenizer::new("solve_triangular")
        .add((shape.lower, shape.unit))
        .add(T::NAME);
    // Solved row tiles, in solving order, with their row tile index.
    let mut solved: Vec<(usize, Arc<Layer>)> = Vec::with_capacity(t);
    for &i in &order {
        let mut inputs = vec![Arc::clone(a), Arc::clone(&b)];
        inputs.extend(solved.iter().map(|(_, l)| Arc::clone(l)));
        let before: Vec<usize> = solved.iter().map(|(j, _)| *j).collect();
        let row0 = starts[i];
        let x = new_layer(
            "solve_triangular",
            token.clone().add(("row", i)),
            vec![sizes[i], b.shape[1]],
            vec![vec![sizes[i]], columns.clone()],
            inputs,
            Step {
                deps: {
                    let before = before.clone();
                    move |_: &Layer, idx: &[usize]| {
                        let c = idx[1];
                        let mut d = vec![(0, vec![i, i]), (1, vec![i, c])];
                        for (q, &j) in before.iter().enumerate() {
                            d.push((0, vec![i, j]));
                            d.push((2 + q, vec![0, c]));
                        }
                        d
                    }
                },
                run: move |_: &Layer, _: &[usize], values: Vec<BlockValue>| {
                    let diagonal = matrix_of::<T>(&values, 0)?;
                    let mut acc = matrix_of::<T>(&values, 1)?.to_owned();
                    for q in 0..before.len() {
                        let (a_ij, x_j) = (
                            matrix_of::<T>(&values, 2 + 2 * q)?,
                            matrix_of::<T>(&values, 3 + 2 * q)?,
                        );
                        ndarray::linalg::general_mat_mul(
                            T::zero() - T::one(),
                            &a_ij,
                            &x_j,
                            T::one(),
                            &mut acc,
                        );
                    }
                    Ok(block(
                        solve_tile(&diagonal, &acc.view(), shape, row0)?.into_dyn(),
                    ))
                },
            },
            4,
        );
        solved.push((i, x));
    }
    solved.sort_by_key(|(i, _)| *i);
    let rows: Vec<Array<T>> = solved
        .into_iter()
        .map(|(_, l)| Array::from_layer(l))
        .collect();
    Ok(crate::array::concatenate(&rows, 0))
}

/// `b`'s rows in an LU's row order (`perm`, one block of `Vec<usize>`): row `p` of the
/// result is row `perm[p]` of `b`, in row tiles `sizes`, `b`'s column chunks kept.
pub(crate) fn permute_rows<T: LinalgElement>(
    perm: &Arc<Layer>,
    b: &Arc<Layer>,
    sizes: &[usize],
) -> Arc<Layer> {
    let columns = b.chunks[1].clone();
    let rows_in = b.chunks[0].len();
    let starts = crate::array::chunks::offsets(sizes);
    let starts_in = crate::array::chunks::offsets(&b.chunks[0]);
    new_layer(
        "lu-permute",
        Tokenizer::new("lu-permute").add(T::NAME),
        b.shape.clone(),
        vec![sizes.to_vec(), columns],
        vec![Arc::clone(perm), Arc::clone(b)],
        Step {
            deps: move |_: &Layer, idx: &[usize]| {
                let mut d = vec![(0, vec![0])];
                d.extend((0..rows_in).map(|r| (1, vec![r, idx[1]])));
                d
            },
            run: move |layer: &Layer, idx: &[usize], values: Vec<BlockValue>| {
                let order = typed::<Vec<usize>>(values.first().ok_or("internal: no order")?)?;
                let column = (1..values.len())
                    .map(|q| matrix_of::<T>(&values, q))
                    .collect::<Result<Vec<_>, _>>()?;
                let region = layer.region(idx);
                let (rows, cols) = (region[0].1, region[1].1);
                let at = starts[idx[0]];
                // Each row copied from the tile that holds it: the column is never
                // stacked whole (for `inv`, that was a copy of it per tile).
                let mut out = ndarray::Array2::<T>::zeros((rows, cols));
                for (p, &g) in order[at..at + rows].iter().enumerate() {
                    let t = starts_in.partition_point(|&s| s <= g) - 1;
                    let tile = column.get(t).ok_or("internal: a row outside b")?;
                    out.row_mut(p).assign(&tile.row(g - starts_in[t]));
                }
                Ok(block(out.into_dyn()))
            },
        },
        4,
    )
}

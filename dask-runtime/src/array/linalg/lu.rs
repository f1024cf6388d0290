//! Blocked LU with partial pivoting (LAPACK's right-looking `getrf`, a tile column at
//! a time), with the matrix in square tiles of its row chunks. Step `k`:
//!
//! 1. **Panel.** Tiles `(i, k)`, `i >= k`, stacked into one column panel, are factored
//!    with partial pivoting over all the panel's rows (one task).
//! 2. **Swaps.** Every other tile column takes the panel's row order (one task a
//!    column); a column right of the panel also solves its diagonal-row tile,
//!    `U_kj = L_kk^-1 A_kj`.
//! 3. **Update.** The trailing tiles, `A_ij -= L_ik U_kj` for `i, j > k`, each a task.
//!
//! Dask's `lu` pivots only inside a diagonal tile, so a matrix whose diagonal tile is
//! singular (or badly conditioned) while the whole column is not fails or loses
//! accuracy there; choosing the pivot from the whole column, as LAPACK (and so NumPy
//! and SciPy) do, costs one sequential panel task a step and gives their results.

use super::LinalgElement;
use super::dense::{Step, from_faer, matrix_of, single, to_faer};
use crate::array::layer::{BlockValue, Layer, Tokenizer, block, lengths, typed};
use crate::array::{Array, ShapeError, new_layer};
use crate::error::BoxError;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::factor::{lu_in_place, lu_in_place_scratch};
use ndarray::{Array2, ArrayD, ArrayView2, Axis, IxDyn, s};
use std::sync::Arc;

/// Step `k`'s factored column panel.
struct Panel<T> {
    /// `L` below the diagonal (its unit diagonal implied) and `U_kk` on and above it,
    /// from the panel's first row (the matrix's row `starts[k]`).
    lu: Array2<T>,
    /// Row `p` of the factored panel is row `perm[p]` of the panel before.
    perm: Vec<usize>,
}

/// The panel of the tiles `values` (stacked top to bottom) factored with partial
/// pivoting; an exactly zero pivot is a singular matrix, as NumPy says.
fn factor_panel<T: LinalgElement>(values: &[BlockValue]) -> Result<Panel<T>, BoxError> {
    let tiles = (0..values.len())
        .map(|q| matrix_of::<T>(values, q))
        .collect::<Result<Vec<_>, _>>()?;
    let stacked = ndarray::concatenate(Axis(0), &tiles)?;
    let (m, b) = stacked.dim();
    let mut lu = to_faer(&stacked.view());
    let mut perm = vec![0usize; m];
    let mut inverse = vec![0usize; m];
    let par = faer::Par::Seq;
    let mut scratch = MemBuffer::new(lu_in_place_scratch::<usize, T>(
        m,
        b,
        par,
        Default::default(),
    ));
    lu_in_place(
        lu.as_mut(),
        &mut perm,
        &mut inverse,
        par,
        MemStack::new(&mut scratch),
        Default::default(),
    );
    if (0..b.min(m)).any(|d| !lu[(d, d)].usable_pivot()) {
        return Err("singular matrix".into());
    }
    Ok(Panel {
        lu: from_faer(lu.as_ref()),
        perm,
    })
}

/// Tile column `j`'s rows from the panel's first row down, in the panel's row order;
/// `solve_top` (right of the panel) also turns its first `b` rows into `U_kj`.
fn swap_column<T: LinalgElement>(
    panel: &Panel<T>,
    tiles: &[ArrayView2<'_, T>],
    solve_top: bool,
) -> Result<Array2<T>, BoxError> {
    let stacked = ndarray::concatenate(Axis(0), tiles)?;
    let mut out = stacked.select(Axis(0), &panel.perm);
    if solve_top {
        let b = panel.lu.ncols();
        let mut top = to_faer(&out.slice(s![..b, ..]));
        faer::linalg::triangular_solve::solve_unit_lower_triangular_in_place(
            to_faer(&panel.lu.slice(s![..b, ..])).as_ref(),
            top.as_mut(),
            faer::Par::Seq,
        );
        out.slice_mut(s![..b, ..]).assign(&from_faer(top.as_ref()));
    }
    Ok(out)
}

/// The factored matrix: `L` (unit diagonal) and `U` share its tiles, and `perm` is
/// the row order, `(P^T a)[p] = a[perm[p]]`.
pub(crate) struct Factors {
    /// The tiles: `L` strictly below the diagonal, `U` on and above it.
    pub(crate) tiles: Arc<Layer>,
    /// One block, a `Vec<usize>`: row `p` of `L U` is row `perm[p]` of the matrix.
    pub(crate) perm: Arc<Layer>,
}

/// The blocked LU of a square matrix already in square tiles
/// ([`square_tiles`](super::dense::square_tiles)).
pub(crate) fn factor<T: LinalgElement>(square: &Arc<Layer>) -> Factors {
    let n = square.shape[0];
    let tiles = square.chunks[0].clone();
    let t = tiles.len();
    let starts: Vec<usize> = crate::array::chunks::offsets(&tiles);
    let grid = square.chunks.clone();
    let mut current = Arc::clone(square);
    let token = Tokenizer::new("lu").add(T::NAME);
    let mut panels = Vec::with_capacity(t);
    for k in 0..t {
        let panel = single(
            "lu-panel",
            token.clone().add(("panel", k)),
            vec![Arc::clone(&current)],
            (k..t).map(|i| (0, vec![i, k])).collect(),
            |values| Ok(block(factor_panel::<T>(&values)?)),
        );
        // One block a tile column: its rows from `starts[k]` down, swapped.
        let swapped = new_layer(
            "lu-swap",
            token.clone().add(("swap", k)),
            vec![t],
            vec![vec![1; t]],
            vec![Arc::clone(&current), Arc::clone(&panel)],
            Step {
                deps: move |_: &Layer, idx: &[usize]| {
                    let j = idx[0];
                    if j == k {
                        return Vec::new();
                    }
                    let mut d = vec![(1, vec![0])];
                    d.extend((k..t).map(|i| (0, vec![i, j])));
                    d
                },
                run: move |_: &Layer, idx: &[usize], values: Vec<BlockValue>| {
                    let j = idx[0];
                    if j == k {
                        return Ok(block(ArrayD::<T>::zeros(IxDyn(&[0, 0]))));
                    }
                    let panel = typed::<Panel<T>>(values.first().ok_or("internal: no panel")?)?;
                    let column = (1..values.len())
                        .map(|q| matrix_of::<T>(&values, q))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(block(swap_column(panel, &column, j > k)?.into_dyn()))
                },
            },
            4,
        );
        let starts = starts.clone();
        let sizes = tiles.clone();
        current = new_layer(
            "lu-update",
            token.clone().add(("update", k)),
            vec![n, n],
            grid.clone(),
            vec![current, Arc::clone(&panel), swapped],
            Step {
                deps: move |_: &Layer, idx: &[usize]| {
                    let (i, j) = (idx[0], idx[1]);
                    if i < k {
                        vec![(0, vec![i, j])]
                    } else if j == k {
                        vec![(1, vec![0])]
                    } else if j > k && i > k {
                        vec![(1, vec![0]), (2, vec![j])]
                    } else {
                        vec![(2, vec![j])]
                    }
                },
                run: move |_: &Layer, idx: &[usize], values: Vec<BlockValue>| {
                    let (i, j) = (idx[0], idx[1]);
                    let first = values.first().ok_or("internal: a tile without inputs")?;
                    if i < k {
                        return Ok(Arc::clone(first));
                    }
                    // Tile i's rows, counted from the panel's first row.
                    let rows = starts[i] - starts[k]..starts[i] - starts[k] + sizes[i];
                    if j == k {
                        let panel = typed::<Panel<T>>(first)?;
                        let tile = panel.lu.slice(s![rows, ..]);
                        return Ok(block(tile.as_standard_layout().into_owned().into_dyn()));
                    }
                    let column = matrix_of::<T>(&values, values.len() - 1)?;
                    let mut tile = column.slice(s![rows.clone(), ..]).to_owned();
                    if j > k && i > k {
                        let panel = typed::<Panel<T>>(first)?;
                        let b = panel.lu.ncols();
                        ndarray::linalg::general_mat_mul(
                            T::zero() - T::one(),
                            &panel.lu.slice(s![rows, ..]),
                            &column.slice(s![..b, ..]),
                            T::one(),
                            &mut tile,
                        );
                    }
                    Ok(block(tile.into_dyn()))
                },
            },
            4,
        );
        panels.push(panel);
    }
    // The row order of the whole factorization: each step's panel order, composed.
    let perm = single(
        "lu-perm",
        token.add("perm"),
        panels,
        (0..t).map(|k| (k, vec![0])).collect(),
        move |values| {
            let mut order: Vec<usize> = (0..n).collect();
            for (k, v) in values.iter().enumerate() {
                let panel = typed::<Panel<T>>(v)?;
                let before = order[starts[k]..].to_vec();
                for (p, &q) in panel.perm.iter().enumerate() {
                    order[starts[k] + p] = before[q];
                }
            }
            Ok(block(order))
        },
    );
    Factors {
        tiles: current,
        perm,
    }
}

/// Which part of the factored tiles an output keeps.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// `L`: below the diagonal, ones on it.
    Lower,
    /// `U`: on and above the diagonal.
    Upper,
}

/// `L` or `U` from the factored tiles, zeros in the other triangle.
fn triangle<T: LinalgElement>(factors: &Factors, part: Part) -> Array<T> {
    let layer = &factors.tiles;
    Array::from_op(
        "lu-factor",
        Tokenizer::new("lu-factor")
            .add(part == Part::Lower)
            .add(T::NAME),
        layer.shape.clone(),
        layer.chunks.clone(),
        vec![Arc::clone(layer)],
        Step {
            deps: move |_: &Layer, idx: &[usize]| {
                let (i, j) = (idx[0], idx[1]);
                let kept = match part {
                    Part::Lower => i >= j,
                    Part::Upper => i <= j,
                };
                if kept {
                    vec![(0, vec![i, j])]
                } else {
                    Vec::new()
                }
            },
            run: move |layer: &Layer,
                       idx: &[usize],
                       values: Vec<BlockValue>|
                  -> Result<BlockValue, BoxError> {
                let (i, j) = (idx[0], idx[1]);
                let shape = lengths(&layer.region(idx));
                let Some(value) = values.first() else {
                    return Ok(block(ArrayD::<T>::zeros(IxDyn(&shape))));
                };
                if i != j {
                    return Ok(Arc::clone(value));
                }
                let mut tile = matrix_of::<T>(&values, 0)?
                    .as_standard_layout()
                    .into_owned();
                for ((r, c), v) in tile.indexed_iter_mut() {
                    match part {
                        Part::Lower if c == r => *v = T::one(),
                        Part::Lower if c > r => *v = T::zero(),
                        Part::Upper if r > c => *v = T::zero(),
                        _ => {}
                    }
                }
                Ok(block(tile.into_dyn()))
            },
        },
    )
}

/// The permutation matrix `P` (`a = P L U`), in the matrix's tiles.
fn permutation<T: LinalgElement>(factors: &Factors) -> Array<T> {
    let layer = &factors.tiles;
    Array::from_op(
        "lu-p",
        Tokenizer::new("lu-p").add(T::NAME),
        layer.shape.clone(),
        layer.chunks.clone(),
        vec![Arc::clone(&factors.perm)],
        Step {
            deps: |_: &Layer, _: &[usize]| vec![(0, vec![0])],
            run: |layer: &Layer, idx: &[usize], values: Vec<BlockValue>| {
                let region = layer.region(idx);
                let order = typed::<Vec<usize>>(values.first().ok_or("internal: no order")?)?;
                let ((r0, rows), (c0, cols)) = (region[0], region[1]);
                let mut tile = ArrayD::<T>::zeros(IxDyn(&[rows, cols]));
                // Column p of P has its one in row order[p].
                for p in c0..c0 + cols {
                    let r = order[p];
                    if (r0..r0 + rows).contains(&r) {
                        tile[[r - r0, p - c0]] = T::one();
                    }
                }
                Ok(block(tile))
            },
        },
    )
}

/// `(P, L, U)`: `a = P L U`.
pub(crate) type Plu<T> = (Array<T>, Array<T>, Array<T>);

/// `(P, L, U)` of the blocked LU (see the module docs).
pub(crate) fn plu<T: LinalgElement>(a: &Array<T>) -> Result<Plu<T>, ShapeError> {
    let layer = super::dense::matrix_layer("lu", a)?;
    let factors = factor::<T>(&super::dense::square_tiles::<T>(&layer));
    Ok((
        permutation(&factors),
        triangle(&factors, Part::Lower),
        triangle(&factors, Part::Upper),
    ))
}

//! TSQR, the QR factorisation of a tall-and-skinny matrix (Benson, Gleich and Demmel;
//! Dask's `tsqr`): each row block factored alone (`A_i = Q1_i R_i`, in parallel), the
//! stacked `R_i` factored once (`[R_1; ...; R_k] = Q2 R`), and each block of `Q` is
//! `Q1_i` times its rows of `Q2`. `R` is the answer's `R`; nothing larger than a row
//! block and the `k` small `R_i` is ever in one place.

use super::LinalgElement;
use super::dense::{Step, from_faer, matrix_of, single, to_faer};
use crate::array::layer::{BlockValue, Layer, Tokenizer, block, typed};
use crate::array::{Array, ShapeError, new_layer};
use crate::error::BoxError;
use ndarray::Array2;
use std::sync::Arc;

/// One row block factored: faer's factorisation (its `Q1` kept as Householder
/// reflectors, never formed) and its thin `R`.
struct BlockQr<T: LinalgElement> {
    qr: faer::linalg::solvers::Qr<T>,
    r: Array2<T>,
}

/// The QR factorisation of a block, read from its row-major slice when it has one
/// (faer copies it once, into its own layout).
fn factor<T: LinalgElement>(a: &ndarray::ArrayView2<'_, T>) -> faer::linalg::solvers::Qr<T> {
    match a.as_slice() {
        Some(s) => faer::MatRef::from_row_major_slice(s, a.nrows(), a.ncols()).qr(),
        None => to_faer(a).qr(),
    }
}

/// `Q1 [top; 0]`: the reflectors of `qr` applied to `top` padded with zero rows, which
/// is `Q1`'s first columns times `top` without forming `Q1`.
fn apply_q<T: LinalgElement>(qr: &faer::linalg::solvers::Qr<T>, top: &Array2<T>) -> Array2<T> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::householder as h;
    let basis = qr.Q_basis();
    let (m, n) = (basis.nrows(), top.ncols());
    let mut out = faer::Mat::<T>::zeros(m, n);
    for ((i, j), &v) in top.indexed_iter() {
        out[(i, j)] = v;
    }
    let block = qr.Q_coeff().nrows();
    let scratch =
        h::apply_block_householder_sequence_on_the_left_in_place_scratch::<T>(m, block, n);
    h::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        basis,
        qr.Q_coeff(),
        faer::Conj::No,
        out.as_mut(),
        faer::Par::Seq,
        MemStack::new(&mut MemBuffer::new(scratch)),
    );
    from_faer(out.as_ref())
}

/// The stacked `R_i` factored: the rows of `Q2` for each block, and `R`.
struct StackedQr<T> {
    parts: Vec<Array2<T>>,
    r: Array2<T>,
}

/// Thin QR of one matrix: `Q` (m x min(m, n)) and `R` (min(m, n) x n).
pub(crate) fn thin_qr<T: LinalgElement>(a: &ndarray::ArrayView2<'_, T>) -> (Array2<T>, Array2<T>) {
    let qr = factor(a);
    (
        from_faer(qr.compute_thin_Q().as_ref()),
        from_faer(qr.thin_R()),
    )
}

/// `(Q, R)` of `a` (rows in any number of blocks, columns made one block).
pub(crate) fn tsqr<T: LinalgElement>(a: &Array<T>) -> Result<(Array<T>, Array<T>), ShapeError> {
    let layer = super::dense::matrix_layer("tsqr", a)?;
    let (m, n) = (layer.shape[0], layer.shape[1]);
    if m == 0 || n == 0 {
        return Err(ShapeError::new(
            "tsqr",
            format!("an empty matrix ({m} x {n}) has no QR factorisation"),
        ));
    }
    let rows = layer.chunks[0].clone();
    let input = crate::array::blocks::rechunk_layer(&layer, vec![rows.clone(), vec![n]], T::ops());
    let k = rows.len();
    let token = Tokenizer::new("tsqr");
    // 1. Each row block factored.
    let blocks = new_layer(
        "tsqr-blocks",
        token.clone().add("blocks"),
        vec![k, 1],
        vec![vec![1; k], vec![1]],
        vec![input],
        Step {
            deps: |_: &Layer, idx: &[usize]| vec![(0, vec![idx[0], 0])],
            run: |_: &Layer, _: &[usize], values: Vec<BlockValue>| {
                let qr = factor(&matrix_of::<T>(&values, 0)?);
                let r = from_faer(qr.thin_R());
                Ok(block(BlockQr { qr, r }))
            },
        },
        4,
    );
    // 2. The stacked R_i factored.
    let heights: Vec<usize> = rows.iter().map(|&r| r.min(n)).collect();
    let stacked_rows: usize = heights.iter().sum();
    let width = stacked_rows.min(n);
    let deps = (0..k).map(|i| (0, vec![i, 0])).collect();
    let stacked = single(
        "tsqr-stacked",
        token.clone().add("stacked"),
        vec![Arc::clone(&blocks)],
        deps,
        move |values: Vec<BlockValue>| {
            let parts = values
                .iter()
                .map(|v| typed::<BlockQr<T>>(v).map(|b| b.r.view()))
                .collect::<Result<Vec<_>, _>>()?;
            let all = ndarray::concatenate(ndarray::Axis(0), &parts)?;
            let (q2, r) = thin_qr(&all.view());
            let mut at = 0;
            let parts = parts
                .iter()
                .map(|p| {
                    let rows = q2.slice(ndarray::s![at..at + p.nrows(), ..]).to_owned();
                    at += p.nrows();
                    rows
                })
                .collect();
            Ok(block(StackedQr { parts, r }))
        },
    );
    // 3. R, and each block of Q.
    let r = Array::from_op(
        "tsqr-r",
        token.clone().add("r"),
        vec![width, n],
        vec![vec![width], vec![n]],
        vec![Arc::clone(&stacked)],
        Step {
            deps: |_: &Layer, _: &[usize]| vec![(0, vec![0])],
            run: |_: &Layer, _: &[usize], values: Vec<BlockValue>| {
                let s = typed::<StackedQr<T>>(values.first().ok_or("internal: no R")?)?;
                Ok(block(s.r.clone().into_dyn()))
            },
        },
    );
    let q = Array::from_op(
        "tsqr-q",
        token.add("q"),
        vec![m, width],
        vec![rows, vec![width]],
        vec![blocks, stacked],
        Step {
            deps: |_: &Layer, idx: &[usize]| vec![(0, vec![idx[0], 0]), (1, vec![0])],
            run: |_: &Layer,
                  idx: &[usize],
                  values: Vec<BlockValue>|
             -> Result<BlockValue, BoxError> {
                let [b, s] = values.as_slice() else {
                    return Err("internal: tsqr-q reads two blocks".into());
                };
                let (b, s) = (typed::<BlockQr<T>>(b)?, typed::<StackedQr<T>>(s)?);
                let part = s
                    .parts
                    .get(idx[0])
                    .ok_or("internal: a missing part of Q2")?;
                Ok(block(apply_q(&b.qr, part).into_dyn()))
            },
        },
    );
    Ok((q, r))
}

//! Small dense steps inside a blocked algorithm: matrices moved between ndarray and
//! faer, and a layer that gathers its inputs whole and makes several outputs.

use super::LinalgElement;
use crate::array::layer::{BlockOp, BlockValue, Layer, Tokenizer, block, typed};
use crate::array::window::view;
use crate::array::{Array, Element, ShapeError, new_layer};
use crate::error::BoxError;
use faer::Mat;
use ndarray::{Array2, ArrayView2, Ix2, ShapeBuilder};
use std::sync::Arc;

/// A block as a faer matrix (column-major, as faer's kernels want it), copied from
/// its slice when it has one.
pub(crate) fn to_faer<T: LinalgElement>(v: &ArrayView2<'_, T>) -> Mat<T> {
    let (m, n) = v.dim();
    if let Some(s) = v.as_slice() {
        return faer::MatRef::from_row_major_slice(s, m, n).to_owned();
    }
    if let Some(s) = v.t().as_slice() {
        return faer::MatRef::from_column_major_slice(s, m, n).to_owned();
    }
    Mat::from_fn(m, n, |i, j| v[[i, j]])
}

/// `a^H` of a tile: its transpose, conjugated for complex elements (for reals, a view:
/// no copy).
pub(crate) fn adjoint_tile<'a, T: LinalgElement>(
    a: &ArrayView2<'a, T>,
) -> ndarray::CowArray<'a, T, Ix2> {
    if T::COMPLEX {
        a.t().mapv(T::conj).into()
    } else {
        (*a).reversed_axes().into()
    }
}

/// A faer matrix as an ndarray one, in faer's column-major order (no transposing
/// copy; every reader takes any layout).
pub(crate) fn from_faer<T: LinalgElement>(a: faer::MatRef<'_, T>) -> Array2<T> {
    let (m, n) = (a.nrows(), a.ncols());
    let mut values = Vec::with_capacity(m * n);
    for j in 0..n {
        let col = a.col(j);
        match col.try_as_col_major() {
            Some(c) => values.extend_from_slice(c.as_slice()),
            None => values.extend((0..m).map(|i| col[i])),
        }
    }
    Array2::from_shape_vec((m, n).f(), values)
        .unwrap_or_else(|_| Array2::from_shape_fn((m, n), |(i, j)| a[(i, j)]))
}

/// Input `k` of a step as a matrix of `T`.
pub(crate) fn matrix_of<T: Element>(
    inputs: &[BlockValue],
    k: usize,
) -> Result<ArrayView2<'_, T>, BoxError> {
    let v = inputs.get(k).ok_or("internal: a missing input")?;
    Ok(view::<T>(v)?.into_dimensionality::<Ix2>()?)
}

/// A layer from closures: which blocks each block reads, and how it is made.
pub(crate) struct Step<D, R> {
    pub(crate) deps: D,
    pub(crate) run: R,
}

impl<D, R> BlockOp for Step<D, R>
where
    D: Fn(&Layer, &[usize]) -> Vec<(usize, Vec<usize>)> + Send + Sync + 'static,
    R: Fn(&Layer, &[usize], Vec<BlockValue>) -> Result<BlockValue, BoxError>
        + Send
        + Sync
        + 'static,
{
    fn deps(&self, layer: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.extend((self.deps)(layer, idx));
    }
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        (self.run)(layer, idx, inputs)
    }
}

/// An internal layer of one block (its "shape" the grid `[1]`).
pub(crate) fn single<R>(
    label: &'static str,
    token: Tokenizer,
    inputs: Vec<Arc<Layer>>,
    deps: Vec<(usize, Vec<usize>)>,
    run: R,
) -> Arc<Layer>
where
    R: Fn(Vec<BlockValue>) -> Result<BlockValue, BoxError> + Send + Sync + 'static,
{
    new_layer(
        label,
        token,
        vec![1],
        vec![vec![1]],
        inputs,
        Step {
            deps: move |_: &Layer, _: &[usize]| deps.clone(),
            run: move |_: &Layer, _: &[usize], values: Vec<BlockValue>| run(values),
        },
        4,
    )
}

/// A step that gathers its inputs whole and makes several outputs (see [`gathered`]).
pub(crate) struct Gathered {
    label: &'static str,
    token: Tokenizer,
    step: Result<Arc<Layer>, ShapeError>,
    shapes: Vec<Vec<usize>>,
}

impl Gathered {
    /// Output `k`: a whole array of its shape and of `U`, one block (the step's own
    /// block, shared, not copied).
    pub(crate) fn output<U: Element>(&self, k: usize) -> Array<U> {
        let step = match &self.step {
            Ok(step) => Arc::clone(step),
            Err(e) => return Array::from_error(e.clone()),
        };
        let Some(shape) = self.shapes.get(k).cloned() else {
            return Array::failed(self.label, format!("internal: no output {k}"));
        };
        let chunks = shape.iter().map(|&n| vec![n]).collect();
        let (label, want) = (self.label, shape.clone());
        Array::from_op(
            self.label,
            self.token.clone().add(("output", k)),
            shape,
            chunks,
            vec![step],
            Step {
                deps: |_: &Layer, _: &[usize]| vec![(0, vec![0])],
                run: move |_: &Layer, _: &[usize], values: Vec<BlockValue>| {
                    let all = typed::<Vec<BlockValue>>(values.first().ok_or("internal: no step")?)?;
                    let out = all.get(k).ok_or("internal: a missing output")?;
                    let made = view::<U>(out)?;
                    if made.shape() != want.as_slice() {
                        return Err(format!(
                            "internal: {label} made {:?}, not {want:?}",
                            made.shape()
                        )
                        .into());
                    }
                    Ok(Arc::clone(out))
                },
            },
        )
    }
}

/// `f` of the inputs, each gathered into one matrix, making outputs of the given
/// shapes (one block each, taken with [`Gathered::output`] as their element types):
/// the small dense step of a blocked algorithm, or a factorisation of a matrix that
/// fits in memory.
pub(crate) fn gathered<T, F>(
    label: &'static str,
    token: Tokenizer,
    inputs: &[&Array<T>],
    shapes: Vec<Vec<usize>>,
    f: F,
) -> Gathered
where
    T: Element,
    F: Fn(&[ArrayView2<'_, T>]) -> Result<Vec<BlockValue>, BoxError> + Send + Sync + 'static,
{
    let mut layers = Vec::new();
    for a in inputs {
        match a.layer() {
            Ok(l) => {
                let whole = l.shape.iter().map(|&n| vec![n]).collect();
                layers.push(crate::array::blocks::rechunk_layer(l, whole, T::ops()));
            }
            Err(e) => {
                return Gathered {
                    label,
                    token,
                    step: Err(e.clone()),
                    shapes,
                };
            }
        }
    }
    let deps: Vec<(usize, Vec<usize>)> = layers
        .iter()
        .enumerate()
        .map(|(k, l)| (k, vec![0; l.shape.len()]))
        .collect();
    let step = single(label, token.clone(), layers, deps, move |values| {
        let views = (0..values.len())
            .map(|k| matrix_of::<T>(&values, k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(block(f(&views)?))
    });
    Gathered {
        label,
        token,
        step: Ok(step),
        shapes,
    }
}

/// A square matrix's layer cut into square tiles: its row chunks on both axes, the
/// tiling every blocked factorization and substitution here works in.
pub(crate) fn square_tiles<T: Element>(layer: &Arc<Layer>) -> Arc<Layer> {
    let sizes = layer.chunks[0].clone();
    crate::array::blocks::rechunk_layer(layer, vec![sizes.clone(), sizes], T::ops())
}

/// A 2-d array's layer, or the error naming `operation`.
pub(crate) fn matrix_layer<T: Element>(
    operation: &'static str,
    a: &Array<T>,
) -> Result<Arc<Layer>, ShapeError> {
    let l = Arc::clone(a.layer()?);
    if l.shape.len() != 2 {
        return Err(ShapeError::new(
            operation,
            format!("a matrix (2-d) is needed, not shape {:?}", l.shape),
        ));
    }
    Ok(l)
}

/// An ndarray matrix as a block (of any rank's type).
pub(crate) fn dyn2<T: Element>(a: Array2<T>) -> BlockValue {
    block(a.into_dyn())
}

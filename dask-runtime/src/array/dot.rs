//! Matrix products: each output block is a tree sum of the products of the blocks
//! along the inner axis, `split_every` products accumulated in one buffer a task.

use super::block_product::mul_add;
use super::layer::{BlockOp, BlockValue, Layer, Tokenizer, block};
use super::reduce::tree;
use super::window::{owned_array, view};
use super::{Array, Element, Numeric, new_layer};
use crate::error::BoxError;
use ndarray::{Array2, Ix2, LinalgScalar};
use std::marker::PhantomData;
use std::sync::Arc;

/// Block `[i, j, g]`: the sum of `a[i, k] · b[k, j]` over the `g`-th group of `k`s.
struct Products<T> {
    split: usize,
    element: PhantomData<fn() -> T>,
}

impl<T: Element + LinalgScalar> BlockOp for Products<T> {
    fn deps(&self, layer: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        let inner = layer.inputs[0].chunks[1].len();
        let (i, j, g) = (idx[0], idx[1], idx[2]);
        for k in g * self.split..((g + 1) * self.split).min(inner) {
            out.push((0, vec![i, k]));
            out.push((1, vec![k, j]));
        }
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let mut sum: Option<Array2<T>> = None;
        for pair in inputs.chunks(2) {
            let [l, r] = pair else {
                return Err("internal: a product without its right block".into());
            };
            let l = view::<T>(l)?.into_dimensionality::<Ix2>()?;
            let r = view::<T>(r)?.into_dimensionality::<Ix2>()?;
            mul_add(&mut sum, &l, &r)?;
        }
        let sum = sum.ok_or("no blocks along the inner axis")?;
        Ok(block(sum.into_dyn()))
    }
}

/// Block `[i, j]` is block `[i, j, 0]` of the summed products.
struct Summed;

impl BlockOp for Summed {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.push((0, vec![idx[0], idx[1], 0]));
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        inputs
            .into_iter()
            .next()
            .ok_or_else(|| "internal: no summed block".into())
    }
    fn blockwise(&self) -> bool {
        true
    }
}

impl<T: Numeric> Array<T> {
    /// The matrix product of two 2-d arrays: each output block is a tree sum of the
    /// products of the blocks along the inner axis (`other` is rechunked to match).
    /// Block products of `f64` and `f32` run on the `gemm` crate's SIMD kernels (on
    /// OpenBLAS with the `blas` feature), one thread a block.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::{eye, from_ndarray};
    /// let a = from_ndarray(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]), 1);
    /// assert_eq!(a.dot(&eye(2, 1)).compute().unwrap(), a.compute().unwrap());
    /// ```
    pub fn dot(&self, other: &Array<T>) -> Array<T> {
        T::matmul(self, other)
    }

    /// The matrix product, as NumPy's `matmul` for 2-d arrays (same as [`Array::dot`]).
    pub fn matmul(&self, other: &Array<T>) -> Array<T> {
        self.dot(other)
    }
}

/// [`Array::dot`], compiled once per element type in this crate.
pub(crate) fn matmul<T: Element + LinalgScalar>(a: &Array<T>, b: &Array<T>) -> Array<T> {
    let (a, b) = match (a.layer(), b.layer()) {
        (Ok(a), Ok(b)) => (Arc::clone(a), Arc::clone(b)),
        (Err(e), _) | (_, Err(e)) => return Array::from_error(e),
    };
    if a.shape.len() != 2 || b.shape.len() != 2 || a.shape[1] != b.shape[0] {
        return Array::failed(
            "dot",
            format!(
                "shapes {:?} and {:?} do not multiply (2-d, inner lengths equal)",
                a.shape, b.shape
            ),
        );
    }
    let b =
        super::blocks::rechunk_layer(&b, vec![a.chunks[1].clone(), b.chunks[1].clone()], T::ops());
    let split = a.split_every.max(2);
    let groups = a.chunks[1].len().div_ceil(split);
    let grid = vec![a.chunks[0].len(), b.chunks[1].len(), groups];
    let token = Tokenizer::new("dot").add(T::NAME);
    let chunks = vec![a.chunks[0].clone(), b.chunks[1].clone()];
    let shape = vec![a.shape[0], b.shape[1]];
    let products = new_layer(
        "dot",
        token.clone().add("products"),
        grid.clone(),
        grid.iter().map(|&n| vec![1; n]).collect(),
        vec![a, b],
        Products::<T> {
            split,
            element: PhantomData,
        },
        split,
    );
    let summed = tree(
        "dot-sum",
        &token,
        products,
        &[false, false, true],
        split,
        |values: Vec<BlockValue>| {
            let mut values = values.into_iter();
            let mut sum = owned_array::<T>(values.next().ok_or("an empty group")?)?;
            for v in values {
                let v = view::<T>(&v)?;
                ndarray::Zip::from(&mut sum)
                    .and(v)
                    .for_each(|a, &b| *a = *a + b);
            }
            Ok(block(sum))
        },
    );
    Array::from_op("dot", token, shape, chunks, vec![summed], Summed)
}

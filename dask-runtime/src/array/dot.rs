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
    /// NumPy's `dot`: the matrix product of 2-d arrays (each output block a tree sum
    /// of block products along the inner axis; `other` rechunked to match), the inner
    /// product of 1-d arrays (a 0-d array), a matrix times a vector, and for more axes
    /// the sum over `self`'s last axis and `other`'s second-to-last
    /// ([`Array::tensordot`]). Block products of `f64` and `f32` run on the `gemm`
    /// crate's SIMD kernels (on OpenBLAS with the `blas` feature), one thread a block.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::{eye, from_ndarray};
    /// let a = from_ndarray(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]), 1);
    /// assert_eq!(a.dot(&eye(2, 1)).compute().unwrap(), a.compute().unwrap());
    /// let v = from_ndarray(ndarray::arr1(&[1.0, 1.0]), 1);
    /// assert_eq!(a.dot(&v).compute().unwrap().as_slice().unwrap(), [3.0, 7.0]);
    /// assert_eq!(v.dot(&v).compute().unwrap()[[]], 2.0);
    /// ```
    pub fn dot(&self, other: &Array<T>) -> Array<T> {
        dot_by(self, other, T::matmul)
    }

    /// NumPy's `matmul` (`@`): as [`Array::dot`] for 1-d and 2-d operands; with more
    /// axes, a stack of matrix products over the leading (batch) axes, broadcast as
    /// NumPy broadcasts them, each block a product of whole matrices (the inner axis
    /// made one block). A vector beside a stack is a column on the right or a row on
    /// the left, and the result drops that axis again, as NumPy's does.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::ones;
    /// let a = ones::<f64>([4, 3, 5], [2, 3, 5]);
    /// let b = ones::<f64>([1, 5, 2], [1, 5, 1]);
    /// let c = a.matmul(&b);
    /// assert_eq!(c.shape(), [4, 3, 2]);
    /// assert_eq!(c.compute().unwrap()[[3, 2, 1]], 5.0);
    /// ```
    pub fn matmul(&self, other: &Array<T>) -> Array<T> {
        matmul_by(self, other, T::matmul, T::batched_matmul)
    }

    /// The sum of products over `axes.0` of `self` and `axes.1` of `other` (NumPy's
    /// `tensordot`): the result's axes are `self`'s others, then `other`'s. Both are
    /// laid out as matrices (transposed and reshaped, blocks kept about their size)
    /// and multiplied blockwise.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::ones;
    /// let a = ones::<f64>([3, 4, 5], 2);
    /// let b = ones::<f64>([4, 3, 2], 2);
    /// let c = a.tensordot(&b, (&[1, 0], &[0, 1]));
    /// assert_eq!(c.shape(), [5, 2]);
    /// assert_eq!(c.compute().unwrap()[[4, 1]], 12.0);
    /// ```
    pub fn tensordot(&self, other: &Array<T>, axes: (&[usize], &[usize])) -> Array<T> {
        tensordot_by(self, other, axes, T::matmul)
    }

    /// The outer product of the two arrays flattened (NumPy's `outer`): element
    /// `[i, j]` is `self[i] * other[j]`, blockwise.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::arange;
    /// let o = arange(3).outer(&arange(4).rechunk(3));
    /// assert_eq!(o.compute().unwrap()[[2, 3]], 6.0);
    /// ```
    pub fn outer(&self, other: &Array<T>) -> Array<T> {
        outer_by(self, other, T::prod)
    }
}

/// A matrix product of one element type: 2-d operands, blockwise.
pub(crate) type MatrixProduct<T> = fn(&Array<T>, &Array<T>) -> Array<T>;

/// [`Array::dot`] for any element type whose 2-d product is `mm`.
pub(crate) fn dot_by<T: Element>(x: &Array<T>, y: &Array<T>, mm: MatrixProduct<T>) -> Array<T> {
    let (n, m) = match (x.layer(), y.layer()) {
        (Ok(a), Ok(b)) => (a.shape.len(), b.shape.len()),
        (Err(e), _) | (_, Err(e)) => return Array::from_error(e),
    };
    match (n, m) {
        (2, 2) => mm(x, y),
        (0, _) | (_, 0) => {
            Array::failed("dot", "a 0-d operand: multiply elementwise instead".into())
        }
        (_, 1) => tensordot_by(x, y, (&[n - 1], &[0]), mm),
        (_, m) => tensordot_by(x, y, (&[n - 1], &[m - 2]), mm),
    }
}

/// [`Array::matmul`] for any element type whose 2-d product is `mm` and stacked
/// product `batched`.
pub(crate) fn matmul_by<T: Element>(
    x: &Array<T>,
    y: &Array<T>,
    mm: MatrixProduct<T>,
    batched: MatrixProduct<T>,
) -> Array<T> {
    let (xs, ys) = match (x.layer(), y.layer()) {
        (Ok(a), Ok(b)) => (a.shape.clone(), b.shape.clone()),
        (Err(e), _) | (_, Err(e)) => return Array::from_error(e),
    };
    let (n, m) = (xs.len(), ys.len());
    if n <= 2 && m <= 2 {
        return dot_by(x, y, mm);
    }
    // NumPy's rule for a vector beside a stack: made a matrix (a column on the right,
    // a row on the left), multiplied, and the axis it gained dropped again.
    if m == 1 {
        let product = batched(x, &y.expand_dims(1));
        return product.reshape(&xs[..n - 1]);
    }
    if n == 1 {
        let product = batched(&x.expand_dims(0), y);
        let mut shape = ys;
        shape.remove(m - 2);
        return product.reshape(shape);
    }
    batched(x, y)
}

/// [`Array::tensordot`] for any element type whose 2-d product is `mm`.
pub(crate) fn tensordot_by<T: Element>(
    x: &Array<T>,
    y: &Array<T>,
    axes: (&[usize], &[usize]),
    mm: MatrixProduct<T>,
) -> Array<T> {
    let (a, b) = match (x.layer(), y.layer()) {
        (Ok(a), Ok(b)) => (Arc::clone(a), Arc::clone(b)),
        (Err(e), _) | (_, Err(e)) => return Array::from_error(e),
    };
    let (sa, sb) = (axes.0, axes.1);
    let fail = |m: String| Array::failed("tensordot", m);
    if sa.len() != sb.len() {
        return fail(format!(
            "{} axes of one against {} of the other",
            sa.len(),
            sb.len()
        ));
    }
    for (&i, &j) in sa.iter().zip(sb) {
        match (a.shape.get(i), b.shape.get(j)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => {
                return fail(format!(
                    "axis {i} (length {x}) against axis {j} (length {y})"
                ));
            }
            _ => {
                return fail(format!(
                    "axes {i}, {j} of shapes {:?}, {:?}",
                    a.shape, b.shape
                ));
            }
        }
    }
    let distinct = |v: &[usize]| {
        let mut s = v.to_vec();
        s.sort_unstable();
        s.dedup();
        s.len() == v.len()
    };
    if !distinct(sa) || !distinct(sb) {
        return fail("an axis summed twice".into());
    }
    let free_a: Vec<usize> = (0..a.shape.len()).filter(|x| !sa.contains(x)).collect();
    let free_b: Vec<usize> = (0..b.shape.len()).filter(|x| !sb.contains(x)).collect();
    let len = |shape: &[usize], ax: &[usize]| ax.iter().map(|&x| shape[x]).product::<usize>();
    let inner = len(&a.shape, sa);
    let left = x
        .transpose(&[free_a.clone(), sa.to_vec()].concat())
        .reshape([len(&a.shape, &free_a), inner]);
    let right = y
        .transpose(&[sb.to_vec(), free_b.clone()].concat())
        .reshape([inner, len(&b.shape, &free_b)]);
    let shape: Vec<usize> = free_a
        .iter()
        .map(|&x| a.shape[x])
        .chain(free_b.iter().map(|&x| b.shape[x]))
        .collect();
    mm(&left, &right).reshape(shape)
}

/// [`Array::outer`] for any element type multiplied by `mul`.
pub(crate) fn outer_by<T: Element + Copy>(
    x: &Array<T>,
    y: &Array<T>,
    mul: fn(T, T) -> T,
) -> Array<T> {
    let flat = |a: &Array<T>| a.reshape([-1]);
    super::blockwise(
        "ij",
        &[(&flat(x), "i"), (&flat(y), "j")],
        super::BlockOptions::new(),
        move |b, _| {
            let (p, q) = (&b[0], &b[1]);
            let (m, n) = (p.len(), q.len());
            let values: Vec<T> = p
                .iter()
                .flat_map(|&x| q.iter().map(move |&y| mul(x, y)))
                .collect();
            ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[m, n]), values)
                .unwrap_or_else(|_| ndarray::ArrayD::default(ndarray::IxDyn(&[m, n])))
        },
    )
}

/// The matrix of a stack at batch index `at` (of `batch` axes, lined up from the right;
/// a length-1 axis broadcast).
fn matrix_at<'a, T>(
    v: &'a ndarray::ArrayViewD<'a, T>,
    batch: usize,
    at: &[usize],
) -> Result<ndarray::ArrayView2<'a, T>, ndarray::ShapeError> {
    let extra = batch + 2 - v.ndim();
    let mut sub = v.view();
    for k in (extra..batch).rev() {
        let i = if v.shape()[k - extra] == 1 { 0 } else { at[k] };
        sub = sub.index_axis_move(ndarray::Axis(k - extra), i);
    }
    sub.into_dimensionality::<Ix2>()
}

/// [`Array::matmul`] over stacks of matrices, compiled once per element type.
pub(crate) fn batched_matmul<T: Element + LinalgScalar>(a: &Array<T>, b: &Array<T>) -> Array<T> {
    let (n, m) = match (a.layer(), b.layer()) {
        (Ok(x), Ok(y)) => (x.shape.len(), y.shape.len()),
        (Err(e), _) | (_, Err(e)) => return Array::from_error(e),
    };
    let batch = n.max(m) - 2;
    // Batch letters lined up from the right, then the matrices' "ik" and "kj".
    let letter = |i: usize| char::from_u32(0x3b1 + i as u32).unwrap_or('?');
    let letters = |ndim: usize, tail: &str| -> String {
        (batch + 2 - ndim..batch)
            .map(letter)
            .chain(tail.chars())
            .collect()
    };
    let (la, lb) = (letters(n, "ik"), letters(m, "kj"));
    let out: String = (0..batch).map(letter).chain("ij".chars()).collect();
    super::blockwise(
        &out,
        &[(a, &la), (b, &lb)],
        super::BlockOptions::new(),
        move |blocks, _| {
            let (x, y) = (&blocks[0], &blocks[1]);
            let (xs, ys) = (x.shape(), y.shape());
            let (rows, cols) = (xs[xs.len() - 2], ys[ys.len() - 1]);
            // The output's batch shape: each axis the longer of the two (the other is 1
            // or missing).
            let lead = |s: &[usize], k: usize| -> usize {
                let extra = batch + 2 - s.len();
                if k < extra { 1 } else { s[k - extra] }
            };
            let shape: Vec<usize> = (0..batch)
                .map(|k| lead(xs, k).max(lead(ys, k)))
                .chain([rows, cols])
                .collect();
            let mut out = ndarray::ArrayD::<T>::zeros(ndarray::IxDyn(&shape));
            for at in ndarray::indices(&shape[..batch]) {
                let at: Vec<usize> = (0..batch).map(|k| at[k]).collect();
                let (Ok(p), Ok(q)) = (matrix_at(x, batch, &at), matrix_at(y, batch, &at)) else {
                    continue;
                };
                let mut target = out.view_mut();
                for k in (0..batch).rev() {
                    target = target.index_axis_move(ndarray::Axis(k), at[k]);
                }
                if let Ok(mut t) = target.into_dimensionality::<Ix2>() {
                    t.assign(&p.dot(&q));
                }
            }
            out
        },
    )
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

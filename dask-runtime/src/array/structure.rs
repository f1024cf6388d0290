//! Operations that move elements between positions or blocks: transpose, slicing,
//! concatenate and stack (fused: each output block comes from one input block), reshape
//! and matrix products (which read several input blocks, materialised once).

use super::{Array, BlockTask, Element, ShapeError, compose, flat_index, leaf_task};
use crate::delayed::{Arg, node};
use ndarray::{ArrayD, Axis, Ix2, IxDyn, LinalgScalar, Slice};
use std::sync::{Arc, OnceLock};

impl<T: Element> Array<T> {
    /// The transpose: axes reversed. Fused with what made the blocks.
    pub fn t(&self) -> Array<T> {
        let n = self.ndim();
        self.transpose(&(0..n).rev().collect::<Vec<_>>())
    }

    /// The axes in the order `axes` gives (NumPy's `transpose(axes)`).
    pub fn transpose(&self, axes: &[usize]) -> Array<T> {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return Array::from_error(e),
        };
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        if sorted != (0..d.shape.len()).collect::<Vec<_>>() {
            return Array::failed(
                "transpose",
                format!(
                    "axes {axes:?} are not a permutation of the axes of shape {:?}",
                    d.shape
                ),
            );
        }
        let perm = axes.to_vec();
        let shape = perm.iter().map(|&a| d.shape[a]).collect();
        let chunks = perm.iter().map(|&a| d.chunks[a].clone()).collect();
        Array::new("transpose", shape, chunks, move |idx| {
            let mut source = vec![0; idx.len()];
            for (out_axis, &in_axis) in perm.iter().enumerate() {
                source[in_axis] = idx[out_axis];
            }
            let (perm, back) = (perm.clone(), perm.clone());
            super::compose_regional(
                (d.blocks)(&source),
                // A region of the output is the permuted region of the input.
                move |r: &[(usize, usize)]| {
                    let mut input = vec![(0, 0); r.len()];
                    for (out_axis, &in_axis) in back.iter().enumerate() {
                        input[in_axis] = r[out_axis];
                    }
                    input
                },
                // Only the strides change: no copy. Consumers take any layout.
                move |block| Ok(block.permuted_axes(IxDyn(&perm))),
            )
        })
    }

    /// A slice: per axis an `ndarray::Slice` (negative bounds count from the end, as in
    /// NumPy; steps must be positive); missing axes are taken whole. Each output block
    /// is a slice of one input block.
    ///
    /// ```
    /// use dask_runtime::array::arange;
    /// use ndarray::Slice;
    /// let x = arange(10).rechunk(4);
    /// let y = x.slice(&[Slice::new(1, Some(-1), 3)]);
    /// assert_eq!(y.compute().unwrap().iter().copied().collect::<Vec<_>>(), [1.0, 4.0, 7.0]);
    /// ```
    pub fn slice(&self, slices: &[Slice]) -> Array<T> {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return Array::from_error(e),
        };
        if slices.len() > d.shape.len() {
            return Array::failed(
                "slice",
                format!(
                    "{} slices for a {}-d array of shape {:?}",
                    slices.len(),
                    d.shape.len(),
                    d.shape
                ),
            );
        }
        // Per axis: the output chunks, and for each output block its input block and
        // the local slice of it.
        let mut chunks = Vec::new();
        let mut maps: Vec<Vec<(usize, Slice)>> = Vec::new();
        let mut shape = Vec::new();
        for (ax, &n) in d.shape.iter().enumerate() {
            let s = slices.get(ax).copied().unwrap_or(Slice::from(..));
            if s.step <= 0 {
                return Array::failed(
                    "slice",
                    format!("axis {ax}: step {} must be positive", s.step),
                );
            }
            let clamp = |v: isize| -> usize {
                let v = if v < 0 { v + n as isize } else { v };
                v.clamp(0, n as isize) as usize
            };
            let start = clamp(s.start);
            let end = s.end.map_or(n, clamp).max(start);
            let step = s.step as usize;
            let mut axis_chunks = Vec::new();
            let mut axis_map = Vec::new();
            let mut block_start = 0;
            for (b, &len) in d.chunks[ax].iter().enumerate() {
                let (lo, hi) = (block_start.max(start), (block_start + len).min(end));
                block_start += len;
                if lo >= hi {
                    continue;
                }
                let first = start + (lo - start).div_ceil(step) * step;
                if first >= hi {
                    continue;
                }
                let count = (hi - first).div_ceil(step);
                let local = first - (block_start - len);
                axis_chunks.push(count);
                axis_map.push((
                    b,
                    Slice::new(
                        local as isize,
                        Some((local + (count - 1) * step + 1) as isize),
                        step as isize,
                    ),
                ));
            }
            if axis_chunks.is_empty() {
                axis_chunks.push(0);
                axis_map.push((0, Slice::new(0, Some(0), 1)));
            }
            shape.push(axis_chunks.iter().sum());
            chunks.push(axis_chunks);
            maps.push(axis_map);
        }
        Array::new("slice", shape, chunks, move |idx| {
            let source: Vec<usize> = idx.iter().zip(&maps).map(|(&i, m)| m[i].0).collect();
            let local: Vec<Slice> = idx.iter().zip(&maps).map(|(&i, m)| m[i].1).collect();
            compose((d.blocks)(&source), move |block| {
                Ok(block
                    .slice_each_axis(|ax| local[ax.axis.index()])
                    .to_owned())
            })
        })
    }

    /// The same elements in a new shape (row-major order, like NumPy). Blocks are cut
    /// along the first axis so that each holds whole rows of both shapes.
    ///
    /// ```
    /// use dask_runtime::array::arange;
    /// let x = arange(12).rechunk(4).reshape(&[3, 4]);
    /// assert_eq!(x.compute().unwrap()[[2, 1]], 9.0);
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Array<T> {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return Array::from_error(e),
        };
        let (n_in, n_out): (usize, usize) = (d.shape.iter().product(), shape.iter().product());
        if n_in != n_out {
            return Array::failed(
                "reshape",
                format!(
                    "cannot reshape {:?} ({n_in} elements) into {shape:?} ({n_out} elements)",
                    d.shape
                ),
            );
        }
        if d.shape.is_empty() || shape.is_empty() || n_in == 0 {
            let single: Vec<Vec<usize>> = d.shape.iter().map(|&n| vec![n]).collect();
            let whole = self.rechunk_to(single);
            let target = shape.to_vec();
            let out_chunks = shape.iter().map(|&n| vec![n]).collect();
            return Array::new("reshape", shape.to_vec(), out_chunks, move |_| {
                let target = target.clone();
                let task = match whole.def() {
                    Ok(w) => (w.blocks)(&vec![0; w.shape.len()]),
                    Err(e) => return failing_task(e),
                };
                compose(task, move |b| Ok(row_major_reshape(b, &target)?))
            });
        }
        let row_in: usize = d.shape[1..].iter().product();
        let row_out: usize = shape[1..].iter().product();
        let lcm = row_in / gcd(row_in, row_out) * row_out;
        let unit = (lcm / row_in.max(1)).max(1); // input rows a block must hold a multiple of
        let wanted = d.chunks[0][0].max(1).div_ceil(unit) * unit;
        let mut rows = Vec::new();
        let mut left = d.shape[0];
        while left > 0 {
            let r = wanted.min(left);
            rows.push(r);
            left -= r;
        }
        let mut in_chunks: Vec<Vec<usize>> = d.shape.iter().map(|&n| vec![n]).collect();
        in_chunks[0] = rows.clone();
        let source = self.rechunk_to(in_chunks);
        let mut out_chunks: Vec<Vec<usize>> = shape.iter().map(|&n| vec![n]).collect();
        out_chunks[0] = rows.iter().map(|r| r * row_in / row_out.max(1)).collect();
        let target_rest = shape[1..].to_vec();
        Array::new("reshape", shape.to_vec(), out_chunks.clone(), move |idx| {
            let task = match source.def() {
                Ok(s) => {
                    let mut i = vec![0; s.shape.len()];
                    i[0] = idx[0];
                    (s.blocks)(&i)
                }
                Err(e) => return failing_task(e),
            };
            let mut target = vec![out_chunks[0][idx[0]]];
            target.extend(&target_rest);
            compose(task, move |b| Ok(row_major_reshape(b, &target)?))
        })
    }
}

/// `block` reshaped to `target` in row-major order, copied first only when its layout
/// is not row-major (a transposed block is a view with permuted strides).
fn row_major_reshape<T: Element>(
    block: ArrayD<T>,
    target: &[usize],
) -> Result<ArrayD<T>, ndarray::ShapeError> {
    let block = if block.is_standard_layout() {
        block
    } else {
        block.as_standard_layout().into_owned()
    };
    block.into_shape_with_order(IxDyn(target))
}

impl<T: Element> Array<T> {
    /// Inserts an axis of length 1 at `axis` (NumPy's `expand_dims`). After an axis
    /// reduction it keeps the reduced axis: `x.max_axis(1).expand_dims(1)` is NumPy's
    /// `x.max(axis=1, keepdims=True)`.
    ///
    /// ```
    /// use dask_runtime::array::ones;
    /// let x = ones::<f64>([3, 4], 2).max_axis(1).expand_dims(1);
    /// assert_eq!(x.shape(), [3, 1]);
    /// ```
    pub fn expand_dims(&self, axis: usize) -> Array<T> {
        let d = match self.def() {
            Ok(d) => d.clone(),
            Err(e) => return Array::from_error(e),
        };
        if axis > d.shape.len() {
            return Array::failed(
                "expand_dims",
                format!(
                    "axis {axis} is out of range for a {}-d array",
                    d.shape.len()
                ),
            );
        }
        let mut shape = d.shape.clone();
        shape.insert(axis, 1);
        let mut chunks = d.chunks.clone();
        chunks.insert(axis, vec![1]);
        Array::new("expand_dims", shape, chunks, move |idx| {
            let mut source = idx.to_vec();
            source.remove(axis);
            super::compose_regional(
                (d.blocks)(&source),
                move |r: &[(usize, usize)]| {
                    let mut r = r.to_vec();
                    r.remove(axis);
                    r
                },
                move |b| Ok(b.insert_axis(Axis(axis))),
            )
        })
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

fn failing_task<T: Element>(e: ShapeError) -> BlockTask<T> {
    BlockTask {
        leaves: Vec::new(),
        kernel: Arc::new(move |_| Err(Box::new(crate::Error::from(e.clone())))),
        region: None,
    }
}

/// Joins arrays along an existing axis. Shapes must match on the other axes (chunks are
/// made to match the first array's there).
///
/// ```
/// use dask_runtime::array::{concatenate, ones, zeros};
/// let x = concatenate(&[zeros::<f64>([2, 3], 2), ones::<f64>([1, 3], 2)], 0);
/// assert_eq!(x.shape(), [3, 3]);
/// assert_eq!(x.sum().compute().unwrap(), 3.0);
/// ```
pub fn concatenate<T: Element>(arrays: &[Array<T>], axis: usize) -> Array<T> {
    let defs = match arrays.iter().map(Array::def).collect::<Result<Vec<_>, _>>() {
        Ok(d) => d,
        Err(e) => return Array::from_error(e),
    };
    let Some(first) = defs.first() else {
        return Array::failed("concatenate", "no arrays to concatenate".into());
    };
    let ndim = first.shape.len();
    if axis >= ndim {
        return Array::failed(
            "concatenate",
            format!("axis {axis} is out of range for {ndim}-d arrays"),
        );
    }
    for d in &defs {
        let same = d.shape.len() == ndim
            && (0..ndim).all(|ax| ax == axis || d.shape[ax] == first.shape[ax]);
        if !same {
            let shapes: Vec<String> = defs.iter().map(|d| format!("{:?}", d.shape)).collect();
            return Array::failed(
                "concatenate",
                format!("shapes {} differ off axis {axis}", shapes.join(", ")),
            );
        }
    }
    let aligned: Vec<Array<T>> = arrays
        .iter()
        .zip(&defs)
        .map(|(a, d)| {
            let mut c = first.chunks.clone();
            c[axis] = d.chunks[axis].clone();
            a.rechunk_to(c)
        })
        .collect();
    let mut chunks = first.chunks.clone();
    chunks[axis] = defs.iter().flat_map(|d| d.chunks[axis].clone()).collect();
    let mut shape = first.shape.clone();
    shape[axis] = defs.iter().map(|d| d.shape[axis]).sum();
    let owners: Vec<(usize, usize)> = defs
        .iter()
        .enumerate()
        .flat_map(|(i, d)| (0..d.chunks[axis].len()).map(move |b| (i, b)))
        .collect();
    Array::new("concatenate", shape, chunks, move |idx| {
        let (which, local) = owners[idx[axis]];
        let mut i = idx.to_vec();
        i[axis] = local;
        match aligned[which].def() {
            // The input's region function speaks the input's coordinates: drop it.
            Ok(d) => BlockTask {
                region: None,
                ..(d.blocks)(&i)
            },
            Err(e) => failing_task(e),
        }
    })
}

/// Stacks arrays of one shape along a new axis at position `axis`.
///
/// ```
/// use dask_runtime::array::{ones, stack, zeros};
/// let x = stack(&[zeros::<f64>([2], 1), ones::<f64>([2], 1)], 1);
/// assert_eq!(x.compute().unwrap(), ndarray::arr2(&[[0.0, 1.0], [0.0, 1.0]]).into_dyn());
/// ```
pub fn stack<T: Element>(arrays: &[Array<T>], axis: usize) -> Array<T> {
    let defs = match arrays.iter().map(Array::def).collect::<Result<Vec<_>, _>>() {
        Ok(d) => d,
        Err(e) => return Array::from_error(e),
    };
    let Some(first) = defs.first() else {
        return Array::failed("stack", "no arrays to stack".into());
    };
    if axis > first.shape.len() {
        return Array::failed(
            "stack",
            format!(
                "axis {axis} is out of range for {}-d arrays",
                first.shape.len()
            ),
        );
    }
    if let Some(d) = defs.iter().find(|d| d.shape != first.shape) {
        return Array::failed(
            "stack",
            format!(
                "all arrays need one shape: {:?} and {:?}",
                first.shape, d.shape
            ),
        );
    }
    let aligned: Vec<Array<T>> = arrays
        .iter()
        .map(|a| a.rechunk_to(first.chunks.clone()))
        .collect();
    let mut shape = first.shape.clone();
    shape.insert(axis, arrays.len());
    let mut chunks = first.chunks.clone();
    chunks.insert(axis, vec![1; arrays.len()]);
    Array::new("stack", shape, chunks, move |idx| {
        let mut i = idx.to_vec();
        let which = i.remove(axis);
        let task = match aligned[which].def() {
            Ok(d) => (d.blocks)(&i),
            Err(e) => return failing_task(e),
        };
        compose(task, move |b| Ok(b.insert_axis(Axis(axis))))
    })
}

impl<T: Element + LinalgScalar> Array<T> {
    /// The matrix product of two 2-d arrays: each output block is a tree sum of the
    /// products of the blocks along the inner axis (`other` is rechunked to match).
    /// Block products of `f64` and `f32` run on the `gemm` crate's SIMD kernels (on
    /// OpenBLAS with the `blas` feature), one thread a block.
    ///
    /// ```
    /// use dask_runtime::array::{eye, from_ndarray};
    /// let a = from_ndarray(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]), 1);
    /// assert_eq!(a.dot(&eye(2, 1)).compute().unwrap(), a.compute().unwrap());
    /// ```
    pub fn dot(&self, other: &Array<T>) -> Array<T> {
        let (a, b) = match (self.def(), other.def()) {
            (Ok(a), Ok(b)) => (a.clone(), b.clone()),
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
        let b_aligned = other.rechunk_to(vec![a.chunks[1].clone(), b.chunks[1].clone()]);
        let a_nodes = a.nodes();
        let (a_grid, split_every) = (vec![a.chunks[0].len(), a.chunks[1].len()], a.split_every);
        let chunks = vec![a.chunks[0].clone(), b.chunks[1].clone()];
        let out_grid = vec![a.chunks[0].len(), b.chunks[1].len()];
        let shape = vec![a.shape[0], b.shape[1]];
        let finals: Arc<OnceLock<Result<Vec<crate::Delayed<super::AnyBlock>>, ShapeError>>> =
            Arc::default();
        Array::new("dot", shape, chunks, move |idx| {
            let nodes = finals.get_or_init(|| {
                let b_def = b_aligned.def()?;
                let b_nodes = b_def.nodes();
                let b_grid = vec![b_def.chunks[0].len(), b_def.chunks[1].len()];
                Ok(
                    Array::<T>::block_indices(&[vec![0; out_grid[0]], vec![0; out_grid[1]]])
                        .iter()
                        .map(|ij| {
                            // Products grouped `split_every` at a time: each group adds its
                            // products into one buffer (C += A B), then a tree sums the groups.
                            let ks: Vec<usize> = (0..a_grid[1]).collect();
                            let parts: Vec<crate::Delayed<super::AnyBlock>> = ks
                                .chunks(split_every)
                                .map(|group| {
                                    let pairs: Vec<Arg<super::AnyBlock>> = group
                                        .iter()
                                        .flat_map(|&k| {
                                            [
                                                Arg::node(
                                                    a_nodes[flat_index(&a_grid, &[ij[0], k])]
                                                        .clone(),
                                                ),
                                                Arg::node(
                                                    b_nodes[flat_index(&b_grid, &[k, ij[1]])]
                                                        .clone(),
                                                ),
                                            ]
                                        })
                                        .collect();
                                    node(
                                        "dot",
                                        pairs,
                                        |args: &Vec<Arg<super::AnyBlock>>, inputs| {
                                            let mut sum: Option<ndarray::Array2<T>> = None;
                                            for pair in args.chunks(2) {
                                                let (l, r) =
                                                    (pair[0].take(inputs)?, pair[1].take(inputs)?);
                                                let l = super::typed::<T>(&l)?
                                                    .view()
                                                    .into_dimensionality::<Ix2>()?;
                                                let r = super::typed::<T>(&r)?
                                                    .view()
                                                    .into_dimensionality::<Ix2>()?;
                                                super::block_product::mul_add(&mut sum, &l, &r)?;
                                            }
                                            let sum =
                                                sum.ok_or("no blocks along the inner axis")?;
                                            Ok(T::into_block(sum.into_dyn()))
                                        },
                                    )
                                })
                                .collect();
                            super::tree_merge("dot-sum", parts, split_every, |values| {
                                let mut sum: Option<ArrayD<T>> = None;
                                for v in &values {
                                    let v = super::typed::<T>(v)?;
                                    match &mut sum {
                                        Some(s) => ndarray::Zip::from(s)
                                            .and(&**v)
                                            .for_each(|a, &b| *a = *a + b),
                                        None => sum = Some((**v).clone()),
                                    }
                                }
                                Ok(T::into_block(sum.ok_or("an empty group")?))
                            })
                            .unwrap_or_else(|| {
                                node("dot", (), |(), _| {
                                    Err("no blocks along the inner axis".into())
                                })
                            })
                        })
                        .collect(),
                )
            });
            match nodes {
                Ok(nodes) => leaf_task(nodes[flat_index(&out_grid, idx)].clone()),
                Err(e) => failing_task(e.clone()),
            }
        })
    }

    /// The matrix product, as NumPy's `matmul` for 2-d arrays (same as [`Array::dot`]).
    pub fn matmul(&self, other: &Array<T>) -> Array<T> {
        self.dot(other)
    }
}

//! Cumulative sums and products along an axis (Dask's blocked scan): each block is
//! scanned on its own, the running totals of the blocks before it are added in.
//!
//! Four layers: the block scans; each scan's last slice (its total); the carry into
//! each block, folded from the totals of the blocks before it along the axis (small,
//! lane-shaped arrays); and the output, scan plus carry.

use super::layer::{BlockOp, BlockValue, Layer, Tokenizer, block};
use super::reduce::Numeric;
use super::window::{owned_array, view};
use super::{Array, layer_over, new_layer};
use crate::error::BoxError;
use ndarray::{ArrayD, Axis, IxDyn, Zip};
use std::marker::PhantomData;
use std::sync::Arc;

/// How values accumulate: `+` from 0, or `*` from 1.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Hash)]
pub enum Accumulate {
    Sum,
    Prod,
}

impl Accumulate {
    fn label(self) -> &'static str {
        match self {
            Accumulate::Sum => "cumsum",
            Accumulate::Prod => "cumprod",
        }
    }
    fn identity<T: Numeric>(self) -> T {
        match self {
            Accumulate::Sum => T::default(),
            Accumulate::Prod => T::one(),
        }
    }
    fn apply<T: Numeric>(self, a: T, b: T) -> T {
        match self {
            // Floats add plainly, as NumPy's cumsum does; integers wrap.
            Accumulate::Sum => T::plus(a, b),
            Accumulate::Prod => T::prod(a, b),
        }
    }
}

/// Each block scanned along `axis` on its own.
struct LocalScan<T> {
    axis: usize,
    how: Accumulate,
    element: PhantomData<fn() -> T>,
}

impl<T: Numeric> BlockOp for LocalScan<T> {
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let mut values = owned_array::<T>(inputs.into_iter().next().ok_or("no input block")?)?;
        let (how, axis) = (self.how, Axis(self.axis));
        if self.axis + 1 == values.ndim() {
            // Each lane is a row, in memory order.
            for mut lane in values.lanes_mut(axis) {
                let mut acc = how.identity::<T>();
                for v in lane.iter_mut() {
                    acc = how.apply(acc, *v);
                    *v = acc;
                }
            }
        } else {
            // Slab by slab: each slab is added to the one before it, whole rows at a
            // time (a lane along an outer axis would stride through memory).
            for k in 1..values.len_of(axis) {
                let (before, mut rest) = values.view_mut().split_at(axis, k);
                let previous = before.index_axis(axis, k - 1);
                Zip::from(rest.index_axis_mut(axis, 0))
                    .and(&previous)
                    .for_each(|v, &p| *v = how.apply(p, *v));
            }
        }
        Ok(block(values))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// A scanned block's last slice along `axis`, the axis kept with length 1.
struct Total<T> {
    axis: usize,
    how: Accumulate,
    element: PhantomData<fn() -> T>,
}

impl<T: Numeric> BlockOp for Total<T> {
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let scanned = view::<T>(inputs.first().ok_or("no input block")?)?;
        let len = scanned.len_of(Axis(self.axis));
        if len == 0 {
            return Ok(block(identity_lanes::<T>(
                &layer.inputs[0],
                idx,
                self.axis,
                self.how,
            )));
        }
        let last = scanned
            .index_axis(Axis(self.axis), len - 1)
            .insert_axis(Axis(self.axis));
        Ok(block(last.to_owned()))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// The identity for every lane of block `idx` of `scanned` (the local scans), the axis
/// of length 1.
fn identity_lanes<T: Numeric>(
    scanned: &Layer,
    idx: &[usize],
    axis: usize,
    how: Accumulate,
) -> ArrayD<T> {
    let mut shape = super::layer::lengths(&scanned.region(idx));
    shape[axis] = 1;
    ArrayD::from_elem(IxDyn(&shape), how.identity::<T>())
}

/// The carry into block `i` along `axis`: the totals of blocks `0..i` folded.
struct Carry<T> {
    axis: usize,
    how: Accumulate,
    element: PhantomData<fn() -> T>,
}

impl<T: Numeric> BlockOp for Carry<T> {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        for k in 0..idx[self.axis] {
            let mut at = idx.to_vec();
            at[self.axis] = k;
            out.push((0, at));
        }
    }
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        // The totals' input is the local scans.
        let scanned = &layer.inputs[0].inputs[0];
        let mut carry = identity_lanes::<T>(scanned, idx, self.axis, self.how);
        for total in &inputs {
            let total = view::<T>(total)?;
            let how = self.how;
            Zip::from(&mut carry)
                .and(total)
                .for_each(|c, &t| *c = how.apply(*c, t));
        }
        Ok(block(carry))
    }
}

/// Scan plus carry: the output block.
struct AddCarry<T> {
    how: Accumulate,
    element: PhantomData<fn() -> T>,
}

impl<T: Numeric> BlockOp for AddCarry<T> {
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.push((0, idx.to_vec()));
        out.push((1, idx.to_vec()));
    }
    fn run(&self, _: &Layer, _: &[usize], inputs: Vec<BlockValue>) -> Result<BlockValue, BoxError> {
        let mut inputs = inputs.into_iter();
        let (Some(scanned), Some(carry)) = (inputs.next(), inputs.next()) else {
            return Err("internal: a scan without its carry".into());
        };
        let mut scanned = owned_array::<T>(scanned)?;
        let carry = view::<T>(&carry)?;
        let carry = carry
            .broadcast(scanned.raw_dim())
            .ok_or("internal: a carry that does not broadcast")?;
        let how = self.how;
        Zip::from(&mut scanned)
            .and(&carry)
            .for_each(|v, &c| *v = how.apply(c, *v));
        Ok(block(scanned))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// `a` scanned along `axis` (compiled once per element type, see `Reduce::scan`).
pub(crate) fn scan<T: Numeric>(a: &Array<T>, axis: usize, how: Accumulate) -> Array<T> {
    a.then(|layer| {
        if axis >= layer.shape.len() {
            return Err(super::ShapeError::new(
                how.label(),
                format!(
                    "axis {axis} is out of range for a {}-d array of shape {:?}",
                    layer.shape.len(),
                    layer.shape
                ),
            ));
        }
        let token = Tokenizer::new(how.label()).add((how, axis)).add(T::NAME);
        let grid = layer.grid();
        let ones: Vec<Vec<usize>> = grid.iter().map(|&n| vec![1; n]).collect();
        let local = layer_over(
            how.label(),
            token.clone().add("local"),
            layer.shape.clone(),
            layer.chunks.clone(),
            vec![Arc::clone(layer)],
            LocalScan::<T> {
                axis,
                how,
                element: PhantomData,
            },
        );
        let totals = new_layer(
            how.label(),
            token.clone().add("totals"),
            grid.clone(),
            ones.clone(),
            vec![Arc::clone(&local)],
            Total::<T> {
                axis,
                how,
                element: PhantomData,
            },
            layer.split_every,
        );
        let carries = new_layer(
            how.label(),
            token.clone().add("carry"),
            grid,
            ones,
            vec![totals],
            Carry::<T> {
                axis,
                how,
                element: PhantomData,
            },
            layer.split_every,
        );
        Ok(layer_over(
            how.label(),
            token,
            layer.shape.clone(),
            layer.chunks.clone(),
            vec![local, carries],
            AddCarry::<T> {
                how,
                element: PhantomData,
            },
        ))
    })
}

impl<T: Numeric> Array<T> {
    /// Cumulative sums along `axis` (NumPy's `cumsum(axis=...)`); integers wrap.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::arange(6).rechunk(4);
    /// let sums: Vec<f64> = x.cumsum(0).compute().unwrap().iter().copied().collect();
    /// assert_eq!(sums, [0.0, 1.0, 3.0, 6.0, 10.0, 15.0]);
    /// ```
    pub fn cumsum(&self, axis: usize) -> Array<T> {
        T::scan(self, axis, Accumulate::Sum)
    }

    /// Cumulative products along `axis` (NumPy's `cumprod(axis=...)`).
    pub fn cumprod(&self, axis: usize) -> Array<T> {
        T::scan(self, axis, Accumulate::Prod)
    }
}

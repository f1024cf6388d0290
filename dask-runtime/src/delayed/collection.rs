//! `dask::compute`: several lazy values run as one graph.

use super::Delayed;
use crate::executor;
use crate::graph::{NodeRef, Value, key_of};
use crate::{Error, Options, Scheduler};
use std::sync::Arc;

/// What a collection hands the run before its nodes are asked for: lazy values whose
/// tasks are planned together (array blocks) register themselves in a part of the
/// batch, and the batch prepares every part once, over all the values being computed.
#[doc(hidden)]
#[derive(Default)]
pub struct Batch {
    parts: Vec<Box<dyn BatchPart>>,
}

/// One kind of value planned together in a [`Batch`] (arrays).
#[doc(hidden)]
pub trait BatchPart: std::any::Any + Send {
    /// Plans every value registered in the part.
    ///
    /// # Errors
    ///
    /// What planning the values found wrong.
    fn prepare(&mut self) -> Result<(), Error>;
    /// `self`, for downcasting.
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Batch({} parts)", self.parts.len())
    }
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Outputs({} left)", self.values.len())
    }
}

impl Batch {
    /// The part of type `P`, made on first use.
    pub fn part<P: BatchPart + Default>(&mut self) -> &mut P {
        let at = match self.parts.iter_mut().position(|p| p.as_any_mut().is::<P>()) {
            Some(at) => at,
            None => {
                self.parts.push(Box::<P>::default());
                self.parts.len() - 1
            }
        };
        self.parts[at]
            .as_any_mut()
            .downcast_mut::<P>()
            .unwrap_or_else(|| unreachable!("the part at {at} is a P"))
    }

    fn prepare(&mut self) -> Result<(), Error> {
        self.parts.iter_mut().try_for_each(|p| p.prepare())
    }
}

/// Something [`compute`] can run: a `Delayed<T>`, a lazy array or scalar, and
/// collections of them nested as deep as you like: `Vec`s, slices, arrays `[C; N]`,
/// references, `HashMap`s and `BTreeMap`s (of lazy values, by key), and tuples of up
/// to 8 of any of these. One compute runs them as one
/// graph, so a task (or an array block) reachable from several of them runs once.
///
/// Outputs are cloned only when one node is asked for twice, hence `T: Clone`.
pub trait Computable {
    /// The computed values, in the same shape.
    type Output;
    /// Registers what must be planned together before nodes are asked for.
    #[doc(hidden)]
    fn declare(&self, _batch: &mut Batch) {}
    /// Appends the output nodes, in the order [`Computable::collect_values`] reads them.
    #[doc(hidden)]
    fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error>;
    /// The output, from the values of the nodes `output_nodes` gave, in order.
    #[doc(hidden)]
    fn collect_values(&self, values: &mut Outputs) -> Result<Self::Output, Error>;
}

/// The computed values of a batch's output nodes, handed out in order.
#[doc(hidden)]
pub struct Outputs {
    values: std::vec::IntoIter<(Value, NodeRef)>,
}

impl Outputs {
    /// The next value and the node that made it.
    ///
    /// # Errors
    ///
    /// [`Error::Internal`] when there are fewer values than nodes.
    pub fn next_value(&mut self) -> Result<(Value, NodeRef), Error> {
        self.values
            .next()
            .ok_or_else(|| Error::Internal("missing output".into()))
    }
}

/// Computes several lazy values as one graph: a task reachable from several of them runs
/// once. Dask's `dask.compute(*values)`. An empty list gives an empty list and runs
/// nothing.
///
/// # Examples
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{compute, delayed_value};
///
/// let shared = delayed_value(10_i64).map(|v| v * 2);
/// let a = shared.map(|v| v + 1);
/// let b = shared.map(|v| format!("{v}!"));
/// let (a, b) = compute((a, b)).unwrap();      // `shared` ran once
/// assert_eq!((a, b.as_str()), (21, "20!"));
///
/// let parts: Vec<_> = (0..4).map(|i| delayed_value(i).map(|v| v * v)).collect();
/// assert_eq!(compute(parts).unwrap(), vec![0, 1, 4, 9]);
/// ```
///
/// # Errors
///
/// As [`Delayed::compute`].
pub fn compute<C: Computable>(values: C) -> Result<C::Output, Error> {
    compute_with(values, Scheduler::from_env()?)
}

/// [`compute`] as `options` say: a [`Scheduler`], or [`Options`] with callbacks, a
/// cancel token, a deadline or retries.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{Options, Scheduler};
/// let parts: Vec<_> = (0..3).map(|i| dask::delayed_value(i).map(|v| v + 1)).collect();
/// assert_eq!(dask::compute_with(parts.clone(), Scheduler::Sync).unwrap(), [1, 2, 3]);
/// assert_eq!(dask::compute_with(parts, Options::new().retries(1)).unwrap(), [1, 2, 3]);
/// ```
///
/// # Errors
///
/// As [`Delayed::compute_with`].
pub fn compute_with<C: Computable>(
    values: C,
    options: impl Into<Options>,
) -> Result<C::Output, Error> {
    let options = options.into();
    compute_by(values, |refs| executor::execute(refs, &options).map(Some))?
        .ok_or_else(|| Error::Internal("a run gave no outputs".into()))
}

/// [`compute_with`]'s steps around the run: `run` gets the output nodes and returns
/// their values, or `None` when this process does not take the results (an MPI rank
/// other than the root).
pub(crate) fn compute_by<C: Computable>(
    values: C,
    run: impl FnOnce(&[&NodeRef]) -> Result<Option<Vec<Value>>, Error>,
) -> Result<Option<C::Output>, Error> {
    let mut batch = Batch::default();
    values.declare(&mut batch);
    batch.prepare()?;
    let mut nodes = Vec::new();
    values.output_nodes(&mut batch, &mut nodes)?;
    let refs: Vec<&NodeRef> = nodes.iter().collect();
    let outputs = if refs.is_empty() {
        Some(Vec::new())
    } else {
        run(&refs)?
    };
    drop(batch);
    let Some(outputs) = outputs else {
        return Ok(None);
    };
    let mut outputs = Outputs {
        values: outputs
            .into_iter()
            .zip(nodes)
            .collect::<Vec<_>>()
            .into_iter(),
    };
    values.collect_values(&mut outputs).map(Some)
}

/// [`compute_with`] on `scheduler` with `callbacks` besides any registered ones: a
/// thin alias of `compute_with(values, Options::from(scheduler).callbacks(callbacks))`.
///
/// # Errors
///
/// As [`Delayed::compute_with`].
pub fn compute_with_callbacks<C: Computable>(
    values: C,
    scheduler: Scheduler,
    callbacks: &[Arc<dyn crate::hooks::Callback>],
) -> Result<C::Output, Error> {
    compute_with(values, Options::from(scheduler).callbacks(callbacks))
}

/// Turns a shared output into an owned `T`, moving it when nobody else holds it.
pub(crate) fn unshare<T: Send + Sync + 'static>(value: Value, node: &NodeRef) -> Result<T, Error> {
    let shared = downcast::<T>(value, node)?;
    Arc::try_unwrap(shared).map_err(|_| {
        Error::Internal(format!(
            "output of {} is still shared after the run",
            key_of(&**node)
        ))
    })
}

fn unshare_or_clone<T: Clone + Send + Sync + 'static>(
    value: Value,
    node: &NodeRef,
) -> Result<T, Error> {
    let shared = downcast::<T>(value, node)?;
    Ok(Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone()))
}

fn downcast<T: Send + Sync + 'static>(value: Value, node: &NodeRef) -> Result<Arc<T>, Error> {
    value.downcast::<T>().map_err(|_| {
        Error::Internal(format!(
            "output of {} is not a {}",
            key_of(&**node),
            std::any::type_name::<T>()
        ))
    })
}

impl<T: Clone + Send + Sync + 'static> Computable for Delayed<T> {
    type Output = T;
    fn output_nodes(&self, _: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
        out.push(Arc::clone(self.node()));
        Ok(())
    }
    fn collect_values(&self, values: &mut Outputs) -> Result<T, Error> {
        let (value, node) = values.next_value()?;
        unshare_or_clone(value, &node)
    }
}

impl<C: Computable + ?Sized> Computable for &C {
    type Output = C::Output;
    fn declare(&self, batch: &mut Batch) {
        (**self).declare(batch);
    }
    fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
        (**self).output_nodes(batch, out)
    }
    fn collect_values(&self, values: &mut Outputs) -> Result<C::Output, Error> {
        (**self).collect_values(values)
    }
}

impl<C: Computable> Computable for [C] {
    type Output = Vec<C::Output>;
    fn declare(&self, batch: &mut Batch) {
        self.iter().for_each(|c| c.declare(batch));
    }
    fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
        self.iter().try_for_each(|c| c.output_nodes(batch, out))
    }
    fn collect_values(&self, values: &mut Outputs) -> Result<Vec<C::Output>, Error> {
        self.iter().map(|c| c.collect_values(values)).collect()
    }
}

impl<C: Computable> Computable for Vec<C> {
    type Output = Vec<C::Output>;
    fn declare(&self, batch: &mut Batch) {
        self.as_slice().declare(batch);
    }
    fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
        self.as_slice().output_nodes(batch, out)
    }
    fn collect_values(&self, values: &mut Outputs) -> Result<Vec<C::Output>, Error> {
        self.as_slice().collect_values(values)
    }
}

impl<C: Computable, const N: usize> Computable for [C; N] {
    type Output = [C::Output; N];
    fn declare(&self, batch: &mut Batch) {
        self.as_slice().declare(batch);
    }
    fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
        self.as_slice().output_nodes(batch, out)
    }
    fn collect_values(&self, values: &mut Outputs) -> Result<[C::Output; N], Error> {
        let list = self.as_slice().collect_values(values)?;
        list.try_into()
            .map_err(|_| Error::Internal("wrong number of outputs".into()))
    }
}

/// A map of lazy values computes to the same keys with their values.
macro_rules! map_computable {
    ($map:ident, $($bound:tt)+) => {
        impl<K: $($bound)+, C: Computable> Computable for std::collections::$map<K, C> {
            type Output = std::collections::$map<K, C::Output>;
            fn declare(&self, batch: &mut Batch) {
                self.values().for_each(|c| c.declare(batch));
            }
            fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
                self.values().try_for_each(|c| c.output_nodes(batch, out))
            }
            fn collect_values(&self, values: &mut Outputs) -> Result<Self::Output, Error> {
                // Iteration order is the map's own, the same in both passes.
                self.iter()
                    .map(|(k, c)| Ok((k.clone(), c.collect_values(values)?)))
                    .collect()
            }
        }
    };
}

map_computable!(HashMap, Clone + Eq + std::hash::Hash);
map_computable!(BTreeMap, Clone + Ord);

macro_rules! tuple_computable {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Computable),+> Computable for ($($t,)+) {
            type Output = ($($t::Output,)+);
            fn declare(&self, batch: &mut Batch) {
                $(self.$i.declare(batch);)+
            }
            fn output_nodes(&self, batch: &mut Batch, out: &mut Vec<NodeRef>) -> Result<(), Error> {
                $(self.$i.output_nodes(batch, out)?;)+
                Ok(())
            }
            fn collect_values(&self, values: &mut Outputs) -> Result<Self::Output, Error> {
                Ok(($(self.$i.collect_values(values)?,)+))
            }
        }
    };
}

tuple_computable!(A 0);
tuple_computable!(A 0, B 1);
tuple_computable!(A 0, B 1, C 2);
tuple_computable!(A 0, B 1, C 2, D 3);
tuple_computable!(A 0, B 1, C 2, D 3, E 4);
tuple_computable!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_computable!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_computable!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

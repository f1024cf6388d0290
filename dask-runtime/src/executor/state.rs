//! The shared state of one run: a waiting counter and a result slot per node, the stop
//! state, and how a task reads its inputs.

use super::slot::Slot;
use super::stop::{RunStop, Stopper};
use crate::Error;
use crate::error::{panic_message, task_outcome};
use crate::graph::{InputSource, Inputs, Layout, Value, key_of};
use crate::hooks::{Observed, TaskKey};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;

pub(crate) struct RunState<'g> {
    pub(crate) layout: Layout<'g>,
    /// Per node: its value for its readers, and its dependencies not yet finished.
    slots: Vec<Slot>,
    pub(crate) stopper: RunStop,
    observed: Option<Observed>,
    /// How many times a failed task is run again.
    retries: u32,
    /// With several processes: which nodes run here, and what to do with each value
    /// made here (send it to the ranks that read it).
    locality: Option<Locality>,
    /// Tasks running now (counted only with a locality: the MPI scheduler's `done`).
    running: std::sync::atomic::AtomicUsize,
}

/// A run's share of a graph that several processes run together (MPI).
pub(crate) struct Locality {
    /// Whether each node runs in this process.
    pub(crate) local: Vec<bool>,
    /// Called with each value this process makes, before its readers here see it.
    pub(crate) on_made: OnMade,
    /// Whether the outputs' values come to this process (else the run gives none).
    pub(crate) outputs_here: bool,
}

/// See [`Locality::on_made`].
pub(crate) type OnMade = Box<dyn Fn(u32, &Value) -> Result<(), Error> + Send + Sync>;

impl<'g> RunState<'g> {
    pub(crate) fn new(
        layout: Layout<'g>,
        observed: Option<Observed>,
        stopper: Stopper,
        retries: u32,
    ) -> Self {
        Self::with_locality(layout, observed, stopper, retries, None)
    }

    /// A run of the nodes `locality` marks local; the others' values are
    /// [delivered](RunState::deliver) from other processes.
    pub(crate) fn with_locality(
        layout: Layout<'g>,
        observed: Option<Observed>,
        stopper: Stopper,
        retries: u32,
        locality: Option<Locality>,
    ) -> Self {
        // Each slot counts the reads of its value to come: one per consumer here, one
        // per time it is an output. Dependencies come before their readers in the
        // layout, so a node's reads of them are counted as its own slot is made.
        let mut slots: Vec<Slot> = Vec::with_capacity(layout.len());
        for i in 0..layout.len() {
            let deps = layout.deps(i as u32);
            slots.push(Slot::new(0, deps.len() as u32));
            if locality.as_ref().is_some_and(|l| !l.local[i]) {
                continue; // read in another process
            }
            for &d in deps {
                slots[d as usize].add_reads(1);
            }
        }
        if locality.as_ref().is_none_or(|l| l.outputs_here) {
            for &o in &layout.outputs {
                slots[o as usize].add_reads(1);
            }
        }
        RunState {
            slots,
            layout,
            stopper: RunStop::new(stopper),
            observed,
            retries,
            locality,
            running: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many tasks are running now; counted only in a run with a locality.
    #[cfg(feature = "mpi")]
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Nodes with no dependencies, in layout order (those that run here).
    pub(crate) fn initially_ready(&self) -> Vec<u32> {
        (0..self.layout.len() as u32)
            .filter(|&i| self.layout.deps(i).is_empty() && self.is_local(i))
            .collect()
    }

    /// Whether node `i` runs in this process.
    pub(crate) fn is_local(&self, i: u32) -> bool {
        self.locality.as_ref().is_none_or(|l| l.local[i as usize])
    }

    /// Node `i`'s value, made in another process: stored for its readers here, and
    /// `ready` called for each of them it makes ready.
    #[cfg(feature = "mpi")]
    pub(crate) fn deliver(&self, i: u32, value: Value, ready: impl FnMut(u32)) {
        self.store(i, value);
        self.notify_consumers(i, ready);
    }

    /// Stores node `i`'s value for its readers (or drops it if it has none here).
    fn store(&self, i: u32, value: Value) {
        // The slot keeps the value's data pointer only, rebuilt as the node's type by
        // `read`: a value of another type (a bad delivery) fails the run instead.
        if !self.layout.node(i as usize).holds_output(&value) {
            self.stopper.fail(Error::Internal(format!(
                "a value of the wrong type for {}",
                self.key(i as usize)
            )));
            self.drop_value(i, value);
            return;
        }
        // SAFETY: a node's value is stored once, by the one task that made it (or the
        // one delivery of it), before any of its readers is made ready below. It is
        // of the node's type (checked above), which `rebuild` rebuilds.
        #[allow(unsafe_code)]
        let unread = unsafe { self.slots[i as usize].store(value) };
        if let Some(value) = unread {
            self.drop_value(i, value);
        }
    }

    /// Counts node `i` done for each of its consumers here; `ready` is called for each
    /// one that was waiting only for it.
    fn notify_consumers(&self, i: u32, mut ready: impl FnMut(u32)) {
        for &c in self.layout.consumers(i) {
            // AcqRel: the consumer must see every input's slot written.
            if self.is_local(c)
                && self.slots[c as usize]
                    .waiting
                    .fetch_sub(1, Ordering::AcqRel)
                    == 1
            {
                ready(c);
            }
        }
    }

    pub(crate) fn observed(&self) -> Option<&Observed> {
        self.observed.as_ref()
    }

    fn key(&self, i: usize) -> String {
        key_of(self.layout.node(i))
    }

    /// Runs node `i` (again after a failure, up to the retries) and stores its output;
    /// on success calls `ready` for each consumer that this completion made ready.
    /// Returns false once the run has stopped: the task failed, a callback failed, or
    /// the run was cancelled or ran out of time before the task could start.
    pub(crate) fn run(&self, i: u32, ready: impl FnMut(u32)) -> bool {
        if self.locality.is_none() {
            return self.run_counted(i, ready);
        }
        self.running.fetch_add(1, Ordering::AcqRel);
        let ok = self.run_counted(i, ready);
        self.running.fetch_sub(1, Ordering::AcqRel);
        ok
    }

    fn run_counted(&self, i: u32, ready: impl FnMut(u32)) -> bool {
        let node = self.layout.node(i as usize);
        let mut inputs = Inputs::new(self, self.layout.deps(i), self.retries > 0);
        let mut attempt = 1;
        let outcome = loop {
            if self.stopper.should_stop(|j| self.key(j)) {
                break None;
            }
            let event = match &self.observed {
                None => None,
                Some(o) => {
                    match o.task_start(i as usize, TaskKey::Node(node.name(), node.id()), attempt) {
                        Ok(event) => Some(event),
                        // A failing `task_start` hook fails the run and skips its task.
                        Err(e) => {
                            self.stopper.fail(e);
                            break None;
                        }
                    }
                }
            };
            self.stopper.mark_running(i as usize, true);
            let outcome = {
                let _current = self.stopper.enter();
                #[cfg(feature = "tracing")]
                let _span =
                    tracing::info_span!("dask_task", name = node.name(), id = node.id()).entered();
                catch_unwind(AssertUnwindSafe(|| node.run(&mut inputs)))
            };
            self.stopper.mark_running(i as usize, false);
            if let (Some(o), Some(event)) = (&self.observed, event)
                && let Err(e) = o.task_finish(event, matches!(outcome, Ok(Ok(_))))
            {
                self.stopper.fail(e);
            }
            match outcome {
                Ok(Ok(value)) => break Some(Ok(value)),
                failed if attempt <= self.retries && !self.stopper.has_stopped() => {
                    drop_caught(failed);
                    inputs.rewind();
                    attempt += 1;
                }
                failed => break Some(task_outcome(failed, node.name(), attempt, || key_of(node))),
            }
        };
        for (dep, value) in inputs.release() {
            self.drop_value(dep, value);
        }
        match outcome {
            Some(Ok(value)) if !self.stopper.has_stopped() => {
                if let Some(l) = &self.locality
                    && let Err(e) = (l.on_made)(i, &value)
                {
                    self.stopper.fail(e);
                    self.drop_value(i, value);
                    return false;
                }
                self.store(i, value);
                self.notify_consumers(i, ready);
                true
            }
            // The run stopped while the task ran (a callback failed, another task did):
            // its value is not needed.
            Some(Ok(value)) => {
                self.drop_value(i, value);
                false
            }
            Some(Err(failure)) => {
                self.stopper.fail_task(failure, |j| self.key(j));
                false
            }
            None => false,
        }
    }

    /// Drops node `i`'s value where a panic in its `Drop` is caught: it becomes the
    /// run's error (if it has none yet), never a panic out of `compute`.
    fn drop_value(&self, i: u32, value: Value) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
            let node = self.layout.node(i as usize);
            self.stopper.fail(Error::TaskPanicked {
                name: node.name(),
                key: key_of(node),
                message: format!("while dropping its value: {}", panic_message(&*payload)),
                attempts: 1,
                payload: crate::error::kept_payload(payload),
            });
        }
    }

    /// The outputs in request order, or the run's error. Values left in the slots of a
    /// stopped run are dropped here, each where a panic in its `Drop` is caught.
    pub(crate) fn finish(&self) -> Result<Vec<Value>, Error> {
        // A token cancelled (or a deadline passed) while the last tasks ran still
        // cancels the run: those tasks may have cut their work short.
        if self.stopper.should_stop(|j| self.key(j)) {
            self.drop_unread(|i, value| self.drop_value(i, value));
            return Err(self
                .stopper
                .take_error()
                .unwrap_or_else(|| Error::Internal("a run stopped without an error".into())));
        }
        if self.locality.as_ref().is_some_and(|l| !l.outputs_here) {
            return Ok(Vec::new()); // another process has them
        }
        let mut values = Vec::with_capacity(self.layout.outputs.len());
        for &o in &self.layout.outputs {
            let value = self.read(o).ok_or_else(|| {
                Error::Internal(format!(
                    "output {} has no value after the run",
                    self.key(o as usize)
                ))
            })?;
            values.push(value);
        }
        Ok(values)
    }

    /// Rebuilds a handle to a value node `i` made from the data pointer its slot kept.
    fn rebuild(&self, i: usize) -> impl Fn(*const ()) -> Value + '_ {
        let node = self.layout.node(i);
        // SAFETY: node `i`'s slot holds only values of which its `holds_output` is
        // true (see `store`), each pointer with the references the slot counts.
        #[allow(unsafe_code)]
        move |raw| unsafe { node.value_from_raw(raw) }
    }

    /// Hands `drop` every reference of a value no reader took, with its node.
    fn drop_unread(&self, mut drop: impl FnMut(u32, Value)) {
        for (i, slot) in self.slots.iter().enumerate() {
            if slot.has_unread() {
                // SAFETY: called once every task of the run has ended (`finish`,
                // `Drop`).
                #[allow(unsafe_code)]
                unsafe {
                    slot.take_unread(&self.rebuild(i), |value| drop(i as u32, value));
                }
            }
        }
    }
}

impl Drop for RunState<'_> {
    /// Frees what a run left in its slots (its outputs and a stopped run's values are
    /// taken by `finish`, so normally nothing), where a panic in a `Drop` is caught.
    fn drop(&mut self) {
        self.drop_unread(|_, value| drop_caught(value));
    }
}

impl InputSource for RunState<'_> {
    /// One read of node `i`'s output: a reference of its own for each reader, the
    /// last one holding the value alone once the others let theirs go.
    fn read(&self, i: u32) -> Option<Value> {
        // SAFETY: node `i` is read by its consumers, which run only once its value is
        // stored (`notify_consumers`), and by `finish` once every task has ended.
        #[allow(unsafe_code)]
        unsafe {
            self.slots[i as usize].read(&self.rebuild(i as usize))
        }
    }
}

/// Drops what a failed attempt gave (its error or panic payload) where a panic in a
/// `Drop` is caught; such a panic is lost with the attempt.
fn drop_caught<T>(value: T) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(value)));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::graph::NodeRef;
    use crate::{Delayed, Options, delayed_value};
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use crate::executor::slot::tests::Counted;

    fn state<'g>(outputs: &[&'g NodeRef]) -> RunState<'g> {
        let layout = Layout::new(outputs).unwrap();
        let tasks = layout.len();
        RunState::new(layout, None, Stopper::new(&Options::new(), tasks), 0)
    }

    #[test]
    fn a_value_of_the_wrong_type_fails_the_run_and_is_dropped() {
        let drops = Arc::new(AtomicUsize::new(0));
        let x: Delayed<u64> = delayed_value(1);
        let state = state(&[x.node()]);
        state.store(0, Arc::new(Counted(Arc::clone(&drops))));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        match state.finish() {
            Err(Error::Internal(message)) => assert!(message.contains("wrong type"), "{message}"),
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn values_a_run_left_unread_are_freed_with_its_state() {
        // A value stored for two reads, read once, then the state dropped without
        // `finish`: the reference left is freed once, and the one read is the reader's.
        let drops = Arc::new(AtomicUsize::new(0));
        let x: Delayed<Counted> = crate::delayed::node("made", (), |(), _| {
            Ok(Counted(Arc::new(AtomicUsize::new(0))))
        });
        let outputs = [x.node(), x.node()];
        let state = state(&outputs);
        state.store(0, Arc::new(Counted(Arc::clone(&drops))));
        let read = state.read(0).unwrap();
        assert!(read.is::<Counted>());
        drop(state);
        assert_eq!(drops.load(Ordering::SeqCst), 0, "the reader still holds it");
        drop(read);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}

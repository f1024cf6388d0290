//! The shared state of one run: a waiting counter and a result slot per node, the first
//! error, and how a task reads its inputs.

use super::order::Layout;
use crate::Error;
use crate::delayed::node::{Value, key_of};
use crate::error::{BoxError, task_outcome};
use crate::observe::{Hooks, TaskEvent, TaskKey, notify};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

pub(crate) struct RunState<'g> {
    pub(crate) layout: Layout<'g>,
    /// Dependencies not yet finished, per node: the node is ready at zero.
    waiting: Vec<AtomicU32>,
    slots: Vec<Mutex<Slot>>,
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
    hooks: Option<Hooks>,
    /// The clock reading at the start of the run (for task start times).
    origin: u64,
}

/// A node's output and how many reads of it are left; the last read takes it, so an
/// intermediate is freed as soon as its last consumer has it.
struct Slot {
    value: Option<Value>,
    reads_left: u32,
}

impl<'g> RunState<'g> {
    pub(crate) fn new(layout: Layout<'g>, hooks: Option<Hooks>, origin: u64) -> Self {
        let n = layout.len();
        let mut reads = vec![0_u32; n];
        for i in 0..n {
            for &d in layout.deps(i as u32) {
                reads[d as usize] += 1;
            }
        }
        for &o in &layout.outputs {
            reads[o as usize] += 1;
        }
        RunState {
            waiting: (0..n)
                .map(|i| AtomicU32::new(layout.deps(i as u32).len() as u32))
                .collect(),
            slots: reads
                .into_iter()
                .map(|reads_left| {
                    Mutex::new(Slot {
                        value: None,
                        reads_left,
                    })
                })
                .collect(),
            layout,
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            hooks,
            origin,
        }
    }

    /// Nodes with no dependencies, in layout order.
    pub(crate) fn initially_ready(&self) -> Vec<u32> {
        (0..self.layout.len() as u32)
            .filter(|&i| self.layout.deps(i).is_empty())
            .collect()
    }

    pub(crate) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Runs node `i` and stores its output; on success calls `ready` for each consumer
    /// that this completion made ready. Returns false if the task failed.
    pub(crate) fn run(&self, i: u32, mut ready: impl FnMut(u32)) -> bool {
        let node = self.layout.nodes[i as usize];
        let mut event = self.hooks.as_ref().map(|hooks| {
            let key = TaskKey::Node(node.name(), node.id());
            let event = TaskEvent::starting(i as usize, node.name(), key, self.origin);
            if let Err(e) = notify(hooks, |c| c.task_start(&event)) {
                self.fail(e);
            }
            event
        });
        let mut inputs = Inputs {
            state: self,
            deps: self.layout.deps(i),
            next: 0,
        };
        #[cfg(feature = "tracing")]
        let span = tracing::info_span!("dask_task", name = node.name(), id = node.id()).entered();
        let outcome = catch_unwind(AssertUnwindSafe(|| node.run(&mut inputs)));
        #[cfg(feature = "tracing")]
        drop(span);
        inputs.release_unread();
        if let (Some(hooks), Some(event)) = (&self.hooks, &mut event) {
            event.finished(matches!(outcome, Ok(Ok(_))));
            if let Err(e) = notify(hooks, |c| c.task_finish(event)) {
                self.fail(e);
            }
        }
        match task_outcome(outcome, node.name(), || key_of(node)) {
            Ok(value) => {
                self.slot(i).value = Some(value);
                for &c in self.layout.consumers(i) {
                    // AcqRel: the consumer must see every input's slot written.
                    if self.waiting[c as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
                        ready(c);
                    }
                }
                true
            }
            Err(failure) => {
                self.fail(failure);
                false
            }
        }
    }

    /// Records the first error; later ones are dropped, as no task starts after it.
    pub(crate) fn fail(&self, error: Error) {
        let mut first = self.error.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some(error);
        }
        self.failed.store(true, Ordering::Release);
    }

    /// The outputs in request order, or the first error.
    pub(crate) fn finish(&self) -> Result<Vec<Value>, Error> {
        let first_error = self
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(error) = first_error {
            return Err(error);
        }
        let mut values = Vec::with_capacity(self.layout.outputs.len());
        for &o in &self.layout.outputs {
            let value = self.read(o).ok_or_else(|| {
                Error::Internal(format!(
                    "output {} has no value after the run",
                    key_of(self.layout.nodes[o as usize])
                ))
            })?;
            values.push(value);
        }
        Ok(values)
    }

    fn slot(&self, i: u32) -> std::sync::MutexGuard<'_, Slot> {
        self.slots[i as usize]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// One read of node `i`'s output: the last read takes it out of the slot.
    fn read(&self, i: u32) -> Option<Value> {
        let mut slot = self.slot(i);
        slot.reads_left = slot.reads_left.saturating_sub(1);
        if slot.reads_left == 0 {
            slot.value.take()
        } else {
            slot.value.clone()
        }
    }
}

/// The values a running task reads: its dependencies' outputs, in argument order.
pub struct Inputs<'r> {
    state: &'r RunState<'r>,
    deps: &'r [u32],
    next: usize,
}

impl std::fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Inputs({} of {} read)", self.next, self.deps.len())
    }
}

impl Inputs<'_> {
    /// The next dependency's output.
    pub(crate) fn next<T: Send + Sync + 'static>(&mut self) -> Result<Arc<T>, BoxError> {
        let &dep = self
            .deps
            .get(self.next)
            .ok_or("task read more inputs than it has dependencies")?;
        self.next += 1;
        let value = self
            .state
            .read(dep)
            .ok_or("task input missing: read after its last consumer")?;
        value.downcast::<T>().map_err(|_| {
            format!(
                "task input has the wrong type: expected {}",
                std::any::type_name::<T>()
            )
            .into()
        })
    }

    /// Counts the inputs a task did not read (it failed early) as read, so their values
    /// are freed all the same.
    fn release_unread(&mut self) {
        for &dep in &self.deps[self.next..] {
            drop(self.state.read(dep));
        }
        self.next = self.deps.len();
    }
}

//! How a running task reads its dependencies' outputs. The executor's run state is
//! behind a small trait, so nodes (this layer) know nothing of the executor.

use super::node::Value;
use crate::error::BoxError;
use std::sync::Arc;

/// Where a task's inputs come from: one read of a dependency's output, the last read
/// taking it (the executor's run state implements this).
pub(crate) trait InputSource: Sync {
    /// One read of node `dep`'s output; `None` if it was already taken.
    fn read(&self, dep: u32) -> Option<Value>;
}

/// The values a running task reads: its dependencies' outputs, in argument order.
pub struct Inputs<'r> {
    source: &'r dyn InputSource,
    deps: &'r [u32],
    next: usize,
    /// With retries, what the first attempt read, served again to the next attempts.
    kept: Option<Vec<Value>>,
}

impl std::fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Inputs({} of {} read)", self.next, self.deps.len())
    }
}

impl<'r> Inputs<'r> {
    /// The inputs `deps` of one task, read from `source`; `replayable` keeps every value
    /// read, so that [`Inputs::rewind`] can serve them to a retry.
    pub(crate) fn new(source: &'r dyn InputSource, deps: &'r [u32], replayable: bool) -> Self {
        Inputs {
            source,
            deps,
            next: 0,
            kept: replayable.then(Vec::new),
        }
    }

    /// The next dependency's output.
    pub(crate) fn next<T: Send + Sync + 'static>(&mut self) -> Result<Arc<T>, BoxError> {
        let at = self.next;
        let &dep = self
            .deps
            .get(at)
            .ok_or("task read more inputs than it has dependencies")?;
        self.next += 1;
        let value = match &mut self.kept {
            Some(kept) if at < kept.len() => Arc::clone(&kept[at]),
            kept => {
                let value = self
                    .source
                    .read(dep)
                    .ok_or("task input missing: read after its last consumer")?;
                if let Some(kept) = kept {
                    kept.push(Arc::clone(&value));
                }
                value
            }
        };
        value.downcast::<T>().map_err(|_| {
            format!(
                "task input has the wrong type: expected {}",
                std::any::type_name::<T>()
            )
            .into()
        })
    }

    /// Starts the inputs again from the first, for another attempt of the task. Only
    /// inputs made `replayable` can be read twice.
    pub(crate) fn rewind(&mut self) {
        if self.kept.is_some() {
            self.next = 0;
        }
    }

    /// Counts the inputs the task did not read (it failed early) as read, so their
    /// values are freed all the same, and lets go of the kept ones. Returns what is let
    /// go of, with the node each came from, for the caller to drop where a panicking
    /// `Drop` is caught.
    pub(crate) fn release(&mut self) -> Vec<(u32, Value)> {
        let kept = self.kept.take().unwrap_or_default();
        let read = kept.len().max(self.next).min(self.deps.len());
        let mut released: Vec<(u32, Value)> = self.deps.iter().copied().zip(kept).collect();
        for &dep in &self.deps[read..] {
            released.extend(self.source.read(dep).map(|v| (dep, v)));
        }
        self.next = self.deps.len();
        released
    }
}

//! `dask::compute_iter`: results in the order they finish (Dask's `as_completed`).

use super::{Arg, Delayed, node};
use crate::{CancelToken, Error, Options};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// What the run sends the iterator: an output as it finishes, then how the run ended.
enum Message<T> {
    Finished(usize, T),
    Ended(Result<(), Error>),
}

/// Computes `parts` as one graph and yields each value as soon as its task finishes,
/// with its index in `parts` (Dask's `as_completed`): write or report results while
/// the rest still run.
///
/// The run happens on a thread of its own. If it fails, the iterator yields the error
/// once (`Err`), after the values that finished before it, and ends. Dropping the
/// iterator early cancels the run and waits for the tasks already running.
///
/// ```
/// # use dask_runtime as dask;
/// use std::time::Duration;
/// let slow = dask::delayed_value(2_u64).map(|s| { std::thread::sleep(Duration::from_millis(300)); s });
/// let fast = dask::delayed_value(1_u64);
/// let order: Vec<usize> = dask::compute_iter(vec![slow, fast])
///     .map(|r| r.unwrap().0)
///     .collect();
/// assert_eq!(order, [1, 0]);
/// ```
pub fn compute_iter<T: Clone + Send + Sync + 'static>(parts: Vec<Delayed<T>>) -> ComputeIter<T> {
    compute_iter_with(parts, Options::new())
}

/// [`compute_iter`] as `options` say (a scheduler, callbacks, a deadline, ...). A
/// cancel token in `options` is replaced by the iterator's own.
pub fn compute_iter_with<T: Clone + Send + Sync + 'static>(
    parts: Vec<Delayed<T>>,
    options: impl Into<Options>,
) -> ComputeIter<T> {
    let (tx, rx) = channel();
    let token = CancelToken::new();
    let options = options.into().cancel_on(&token);
    let remaining = parts.len();
    let sinks: Vec<Delayed<()>> = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| sink(i, part, tx.clone()))
        .collect();
    let run = std::thread::Builder::new()
        .name("dask-compute-iter".into())
        .spawn(move || {
            let refs: Vec<_> = sinks.iter().map(Delayed::node).collect();
            let outcome = if refs.is_empty() {
                Ok(())
            } else {
                crate::executor::execute(&refs, &options).map(drop)
            };
            drop(sinks);
            let _ = tx.send(Message::Ended(outcome));
        });
    let (run, failed) = match run {
        Ok(handle) => (Some(handle), None),
        Err(e) => (
            None,
            Some(Error::Scheduler(format!(
                "cannot start the run's thread: {e}"
            ))),
        ),
    };
    ComputeIter {
        rx,
        run,
        token,
        remaining,
        failed,
    }
}

/// A node that hands `part`'s value to the iterator, tagged with its index.
fn sink<T: Clone + Send + Sync + 'static>(
    index: usize,
    part: Delayed<T>,
    tx: Sender<Message<T>>,
) -> Delayed<()> {
    node(
        "yield",
        (Arg::node(part), ()),
        move |(value, ()), inputs| {
            let value = value.take(inputs)?;
            // A dropped iterator no longer listens: nothing to do.
            let _ = tx.send(Message::Finished(index, value));
            Ok(())
        },
    )
}

/// The values of a compute in finishing order: see [`compute_iter`].
pub struct ComputeIter<T> {
    rx: Receiver<Message<T>>,
    run: Option<JoinHandle<()>>,
    token: CancelToken,
    /// Values not yet yielded.
    remaining: usize,
    /// An error to yield before ending (the run's thread did not start).
    failed: Option<Error>,
}

impl<T> std::fmt::Debug for ComputeIter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ComputeIter({} to come)", self.remaining)
    }
}

impl<T> Iterator for ComputeIter<T> {
    type Item = Result<(usize, T), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            self.remaining = 0;
            return Some(Err(e));
        }
        if self.remaining == 0 {
            return None;
        }
        match self.rx.recv() {
            Ok(Message::Finished(i, value)) => {
                self.remaining -= 1;
                Some(Ok((i, value)))
            }
            Ok(Message::Ended(outcome)) => {
                self.remaining = 0;
                match outcome {
                    Err(e) => Some(Err(e)),
                    Ok(()) => Some(Err(Error::Internal(
                        "the run ended before every value was handed over".into(),
                    ))),
                }
            }
            Err(_) => {
                self.remaining = 0;
                Some(Err(Error::Internal(
                    "the run's thread ended without a word".into(),
                )))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining + usize::from(self.failed.is_some())))
    }
}

impl<T> Drop for ComputeIter<T> {
    fn drop(&mut self) {
        if self.remaining > 0 {
            self.token.cancel();
        }
        if let Some(run) = self.run.take() {
            // The run stops at once after a cancel; its running tasks finish.
            let _ = run.join();
        }
    }
}

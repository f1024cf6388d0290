//! The MPI scheduler's run: every rank lays out the same graph and computes the same
//! placement; each runs its own tasks on a pool, while the calling thread moves values
//! between ranks.
//!
//! Messages (one MPI tag, bytes): a value (`node`, its codec's bytes), a failure (the
//! error's text), and `done` ("nothing more from me in this run"). A rank sends `done`
//! once its tasks have ended and everything they made is sent, then keeps receiving
//! until every other rank's `done` has come: MPI keeps the order of messages between
//! two ranks, so nothing of this run is left behind for the next one. Sends are
//! non-blocking, and a rank receives while its sends complete, so two ranks sending
//! each other large blocks cannot wait on each other forever.

use super::placement::{EVERY_RANK, NodeTraits, block_index, place};
use super::state::{Locality, RunState};
use super::stop::{self, Stopper};
use super::{check_size, observe, pool, run_from};
use crate::graph::{Layout, NodeRef, Value, Wire, key_of};
use crate::hooks::Observed;
use crate::{Error, Options, Scheduler};
use ::mpi::topology::SimpleCommunicator;
use ::mpi::traits::*;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

/// The one tag every message of dask's carries.
const TAG: i32 = 0x6461;

const VALUE: u8 = 0;
const FAILED: u8 = 1;
const DONE: u8 = 2;

/// Runs in this process, counted alike on every rank (they compute in the same order).
static RUNS: AtomicU64 = AtomicU64::new(0);

/// One MPI run at a time in a process: MPI is initialized for serialized access.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Messages of a later run that arrived while this rank was still in an earlier one: a
/// rank that has heard every `done` starts its next compute at once and may send to a
/// rank still waiting for the last `done`. Kept in arrival order for their run (they
/// were dropped, and that run then waited forever for the values: `mpi_array_mean` on
/// 3 ranks hung in 2 of 6 runs here).
static EARLY: Mutex<Vec<(i32, Vec<u8>)>> = Mutex::new(Vec::new());

/// A message to send: its bytes and the ranks it goes to.
struct Outgoing {
    to: Vec<i32>,
    bytes: Vec<u8>,
}

/// Runs the graph of `outputs` on every rank; their values come back on every rank, or
/// with `root_only` on rank 0 only (other ranks get an empty list).
pub(crate) fn execute(
    outputs: &[&NodeRef],
    options: &Options,
    threads: usize,
    root_only: bool,
) -> Result<Vec<Value>, Error> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let world = SimpleCommunicator::world();
    let (rank, size) = (world.rank(), world.size());
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let layout = Layout::new(outputs).map_err(Error::Internal)?;
    check_size(layout.len(), options)?;
    let n = layout.len();

    let wires: Vec<Option<&'static Wire>> = layout.nodes.iter().map(|n| n.wire()).collect();
    let traits: Vec<NodeTraits> = layout
        .nodes
        .iter()
        .zip(&wires)
        .map(|(node, wire)| NodeTraits {
            crosses: wire.is_some(),
            block: wire.and_then(|_| block_index(&node.key())),
        })
        .collect();
    let outputs_to = if root_only { 0 } else { EVERY_RANK };
    let owner = place(&layout, &traits, size as u32, threads, outputs_to).owner;
    let mut is_output = vec![false; n];
    for &o in &layout.outputs {
        is_output[o as usize] = true;
    }
    // Where each value made here goes: to the ranks of its readers, and an output to
    // every rank; a task every rank runs sends nothing.
    // Checked for every task on every rank, so that all ranks agree.
    let mut dests: Vec<Vec<i32>> = vec![Vec::new(); n];
    for i in 0..n {
        let sender = owner[i];
        if sender == EVERY_RANK {
            continue;
        }
        let everyone_else = || (0..size).filter(|&r| r as u32 != sender);
        let mut to: Vec<i32> = Vec::new();
        if is_output[i] && !root_only {
            to.extend(everyone_else());
        } else if is_output[i] && sender != 0 {
            to.push(0);
        }
        for &c in layout.consumers(i as u32) {
            match owner[c as usize] {
                EVERY_RANK => to.extend(everyone_else()),
                r if r != sender => to.push(r as i32),
                _ => {}
            }
        }
        to.sort_unstable();
        to.dedup();
        if !to.is_empty() && wires[i].is_none() {
            // Placement keeps such a task beside its readers: this is a bug.
            let node = layout.node(i);
            return Err(Error::Internal(format!(
                "task `{}` ({}) was placed away from its readers, but its value cannot \
                 cross processes",
                node.name(),
                key_of(node),
            )));
        }
        if sender == rank as u32 {
            dests[i] = to;
        }
    }
    let local: Vec<bool> = owner
        .iter()
        .map(|&r| r == rank as u32 || r == EVERY_RANK)
        .collect();
    let local_tasks = local.iter().filter(|&&l| l).count();

    let (tx, rx) = mpsc::channel::<Outgoing>();
    let made = Arc::new(AtomicUsize::new(0));
    let on_made = {
        let (made, wires) = (Arc::clone(&made), wires.clone());
        move |i: u32, value: &Value| -> Result<(), Error> {
            let to = &dests[i as usize];
            if !to.is_empty() {
                let wire = wires[i as usize]
                    .ok_or_else(|| Error::Internal("a value to send has no codec".into()))?;
                let payload = (wire.encode)(value).map_err(|e| {
                    Error::Internal(format!("a value could not be encoded to send: {e}"))
                })?;
                let bytes = message(VALUE, run, i, &payload);
                // The exchange outlives every task, so the receiver is there.
                let _ = tx.send(Outgoing {
                    to: to.clone(),
                    bytes,
                });
            }
            made.fetch_add(1, Ordering::AcqRel);
            Ok(())
        }
    };

    let observed = observe(&layout, options, &Scheduler::Mpi { threads })?;
    let stopper = Stopper::new(options, n);
    let state = RunState::with_locality(
        layout,
        observed,
        stopper,
        options.retries,
        Some(Locality {
            local,
            on_made: Box::new(on_made),
            outputs_here: !root_only || rank == 0,
        }),
    );
    let pool = pool::get(threads)?;
    let mut link = Link {
        world: &world,
        rank,
        size,
        run,
        wires: &wires,
        failures: Vec::new(),
        done_from: 0,
        failed_here: false,
    };
    let state = &state;
    stop::watching_deadline(
        &state.stopper,
        |i| key_of(state.layout.node(i)),
        || {
            pool.in_place_scope(|scope| {
                for i in state.initially_ready() {
                    scope.spawn(move |s| run_from(state, i, s));
                }
                link.exchange(state, &rx, &made, local_tasks, &|i| {
                    scope.spawn(move |s| run_from(state, i, s));
                });
            });
        },
    );
    let result = Observed::finish(state.observed(), state.finish());
    // Every rank saw every failure: each returns the first rank's.
    if let Some((rank, message)) = link.failures.into_iter().min_by_key(|(r, _)| *r) {
        return Err(Error::Distributed {
            rank: rank as usize,
            message,
        });
    }
    result
}

/// The calling thread's side of a run: sends, receives, and who has said `done`.
struct Link<'a> {
    world: &'a SimpleCommunicator,
    rank: i32,
    size: i32,
    run: u64,
    wires: &'a [Option<&'static Wire>],
    /// Failures by rank, this rank's too, as their text.
    failures: Vec<(i32, String)>,
    /// How many other ranks have said `done`.
    done_from: i32,
    /// Whether this rank's own failure was sent.
    failed_here: bool,
}

impl Link<'_> {
    /// Moves values until every rank is done. `spawn` starts a local task made ready
    /// by a value from another rank.
    fn exchange(
        &mut self,
        state: &RunState<'_>,
        rx: &mpsc::Receiver<Outgoing>,
        made: &AtomicUsize,
        local_tasks: usize,
        spawn: &dyn Fn(u32),
    ) {
        let mut said_done = false;
        let mut idle = Duration::from_micros(20);
        // This run's messages that came early; a later run's stay kept.
        let mut early = Vec::new();
        {
            let mut kept = EARLY.lock().unwrap_or_else(PoisonError::into_inner);
            for (from, bytes) in std::mem::take(&mut *kept) {
                match parse(&bytes).map(|m| m.1) {
                    Some(run) if run == self.run => early.push((from, bytes)),
                    Some(run) if run > self.run => kept.push((from, bytes)),
                    _ => {}
                }
            }
        }
        for (from, bytes) in early {
            self.handle(state, from, &bytes, spawn);
        }
        loop {
            let mut busy = self.receive(state, spawn);
            let mut batch: Vec<Outgoing> = rx.try_iter().collect();
            if state.stopper.has_stopped() && !self.failed_here && !self.stopped_by_others() {
                // This rank failed: every rank hears why, before this rank's `done`.
                self.failed_here = true;
                let text = state
                    .stopper
                    .error_text()
                    .unwrap_or_else(|| "the run stopped".into());
                self.failures.push((self.rank, text.clone()));
                batch.push(Outgoing {
                    to: self.others(),
                    bytes: message(FAILED, self.run, 0, text.as_bytes()),
                });
            }
            let finished = made.load(Ordering::Acquire) == local_tasks
                || (state.stopper.has_stopped() && state.running() == 0);
            if finished && !said_done {
                // A task queues its values before it counts as made: take what was
                // queued since the batch was collected, then nothing more can come.
                batch.extend(rx.try_iter());
                said_done = true;
                batch.push(Outgoing {
                    to: self.others(),
                    bytes: message(DONE, self.run, 0, &[]),
                });
            }
            if !batch.is_empty() {
                busy = true;
                self.send(state, batch, spawn);
            }
            if said_done && self.done_from == self.size - 1 {
                return;
            }
            if busy {
                idle = Duration::from_micros(20);
            } else {
                std::thread::sleep(idle);
                idle = (idle * 2).min(Duration::from_millis(1));
            }
        }
    }

    fn others(&self) -> Vec<i32> {
        (0..self.size).filter(|&r| r != self.rank).collect()
    }

    fn stopped_by_others(&self) -> bool {
        self.failures.iter().any(|(r, _)| *r != self.rank)
    }

    /// Sends `batch`, receiving meanwhile, until every send has completed.
    fn send(&mut self, state: &RunState<'_>, batch: Vec<Outgoing>, spawn: &dyn Fn(u32)) {
        let world = self.world;
        ::mpi::request::scope(|scope| {
            let mut pending: Vec<_> = batch
                .iter()
                .flat_map(|out| out.to.iter().map(move |&r| (r, &out.bytes[..])))
                .map(|(r, bytes)| {
                    Some(
                        world
                            .process_at_rank(r)
                            .immediate_send_with_tag(scope, bytes, TAG),
                    )
                })
                .collect();
            let mut idle = Duration::from_micros(10);
            loop {
                for slot in &mut pending {
                    if let Some(request) = slot.take() {
                        *slot = request.test().err();
                    }
                }
                if pending.iter().all(Option::is_none) {
                    return;
                }
                if !self.receive(state, spawn) {
                    std::thread::sleep(idle);
                    idle = (idle * 2).min(Duration::from_millis(1));
                }
            }
        });
    }

    /// Receives every message that has arrived; whether there was one.
    fn receive(&mut self, state: &RunState<'_>, spawn: &dyn Fn(u32)) -> bool {
        let mut any = false;
        while let Some(probed) = self
            .world
            .any_process()
            .immediate_matched_probe_with_tag(TAG)
        {
            any = true;
            let from = probed.1.source_rank();
            let (bytes, _) = probed.matched_receive_vec::<u8>();
            self.handle(state, from, &bytes, spawn);
        }
        any
    }

    fn handle(&mut self, state: &RunState<'_>, from: i32, bytes: &[u8], spawn: &dyn Fn(u32)) {
        let Some((kind, run, node, payload)) = parse(bytes) else {
            state.stopper.fail(Error::Internal(format!(
                "a malformed message from rank {from}"
            )));
            return;
        };
        if run > self.run {
            EARLY
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((from, bytes.to_vec()));
            return;
        }
        if run < self.run {
            // A late message of an earlier, failed run: nobody waits for it.
            return;
        }
        match kind {
            VALUE if !state.stopper.has_stopped() => {
                let decoded = self
                    .wires
                    .get(node as usize)
                    .copied()
                    .flatten()
                    .ok_or_else(|| format!("rank {from} sent a value this rank cannot read").into())
                    .and_then(|wire| (wire.decode)(payload));
                match decoded {
                    Ok(value) => state.deliver(node, value, spawn),
                    Err(e) => state
                        .stopper
                        .fail(Error::Internal(format!("a value from rank {from}: {e}"))),
                }
            }
            VALUE => {} // the run has stopped: not needed
            FAILED => {
                let text = String::from_utf8_lossy(payload).into_owned();
                state.stopper.fail(Error::Distributed {
                    rank: from as usize,
                    message: text.clone(),
                });
                self.failures.push((from, text));
            }
            DONE => self.done_from += 1,
            _ => state.stopper.fail(Error::Internal(format!(
                "an unknown message from rank {from}"
            ))),
        }
    }
}

/// A message's bytes: kind, run, node, payload.
fn message(kind: u8, run: u64, node: u32, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(13 + payload.len());
    bytes.push(kind);
    bytes.extend_from_slice(&run.to_le_bytes());
    bytes.extend_from_slice(&node.to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn parse(bytes: &[u8]) -> Option<(u8, u64, u32, &[u8])> {
    let (&kind, rest) = bytes.split_first()?;
    let (run, rest) = rest.split_first_chunk::<8>()?;
    let (node, payload) = rest.split_first_chunk::<4>()?;
    Some((
        kind,
        u64::from_le_bytes(*run),
        u32::from_le_bytes(*node),
        payload,
    ))
}

//! A node's output, handed to its readers without a lock.
//!
//! A run has a slot per node, ten million of them in a big graph, each written once
//! and read once per consumer. With a mutex each, every store was a locked
//! read-modify-write on a line not yet in cache (a quarter of a ten-million-task
//! fan-in's time went to taking those locks), and each slot took 32 bytes plus its
//! waiting count. Instead the producer stores the value with one strong reference per
//! read to come, and each read takes one of them: readers never write the slot, so
//! they need no lock, and the last reader holds the value alone (a block it reads can
//! be reused in place), as before.
//!
//! The slot keeps the value's data pointer only, not the `Arc<dyn Any>`'s type half:
//! whoever reads it knows the type (the node that made it does) and rebuilds the handle.
//! A slot is 16 bytes, its waiting count included.

use super::sync::{AtomicU32, UnsafeCell};
use crate::graph::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Turns a data pointer a slot kept back into a value handle, taking the strong
/// reference it owns. Must rebuild the type that was stored.
pub(crate) type Rebuild<'a> = &'a dyn Fn(*const ()) -> Value;

pub(crate) struct Slot {
    /// The value's data pointer once stored (null before), holding `reads_left`
    /// strong references.
    value: UnsafeCell<*const ()>,
    /// Reads still to come, each owning one reference of the value.
    reads_left: AtomicU32,
    /// Dependencies not yet finished: the node is ready at zero.
    pub(crate) waiting: AtomicU32,
}

// SAFETY: the pointer is to an `Arc`'s value of a `Send + Sync` type. It is written
// only by `store` and `take_unread`, whose callers promise that nothing else touches
// the slot meanwhile, and is otherwise only read (see `read`).
#[allow(unsafe_code)]
unsafe impl Sync for Slot {}
// SAFETY: as above; the references it holds are to `Send + Sync` values.
#[allow(unsafe_code)]
unsafe impl Send for Slot {}

impl Slot {
    /// A slot whose value will be read `reads` times, for a node with `waiting`
    /// dependencies.
    pub(crate) fn new(reads: u32, waiting: u32) -> Slot {
        Slot {
            value: UnsafeCell::new(std::ptr::null()),
            reads_left: AtomicU32::new(reads),
            waiting: AtomicU32::new(waiting),
        }
    }

    /// Counts `n` more reads of the value to come (while the run is being set up).
    pub(crate) fn add_reads(&mut self, n: u32) {
        #[cfg(not(loom))]
        {
            *self.reads_left.get_mut() += n;
        }
        #[cfg(loom)]
        self.reads_left.with_mut(|reads| *reads += n);
    }

    /// Whether reads are still to come (a cheap look before [`Slot::take_unread`]).
    pub(crate) fn has_unread(&self) -> bool {
        self.reads_left.load(Ordering::Relaxed) > 0
    }

    /// Stores the node's value for its readers; gives it back if there are none.
    ///
    /// # Safety
    ///
    /// Called at most once, before any [`Slot::read`] of this slot can start (the
    /// readers are made ready only after it returns, through `waiting`), and never
    /// beside [`Slot::take_unread`]. The readers' `rebuild` rebuilds `value`'s type.
    #[allow(unsafe_code)] // The value's references are counted by hand (see the module).
    pub(crate) unsafe fn store(&self, value: Value) -> Option<Value> {
        // Relaxed: nothing reads or changes the count before the value is stored.
        let reads = self.reads_left.load(Ordering::Relaxed);
        if reads == 0 {
            return Some(value);
        }
        let raw = Arc::as_ptr(&value);
        for _ in 1..reads {
            // SAFETY: `raw` comes from `value`, alive here.
            unsafe { Arc::increment_strong_count(raw) };
        }
        let data = Arc::into_raw(value).cast::<()>();
        // SAFETY: the caller promises no other access to the slot meanwhile.
        self.value.with_mut(|cell| unsafe { *cell = data });
        None
    }

    /// One read of the value: the reader's own reference, rebuilt by `rebuild`; `None`
    /// once every read was taken (or nothing was stored).
    ///
    /// # Safety
    ///
    /// The value's [`Slot::store`] happened before this read (the executor runs a
    /// consumer only after its inputs' stores), no [`Slot::take_unread`] runs beside
    /// it, and `rebuild` rebuilds the type stored.
    #[allow(unsafe_code)] // The value's references are counted by hand (see the module).
    pub(crate) unsafe fn read(&self, rebuild: Rebuild<'_>) -> Option<Value> {
        // Claim one reference. AcqRel on a chain of updates: the last reader's claim
        // comes after every other reader's, so it holds the value alone once they let
        // their references go. Never below zero: a read too many claims nothing.
        self.reads_left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .ok()?;
        // SAFETY: the value was stored before (caller) and is not written again while
        // reads are left; the claimed reference is this reader's to own.
        let data = self.value.with(|cell| unsafe { *cell });
        (!data.is_null()).then(|| rebuild(data))
    }

    /// Hands `drop` the references no reader took (a run that stopped halfway), each
    /// rebuilt by `rebuild`, and empties the slot.
    ///
    /// # Safety
    ///
    /// Nothing else uses the slot meanwhile (every task of the run has ended), and
    /// `rebuild` rebuilds the type stored.
    #[allow(unsafe_code)] // The value's references are counted by hand (see the module).
    pub(crate) unsafe fn take_unread(&self, rebuild: Rebuild<'_>, mut drop: impl FnMut(Value)) {
        let left = self.reads_left.swap(0, Ordering::AcqRel);
        // SAFETY: exclusive (caller); the slot holds `left` references of its value.
        let data = self
            .value
            .with_mut(|cell| unsafe { std::mem::replace(&mut *cell, std::ptr::null()) });
        if !data.is_null() {
            for _ in 0..left {
                drop(rebuild(data));
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its drops (the run state's tests use it too).
    pub(crate) struct Counted(pub(crate) Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Rebuilds the handles of the tests' slots, which hold `Counted` values.
    #[allow(unsafe_code)] // Each slot here stores a `Counted`.
    fn counted(raw: *const ()) -> Value {
        unsafe { Arc::from_raw(raw.cast::<Counted>()) }
    }

    /// Empties a slot as the run state does when a run ends.
    #[allow(unsafe_code)] // Nothing else uses the slot; it holds a `Counted`.
    fn drain(slot: Slot) {
        unsafe { slot.take_unread(&counted, drop) };
    }

    /// A slot for `reads` reads holding a counted value (`None`), or the value given
    /// back when no read is to come.
    #[allow(unsafe_code)] // The slot's contract, kept by hand: stored before any read.
    fn stored(reads: u32, drops: &Arc<AtomicUsize>) -> (Slot, Option<Value>) {
        let slot = Slot::new(reads, 0);
        let back = unsafe { slot.store(Arc::new(Counted(Arc::clone(drops)))) };
        (slot, back)
    }

    #[test]
    fn a_slot_is_two_words() {
        assert_eq!(std::mem::size_of::<Slot>(), 16);
    }

    #[test]
    #[allow(unsafe_code)] // The slot's contract, kept by hand: store, then reads.
    fn each_read_owns_a_reference_and_the_last_holds_the_value_alone() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (slot, back) = stored(3, &drops);
        assert!(back.is_none());
        let (first, second) = std::thread::scope(|s| {
            let a = s.spawn(|| unsafe { slot.read(&counted) }.unwrap());
            let b = s.spawn(|| unsafe { slot.read(&counted) }.unwrap());
            (a.join().unwrap(), b.join().unwrap())
        });
        assert!(Arc::ptr_eq(&first, &second));
        drop((first, second));
        assert_eq!(drops.load(Ordering::SeqCst), 0, "one read is still to come");
        let last = unsafe { slot.read(&counted) }.unwrap();
        assert_eq!(Arc::strong_count(&last), 1);
        assert!(
            unsafe { slot.read(&counted) }.is_none(),
            "a read too many gets nothing"
        );
        drop(last);
        drain(slot);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    #[allow(unsafe_code)] // The slot's contract, kept by hand: store, then reads.
    fn unread_references_are_handed_back_once_and_an_unread_value_at_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (slot, back) = stored(4, &drops);
        assert!(back.is_none());
        let read = unsafe { slot.read(&counted) }.unwrap();
        let mut handed = Vec::new();
        unsafe { slot.take_unread(&counted, |v| handed.push(v)) };
        assert_eq!(handed.len(), 3);
        assert_eq!(Arc::strong_count(&read), 4);
        drop((read, handed));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        // Nothing left to drain, and a read finds nothing.
        assert!(unsafe { slot.read(&counted) }.is_none());
        drain(slot);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        // Drained with reads left (a run that never got to them): freed once.
        let (slot, back) = stored(2, &drops);
        assert!(back.is_none());
        drain(slot);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        // A value nobody reads is given back to the caller.
        let (_slot, back) = stored(0, &drops);
        assert!(back.is_some());
        drop(back);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }
}

//! The synchronisation the run state counts on, swapped for loom's model-checked
//! versions under `--cfg loom` (as tokio does), so every interleaving of a small run's
//! ready counting and value hand-off can be explored.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

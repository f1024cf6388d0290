//! Seeing the work: a progress bar and a profiler built on the run [hooks](Callback)
//! (Dask's `dask.diagnostics`), and pictures of graphs in graphviz's DOT language.
//!
//! ```
//! # use dask_runtime as dask;
//! use dask::diagnostics::{Profiler, ProgressBar};
//!
//! let profiler = Profiler::new();
//! let _profiling = profiler.register();          // every compute in this scope
//! let _bar = ProgressBar::new().register();      // silent when stderr is not a terminal
//! let x = dask::delayed_value(2_i64).map(|v| v * 21);
//! assert_eq!(x.compute().unwrap(), 42);
//! assert_eq!(profiler.tasks(), 2);
//! assert!(profiler.chrome_trace().contains("\"ph\":\"X\""));
//! ```
//!
//! The top layer of the runtime: everything here uses only the hooks and the graph
//! walk, and nothing below imports it.

mod dot;
mod profile;
mod progress;
#[cfg(test)]
mod test;

pub use crate::hooks::{
    Callback, CallbackGuard, RunId, RunInfo, TaskEvent, TaskInfo, TaskKey, register,
};
pub use dot::{Collapse, Coloring, DotOptions, RankDir};
pub use profile::Profiler;
pub use progress::ProgressBar;

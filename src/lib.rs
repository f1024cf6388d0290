//! # dask for Rust
//!
//! Parallel task graphs: `#[delayed]` turns function calls into a graph, `compute` runs
//! the graph on every core, and a task costs nanoseconds of bookkeeping.
//!
//! ```
//! use dask::prelude::*;
//!
//! #[delayed]
//! fn inc(x: i64) -> i64 { x + 1 }
//!
//! #[delayed]
//! fn add(x: i64, y: i64) -> i64 { x + y }
//!
//! let z = add(inc(1), inc(2));   // a graph of three tasks; nothing has run
//! assert_eq!(z.compute()?, 5);   // inc(1) and inc(2) ran at once
//! # Ok::<(), dask::Error>(())
//! ```
//!
//! This crate is the facade users depend on: it re-exports the runtime
//! (`dask-runtime`) and the macros (`dask-macros`).
#![deny(missing_docs, missing_debug_implementations)]

pub use dask_runtime::{
    BoxError, Computable, Delayed, Error, IntoArg, Plan, Scheduler, compute, compute_with,
    delayed_value, plan,
};

/// Turns a function into a lazy task constructor: calling it builds a node of a task
/// graph and returns a [`Delayed`] of its result; nothing runs until `compute`.
///
/// ```
/// use dask::prelude::*;
///
/// /// Adds one.
/// #[delayed]
/// pub fn inc(x: i64) -> i64 { x + 1 }
///
/// let a = inc(1);                // Delayed<i64>
/// let b = inc(a.clone());        // a parameter `T` takes a `T` or a `Delayed<T>`
/// assert_eq!(b.compute()?, 3);
/// assert_eq!(inc::eager(41), 42); // the body, run now, without a graph
/// # Ok::<(), dask::Error>(())
/// ```
///
/// # What it accepts
///
/// - A free function, sync, generic or not, with any visibility; its docs and attributes
///   are kept on the lazy constructor.
/// - A parameter `x: T` takes anything that is [`IntoArg<T>`]: a plain `T`, a
///   `Delayed<T>` or `&Delayed<T>`; a `Vec<T>` parameter also takes a `Vec<Delayed<T>>`
///   (Dask's `delayed(sum)(list_of_delayed)`). A parameter `x: &T` takes the same as a
///   `T::Owned` and the task borrows the value: no copy of a shared input.
/// - `T` needs `Clone + Send + Sync + 'static` (a plain value is cloned each run; a
///   node's output is moved to its last reader and cloned for the others; wrap a big
///   value in `Arc` or take it by `&T` to share it instead).
/// - A function returning `Result<R, E>` (or an alias such as `io::Result<R>`) gives a
///   `Delayed<R>`; an `Err` fails the compute with [`Error::TaskFailed`] naming the
///   task, with `E` kept as the error's source.
/// - For a generic function, a `Delayed` argument leaves the type parameter ambiguous
///   (`T` could be `i64` or `Delayed<i64>`): name it, `ident::<i64>(x)`.
///
/// Not supported, each a compile error on the offending token: methods taking `self`,
/// `async`/`const`/`unsafe`/`extern` functions, `impl Trait` in parameters or the return
/// type, patterns as parameters, `&mut` parameters. The macro also defines a hidden
/// braced struct of the function's name (type namespace only) holding the eager body
/// as `NAME::eager`, so it cannot be used inside an `impl` block.
///
/// # Equivalent code without the macro
///
/// `#[delayed] pub fn add(x: i64, y: &str) -> i64 { ... }` expands to this (the
/// `__private` items are the macro's plumbing, not public API):
///
/// ```
/// # use dask::{Delayed, IntoArg};
/// #[doc(hidden)]
/// #[allow(non_camel_case_types, dead_code)]
/// pub struct add {}              // a braced struct: type namespace only, no clash
///
/// impl add {
///     /// The original body, callable as `add::eager(1, "2")`.
///     pub fn eager(x: i64, y: &str) -> i64 { x + y.len() as i64 }
/// }
///
/// pub fn add(x: impl IntoArg<i64>, y: impl IntoArg<String>) -> Delayed<i64> {
///     dask::__private::node(
///         "add",                                            // the task's name
///         (x.into_arg(), (y.into_arg(), ())),               // plain values or nodes
///         |(x, (y, ())), inputs: &mut dask::__private::Inputs<'_>| {
///             let x = x.take(inputs)?;                      // moved or cloned
///             let y = y.borrow(inputs)?;                    // borrowed, no copy
///             Ok(add::eager(x, std::borrow::Borrow::borrow(&*y)))
///         },
///     )
/// }
/// assert_eq!(add(1, "22").compute().unwrap(), 3);
/// ```
#[doc(inline)]
pub use dask_macros::delayed;

/// Builds a plan whose graph is worked out at compile time. See the README.
#[doc(inline)]
pub use dask_macros::graph;

/// Everything a user of dask needs in scope: `use dask::prelude::*;`.
pub mod prelude {
    pub use crate::{Delayed, Error, Plan, Scheduler, compute, delayed, graph};
}

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// What macro-generated code calls. Not public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use dask_runtime::plumbing::*;
}

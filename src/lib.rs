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
    BoxError, CancelToken, Computable, ComputeIter, DEFAULT_MAX_TASKS, Delayed, Distributable,
    Error, IntoArg, MAX_CACHED_POOLS, MAX_WORKERS, Options, PanicPayload, Plan, Scheduler, Task,
    array, compute, compute_iter, compute_iter_with, compute_with, compute_with_callbacks,
    delayed_value, diagnostics, is_cancelled, plan,
};

#[cfg(feature = "mpi")]
pub use dask_runtime::mpi;

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
///   node's output is moved to its last reader and cloned for the others). A `&T`
///   parameter reads the value in place; a big value that is not `Clone` goes in an
///   `Arc`.
/// - `#[delayed(pure)]` knows a call by the function and a hash of its arguments (they
///   must be `Hash`): the same call built twice is one task (Dask's `pure=True`).
///
/// ```
/// use dask::prelude::*;
///
/// #[delayed(pure)]
/// fn load(path: String) -> usize { path.len() }
///
/// assert_eq!(load("a.csv".to_owned()).key(), load("a.csv".to_owned()).key());
/// ```
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

/// Builds a plan whose graph is worked out while the program compiles.
///
/// The block is a sequence of `let` bindings and a final output. The macro finds each
/// binding's dependencies and writes one typed local per node and nested joins for the
/// nodes that can run at once: at run time nothing is hashed, boxed or walked. Nothing
/// runs until `compute`; a plan can be computed any number of times.
///
/// ```
/// use dask::prelude::*;
///
/// #[delayed]
/// fn inc(x: i64) -> i64 { x + 1 }
/// #[delayed]
/// fn add(x: i64, y: i64) -> i64 { x + y }
/// #[delayed]
/// fn total(xs: Vec<i64>) -> i64 { xs.iter().sum() }
///
/// let plan = graph! {
///     let x = inc(1);        // x and y do not depend on each other:
///     let y = inc(2);        // they run at once
///     add(x, y)              // the output
/// };
/// assert_eq!(plan.compute()?, 5);
/// assert_eq!(plan.node_names(), ["x", "y", "output"]);
/// assert_eq!(plan.critical_path_len(), 2);
///
/// // With inputs: written once, run with different values; no graph is built per run.
/// let sums = graph!(|n: i64, offset: i64| {
///     let ys = for i in 0..n { inc(i) };   // a list: one task an item
///     let s = total(ys);
///     s + offset                           // any expression is a node too
/// });
/// assert_eq!(sums.compute((3, 100))?, 106);
/// # Ok::<(), dask::Error>(())
/// ```
///
/// # The block
///
/// - `let name = f(args);` with `f` a lowercase path (`inc`, `tasks::inc`,
///   `ident::<i64>`) calls the `#[delayed]` function's body as a task. To call an
///   ordinary function, wrap it in a block: `let m = { largest(a, b) };`.
/// - `let name = for x in items { f(x) };` runs one task an item, in parallel, and
///   binds the `Vec` of results; errors name the item (`ys[3]`).
/// - Any other expression (`a + b`, `x.len()`, `Some(x)`, `format!(..)`) is a node
///   evaluated as written; `?` works on any error (`let d = dynamic.compute()?;`
///   reads a `Delayed` inside a plan).
/// - Bindings follow Rust's `let` rules: a name is visible after its `let`, shadowing
///   works, a binding nobody reads still runs and gets rustc's `unused variable`
///   warning (silence it with `_name`).
/// - A binding read by one node is moved into it; read by several, it is cloned for
///   each, except `&name` arguments of task calls, which borrow it (no copy).
/// - Variables from the surrounding scope are captured like a `move` closure's; passed
///   whole to a task they are cloned each run.
/// - The output is a name, an expression, or a tuple of them.
///
/// Node values need `Send + Sync` (checked on the binding). Tasks that panic or return
/// `Err` fail the compute with an error naming the binding (its key, `x` or `x#2`
/// after shadowing). Mistakes in the block are compile errors on the offending token.
///
/// Any DAG works. A series-parallel one compiles to nested forks; one that is not
/// (`c` reads `a` and `b`, `d` reads only `b`) compiles to a table: a slot a node and a
/// driver that starts each node as soon as its dependencies are done, so no node waits
/// needlessly (there, a value a node takes by value is cloned out of its slot, so it
/// needs `Clone`). [`PlanInfo::exact`](crate::plan::PlanInfo::exact) says which.
///
/// # Equivalent code without the macro
///
/// The first plan above expands to this (`__private` is the macro's plumbing):
///
/// ```
/// # use dask::prelude::*;
/// # #[delayed] fn inc(x: i64) -> i64 { x + 1 }
/// # #[delayed] fn add(x: i64, y: i64) -> i64 { x + y }
/// use dask::__private::{BlockPlan, PlanInfo, Runner, Stop};
/// use std::sync::OnceLock;
///
/// static INFO: PlanInfo = PlanInfo {
///     names: &["x", "y", "output"],
///     functions: &["inc", "inc", "add"],
///     dependencies: &[&[], &[], &[0, 1]],
///     inputs: &[],
///     outputs: &[2],
///     critical_path_len: 2,
///     exact: true,
///     dot: "digraph plan { ... }",
/// };
/// let plan = BlockPlan::new(&INFO, move |runner: &Runner| -> Result<_, Stop> {
///     // x and y at once: a fork's branches are the arms of one closure, each writing
///     // the values later steps read to a slot
///     let (x, y) = (OnceLock::new(), OnceLock::new());
///     runner.join_each(2, &|branch| {
///         let (slot, key, arg) = if branch == 0 { (&x, "x", 1) } else { (&y, "y", 2) };
///         // a task's body is a `dyn FnMut` that keeps its value and returns its error
///         let mut value = None;
///         runner.task_dyn(branch, "inc", key, &mut || {
///             value = Some(inc::__dask_task(arg)?);
///             Ok(())
///         })?;
///         let _ = slot.set(value);
///         Ok(())
///     });
///     let (Some(Some(x)), Some(Some(y))) = (x.into_inner(), y.into_inner()) else {
///         return Err(Stop);
///     };
///     let mut output = None;
///     runner.task_dyn(2, "add", "output", &mut || {
///         output = Some(add::__dask_task(x, y)?);
///         Ok(())
///     })?;
///     output.ok_or(Stop)
/// });
/// assert_eq!(plan.compute()?, 5);
/// # Ok::<(), dask::Error>(())
/// ```
#[doc(inline)]
pub use dask_macros::graph;

/// Everything a user of dask needs in scope: `use dask::prelude::*;`.
pub mod prelude {
    pub use crate::{
        CancelToken, Delayed, Error, Options, Plan, Scheduler, compute, delayed, graph,
    };
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

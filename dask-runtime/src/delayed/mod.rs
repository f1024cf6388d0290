//! `Delayed<T>`: a lazy value, the handle of one task node in a graph.

mod arg;
mod collection;
mod ops;
mod pure;
mod stream;
#[cfg(test)]
mod test;

pub use arg::{Arg, ArgRef, BorrowedParam, IntoArg};
#[cfg(feature = "mpi")]
pub(crate) use collection::compute_by;
pub(crate) use collection::{Batch, BatchPart, Outputs};
pub use collection::{Computable, compute, compute_with, compute_with_callbacks};
pub use pure::{PureArg, PureArgs, pure_node};
pub use stream::{ComputeIter, compute_iter, compute_iter_with};

use crate::executor;
use crate::graph::{Args, Inputs, NodeRef, key_of, new_node};
use crate::{BoxError, Error, Options, Scheduler};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// A value that will be computed: the handle of a task node in a graph.
///
/// Calling a `#[delayed]` function, an operator on `Delayed`s, [`Delayed::map`] or
/// [`delayed_value`] builds a node and runs nothing; [`Delayed::compute`] runs the node
/// and everything it depends on, in parallel, and returns its value. A handle is cheap
/// to clone (a pointer copy) and can be computed again (it recomputes).
///
/// # Examples
///
/// ```
/// # use dask_runtime as dask;
/// use dask::delayed_value;
///
/// let x = delayed_value(1_i64);
/// let y = x.map(|v| v + 1);          // nothing has run yet
/// let z = &x + &y;                     // a node reading both
/// assert_eq!(z.compute().unwrap(), 3);
/// assert!(z.key().starts_with("add-"));
/// ```
#[must_use = "a Delayed does nothing until it is computed"]
pub struct Delayed<T> {
    node: NodeRef,
    output: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed {
            node: Arc::clone(&self.node),
            output: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delayed({})", key_of(&*self.node))
    }
}

impl<T> Delayed<T> {
    pub(crate) fn from_node(node: NodeRef) -> Self {
        Delayed {
            node,
            output: PhantomData,
        }
    }

    pub(crate) fn node(&self) -> &NodeRef {
        &self.node
    }

    pub(crate) fn into_node(self) -> NodeRef {
        self.node
    }

    /// The task's unique key: its function's name and a token, like Dask's
    /// (`inc-9e3779b97f4a7c15`). Error messages name tasks by it.
    pub fn key(&self) -> String {
        key_of(&*self.node)
    }

    /// The name of the function the task runs (`inc`, `add`, `map`, `list`, `value`).
    pub fn name(&self) -> &'static str {
        self.node.name()
    }

    /// The tasks this one reads, once for each time it reads them, in argument order:
    /// handles to look at (key, name, their own dependencies), which cannot be computed
    /// as a value of the wrong type.
    pub fn dependencies(&self) -> Vec<Task> {
        Task {
            node: Arc::clone(&self.node),
        }
        .dependencies()
    }

    /// This value's task, type erased (to walk a graph).
    pub fn task(&self) -> Task {
        Task {
            node: Arc::clone(&self.node),
        }
    }

    /// Names the task: errors, pictures, progress bars and profiles show `label` as its
    /// key (Dask's `dask_key_name=`). For a task over a file, name the file, and the
    /// error of a bad one says which.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let path = "data/07.csv";
    /// let rows = dask::delayed_value(path.to_owned())
    ///     .try_map(|p| std::fs::read_to_string(p))
    ///     .named(format!("read {path}"));
    /// assert_eq!(rows.key(), "read data/07.csv");
    /// let err = rows.compute().unwrap_err();
    /// assert!(err.to_string().contains("(read data/07.csv)"), "{err}");
    /// ```
    ///
    /// The name belongs to the task: every handle to it sees it, and a second `named`
    /// replaces the first.
    pub fn named(self, label: impl fmt::Display) -> Self {
        crate::graph::set_label(&self.node, label.to_string());
        self
    }
}

/// A task of a graph, type erased: what [`Delayed::dependencies`] hands out.
#[derive(Clone)]
pub struct Task {
    node: NodeRef,
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task({})", key_of(&*self.node))
    }
}

impl Task {
    /// The task's key (see [`Delayed::key`]).
    pub fn key(&self) -> String {
        key_of(&*self.node)
    }

    /// The name of the function the task runs.
    pub fn name(&self) -> &'static str {
        self.node.name()
    }

    /// The tasks this one reads, once for each time it reads them, in argument order.
    pub fn dependencies(&self) -> Vec<Task> {
        let mut deps = Vec::new();
        self.node.visit_deps(&mut |dep| {
            deps.push(Task {
                node: Arc::clone(dep),
            })
        });
        deps
    }
}

impl<T: Send + Sync + 'static> Delayed<T> {
    /// Runs the graph behind this value on the default scheduler
    /// ([`Scheduler::from_env`]) and returns the value.
    ///
    /// # Errors
    ///
    /// [`Error::TaskFailed`] or [`Error::TaskPanicked`] naming the first task that failed
    /// (no new task starts after it; running ones finish); [`Error::Scheduler`] if
    /// `DASK_SCHEDULER` is malformed.
    pub fn compute(&self) -> Result<T, Error> {
        self.compute_with(Scheduler::from_env()?)
    }

    /// Runs the graph as `options` say: a [`Scheduler`], or [`Options`] with
    /// callbacks, a [`CancelToken`](crate::CancelToken), a deadline or retries.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::{Options, Scheduler, delayed_value};
    /// use std::time::Duration;
    ///
    /// let x = delayed_value(2.0_f64).map(f64::sqrt);
    /// assert_eq!(x.compute_with(Scheduler::Sync).unwrap(), 2.0_f64.sqrt());
    /// let options = Options::new().deadline(Duration::from_secs(10));
    /// assert_eq!(x.compute_with(options).unwrap(), 2.0_f64.sqrt());
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Delayed::compute`]; [`Error::Scheduler`] for `Threads(0)` or more than
    /// [`MAX_WORKERS`](crate::MAX_WORKERS) workers; [`Error::Callback`] if a callback
    /// panicked; [`Error::Cancelled`] and [`Error::DeadlineExceeded`];
    /// [`Error::TooManyTasks`] above the task ceiling.
    pub fn compute_with(&self, options: impl Into<Options>) -> Result<T, Error> {
        let mut values = executor::execute(&[&self.node], &options.into())?;
        let value = values
            .pop()
            .ok_or_else(|| Error::Internal("no output value".into()))?;
        collection::unshare::<T>(value, &self.node)
    }

    /// Runs the graph on `scheduler` with `callbacks` (besides any registered ones):
    /// Dask's `compute(callbacks=[...])`. A thin alias of
    /// `compute_with(Options::from(scheduler).callbacks(callbacks))`.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::{Scheduler, delayed_value, diagnostics::Profiler};
    /// use std::sync::Arc;
    /// let profiler = Profiler::new();
    /// let x = delayed_value(1).map(|v| v + 1);
    /// x.compute_with_callbacks(Scheduler::Sync, &[Arc::new(profiler.clone())]).unwrap();
    /// assert_eq!(profiler.tasks(), 2);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Delayed::compute_with`].
    pub fn compute_with_callbacks(
        &self,
        scheduler: Scheduler,
        callbacks: &[Arc<dyn crate::hooks::Callback>],
    ) -> Result<T, Error> {
        self.compute_with(Options::from(scheduler).callbacks(callbacks))
    }

    /// A node that applies `f` to this value: Dask's `delayed(f)(x)` for a closure.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::delayed_value;
    /// let words = delayed_value(String::from("a b c")).map(|s| s.split(' ').count());
    /// assert_eq!(words.compute().unwrap(), 3);
    /// ```
    pub fn map<U, F>(&self, f: F) -> Delayed<U>
    where
        T: Clone,
        U: Send + Sync + 'static,
        F: Fn(T) -> U + Send + Sync + 'static,
    {
        node(
            "map",
            (Arg::node(self.clone()), ()),
            move |(x, ()), inputs| Ok(f(x.take(inputs)?)),
        )
    }

    /// A node that applies a fallible `f`: an `Err` fails the compute with
    /// [`Error::TaskFailed`], keeping the error as its source.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::delayed_value;
    /// let n = delayed_value(String::from("x1")).try_map(|s| s.parse::<i64>());
    /// let err = n.compute().unwrap_err();
    /// assert!(format!("{err:#}").contains("invalid digit"), "{err}");
    /// ```
    pub fn try_map<U, E, F>(&self, f: F) -> Delayed<U>
    where
        T: Clone,
        U: Send + Sync + 'static,
        E: Into<crate::BoxError>,
        F: Fn(T) -> Result<U, E> + Send + Sync + 'static,
    {
        node(
            "map",
            (Arg::node(self.clone()), ()),
            move |(x, ()), inputs| f(x.take(inputs)?).map_err(Into::into),
        )
    }
}

/// Builds a node that runs `task` on the values of `args`: the one constructor every
/// `#[delayed]` function, operator and `map` goes through.
pub fn node<A, F, R>(name: &'static str, args: A, task: F) -> Delayed<R>
where
    A: Args,
    F: Fn(&A, &mut Inputs<'_>) -> Result<R, BoxError> + Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    Delayed::from_node(new_node(name, args, task))
}

/// [`node`] whose output can cross to another process (`#[delayed(distributed)]`): its
/// node carries serde's codec, so the MPI scheduler may run it on any rank.
#[doc(hidden)]
pub fn distributed_node<A, F, R>(name: &'static str, args: A, task: F) -> Delayed<R>
where
    A: Args,
    F: Fn(&A, &mut Inputs<'_>) -> Result<R, BoxError> + Send + Sync + 'static,
    R: crate::graph::Distributable,
{
    Delayed::from_node(crate::graph::wired_node(
        name,
        (),
        crate::graph::Serde,
        args,
        task,
    ))
}

/// Wraps a plain value as a node, Dask's `delayed(value)`. The value is cloned each time
/// the graph runs.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::delayed_value;
/// let data = delayed_value(vec![1, 2, 3]);
/// assert_eq!(data.map(|v| v.iter().sum::<i32>()).compute().unwrap(), 6);
/// ```
pub fn delayed_value<T: Clone + Send + Sync + 'static>(value: T) -> Delayed<T> {
    node("value", (), move |(), _| Ok(value.clone()))
}

// `unpack`: a task returning a tuple as one lazy value per field (Dask's `nout`).
macro_rules! unpack {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Clone + Send + Sync + 'static),+> Delayed<($($t,)+)> {
            /// One lazy value per field of the tuple this task returns (Dask's `nout`):
            /// each reads the field, cloning it and not the whole tuple, and the task
            /// runs once whatever number of fields are used.
            ///
            /// ```
            /// # use dask_runtime as dask;
            /// let pair = dask::delayed_value(17_i64).map(|n| (n / 5, n % 5));
            /// let (q, r) = pair.unpack();
            /// assert_eq!(dask::compute((q, r)).unwrap(), (3, 2));
            /// ```
            pub fn unpack(&self) -> ($(Delayed<$t>,)+) {
                ($(
                    node(
                        "getitem",
                        (Arg::node(self.clone()), ()),
                        |(tuple, ()), inputs| Ok(tuple.borrow(inputs)?.$i.clone()),
                    ),
                )+)
            }
        }
    };
}

unpack!(A 0, B 1);
unpack!(A 0, B 1, C 2);
unpack!(A 0, B 1, C 2, D 3);
unpack!(A 0, B 1, C 2, D 3, E 4);
unpack!(A 0, B 1, C 2, D 3, E 4, F 5);
unpack!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
unpack!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

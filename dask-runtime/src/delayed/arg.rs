//! Arguments of a task: a plain value kept in the node, or another node's output.

use super::{Delayed, node};
use crate::error::BoxError;
use crate::graph::{Args, Inputs, NodeRef, key_of};
use std::ops::Deref;
use std::sync::Arc;

/// One argument of a task node, as built by [`IntoArg::into_arg`].
pub struct Arg<T>(Source<T>);

enum Source<T> {
    /// A plain value, cloned each time the task runs (a graph can be computed again).
    Value(T),
    /// Another node's output; [`unhooked`] once the node is being dropped. (Not an
    /// `Option`: the handle's own niche then tells the two variants apart, and an
    /// `Arg<u64>` takes 16 bytes instead of 24.)
    Node(NodeRef),
}

/// What a node being dropped holds in place of each dependency it gave up: one shared
/// node that is never run.
fn unhooked() -> &'static NodeRef {
    static UNHOOKED: std::sync::LazyLock<NodeRef> = std::sync::LazyLock::new(|| {
        crate::graph::new_node("dropped", (), |(), _| -> Result<(), BoxError> {
            Err("internal: a dropped node's dependency ran".into())
        })
    });
    &UNHOOKED
}

fn is_unhooked(node: &NodeRef) -> bool {
    Arc::ptr_eq(node, unhooked())
}

impl<T> std::fmt::Debug for Arg<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::Value(_) => f.write_str("Arg::Value"),
            Source::Node(n) if is_unhooked(n) => f.write_str("Arg::Node(<dropped>)"),
            Source::Node(n) => write!(f, "Arg::Node({})", key_of(&**n)),
        }
    }
}

impl<T: Send + Sync + 'static> Arg<T> {
    /// An argument that is the output of `node`.
    pub fn node(node: Delayed<T>) -> Self {
        Arg(Source::Node(node.into_node()))
    }

    /// An argument that is a plain value.
    pub fn value(value: T) -> Self {
        Arg(Source::Value(value))
    }

    pub(crate) fn visit_dep<'a>(&'a self, f: &mut dyn FnMut(&'a NodeRef)) {
        if let Source::Node(n) = &self.0
            && !is_unhooked(n)
        {
            f(n);
        }
    }

    pub(crate) fn take_dep(&mut self, out: &mut Vec<NodeRef>) {
        if let Source::Node(n) = &mut self.0
            && !is_unhooked(n)
        {
            out.push(std::mem::replace(n, Arc::clone(unhooked())));
        }
    }

    /// Feeds the argument to a pure call's hash: a plain value by value, a lazy one by
    /// its task.
    pub(crate) fn hash_arg(&self, h: &mut std::hash::DefaultHasher)
    where
        T: super::PureArg,
    {
        use std::hash::Hash as _;
        match &self.0 {
            Source::Value(v) => {
                0_u8.hash(h);
                v.pure_hash(h);
            }
            Source::Node(n) => (1_u8, n.id()).hash(h),
        }
    }

    /// The argument's value, owned: a clone of a plain value; a node's output moved out
    /// when this is its last consumer, cloned otherwise.
    pub fn take(&self, inputs: &mut Inputs<'_>) -> Result<T, BoxError>
    where
        T: Clone,
    {
        match &self.0 {
            Source::Value(v) => Ok(v.clone()),
            Source::Node(_) => take_input(inputs),
        }
    }

    /// The argument's value, borrowed: no copy, whoever else reads it.
    pub fn borrow(&self, inputs: &mut Inputs<'_>) -> Result<ArgRef<'_, T>, BoxError> {
        match &self.0 {
            Source::Value(v) => Ok(ArgRef::Plain(v)),
            Source::Node(_) => Ok(ArgRef::Shared(inputs.next::<T>()?)),
        }
    }
}

/// A borrowed argument value (see [`Arg::borrow`]).
#[derive(Debug)]
pub enum ArgRef<'a, T> {
    /// A plain value held by the node.
    Plain(&'a T),
    /// A dependency's output, shared with its other consumers.
    Shared(Arc<T>),
}

impl<T> Deref for ArgRef<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            ArgRef::Plain(v) => v,
            ArgRef::Shared(v) => v,
        }
    }
}

/// The value a borrowed task parameter `x: &T` is kept as: `T` itself for a sized
/// type (no `Clone` needed: the task borrows it from the node), `String` for `str`,
/// `Vec<T>` for `[T]`, and `PathBuf`, `OsString`, `CString` for `Path`, `OsStr`, `CStr`.
pub trait BorrowedParam {
    /// What the node keeps, lent to the task as `&T`.
    type Owned: std::borrow::Borrow<Self>;
}

impl<T> BorrowedParam for T {
    type Owned = T;
}

impl BorrowedParam for str {
    type Owned = String;
}

impl<T> BorrowedParam for [T] {
    type Owned = Vec<T>;
}

impl BorrowedParam for std::path::Path {
    type Owned = std::path::PathBuf;
}

impl BorrowedParam for std::ffi::OsStr {
    type Owned = std::ffi::OsString;
}

impl BorrowedParam for std::ffi::CStr {
    type Owned = std::ffi::CString;
}

/// What a `#[delayed]` function accepts for a parameter of type `T`: a plain `T`, a
/// `Delayed<T>` (or a reference to one), and for `Vec<T>` a `Vec<Delayed<T>>`.
///
/// A parameter `&T` accepts the same as `T::Owned` (`&str` takes `String` or `&str`,
/// `&[T]` takes `Vec<T>`, `&[T]` or `Vec<Delayed<T>>`) and the task borrows the value
/// instead of copying it.
///
/// For a generic `#[delayed]` function, a `Delayed` argument leaves the type parameter
/// ambiguous (`T` could be `i64` or `Delayed<i64>`): name it, as in `ident::<i64>(x)`.
///
/// # Examples
///
/// ```
/// # use dask_runtime as dask;
/// use dask::{delayed_value, IntoArg};
///
/// fn takes(x: impl IntoArg<Vec<i64>>) -> String {
///     format!("{:?}", x.into_arg())
/// }
/// assert_eq!(takes(vec![1, 2]), "Arg::Value");
/// assert!(takes(vec![delayed_value(1), delayed_value(2)]).starts_with("Arg::Node(list-"));
/// ```
#[diagnostic::on_unimplemented(
    message = "a task parameter of type `{T}` cannot take a `{Self}`",
    label = "expected `{T}`, `Delayed<{T}>` or `&Delayed<{T}>`, found `{Self}`",
    note = "a parameter `x: T` takes a `T`, a `Delayed<T>` or a `&Delayed<T>`; a `Vec<T>` parameter also takes a `Vec<Delayed<T>>`; `x: &T` takes what `T::Owned` takes"
)]
pub trait IntoArg<T> {
    /// Wraps `self` as a task argument.
    fn into_arg(self) -> Arg<T>;
}

// No `Clone` here: a value a task borrows (`x: &T`) is lent from the node, never copied;
// a task that takes it by value needs `Clone` (see `Arg::take`), which `#[delayed]`
// checks on the parameter's type.
impl<T: Send + Sync + 'static> IntoArg<T> for T {
    fn into_arg(self) -> Arg<T> {
        Arg::value(self)
    }
}

impl<T: Send + Sync + 'static> IntoArg<T> for Delayed<T> {
    fn into_arg(self) -> Arg<T> {
        Arg::node(self)
    }
}

impl<T: Send + Sync + 'static> IntoArg<T> for &Delayed<T> {
    fn into_arg(self) -> Arg<T> {
        Arg::node(self.clone())
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<T> for &T {
    fn into_arg(self) -> Arg<T> {
        Arg::value(self.clone())
    }
}

impl IntoArg<String> for &str {
    fn into_arg(self) -> Arg<String> {
        Arg::value(self.to_owned())
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for &[T] {
    fn into_arg(self) -> Arg<Vec<T>> {
        Arg::value(self.to_vec())
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for Vec<Delayed<T>> {
    /// Gathers the list into one `list` node (Dask's `delayed(sum)(list_of_delayed)`).
    fn into_arg(self) -> Arg<Vec<T>> {
        Arg::node(gather(self))
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for &[Delayed<T>] {
    fn into_arg(self) -> Arg<Vec<T>> {
        Arg::node(gather(self.to_vec()))
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<Vec<T>>> for Vec<Vec<Delayed<T>>> {
    /// Each inner list gathered, then the lists (Dask's traversal of nested lists).
    fn into_arg(self) -> Arg<Vec<Vec<T>>> {
        Arg::node(gather(self.into_iter().map(gather).collect()))
    }
}

// A map of lazy values becomes the map of their values, by key (Dask's traversal of
// dicts).
macro_rules! map_arg {
    ($map:ident, $($bound:tt)+) => {
        impl<K, V> IntoArg<std::collections::$map<K, V>> for std::collections::$map<K, Delayed<V>>
        where
            K: $($bound)+ + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            fn into_arg(self) -> Arg<std::collections::$map<K, V>> {
                let (keys, parts): (Vec<K>, Vec<Delayed<V>>) = self.into_iter().unzip();
                let args: Vec<Arg<V>> = parts.into_iter().map(Arg::node).collect();
                Arg::node(node("dict", args, move |args: &Vec<Arg<V>>, inputs| {
                    keys.iter()
                        .cloned()
                        .zip(args)
                        .map(|(k, arg)| Ok((k, arg.take(inputs)?)))
                        .collect()
                }))
            }
        }
    };
}

map_arg!(HashMap, Clone + Eq + std::hash::Hash);
map_arg!(BTreeMap, Clone + Ord);

// A tuple of lazy values becomes the tuple of their values.
macro_rules! tuple_arg {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Clone + Send + Sync + 'static),+> IntoArg<($($t,)+)> for ($(Delayed<$t>,)+) {
            fn into_arg(self) -> Arg<($($t,)+)> {
                let args = nest!($(Arg::node(self.$i)),+);
                Arg::node(node("tuple", args, |args, inputs| {
                    let taken = take_nested!(args, inputs; $($t)+);
                    Ok(taken)
                }))
            }
        }
    };
}

/// `(a, (b, (c, ())))` from `a, b, c`: the argument lists nodes take.
macro_rules! nest {
    () => { () };
    ($first:expr $(, $rest:expr)*) => { ($first, nest!($($rest),*)) };
}

/// The values of a nested argument list, as a flat tuple.
macro_rules! take_nested {
    ($args:expr, $inputs:expr; $($t:ident)+) => {{
        #[allow(non_snake_case)]
        let take_nested!(@pattern $($t)+) = $args;
        ($($t.take($inputs)?,)+)
    }};
    (@pattern $first:ident $($rest:ident)*) => { ($first, take_nested!(@pattern $($rest)*)) };
    (@pattern) => { () };
}

tuple_arg!(A 0, B 1);
tuple_arg!(A 0, B 1, C 2);
tuple_arg!(A 0, B 1, C 2, D 3);

/// A node whose output is the list of the outputs of `parts`, in order.
pub(crate) fn gather<T: Clone + Send + Sync + 'static>(parts: Vec<Delayed<T>>) -> Delayed<Vec<T>> {
    // Handle for handle, so the list is converted where it lies.
    let parts = Parts(parts.into_iter().map(Delayed::into_node).collect());
    node("list", parts, |parts: &Parts, inputs| {
        (0..parts.0.len()).map(|_| take_input(inputs)).collect()
    })
}

/// The next input's value, owned: moved out when this is its last consumer, cloned
/// otherwise.
fn take_input<T: Clone + Send + Sync + 'static>(inputs: &mut Inputs<'_>) -> Result<T, BoxError> {
    let shared = inputs.next::<T>()?;
    Ok(Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone()))
}

/// The parts of a gathered list, every one a node: a bare handle each (16 bytes where
/// an [`Arg`] takes 24), so the ten million parts of a big fan-in take 80 MB less,
/// and the user's `Vec<Delayed<T>>` becomes this list without a second allocation.
struct Parts(Vec<NodeRef>);

impl Args for Parts {
    fn visit_deps<'a>(&'a self, f: &mut dyn FnMut(&'a NodeRef)) {
        self.0.iter().for_each(f);
    }
    fn take_deps(&mut self, out: &mut Vec<NodeRef>) {
        out.append(&mut self.0);
    }
}

impl<T: Send + Sync + 'static, Rest: Args> Args for (Arg<T>, Rest) {
    fn visit_deps<'a>(&'a self, f: &mut dyn FnMut(&'a NodeRef)) {
        self.0.visit_dep(f);
        self.1.visit_deps(f);
    }
    fn take_deps(&mut self, out: &mut Vec<NodeRef>) {
        self.0.take_dep(out);
        self.1.take_deps(out);
    }
}

impl<T: Send + Sync + 'static> Args for Vec<Arg<T>> {
    fn visit_deps<'a>(&'a self, f: &mut dyn FnMut(&'a NodeRef)) {
        for arg in self {
            arg.visit_dep(f);
        }
    }
    fn take_deps(&mut self, out: &mut Vec<NodeRef>) {
        for arg in self {
            arg.take_dep(out);
        }
    }
}

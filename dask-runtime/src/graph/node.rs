//! A task node: its name, its arguments (some of them other nodes) and the function that
//! turns the argument values into its output. One allocation a node.

use super::Inputs;
use super::wire::{Wire, WireOf};
use crate::error::BoxError;
use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// A task's output as the executor stores it: type-erased and shared, so a value with
/// several consumers is cloned only when a consumer needs its own copy.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;

/// A shared, type-erased node. `Delayed<T>` is this plus the type `T`.
pub(crate) type NodeRef = Arc<dyn NodeDyn>;

/// A node held without keeping it alive.
pub(crate) type WeakNode = std::sync::Weak<dyn NodeDyn>;

/// What the executor needs of a node, whatever its argument and output types.
///
/// `pub` but in a private module: nameable by the runtime only.
pub trait NodeDyn: Send + Sync + 'static {
    /// Unique for the life of the process.
    fn id(&self) -> u64;
    /// The function the node runs (`inc`, `add`, `map`, ...).
    fn name(&self) -> &'static str;
    /// The task's key, as errors, pictures and `Delayed::key` show it.
    fn key(&self) -> String;
    /// Gives the task a key of the user's (`Delayed::named`).
    fn set_label(&self, label: String);
    /// Calls `f` on every dependency, once for each time it is an argument, in the order
    /// [`NodeDyn::run`] reads them.
    fn visit_deps<'a>(&'a self, f: &mut dyn FnMut(&'a NodeRef));
    /// Moves the dependencies out, so dropping a long chain needs no recursion.
    fn take_deps(&mut self, out: &mut Vec<NodeRef>);
    /// Runs the task; its dependencies' values come from `inputs`.
    fn run(&self, inputs: &mut Inputs<'_>) -> Result<Value, BoxError>;
    /// Whether `value` is of the type this node's task returns.
    fn holds_output(&self, value: &Value) -> bool;
    /// The handle of one of this node's values from its data pointer (a run's slots
    /// keep that pointer only, see `executor/slot.rs`).
    ///
    /// # Safety
    ///
    /// `raw` is `Arc::into_raw` of a value of which [`NodeDyn::holds_output`] is true,
    /// and owns the strong reference the handle takes.
    #[allow(unsafe_code)] // The caller vouches for the type.
    unsafe fn value_from_raw(&self, raw: *const ()) -> Value;
    /// How the output crosses to another process, if it can.
    fn wire(&self) -> Option<&'static Wire>;
    /// Where a layout walk notes that it has seen the node (see `layout.rs`).
    fn mark(&self) -> &AtomicU64;
}

/// The arguments of a node: a list `(Arg<A>, (Arg<B>, ()))` of any length, or a
/// `Vec<Arg<T>>` for a gathered list (the impls live beside `Arg`).
pub trait Args: Send + Sync + 'static {
    /// Calls `f` on each argument that is a node, in argument order.
    fn visit_deps<'a>(&'a self, f: &mut dyn FnMut(&'a NodeRef));
    /// Moves each node argument out, so dropping a long chain needs no recursion.
    fn take_deps(&mut self, out: &mut Vec<NodeRef>);
}

impl Args for () {
    fn visit_deps<'a>(&'a self, _: &mut dyn FnMut(&'a NodeRef)) {}
    fn take_deps(&mut self, _: &mut Vec<NodeRef>) {}
}

/// How a node's key is spelled: from its name and id (`()`, no room taken), or given
/// (an array block's `('add-…', 0, 1)`).
pub(crate) trait KeySpelling: Send + Sync + 'static {
    fn spell(&self, name: &str, id: u64) -> String;
}

impl KeySpelling for () {
    fn spell(&self, name: &str, id: u64) -> String {
        key_from(name, id)
    }
}

impl KeySpelling for Box<str> {
    fn spell(&self, _: &str, _: u64) -> String {
        self.to_string()
    }
}

struct Node<A: Args, F, R, K = (), W = ()> {
    /// The id, with [`LABELED`] set once the user named the task.
    id: AtomicU64,
    /// The layout walk's mark: its epoch and the node's index in it. (Eight bytes that
    /// keep the node in the same allocator size class, and save the walk a hash map.)
    mark: AtomicU64,
    /// The name, through a thin pointer (see [`thin`]).
    name: &'static &'static str,
    key: K,
    wire: W,
    args: A,
    task: F,
    output: PhantomData<fn() -> R>,
}

impl<A, F, R, K, W> NodeDyn for Node<A, F, R, K, W>
where
    A: Args,
    F: Fn(&A, &mut Inputs<'_>) -> Result<R, BoxError> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    K: KeySpelling,
    W: WireOf<R>,
{
    fn id(&self) -> u64 {
        self.id.load(Ordering::Relaxed) & !LABELED
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn key(&self) -> String {
        let id = self.id.load(Ordering::Relaxed);
        if id & LABELED != 0
            && let Some(label) = labels().get(&(id & !LABELED))
        {
            return label.to_string();
        }
        self.key.spell(self.name, id & !LABELED)
    }
    fn set_label(&self, label: String) {
        let id = self.id.fetch_or(LABELED, Ordering::Relaxed) & !LABELED;
        labels().insert(id, label.into_boxed_str());
    }
    fn visit_deps<'a>(&'a self, f: &mut dyn FnMut(&'a NodeRef)) {
        self.args.visit_deps(f);
    }
    fn take_deps(&mut self, out: &mut Vec<NodeRef>) {
        self.args.take_deps(out);
    }
    fn run(&self, inputs: &mut Inputs<'_>) -> Result<Value, BoxError> {
        let output = (self.task)(&self.args, inputs)?;
        Ok(Arc::new(output))
    }
    fn holds_output(&self, value: &Value) -> bool {
        (**value).is::<R>()
    }
    #[allow(unsafe_code)] // The caller vouches for the type.
    unsafe fn value_from_raw(&self, raw: *const ()) -> Value {
        // SAFETY: `raw` points to an `R` in an `Arc` and owns a reference (caller).
        unsafe { Arc::<R>::from_raw(raw.cast::<R>()) }
    }
    fn wire(&self) -> Option<&'static Wire> {
        self.wire.wire()
    }
    fn mark(&self) -> &AtomicU64 {
        &self.mark
    }
}

impl<A: Args, F, R, K, W> Drop for Node<A, F, R, K, W> {
    // Dropping the last handle of a chain would otherwise drop its dependency, which drops
    // its dependency, ... one stack frame a node. Instead, unhook the dependencies and drop
    // them from a loop: a node whose last owner we are gives up its own dependencies first.
    fn drop(&mut self) {
        let id = *self.id.get_mut();
        if id & LABELED != 0 {
            labels().remove(&(id & !LABELED));
        }
        let mut pending = Vec::new();
        self.args.take_deps(&mut pending);
        while let Some(mut node) = pending.pop() {
            if let Some(unique) = Arc::get_mut(&mut node) {
                unique.take_deps(&mut pending);
            }
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The bit of a node's id that says the user named it: its label is in [`labels`].
/// Ids count from 0 and never reach it.
const LABELED: u64 = 1 << 63;

/// The labels of named nodes, by id: a side table, so that the ten million unnamed
/// nodes of a big graph carry no room for one.
fn labels() -> std::sync::MutexGuard<'static, HashMap<u64, Box<str>>> {
    static LABELS: LazyLock<Mutex<HashMap<u64, Box<str>>>> = LazyLock::new(Mutex::default);
    LABELS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Names `node` (see `Delayed::named`).
pub(crate) fn set_label(node: &NodeRef, label: String) {
    node.set_label(label);
}

/// Builds a node that runs `task` on the values of `args`: the one allocation every
/// `#[delayed]` function, operator and `map` makes.
pub(crate) fn new_node<A, F, R>(name: &'static str, args: A, task: F) -> NodeRef
where
    A: Args,
    F: Fn(&A, &mut Inputs<'_>) -> Result<R, BoxError> + Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    keyed_node(name, (), args, task)
}

/// [`new_node`] with its key spelled by `key`.
pub(crate) fn keyed_node<A, F, R, K>(name: &'static str, key: K, args: A, task: F) -> NodeRef
where
    A: Args,
    F: Fn(&A, &mut Inputs<'_>) -> Result<R, BoxError> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    K: KeySpelling,
{
    wired_node(name, key, (), args, task)
}

/// [`keyed_node`] whose output can cross to another process with `wire`.
pub(crate) fn wired_node<A, F, R, K, W>(
    name: &'static str,
    key: K,
    wire: W,
    args: A,
    task: F,
) -> NodeRef
where
    A: Args,
    F: Fn(&A, &mut Inputs<'_>) -> Result<R, BoxError> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    K: KeySpelling,
    W: WireOf<R>,
{
    let id = AtomicU64::new(NEXT_ID.fetch_add(1, Ordering::Relaxed));
    Arc::new(Node {
        id,
        mark: AtomicU64::new(0),
        name: thin(name),
        key,
        wire,
        args,
        task,
        output: PhantomData,
    })
}

/// `name` behind a thin pointer: 8 bytes in each node instead of 16, which brings a
/// one-argument node from the allocator's 80-byte size to its 64-byte one (ten million
/// nodes, 160 MB). Each distinct name is boxed once for the life of the process; names
/// are the program's function and operation names, a fixed set.
fn thin(name: &'static str) -> &'static &'static str {
    /// Names a thread keeps at hand: a graph is built from a few functions, often
    /// alternating (`add(inc(i), dec(i))`), so the global map is rarely locked.
    const NEAR: usize = 16;
    thread_local! {
        static SEEN: std::cell::RefCell<Vec<(&'static str, &'static &'static str)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    let near = SEEN.try_with(|seen| {
        let seen = seen.try_borrow().ok()?;
        seen.iter()
            .find(|(n, _)| std::ptr::eq(*n, name))
            .map(|&(_, thin)| thin)
    });
    if let Ok(Some(thin)) = near {
        return thin;
    }
    static NAMES: LazyLock<Mutex<HashMap<&'static str, &'static &'static str>>> =
        LazyLock::new(Mutex::default);
    let mut names = NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let thin = match names.get(name) {
        Some(&thin) => thin,
        None => {
            let thin: &'static &'static str = Box::leak(Box::new(name));
            names.insert(name, thin);
            thin
        }
    };
    drop(names);
    let _ = SEEN.try_with(|seen| {
        if let Ok(mut seen) = seen.try_borrow_mut() {
            if seen.len() == NEAR {
                seen.remove(0);
            }
            seen.push((name, thin));
        }
    });
    thin
}

/// A key that reads like Dask's (`inc-9e3779b97f4a7c15`): the name and a scrambled id.
/// The scramble is a bijection on u64, so keys stay unique.
pub(crate) fn key_of(node: &dyn NodeDyn) -> String {
    node.key()
}

/// The key of the node named `name` with id `id`.
pub(crate) fn key_from(name: &str, id: u64) -> String {
    let mut z = id.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("{name}-{z:016x}")
}

#[cfg(test)]
mod tests {
    use super::thin;

    #[test]
    fn a_name_is_interned_once_whatever_the_thread_or_the_copy() {
        // Forty names, more than a thread keeps at hand, twice over: each comes back
        // as the same thin pointer, spelling the same name.
        let names: Vec<&'static str> = (0..40)
            .map(|i| &*Box::leak(format!("name-{i}").into_boxed_str()))
            .collect();
        let first: Vec<usize> = names.iter().map(|n| thin(n) as *const _ as usize).collect();
        for _ in 0..2 {
            for (n, &p) in names.iter().zip(&first) {
                let t = thin(n);
                assert_eq!(t as *const _ as usize, p);
                assert_eq!(*t, *n);
            }
        }
        // Another thread, and another copy of the same text: the same pointer.
        let copy: &'static str = Box::leak("name-7".to_owned().into_boxed_str());
        let there = std::thread::spawn(move || thin(copy) as *const _ as usize)
            .join()
            .unwrap();
        assert_eq!(there, first[7]);
    }
}

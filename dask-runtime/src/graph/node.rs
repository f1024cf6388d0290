//! A task node: its name, its arguments (some of them other nodes) and the function that
//! turns the argument values into its output. One allocation a node.

use super::Inputs;
use super::wire::{Wire, WireOf};
use crate::error::BoxError;
use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

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
    /// Unique for the life of the process (see [`MAX_ID`]); a consumer's id is above
    /// its dependencies'.
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
    /// The id, the name's number (see [`name_number`]) and [`LABELED`], in one word:
    /// with the `Arc`'s counts and one argument, 40 bytes, glibc's 48-byte size.
    meta: AtomicU64,
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
        self.meta.load(Ordering::Relaxed) & MAX_ID
    }
    fn name(&self) -> &'static str {
        name_of(self.meta.load(Ordering::Relaxed))
    }
    fn key(&self) -> String {
        let meta = self.meta.load(Ordering::Relaxed);
        let id = meta & MAX_ID;
        if meta & LABELED != 0
            && let Some(label) = labels().get(&id)
        {
            return label.to_string();
        }
        self.key.spell(name_of(meta), id)
    }
    fn set_label(&self, label: String) {
        let id = self.meta.fetch_or(LABELED, Ordering::Relaxed) & MAX_ID;
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
}

impl<A: Args, F, R, K, W> Drop for Node<A, F, R, K, W> {
    // Dropping the last handle of a chain would otherwise drop its dependency, which drops
    // its dependency, ... one stack frame a node. Instead, unhook the dependencies and drop
    // them from a loop: a node whose last owner we are gives up its own dependencies first.
    fn drop(&mut self) {
        let meta = *self.meta.get_mut();
        if meta & LABELED != 0 {
            labels().remove(&(meta & MAX_ID));
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

/// The largest id, and the id's bits of a node's word. Ids count up from 0 and wrap
/// after 2^47 (140 trillion) nodes: a process making thirty million nodes a second
/// without pause reaches it in 54 days. (A layout walk that meets two nodes with one
/// id says so, see `layout.rs`.)
pub(crate) const MAX_ID: u64 = (1 << 47) - 1;

/// Set once ids have wrapped: from then on two live nodes may share an id, and a
/// layout walk checks every node it looks up (see `layout.rs`).
static WRAPPED: AtomicBool = AtomicBool::new(false);

/// Whether ids have wrapped (see [`MAX_ID`]).
pub(crate) fn ids_wrapped() -> bool {
    WRAPPED.load(Ordering::Relaxed)
}

/// Where a node's word keeps its name's number (16 bits, above the id).
const NAME_SHIFT: u32 = 47;

/// The bit of a node's word that says the user named it: its label is in [`labels`].
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
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    if id > MAX_ID {
        WRAPPED.store(true, Ordering::Relaxed);
    }
    let id = id & MAX_ID;
    Arc::new(Node {
        meta: AtomicU64::new(id | (name_number(name) << NAME_SHIFT)),
        key,
        wire,
        args,
        task,
        output: PhantomData,
    })
}

/// How many distinct names the nodes of a process can carry: 16 bits of a node's word.
/// The last number stands for every name past the others, shown as [`MANY_NAMES`].
const NAME_NUMBERS: usize = 1 << 16;

/// The name of nodes whose own name came after 65,535 others.
const MANY_NAMES: &str = "task";

/// The names by number, each set once (the numbers are given out in order).
static NAMES: [OnceLock<&'static str>; NAME_NUMBERS] = [const { OnceLock::new() }; NAME_NUMBERS];

/// The name numbered in node word `meta`.
fn name_of(meta: u64) -> &'static str {
    let number = ((meta & !LABELED) >> NAME_SHIFT) as usize;
    NAMES[number].get().copied().unwrap_or(MANY_NAMES)
}

/// `name`'s number: 2 bytes of a node's word instead of a 16-byte `&str` (ten million
/// nodes, 160 MB). Names are the program's function and operation names, a fixed set;
/// a process with more than 65,535 of them shows the rest as [`MANY_NAMES`].
fn name_number(name: &'static str) -> u64 {
    /// Names a thread keeps at hand: a graph is built from a few functions, often
    /// alternating (`add(inc(i), dec(i))`), so the global map is rarely locked.
    const NEAR: usize = 16;
    thread_local! {
        static SEEN: std::cell::RefCell<Vec<(&'static str, u64)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    let near = SEEN.try_with(|seen| {
        let seen = seen.try_borrow().ok()?;
        seen.iter()
            .find(|(n, _)| std::ptr::eq(*n, name))
            .map(|&(_, number)| number)
    });
    if let Ok(Some(number)) = near {
        return number;
    }
    static NUMBERS: LazyLock<Mutex<HashMap<&'static str, u64>>> = LazyLock::new(Mutex::default);
    let mut numbers = NUMBERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let next = numbers.len();
    let number = match numbers.get(name) {
        Some(&number) => number,
        None if next < NAME_NUMBERS - 1 => {
            let _ = NAMES[next].set(name);
            numbers.insert(name, next as u64);
            next as u64
        }
        None => (NAME_NUMBERS - 1) as u64,
    };
    drop(numbers);
    let _ = SEEN.try_with(|seen| {
        if let Ok(mut seen) = seen.try_borrow_mut() {
            if seen.len() == NEAR {
                seen.remove(0);
            }
            seen.push((name, number));
        }
    });
    number
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
    use super::*;

    #[test]
    fn a_name_is_numbered_once_whatever_the_thread_or_the_copy() {
        // Forty names, more than a thread keeps at hand, twice over: each comes back
        // with the same number, spelling the same name.
        let names: Vec<&'static str> = (0..40)
            .map(|i| &*Box::leak(format!("name-{i}").into_boxed_str()))
            .collect();
        let first: Vec<u64> = names.iter().map(|n| name_number(n)).collect();
        for _ in 0..2 {
            for (n, &number) in names.iter().zip(&first) {
                assert_eq!(name_number(n), number);
                assert_eq!(name_of(number << NAME_SHIFT), *n);
                assert_eq!(name_of(LABELED | 5 | (number << NAME_SHIFT)), *n);
            }
        }
        // Another thread, and another copy of the same text: the same number.
        let copy: &'static str = Box::leak("name-7".to_owned().into_boxed_str());
        let there = std::thread::spawn(move || name_number(copy))
            .join()
            .unwrap();
        assert_eq!(there, first[7]);
        // The last number is every name past the others.
        assert_eq!(
            name_of(((NAME_NUMBERS - 1) as u64) << NAME_SHIFT),
            MANY_NAMES
        );
    }

    #[test]
    fn a_node_with_one_argument_is_forty_bytes_and_keeps_its_name_id_and_label() {
        let leaf = new_node("leaf", (), |(), _| Ok(1_u64));
        let arg = crate::delayed::Arg::value(3_u64);
        let node = new_node("one-arg", (arg, ()), |_, _| Ok(2_u64));
        // The `Arc`'s two counts, the word, the argument.
        assert_eq!(std::mem::size_of_val(&*node), 24);
        assert_eq!(node.name(), "one-arg");
        assert!(node.id() > leaf.id());
        assert!(node.key().starts_with("one-arg-"));
        node.set_label("mine".into());
        assert_eq!(node.key(), "mine");
        assert_eq!(node.name(), "one-arg");
        assert!(node.id() > leaf.id() && node.id() <= MAX_ID);
    }
}

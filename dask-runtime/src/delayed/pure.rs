//! `#[delayed(pure)]`: a call is known by its function and its arguments, so the same
//! call built twice is one task (Dask's `pure=True`).

use super::{Arg, Delayed};
use crate::graph::{Args, WeakNode, set_label};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};

/// What a pure call's argument must be: hashable, to know the call again.
#[diagnostic::on_unimplemented(
    message = "a `#[delayed(pure)]` argument must be `Hash`: `{Self}` is not",
    label = "not `Hash`",
    note = "a pure task is known by its function and a hash of its arguments; derive or implement `Hash` for `{Self}`, or drop `pure`"
)]
pub trait PureArg {
    /// Feeds the value to a pure call's hash.
    fn pure_hash(&self, h: &mut DefaultHasher);
}

impl<T: Hash + ?Sized> PureArg for T {
    fn pure_hash(&self, h: &mut DefaultHasher) {
        self.hash(h);
    }
}

/// The arguments of a pure call, hashed: plain values by value, lazy values by the
/// task that makes them.
pub trait PureArgs: Args {
    /// Feeds the arguments to `h`.
    fn hash_args(&self, h: &mut DefaultHasher);
}

impl PureArgs for () {
    fn hash_args(&self, _: &mut DefaultHasher) {}
}

impl<T: PureArg + Send + Sync + 'static, Rest: PureArgs> PureArgs for (Arg<T>, Rest) {
    fn hash_args(&self, h: &mut DefaultHasher) {
        self.0.hash_arg(h);
        self.1.hash_args(h);
    }
}

/// The live pure tasks by token: a call built again while its task is alive gets it.
type Table = HashMap<u128, WeakNode>;

static PURE: LazyLock<Mutex<(Table, usize)>> = LazyLock::new(Mutex::default);

/// The task of a pure call of `name` (defined in `module`, with the full signature
/// `signature`, so two functions or two instances of a generic one never meet) with
/// `args`: the live task of an equal call if there is one, else `build(args)`, keyed
/// `name-<token>`.
pub fn pure_node<A: PureArgs, R>(
    name: &'static str,
    module: &'static str,
    signature: &'static str,
    args: A,
    build: impl FnOnce(A) -> Delayed<R>,
) -> Delayed<R> {
    let token = {
        let (mut a, mut b) = (DefaultHasher::new(), DefaultHasher::new());
        (0_u8, module, name, signature).hash(&mut a);
        (1_u8, module, name, signature).hash(&mut b);
        args.hash_args(&mut a);
        args.hash_args(&mut b);
        u128::from(a.finish()) << 64 | u128::from(b.finish())
    };
    let mut guard = PURE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (table, inserted) = &mut *guard;
    if let Some(node) = table.get(&token).and_then(std::sync::Weak::upgrade) {
        // Same signature, same output type.
        return Delayed::from_node(node);
    }
    let made = build(args);
    set_label(made.node(), format!("{name}-{:016x}", (token >> 64) as u64));
    table.insert(token, Arc::downgrade(made.node()));
    *inserted += 1;
    if inserted.is_power_of_two() {
        // Forget the calls whose tasks are gone, now and then.
        table.retain(|_, node| node.strong_count() > 0);
    }
    made
}

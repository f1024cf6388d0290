//! The graph itself, the lowest layer above the error type: task nodes and their
//! arguments, the values they produce, their keys, how a task reads its inputs, and the
//! layout walk that numbers a graph for one run. Nothing here runs a task.

mod adjacency;
mod inputs;
mod layout;
mod node;
mod wire;

pub(crate) use inputs::InputSource;
pub use inputs::Inputs;
pub(crate) use layout::Layout;
pub use node::Args;
pub(crate) use node::{
    NodeRef, Value, WeakNode, key_from, key_of, keyed_node, new_node, set_label, wired_node,
};
pub use wire::{Distributable, Wire};
pub(crate) use wire::{Serde, decode, encode};

//! Lays a graph out for one run: every node reachable from the outputs gets an index, in
//! a depth-first post-order from the outputs (dependencies before their consumers, and the
//! inputs of one consumer next to each other, so that running in index order frees
//! intermediates soon: the idea behind `dask.order`). No recursion: a chain of a million
//! nodes is walked with an explicit stack.
//!
//! The walk remembers which nodes it has seen in the nodes themselves: each carries a
//! mark, its walk's epoch and its index. One walk at a time may mark (a flag taken
//! for the walk); a walk that starts while another marks keeps a hash map instead.
//! A mark is trusted only if the index it names holds that very node, so a mark left
//! by a walk 2^32 epochs ago cannot be mistaken for this walk's.

use super::adjacency::{Adjacency, index};
use super::node::{NodeDyn, NodeRef};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Whether a walk is marking nodes now.
static MARKING: AtomicBool = AtomicBool::new(false);
/// The last marking walk's epoch (0 is never used: a fresh node's mark is 0).
static EPOCH: AtomicU32 = AtomicU32::new(0);

/// How a walk finds the index it gave a node.
enum Seen {
    /// In the nodes' marks, under this epoch; the flag is given back when dropped.
    Marks(u32),
    /// In a map by address (another walk is marking).
    Map(FxHashMap<*const (), u32>),
}

impl Seen {
    fn new() -> Seen {
        if MARKING
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            let mut epoch = EPOCH.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if epoch == 0 {
                epoch = EPOCH.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            }
            Seen::Marks(epoch)
        } else {
            Seen::Map(FxHashMap::default())
        }
    }

    /// The index given to `node` (or [`STARTED`]), if this walk has seen it.
    #[inline]
    fn get(&self, node: &NodeRef, nodes: &[&NodeRef]) -> Option<u32> {
        match self {
            Seen::Marks(epoch) => {
                let mark = node.mark().load(Ordering::Relaxed);
                if (mark >> 32) as u32 != *epoch {
                    return None;
                }
                let index = mark as u32;
                let own = index == STARTED
                    || nodes
                        .get(index as usize)
                        .is_some_and(|n| address(n) == address(node));
                own.then_some(index)
            }
            Seen::Map(map) => map.get(&address(node)).copied(),
        }
    }

    #[inline]
    fn set(&mut self, node: &NodeRef, index: u32) {
        match self {
            Seen::Marks(epoch) => node.mark().store(
                (u64::from(*epoch) << 32) | u64::from(index),
                Ordering::Relaxed,
            ),
            Seen::Map(map) => {
                map.insert(address(node), index);
            }
        }
    }
}

impl Drop for Seen {
    fn drop(&mut self) {
        if let Seen::Marks(_) = self {
            // Release: the next marking walk sees every mark this one wrote.
            MARKING.store(false, Ordering::Release);
        }
    }
}

/// The graph of one run: its nodes in order, and who reads whom.
pub(crate) struct Layout<'g> {
    /// The nodes in layout order, as the handles that hold them (a thin pointer each).
    pub(crate) nodes: Vec<&'g NodeRef>,
    deps: Adjacency,
    consumers: Adjacency,
    /// The index of each requested output, in request order (repeats allowed).
    pub(crate) outputs: Vec<u32>,
}

const STARTED: u32 = u32::MAX;

impl<'g> Layout<'g> {
    pub(crate) fn new(outputs: &[&'g NodeRef]) -> Result<Layout<'g>, String> {
        let mut seen = Seen::new();
        let mut nodes: Vec<&'g NodeRef> = Vec::new();
        let mut deps = Adjacency::default();
        // Nodes to place, one entry each (8 bytes: a chain of ten million nodes is
        // this deep). A node met the first time is marked started and its
        // dependencies go above it; met again once they are placed, it is placed.
        let mut stack: Vec<&'g NodeRef> = Vec::new();
        let mut children: Vec<&'g NodeRef> = Vec::new();
        let mut indices: Vec<u32> = Vec::new();

        for &out in outputs.iter().rev() {
            stack.push(out);
        }
        while let Some(&node) = stack.last() {
            match seen.get(node, &nodes) {
                // Placed already: a second path to it.
                Some(i) if i != STARTED => {
                    stack.pop();
                }
                None => {
                    seen.set(node, STARTED);
                    children.clear();
                    node.visit_deps(&mut |d| children.push(d));
                    // Reversed, so the first argument is walked (and numbered) first.
                    for &child in children.iter().rev() {
                        if seen.get(child, &nodes).is_none() {
                            stack.push(child);
                        }
                    }
                }
                // Its dependencies are placed (in a graph without cycles, a started
                // node is met again only once everything above it is done).
                Some(_) => {
                    stack.pop();
                    let id = index(nodes.len())?;
                    let mut missing = false;
                    indices.clear();
                    node.visit_deps(&mut |d| match seen.get(d, &nodes) {
                        Some(i) if i != STARTED => indices.push(i),
                        _ => missing = true,
                    });
                    if missing {
                        return Err(format!("dependency of {} not laid out first", node.name()));
                    }
                    deps.push(&indices)?;
                    nodes.push(node);
                    seen.set(node, id);
                }
            }
        }

        let outputs = outputs
            .iter()
            .map(|o| {
                seen.get(o, &nodes)
                    .filter(|&i| i != STARTED)
                    .ok_or_else(|| "an output was not laid out".to_owned())
            })
            .collect::<Result<Vec<_>, _>>()?;
        // The walk is done: let its index and stack go, and give back what the tables'
        // doubling left unused, before the consumers and the run's own state are made.
        drop(seen);
        drop(stack);
        nodes.shrink_to_fit();
        deps.shrink_to_fit();
        let consumers = Adjacency::transpose(&deps, nodes.len())?;
        Ok(Layout {
            nodes,
            deps,
            consumers,
            outputs,
        })
    }

    /// The dependency table in compressed rows: offsets (`len() + 1`) and indices.
    pub(crate) fn dep_rows(&self) -> (Vec<u32>, Vec<u32>) {
        self.deps.to_rows()
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Node `i`.
    #[inline]
    pub(crate) fn node(&self, i: usize) -> &'g dyn NodeDyn {
        &**self.nodes[i]
    }

    /// The dependencies of node `i`, in argument order (repeats allowed).
    #[inline]
    pub(crate) fn deps(&self, i: u32) -> &[u32] {
        self.deps.list(i as usize)
    }

    /// The nodes that read node `i`, once per read.
    #[inline]
    pub(crate) fn consumers(&self, i: u32) -> &[u32] {
        self.consumers.list(i as usize)
    }
}

fn address(node: &NodeRef) -> *const () {
    std::sync::Arc::as_ptr(node).cast::<()>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Delayed, delayed_value};

    /// A DAG with shared nodes: a diamond of diamonds.
    fn graph() -> Vec<Delayed<i64>> {
        let a = delayed_value(1_i64);
        let b = a.map(|v| v + 1);
        let c = a.map(|v| v * 2);
        let d = &b + &c;
        let e = &d * &b;
        vec![e.clone(), d, e]
    }

    fn shape(layout: &Layout<'_>) -> (Vec<&'static str>, Vec<Vec<u32>>, Vec<u32>) {
        let deps = (0..layout.len() as u32)
            .map(|i| layout.deps(i).to_vec())
            .collect();
        let names = layout.nodes.iter().map(|n| n.name()).collect();
        (names, deps, layout.outputs.clone())
    }

    #[test]
    fn walks_at_once_and_stale_marks_give_the_same_layout() {
        let outputs = graph();
        let refs: Vec<&NodeRef> = outputs.iter().map(Delayed::node).collect();
        let want = shape(&Layout::new(&refs).unwrap());
        assert_eq!(want.0.len(), 5);
        // Eight walks at once: one marks, the others keep maps; all agree.
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        assert_eq!(shape(&Layout::new(&refs).unwrap()), want);
                    }
                });
            }
        });
        // Marks that claim the next walk's epoch, each naming another node's index (as
        // a mark 2^32 walks old would): the walk sees they are not its own.
        let layout = Layout::new(&refs).unwrap();
        let next = u64::from(EPOCH.load(Ordering::Relaxed).wrapping_add(1));
        for (i, node) in layout.nodes.iter().enumerate() {
            let other = (i + 1) % layout.len();
            node.mark()
                .store((next << 32) | other as u64, Ordering::Relaxed);
        }
        drop(layout);
        assert_eq!(shape(&Layout::new(&refs).unwrap()), want);
        // A walk while another holds the marks uses a map. (Other tests' walks may
        // hold them a moment: wait for the flag.)
        while MARKING
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::thread::yield_now();
        }
        assert_eq!(shape(&Layout::new(&refs).unwrap()), want);
        MARKING.store(false, Ordering::Release);
        assert_eq!(shape(&Layout::new(&refs).unwrap()), want);
    }
}

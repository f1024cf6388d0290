//! Lays a graph out for one run: every node reachable from the outputs gets an index, in
//! a depth-first post-order from the outputs (dependencies before their consumers, and the
//! inputs of one consumer next to each other, so that running in index order frees
//! intermediates soon: the idea behind `dask.order`). No recursion: a chain of a million
//! nodes is walked with an explicit stack.
//!
//! The walk remembers the index it gave each node by the node's id, in a table (see
//! [`Seen`]): ids are handed out in order and a graph is mostly built in one go, so its
//! ids are close together. No hashing a node (a third of a chain's time when nodes were
//! hashed by address), and nothing written into the nodes, so walks of the same graph
//! may run at once.

use super::adjacency::{Adjacency, index};
use super::node::{NodeDyn, NodeRef, ids_wrapped};
use rustc_hash::FxHashMap;

/// An entry of [`Seen`]: not met yet.
const UNSEEN: u32 = 0;
/// An entry of [`Seen`]: met, its dependencies being laid out. (Otherwise an entry is
/// the node's index plus one.)
const STARTED_ENTRY: u32 = u32::MAX;

/// What a walk knows of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Met {
    Unseen,
    Started,
    Placed(u32),
}

/// How far below the top id the walk's table reaches without being asked to by a
/// graph that size (see [`Seen::set_entry`]).
const SLACK: usize = 1 << 16;

/// The walk's entry for each id it met. A consumer's id is above its dependencies'
/// (it was made after them), so every id of the graph is at most the outputs' top id,
/// and a graph mostly made in one go has its ids just below it: entries are kept in a
/// table by distance below the top id, grown as the walk goes down. An id far below
/// the rest (a node made long before, in a long-running program) goes in a map, so
/// the table stays within a few entries a node.
struct Seen {
    top: u64,
    table: Vec<u32>,
    far: FxHashMap<u64, u32>,
}

impl Seen {
    fn new(outputs: &[&NodeRef]) -> Seen {
        Seen {
            top: outputs.iter().map(|o| o.id()).max().unwrap_or(0),
            table: Vec::new(),
            far: FxHashMap::default(),
        }
    }

    #[inline]
    fn entry(&self, id: u64) -> u32 {
        match self.top.checked_sub(id) {
            Some(below) if (below as usize) < self.table.len() => self.table[below as usize],
            _ if self.far.is_empty() => UNSEEN,
            _ => self.far.get(&id).copied().unwrap_or(UNSEEN),
        }
    }

    /// Notes `entry` for `id`; `size` is how many nodes the walk has placed or has
    /// waiting, which bounds how far the table grows.
    fn set_entry(&mut self, id: u64, entry: u32, size: usize) {
        if let Some(below) = self.top.checked_sub(id) {
            let below = below as usize;
            if below < self.table.len() {
                self.table[below] = entry;
                return;
            }
            if below <= 2 * size + SLACK {
                self.table.resize(below + 1, UNSEEN);
                self.table[below] = entry;
                return;
            }
        }
        self.far.insert(id, entry);
    }

    /// What this walk knows of `node`. Two nodes with one id (ids wrap after 2^47
    /// nodes) are an error rather than a wrong layout.
    #[inline]
    fn get(&self, node: &NodeRef, nodes: &[&NodeRef]) -> Result<Met, String> {
        Ok(match self.entry(node.id()) {
            UNSEEN => Met::Unseen,
            STARTED_ENTRY => Met::Started,
            entry => {
                let index = entry - 1;
                if ids_wrapped()
                    && nodes
                        .get(index as usize)
                        .is_none_or(|n| address(n) != address(node))
                {
                    return Err(format!(
                        "two tasks share the id {}: more than 2^47 tasks were made",
                        node.id()
                    ));
                }
                Met::Placed(index)
            }
        })
    }

    #[inline]
    fn set(&mut self, node: &NodeRef, met: Met, size: usize) {
        let entry = match met {
            Met::Unseen => UNSEEN,
            Met::Started => STARTED_ENTRY,
            // Within u32: indices stay below `adjacency::MAX_INDEX`.
            Met::Placed(index) => index + 1,
        };
        self.set_entry(node.id(), entry, size);
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

impl<'g> Layout<'g> {
    pub(crate) fn new(outputs: &[&'g NodeRef]) -> Result<Layout<'g>, String> {
        let mut seen = Seen::new(outputs);
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
            match seen.get(node, &nodes)? {
                // Placed already: a second path to it.
                Met::Placed(_) => {
                    stack.pop();
                }
                Met::Unseen => {
                    seen.set(node, Met::Started, nodes.len() + stack.len());
                    children.clear();
                    node.visit_deps(&mut |d| children.push(d));
                    // Reversed, so the first argument is walked (and numbered) first.
                    for &child in children.iter().rev() {
                        if seen.get(child, &nodes)? == Met::Unseen {
                            stack.push(child);
                        }
                    }
                }
                // Its dependencies are placed (in a graph without cycles, a started
                // node is met again only once everything above it is done).
                Met::Started => {
                    stack.pop();
                    let id = index(nodes.len())?;
                    indices.clear();
                    let mut bad = None;
                    node.visit_deps(&mut |d| match seen.get(d, &nodes) {
                        Ok(Met::Placed(i)) => indices.push(i),
                        Ok(_) => {
                            bad = Some(format!("dependency of {} not laid out first", node.name()))
                        }
                        Err(e) => bad = Some(e),
                    });
                    if let Some(e) = bad {
                        return Err(e);
                    }
                    deps.push(&indices)?;
                    nodes.push(node);
                    seen.set(node, Met::Placed(id), nodes.len() + stack.len());
                }
            }
        }

        let outputs = outputs
            .iter()
            .map(|o| match seen.get(o, &nodes)? {
                Met::Placed(i) => Ok(i),
                _ => Err("an output was not laid out".to_owned()),
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
    fn walks_at_once_give_the_same_layout() {
        let outputs = graph();
        let refs: Vec<&NodeRef> = outputs.iter().map(Delayed::node).collect();
        let want = shape(&Layout::new(&refs).unwrap());
        assert_eq!(want.0.len(), 5);
        assert_eq!(want.2, [4, 3, 4]);
        // Eight walks at once, each with its own table: all agree.
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        assert_eq!(shape(&Layout::new(&refs).unwrap()), want);
                    }
                });
            }
        });
    }

    #[test]
    fn nodes_made_far_apart_in_time_are_laid_out_alike() {
        // Ids thousands apart, and a consumer made between two others: the same layout
        // as a graph made in one go.
        let a = delayed_value(1_i64);
        let made_between: Vec<Delayed<i64>> = (0..5000).map(delayed_value).collect();
        let b = a.map(|v| v + 1);
        drop(made_between);
        let made_between: Vec<Delayed<i64>> = (0..3000).map(delayed_value).collect();
        let c = &b + &a;
        let d = &c * &b;
        drop(made_between);
        let refs = [d.node(), a.node()];
        let layout = Layout::new(&refs).unwrap();
        let (names, deps, outputs) = shape(&layout);
        assert_eq!(names.len(), 4);
        // a, b (reads a), c (reads b, a), d (reads c, b).
        assert_eq!(deps, [vec![], vec![0], vec![1, 0], vec![2, 1]]);
        assert_eq!(outputs, [3, 0]);
        assert_eq!(layout.consumers(0), [1, 2]);
        assert_eq!(layout.consumers(1), [2, 3]);

        // A longer chain with ids spread out, its last node reading a node made long
        // before (further below the top id than the walk's table reaches: it goes in
        // the walk's map).
        drop((0..2 * SLACK).map(delayed_value).collect::<Vec<_>>());
        let mut x = a.clone();
        for step in 0..60 {
            if step % 10 == 0 {
                drop((0..3000).map(delayed_value).collect::<Vec<_>>());
            }
            x = x.map(|v| v + 1);
        }
        let y = &x + &a;
        let layout = Layout::new(&[y.node()]).unwrap();
        let (names, deps, outputs) = shape(&layout);
        assert_eq!(names.len(), 62);
        assert!(deps[0].is_empty());
        for (i, d) in deps.iter().enumerate().take(61).skip(1) {
            assert_eq!(d, &[i as u32 - 1]);
        }
        assert_eq!(deps[61], [60, 0]);
        assert_eq!(outputs, [61]);
        // Where the walk kept them: the chain in its table, `a` in its map.
        let mut seen = Seen::new(&[y.node()]);
        seen.set_entry(x.node().id(), 7, 62);
        seen.set_entry(a.node().id(), 9, 62);
        assert_eq!(seen.far.len(), 1);
        assert_eq!(
            (seen.entry(x.node().id()), seen.entry(a.node().id())),
            (7, 9)
        );
        assert_eq!(seen.entry(y.node().id()), UNSEEN);
    }
}

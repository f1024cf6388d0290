//! Lays a graph out for one run: every node reachable from the outputs gets an index, in
//! a depth-first post-order from the outputs (dependencies before their consumers, and the
//! inputs of one consumer next to each other, so that running in index order frees
//! intermediates soon: the idea behind `dask.order`). No recursion: a chain of a million
//! nodes is walked with an explicit stack.
//!
//! The walk remembers the index it gave each node by the node's id, in a table of
//! pages of ids (see [`Seen`]): ids are handed out in order and a graph is mostly built
//! in one go, so its ids are close together. No hashing a node (a third of a chain's time when nodes were
//! hashed by address), and nothing written into the nodes, so walks of the same graph
//! may run at once.

use super::adjacency::{Adjacency, index};
use super::node::{NodeDyn, NodeRef, ids_wrapped};
use rustc_hash::FxHashMap;
use std::cell::Cell;

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

/// Ids a page of [`Seen`]'s table covers (4 KB of entries).
const PAGE: usize = 256;

/// Entries a walk keeps in a list before it makes pages: a small graph's walk then
/// allocates nothing (a page made and zeroed was a fifth of a 3-task compute).
const FEW: usize = 16;

/// How many pages [`Seen::recent`] remembers.
const RECENT: usize = 64;

/// The walk's entry for each id it met: the first [`FEW`] in a list, then in pages of
/// [`PAGE`] ids, made as the walk meets ids in them, one after another in one table.
/// A graph's ids are mostly close together, so a page holds many of its nodes; a node
/// made long before the rest costs one page.
struct Seen {
    few: [(u64, u32); FEW],
    /// How many of `few` are in use; once the table has pages, `few` is not.
    few_len: usize,
    table: Vec<u32>,
    /// Where each page starts in `table`, by page number (`id / PAGE`).
    page_of: FxHashMap<u64, usize>,
    /// Pages looked up lately, by page number modulo [`RECENT`]: a walk goes back and
    /// forth between a few runs of ids (a tree's levels), each found without hashing.
    /// Made with the first page (a small graph's walk does not pay to fill it).
    recent: Box<[Cell<(u64, usize)>]>,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            few: [(0, UNSEEN); FEW],
            few_len: 0,
            table: Vec::new(),
            page_of: FxHashMap::default(),
            recent: Box::default(),
        }
    }

    /// Where `id`'s entry is in the table, if its page exists.
    #[inline]
    fn find(&self, id: u64) -> Option<usize> {
        let page = id / PAGE as u64;
        let recent = &self.recent[page as usize % RECENT];
        let (known, start) = recent.get();
        let start = if known == page {
            start
        } else {
            let start = *self.page_of.get(&page)?;
            recent.set((page, start));
            start
        };
        Some(start + (id % PAGE as u64) as usize)
    }

    #[inline]
    fn entry(&self, id: u64) -> u32 {
        if self.table.is_empty() {
            let few = &self.few[..self.few_len];
            return few.iter().find(|e| e.0 == id).map_or(UNSEEN, |e| e.1);
        }
        self.find(id).map_or(UNSEEN, |at| self.table[at])
    }

    fn set_entry(&mut self, id: u64, entry: u32) {
        if self.table.is_empty() {
            if let Some(e) = self.few[..self.few_len].iter_mut().find(|e| e.0 == id) {
                e.1 = entry;
                return;
            }
            if self.few_len < FEW {
                self.few[self.few_len] = (id, entry);
                self.few_len += 1;
                return;
            }
            // The graph is not small after all: move to pages.
            let at = self.new_page(id);
            self.table[at] = entry;
            for (id, entry) in self.few {
                self.set_entry(id, entry);
            }
            return;
        }
        let at = match self.find(id) {
            Some(at) => at,
            None => self.new_page(id),
        };
        self.table[at] = entry;
    }

    /// Makes the page of `id`; gives where its entry is.
    fn new_page(&mut self, id: u64) -> usize {
        if self.recent.is_empty() {
            self.recent = (0..RECENT).map(|_| Cell::new((u64::MAX, 0))).collect();
        }
        let start = self.table.len();
        self.table.resize(start + PAGE, UNSEEN);
        self.page_of.insert(id / PAGE as u64, start);
        start + (id % PAGE as u64) as usize
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
    fn set(&mut self, node: &NodeRef, met: Met) {
        let entry = match met {
            Met::Unseen => UNSEEN,
            Met::Started => STARTED_ENTRY,
            // Within u32: indices stay below `adjacency::MAX_INDEX`.
            Met::Placed(index) => index + 1,
        };
        self.set_entry(node.id(), entry);
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
            match seen.get(node, &nodes)? {
                // Placed already: a second path to it.
                Met::Placed(_) => {
                    stack.pop();
                }
                Met::Unseen => {
                    seen.set(node, Met::Started);
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
                    seen.set(node, Met::Placed(id));
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
        let consumers = Adjacency::transpose(&deps)?;
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
    fn a_tree_over_many_pages_lays_out_each_node_once_after_its_inputs() {
        // Leaves made first, each level of sums after: the walk goes back and forth
        // between as many runs of ids as the tree has levels, over dozens of pages.
        let leaves = 3000;
        let mut level: Vec<Delayed<i64>> = (0..leaves).map(delayed_value).collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => a + b,
                    [a] => a.clone(),
                    _ => unreachable!(),
                })
                .collect();
        }
        let root = &level[0];
        let layout = Layout::new(&[root.node()]).unwrap();
        assert_eq!(layout.len(), 2 * leaves as usize - 1);
        let mut addresses: Vec<*const ()> = layout.nodes.iter().map(|n| address(n)).collect();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), layout.len(), "a node laid out twice");
        for i in 0..layout.len() as u32 {
            assert!(layout.deps(i).iter().all(|&d| d < i));
            assert!(layout.consumers(i).iter().all(|&c| c > i));
        }
        assert_eq!(layout.outputs, [layout.len() as u32 - 1]);
    }

    #[test]
    fn an_old_node_met_early_and_again_after_a_long_chain_is_laid_out_once() {
        // `b` made first, `a` a while after, then a long chain: the walk meets `a`
        // while it knows few nodes, then the chain, then `b` (older still) and `a`
        // again. (A walk that kept far ids in a map and later grew its table over
        // them lost `a` there and laid it out twice.)
        let b = delayed_value(1_i64);
        drop((0..70_000).map(delayed_value).collect::<Vec<_>>());
        let a = delayed_value(2_i64);
        drop((0..70_000).map(delayed_value).collect::<Vec<_>>());
        let mut chain = delayed_value(0_i64);
        for _ in 0..200_000 {
            chain = chain.map(|v| v + 1);
        }
        let p = a.map(|v| v * 10);
        let q = &b + &a;
        let y = &(&p + &chain) + &q;
        let layout = Layout::new(&[y.node()]).unwrap();
        assert_eq!(layout.len(), 200_001 + 6);
        let mut addresses: Vec<*const ()> = layout.nodes.iter().map(|n| address(n)).collect();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), layout.len(), "a node laid out twice");
        drop(layout);
        assert_eq!(
            crate::compute_with(&y, crate::Scheduler::Sync).unwrap(),
            20 + 200_000 + 3
        );
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

        // A longer chain with ids spread over pages, its last node reading a node made
        // long before.
        drop((0..100 * PAGE).map(delayed_value).collect::<Vec<_>>());
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
        // Past its first few entries the walk keeps pages, one for each run of ids
        // it meets: `a`, made 100 pages before the chain, has a page of its own.
        let mut seen = Seen::new();
        let ids: Vec<u64> = [a.node().id(), x.node().id()]
            .into_iter()
            .chain((1..=FEW as u64).map(|k| x.node().id() - k))
            .collect();
        for (i, &id) in ids.iter().enumerate() {
            seen.set_entry(id, i as u32 + 1);
        }
        assert!(seen.page_of.contains_key(&(a.node().id() / PAGE as u64)));
        assert!(seen.page_of.len() >= 2);
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(seen.entry(id), i as u32 + 1);
        }
        assert_eq!(seen.entry(a.node().id() + 1), UNSEEN);
        assert_eq!(seen.entry(y.node().id() + 5 * PAGE as u64), UNSEEN);
    }
}

//! Lays a graph out for one run: every node reachable from the outputs gets an index, in
//! a depth-first post-order from the outputs (dependencies before their consumers, and the
//! inputs of one consumer next to each other, so that running in index order frees
//! intermediates soon: the idea behind `dask.order`). No recursion: a chain of a million
//! nodes is walked with an explicit stack.

use super::node::{NodeDyn, NodeRef};
use rustc_hash::FxHashMap;

/// The graph of one run, in compressed-row form.
pub(crate) struct Layout<'g> {
    pub(crate) nodes: Vec<&'g dyn NodeDyn>,
    dep_start: Vec<u32>,
    deps: Vec<u32>,
    consumer_start: Vec<u32>,
    consumers: Vec<u32>,
    /// The index of each requested output, in request order (repeats allowed).
    pub(crate) outputs: Vec<u32>,
}

const STARTED: u32 = u32::MAX;

impl<'g> Layout<'g> {
    pub(crate) fn new(outputs: &[&'g NodeRef]) -> Result<Layout<'g>, String> {
        let mut index: FxHashMap<*const (), u32> = FxHashMap::default();
        let mut nodes: Vec<&'g dyn NodeDyn> = Vec::new();
        let mut dep_start = vec![0_u32];
        let mut deps: Vec<u32> = Vec::new();
        // (node, expanded): a node is expanded once, then placed after its dependencies.
        let mut stack: Vec<(&'g NodeRef, bool)> = Vec::new();
        let mut children: Vec<&'g NodeRef> = Vec::new();

        for &out in outputs.iter().rev() {
            stack.push((out, false));
        }
        while let Some((node, expanded)) = stack.pop() {
            let key = address(node);
            if !expanded {
                if index.contains_key(&key) {
                    continue;
                }
                index.insert(key, STARTED);
                stack.push((node, true));
                children.clear();
                node.visit_deps(&mut |d| children.push(d));
                // Reversed, so the first argument is walked (and numbered) first.
                for &child in children.iter().rev() {
                    if !index.contains_key(&address(child)) {
                        stack.push((child, false));
                    }
                }
                continue;
            }
            let id = u32::try_from(nodes.len())
                .ok()
                .filter(|&i| i < STARTED)
                .ok_or("a graph of more than 4 billion tasks")?;
            let mut missing = false;
            node.visit_deps(&mut |d| match index.get(&address(d)) {
                Some(&i) if i != STARTED => deps.push(i),
                _ => missing = true,
            });
            if missing {
                return Err(format!("dependency of {} not laid out first", node.name()));
            }
            index.insert(key, id);
            nodes.push(&**node);
            dep_start.push(len_u32(deps.len())?);
        }

        let outputs = outputs
            .iter()
            .map(|o| index[&address(o)])
            .collect::<Vec<_>>();
        // The walk is done: let its index go, and give back what the tables' doubling
        // left unused, before the run allocates its own state (a graph of ten million
        // nodes reaches its peak memory here).
        drop(index);
        nodes.shrink_to_fit();
        deps.shrink_to_fit();
        dep_start.shrink_to_fit();

        // Consumers: the transpose of the dependency table, by counting sort.
        let n = nodes.len();
        let mut consumer_start = vec![0_u32; n + 1];
        for &d in &deps {
            consumer_start[d as usize + 1] += 1;
        }
        for i in 0..n {
            consumer_start[i + 1] += consumer_start[i];
        }
        let mut fill = consumer_start.clone();
        let mut consumers = vec![0_u32; deps.len()];
        for node in 0..n {
            for &d in &deps[dep_start[node] as usize..dep_start[node + 1] as usize] {
                consumers[fill[d as usize] as usize] = len_u32(node)?;
                fill[d as usize] += 1;
            }
        }

        Ok(Layout {
            nodes,
            dep_start,
            deps,
            consumer_start,
            consumers,
            outputs,
        })
    }

    /// The dependency table in compressed rows: offsets (`len() + 1`) and indices.
    pub(crate) fn dep_table(&self) -> (&[u32], &[u32]) {
        (&self.dep_start, &self.deps)
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The dependencies of node `i`, in argument order (repeats allowed).
    pub(crate) fn deps(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.deps[self.dep_start[i] as usize..self.dep_start[i + 1] as usize]
    }

    /// The nodes that read node `i`, once per read.
    pub(crate) fn consumers(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.consumers[self.consumer_start[i] as usize..self.consumer_start[i + 1] as usize]
    }
}

fn address(node: &NodeRef) -> *const () {
    std::sync::Arc::as_ptr(node).cast::<()>()
}

fn len_u32(n: usize) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| "a graph of more than 4 billion edges".to_owned())
}

//! Which process (MPI rank) runs each task. Every rank computes the same placement from
//! the same graph, so no rank has to be told.
//!
//! 1. A task whose output cannot cross processes (no codec: not `#[delayed(distributed)]`,
//!    not an array block) runs on the rank of its readers: it and its readers are one
//!    group, placed together. A group holding such an output runs on every rank (each
//!    rank needs the output and it cannot be sent), its inputs sent to all; or on rank
//!    0 when only rank 0 takes the results.
//! 2. An array block task is placed by its block index, the same for every layer
//!    (owner computes): block `(i, j)` of `x`, of `x + 1` and of `(x + 1) * 2` share a
//!    rank, so blockwise work never crosses.
//! 3. Every other task goes where it would finish earliest, taken longest remaining
//!    path first (HEFT's list scheduling, with every task one unit of time, `threads`
//!    slots a rank, and one unit to move a value between ranks): the critical path is
//!    placed before the work that can wait, a chain stays on one rank since moving
//!    costs more than waiting, and independent tasks spread, ties going to the rank
//!    with fewer tasks.

use crate::graph::Layout;

/// Where each task of a run goes: `owner[i]` is node `i`'s rank, or [`EVERY_RANK`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Placement {
    pub(crate) owner: Vec<u32>,
}

/// The owner of a task that every rank runs (an output that cannot be sent).
pub(crate) const EVERY_RANK: u32 = u32::MAX;

/// What placement needs to know of a node besides the graph's edges.
pub(crate) struct NodeTraits {
    /// The output has a codec: it may cross ranks.
    pub(crate) crosses: bool,
    /// An array block's index, for owner-computes.
    pub(crate) block: Option<Vec<usize>>,
}

/// The time one task takes, and moving one value between ranks, in the model.
const TASK: u64 = 1;
const MOVE: u64 = 1;

/// Places the `n` nodes of `layout` on `ranks` ranks of `threads` workers each.
/// `outputs_to`: the rank the outputs go to, or [`EVERY_RANK`].
pub(crate) fn place(
    layout: &Layout<'_>,
    traits: &[NodeTraits],
    ranks: u32,
    threads: usize,
    outputs_to: u32,
) -> Placement {
    let n = layout.len();
    let ranks = ranks.max(1);
    // 1. Groups: a node that cannot cross joins its readers.
    let mut groups = UnionFind::new(n);
    for (i, t) in traits.iter().enumerate() {
        if !t.crosses {
            for &c in layout.consumers(i as u32) {
                groups.union(i, c as usize);
            }
        }
    }
    let mut group_owner: Vec<Option<u32>> = vec![None; n];
    if ranks > 1 {
        for &o in &layout.outputs {
            if !traits[o as usize].crosses {
                let g = groups.find(o as usize);
                group_owner[g] = Some(outputs_to);
            }
        }
    }
    let mut owner = vec![0_u32; n];
    let mut finish = vec![0_u64; n];
    let mut slots: Vec<Vec<u64>> = vec![vec![0; threads.max(1)]; ranks as usize];
    let mut load = vec![0_usize; ranks as usize];
    for i in longest_path_first(layout) {
        let g = groups.find(i);
        if group_owner[g] == Some(EVERY_RANK) {
            owner[i] = EVERY_RANK;
            finish[i] = ready_on(layout, i, EVERY_RANK, &owner, &finish) + TASK;
            continue;
        }
        let chosen = match (group_owner[g], &traits[i].block) {
            (Some(r), _) => r,
            (None, Some(idx)) => block_rank(idx, ranks),
            (None, None) => (0..ranks)
                .min_by_key(|&r| {
                    (
                        earliest_finish(layout, i, r, &owner, &finish, &slots),
                        load[r as usize],
                        r,
                    )
                })
                .unwrap_or(0),
        };
        group_owner[g] = Some(chosen);
        owner[i] = chosen;
        let done = earliest_finish(layout, i, chosen, &owner, &finish, &slots);
        finish[i] = done;
        let rank_slots = &mut slots[chosen as usize];
        if let Some(slot) = rank_slots.iter_mut().min() {
            *slot = done;
        }
        load[chosen as usize] += 1;
    }
    Placement { owner }
}

/// When node `i` would finish on rank `r`: its inputs there, and a free worker.
fn earliest_finish(
    layout: &Layout<'_>,
    i: usize,
    r: u32,
    owner: &[u32],
    finish: &[u64],
    slots: &[Vec<u64>],
) -> u64 {
    let free = slots[r as usize].iter().copied().min().unwrap_or(0);
    free.max(ready_on(layout, i, r, owner, finish)) + TASK
}

/// When node `i`'s inputs would all be on rank `r`.
fn ready_on(layout: &Layout<'_>, i: usize, r: u32, owner: &[u32], finish: &[u64]) -> u64 {
    layout
        .deps(i as u32)
        .iter()
        .map(|&d| {
            let here = owner[d as usize] == r || owner[d as usize] == EVERY_RANK;
            finish[d as usize] + if here { 0 } else { MOVE }
        })
        .max()
        .unwrap_or(0)
}

/// The nodes by decreasing longest path to an output (HEFT's upward rank), ties in
/// layout order: dependencies still come before their readers.
fn longest_path_first(layout: &Layout<'_>) -> Vec<usize> {
    let n = layout.len();
    let mut up = vec![0_u64; n];
    for i in (0..n).rev() {
        let after = layout
            .consumers(i as u32)
            .iter()
            .map(|&c| up[c as usize] + MOVE)
            .max()
            .unwrap_or(0);
        up[i] = TASK + after;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(up[i]), i));
    order
}

/// The rank of an array block: a mix of its index, so neighbouring blocks spread.
fn block_rank(idx: &[usize], ranks: u32) -> u32 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for &i in idx {
        h = (h ^ i as u64).wrapping_mul(0x0100_0000_01b3);
        h ^= h >> 29;
    }
    (h % u64::from(ranks)) as u32
}

/// An array block task's index, from its key `('add-…', 0, 1)`.
pub(crate) fn block_index(key: &str) -> Option<Vec<usize>> {
    let inner = key.strip_prefix("('")?.strip_suffix(')')?;
    let (_, rest) = inner.split_once('\'')?;
    rest.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

/// Disjoint sets of nodes, with path halving.
struct UnionFind(Vec<usize>);

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind((0..n).collect())
    }
    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        // The earlier node roots the group: groups are placed when first met.
        let (low, high) = (a.min(b), a.max(b));
        self.0[high] = low;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NodeRef;
    use crate::{Delayed, delayed_value};

    fn plan(
        outputs: &[&NodeRef],
        crosses: impl Fn(&str) -> bool,
        ranks: u32,
    ) -> Vec<(String, u32)> {
        let layout = Layout::new(outputs).unwrap();
        let traits: Vec<NodeTraits> = layout
            .nodes
            .iter()
            .map(|n| NodeTraits {
                crosses: crosses(n.name()),
                block: block_index(&n.key()),
            })
            .collect();
        let placement = place(&layout, &traits, ranks, 1, EVERY_RANK);
        layout
            .nodes
            .iter()
            .zip(placement.owner)
            .map(|(n, r)| (n.name().to_owned(), r))
            .collect()
    }

    fn inc(x: &Delayed<i64>) -> Delayed<i64> {
        x.map(|v| v + 1)
    }

    #[test]
    fn independent_tasks_spread_and_a_chain_stays_on_one_rank() {
        let leaves: Vec<Delayed<i64>> = (0..6).map(delayed_value).collect();
        let nodes: Vec<&NodeRef> = leaves.iter().map(Delayed::node).collect();
        let placed = plan(&nodes, |_| true, 2);
        let on = |r| placed.iter().filter(|(_, o)| *o == r).count();
        assert_eq!((on(0), on(1)), (3, 3), "{placed:?}");

        let mut x = delayed_value(0_i64);
        for _ in 0..20 {
            x = inc(&x);
        }
        let placed = plan(&[x.node()], |_| true, 3);
        assert!(placed.iter().all(|(_, r)| *r == placed[0].1), "{placed:?}");
    }

    #[test]
    fn a_value_that_cannot_cross_stays_with_its_readers() {
        let a = delayed_value(1_i64);
        let b = delayed_value(2_i64);
        let local = a.map(|v| v * 10); // "map": no codec
        let sum = &local + &b;
        let placed = plan(&[sum.node()], |name| name != "map", 2);
        let rank_of = |name: &str| placed.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(rank_of("map"), rank_of("add"), "{placed:?}");
        assert_ne!(rank_of("add"), EVERY_RANK);
    }

    #[test]
    fn an_output_that_cannot_cross_runs_on_every_rank() {
        let a = delayed_value(1_i64);
        let b = delayed_value(2_i64);
        let sum = &a + &b;
        let shown = sum.map(|v| v.to_string()); // "map": no codec, an output
        let placed = plan(&[shown.node()], |name| name != "map", 3);
        let rank_of = |name: &str| placed.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(rank_of("map"), EVERY_RANK, "{placed:?}");
        assert_ne!(
            rank_of("add"),
            EVERY_RANK,
            "its input is made once, then sent"
        );
        // One process: nothing to replicate.
        let alone = plan(&[shown.node()], |name| name != "map", 1);
        assert!(alone.iter().all(|(_, r)| *r == 0), "{alone:?}");
    }

    #[test]
    fn the_longest_path_is_placed_first() {
        // A long chain and a lone leaf: the chain's head goes first, to the idle rank 0.
        let lone = delayed_value(0_i64);
        let mut chain = delayed_value(1_i64);
        for _ in 0..5 {
            chain = inc(&chain);
        }
        let layout = Layout::new(&[lone.node(), chain.node()]).unwrap();
        let order = longest_path_first(&layout);
        let first = layout.node(order[0]).id();
        let chain_head = layout.node(1).id(); // the lone leaf is laid out first
        assert_eq!(first, chain_head);
        assert!(order.iter().enumerate().all(|(at, &i)| {
            layout
                .deps(i as u32)
                .iter()
                .all(|&d| order[..at].contains(&(d as usize)))
        }));
    }

    #[test]
    fn array_blocks_go_by_index_whatever_their_layer() {
        assert_eq!(block_index("('add-00ff', 0, 12)"), Some(vec![0, 12]));
        assert_eq!(block_index("('sum-00ff',)"), Some(vec![]));
        assert_eq!(block_index("inc-9e3779b97f4a7c15"), None);
        let spread: std::collections::HashSet<u32> =
            (0..8).map(|i| block_rank(&[i, 0], 4)).collect();
        assert!(spread.len() >= 3, "{spread:?}");
        assert_eq!(block_rank(&[3, 1], 4), block_rank(&[3, 1], 4));
    }
}

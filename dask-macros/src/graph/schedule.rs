//! How a plan's nodes run: nested sequences and joins worked out from the dependency
//! table. Ancestor sets are bitsets, and chains are cut at their sequence points in one
//! pass, so a plan of thousands of nodes is scheduled in milliseconds (the first version
//! peeled a chain one node a level, rebuilding every ancestor set each time: cubic).

use std::collections::{BTreeSet, HashMap};

/// How the generated code runs a set of nodes: one after another, or branches at once
/// (each branch handing back the values later steps read).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Schedule {
    Run(usize),
    Seq(Vec<Schedule>),
    Par(Vec<(Vec<usize>, Schedule)>),
}

/// A set of node indices, one bit a node.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn union_with(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
    fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
    fn is_subset(&self, other: &Bits) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a & !b == 0)
    }
    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            (0..64)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }
}

/// For every node (indices of `deps`), its ancestors inside `within` (all nodes when
/// `within` is `None`). Nodes are numbered in block order: dependencies come first.
fn ancestors(deps: &[Vec<usize>], within: Option<&BTreeSet<usize>>) -> Vec<Bits> {
    let n = deps.len();
    let mut ancestors: Vec<Bits> = Vec::with_capacity(n);
    for (i, reads) in deps.iter().enumerate() {
        let mut set = Bits::new(n);
        if within.is_none_or(|w| w.contains(&i)) {
            for &d in reads
                .iter()
                .filter(|d| within.is_none_or(|w| w.contains(d)))
            {
                set.insert(d);
                set.union_with(&ancestors[d]);
            }
        }
        ancestors.push(set);
    }
    ancestors
}

/// Splits the work of producing `targets` into nested sequences and joins: independent
/// parts (no shared dependency) run at once; within a connected part, its sequence
/// points (nodes every other node of the part comes before or after) cut it into a
/// sequence; failing that, shared sources run first, or the nodes nobody else in it
/// reads run last, after everything they need. Works on any DAG; a graph that is not
/// series-parallel gets some waits it does not need (see [`is_exact`]).
pub(crate) fn schedule(
    deps: &[Vec<usize>],
    targets: &BTreeSet<usize>,
    done: &BTreeSet<usize>,
) -> Schedule {
    let mut needed = BTreeSet::new();
    let mut stack: Vec<usize> = targets.iter().copied().collect();
    while let Some(n) = stack.pop() {
        if done.contains(&n) || !needed.insert(n) {
            continue;
        }
        stack.extend(deps[n].iter().copied());
    }
    if needed.is_empty() {
        return Schedule::Seq(Vec::new());
    }

    let parts = components(deps, &needed);
    if parts.len() > 1 {
        return Schedule::Par(
            parts
                .into_iter()
                .map(|part| {
                    let part_targets: BTreeSet<usize> =
                        targets.intersection(&part).copied().collect();
                    let exports = part_targets.iter().copied().collect();
                    (exports, schedule(deps, &part_targets, done))
                })
                .collect(),
        );
    }

    let ancestors = ancestors(deps, Some(&needed));
    if let Some(steps) = by_sequence_points(deps, targets, done, &needed, &ancestors) {
        return steps;
    }

    // A connected part. If every node in it depends on all of its sources (a shared
    // input, a fan-out's top), run the sources first: nothing waits needlessly, and
    // what is left may split into independent parts.
    let sources: Vec<usize> = needed
        .iter()
        .copied()
        .filter(|&n| deps[n].iter().all(|d| !needed.contains(d)))
        .collect();
    let sources_first = needed
        .iter()
        .filter(|n| !sources.contains(n))
        .all(|&n| sources.iter().all(|&s| ancestors[n].contains(s)));
    if sources_first {
        let mut steps = vec![run_at_once(&sources)];
        let mut done = done.clone();
        done.extend(sources.iter().copied());
        match schedule(deps, targets, &done) {
            Schedule::Seq(rest) => steps.extend(rest),
            other => steps.push(other),
        }
        return seq(steps);
    }

    // Otherwise the nodes no one else in the part reads run last, after all they need
    // (a tree's root after its subtrees). Always correct; exact for trees.
    let read_inside: BTreeSet<usize> = needed
        .iter()
        .flat_map(|&n| deps[n].iter().copied())
        .filter(|d| needed.contains(d))
        .collect();
    let last: Vec<usize> = needed.difference(&read_inside).copied().collect();
    let before_targets: BTreeSet<usize> = targets
        .iter()
        .filter(|t| !last.contains(t))
        .copied()
        .chain(
            last.iter()
                .flat_map(|&n| deps[n].iter().copied())
                .filter(|d| needed.contains(d)),
        )
        .collect();
    let mut steps = match schedule(deps, &before_targets, done) {
        Schedule::Seq(steps) => steps,
        other => vec![other],
    };
    steps.push(run_at_once(&last));
    seq(steps)
}

/// Cuts a connected part at its sequence points (nodes that every other node of the
/// part either comes before or after: a chain is all sequence points), scheduling the
/// stretches between them on their own. `None` when the part has none.
fn by_sequence_points(
    deps: &[Vec<usize>],
    targets: &BTreeSet<usize>,
    done: &BTreeSet<usize>,
    needed: &BTreeSet<usize>,
    ancestors: &[Bits],
) -> Option<Schedule> {
    let mut descendants = vec![0_usize; deps.len()];
    for &n in needed {
        for a in ancestors[n].ones() {
            descendants[a] += 1;
        }
    }
    let points: Vec<usize> = needed
        .iter()
        .copied()
        .filter(|&p| ancestors[p].count() + descendants[p] + 1 == needed.len())
        .collect();
    if points.is_empty() {
        return None;
    }
    // The stretch before each point (its ancestors not yet run), the point, and after
    // the last point whatever is left.
    let mut steps = Vec::new();
    let mut ran = done.clone();
    let stretch = |members: BTreeSet<usize>, ran: &BTreeSet<usize>| -> Option<Schedule> {
        if members.is_empty() {
            return None;
        }
        // What the stretch must hand on: its nodes read from outside it, or asked for.
        let mut outputs: BTreeSet<usize> = targets.intersection(&members).copied().collect();
        for &n in needed.iter().filter(|n| !members.contains(n)) {
            outputs.extend(deps[n].iter().filter(|d| members.contains(d)));
        }
        Some(schedule(deps, &outputs, ran))
    };
    for &p in &points {
        let before: BTreeSet<usize> = ancestors[p].ones().filter(|a| !ran.contains(a)).collect();
        let members = before.clone();
        if let Some(s) = stretch(members, &ran) {
            steps.push(s);
        }
        ran.extend(before);
        steps.push(Schedule::Run(p));
        ran.insert(p);
    }
    let after: BTreeSet<usize> = needed
        .iter()
        .copied()
        .filter(|n| !ran.contains(n))
        .collect();
    if let Some(s) = stretch(after, &ran) {
        steps.push(s);
    }
    // Flatten nested sequences: one level of `Seq` for the whole chain.
    let flat = steps
        .into_iter()
        .flat_map(|s| match s {
            Schedule::Seq(inner) => inner,
            other => vec![other],
        })
        .collect();
    Some(seq(flat))
}

fn run_at_once(nodes: &[usize]) -> Schedule {
    match nodes {
        [one] => Schedule::Run(*one),
        many => Schedule::Par(many.iter().map(|&n| (vec![n], Schedule::Run(n))).collect()),
    }
}

fn seq(mut steps: Vec<Schedule>) -> Schedule {
    if steps.len() == 1 {
        steps.pop().unwrap_or(Schedule::Seq(Vec::new()))
    } else {
        Schedule::Seq(steps)
    }
}

/// The weakly connected parts of `nodes` (edges between them only), in node order.
fn components(deps: &[Vec<usize>], nodes: &BTreeSet<usize>) -> Vec<BTreeSet<usize>> {
    let index: HashMap<usize, usize> = nodes.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut parent: Vec<usize> = (0..nodes.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (&n, &i) in &index {
        for d in &deps[n] {
            if let Some(&j) = index.get(d) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut parts: Vec<BTreeSet<usize>> = Vec::new();
    let mut part_of: HashMap<usize, usize> = HashMap::new();
    for &n in nodes {
        let r = root(&mut parent, index[&n]);
        let p = *part_of.entry(r).or_insert_with(|| {
            parts.push(BTreeSet::new());
            parts.len() - 1
        });
        parts[p].insert(n);
    }
    parts
}

/// Whether `schedule` makes each node wait only for nodes it depends on.
pub(crate) fn is_exact(deps: &[Vec<usize>], schedule: &Schedule) -> bool {
    let n = deps.len();
    let ancestors = ancestors(deps, None);
    /// Checks each node run against what ran before it; returns what `s` ran.
    fn walk(s: &Schedule, before: &Bits, ancestors: &[Bits], exact: &mut bool) -> Bits {
        match s {
            Schedule::Run(n) => {
                if !before.is_subset(&ancestors[*n]) {
                    *exact = false;
                }
                let mut ran = Bits::new(before.0.len() * 64);
                ran.insert(*n);
                ran
            }
            Schedule::Seq(steps) => {
                let mut before = before.clone();
                let mut all = Bits::new(before.0.len() * 64);
                for step in steps {
                    let ran = walk(step, &before, ancestors, exact);
                    before.union_with(&ran);
                    all.union_with(&ran);
                }
                all
            }
            Schedule::Par(branches) => {
                let mut all = Bits::new(before.0.len() * 64);
                for (_, branch) in branches {
                    all.union_with(&walk(branch, before, ancestors, exact));
                }
                all
            }
        }
    }
    let mut exact = true;
    walk(schedule, &Bits::new(n), &ancestors, &mut exact);
    exact
}

/// The number of nodes on the longest dependency chain.
pub(crate) fn critical_path_len(deps: &[Vec<usize>]) -> usize {
    let mut depth = vec![0_usize; deps.len()];
    for i in 0..deps.len() {
        depth[i] = 1 + deps[i].iter().map(|&d| depth[d]).max().unwrap_or(0);
    }
    depth.into_iter().max().unwrap_or(0)
}

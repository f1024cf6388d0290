//! From layers to tasks, at compute time, over everything being computed together.
//!
//! 1. The layers reachable from the outputs, each once per token (equal expressions
//!    built twice are one layer).
//! 2. The blocks the outputs need, walked from the outputs down, counting each block's
//!    consumers in this compute.
//! 3. Fusion (Dask's `fuse`/`optimize_blockwise` rule): a block with exactly one
//!    consumer is made inside its consumer's task when the consumer is blockwise or
//!    reads only it, up to [`MAX_FUSED_DEPTH`] steps a task. A block with several
//!    consumers is its own task: made once, handed to each, freed after the last.
//! 4. One graph node per task, keyed as Dask keys the block it makes:
//!    `('add-<token>', 0, 1)`. A reduction step whose fused input is made only of
//!    generators and elementwise steps (over blocks other tasks made, read through
//!    windows, never copied) folds it a strip at a time and never makes the whole
//!    block; a generated block read only by several reductions (`(x.mean(),
//!    x.std())`) is one task that folds each strip into all of them, and a small
//!    projection task hands each its result.
//! 5. Tile groups: when up to [`MAX_GROUP`] reductions read up to as many blocks that
//!    nothing else reads, some through a transpose (`(x + x.t()).mean()` reads `x[i,
//!    j]` and `x[j, i]` in blocks `(i, j)` and `(j, i)`), one task makes those blocks
//!    and folds the reductions a tile at a time, each input tile read once
//!    (`tiles.rs`); projections hand each reduction its result.
//!
//! Everything here is iterative: a million-layer chain needs no deep stack.

use super::layer::{BlockValue, Layer, Token, block, flat_index, typed, unflatten};
use super::stream::fold_made;
use super::wire::BLOCK_WIRE;
use crate::Error;
use crate::delayed::{Arg, Delayed};
use crate::error::BoxError;
use crate::graph::{NodeRef, keyed_node, wired_node};
use std::collections::HashMap;
use std::sync::Arc;

/// The most steps fused into one task: bounds a task's work list and the recursion
/// that runs it (Dask bounds `fuse`'s depth the same way).
pub(crate) const MAX_FUSED_DEPTH: u32 = 32;

/// The most reductions, and the most blocks made for them, in one tile group: a pair
/// of mirrored blocks. (A larger group would hold more blocks at once in one task.)
const MAX_GROUP: usize = 2;

struct Planned {
    layer: Arc<Layer>,
    grid: Vec<usize>,
    /// Planned ids of the layer's inputs.
    inputs: Vec<usize>,
    blocks: Vec<Block>,
}

#[derive(Default)]
struct Block {
    needed: bool,
    output: bool,
    /// The blocks that read this one, once for each time they read it.
    consumers: Vec<(usize, usize)>,
    /// Whether the (first) consumer may take this block into its task.
    consumer_fuses: bool,
    deps: Vec<(usize, usize)>,
    fused: bool,
    depth: u32,
    /// Made from nothing by regional steps only (generators, elementwise steps).
    pure: bool,
    /// Made a strip at a time and folded by each of its consumers, all streaming
    /// reductions, in one task.
    shared_stream: bool,
    /// This block is output `k` of its input's shared-stream task.
    projection: Option<usize>,
    /// The tile group this block is made in, or folded by (see [`Group`]).
    group: Option<usize>,
    node: Option<NodeRef>,
}

/// Streaming reductions folded a tile at a time in one task, which first makes the
/// blocks they read (nothing else reads them).
struct Group {
    /// The reductions' blocks, as (layer, block): output `k` of the task is `members[k]`.
    members: Vec<(usize, usize)>,
    /// The blocks the task makes whole, read only by the members.
    made: Vec<(usize, usize)>,
    node: Option<NodeRef>,
}

/// The task nodes of every block of each root, row-major, planned together.
pub(crate) fn lower(roots: &[Arc<Layer>]) -> Result<Vec<Vec<NodeRef>>, Error> {
    let (mut planned, ids) = discover(roots);
    let root_ids: Vec<usize> = roots.iter().map(|r| ids[&r.token]).collect();
    for &id in &root_ids {
        for b in &mut planned[id].blocks {
            b.needed = true;
            b.output = true;
        }
    }
    count_consumers(&mut planned)?;
    choose_fusion(&mut planned);
    let mut groups = choose_groups(&mut planned);
    build_nodes(&mut planned, &mut groups)?;
    root_ids
        .iter()
        .map(|&id| {
            planned[id]
                .blocks
                .iter()
                .map(|b| {
                    b.node
                        .clone()
                        .ok_or_else(|| Error::Internal("an output block has no task".into()))
                })
                .collect()
        })
        .collect()
}

/// The layers under `roots`, each once, inputs before consumers.
fn discover(roots: &[Arc<Layer>]) -> (Vec<Planned>, HashMap<Token, usize>) {
    let mut ids: HashMap<Token, usize> = HashMap::new();
    let mut seen: std::collections::HashSet<Token> = std::collections::HashSet::new();
    let mut planned: Vec<Planned> = Vec::new();
    for root in roots {
        if !seen.insert(root.token) {
            continue;
        }
        let mut stack: Vec<(&Arc<Layer>, usize)> = vec![(root, 0)];
        while let Some((layer, next)) = stack.last_mut() {
            let layer: &Arc<Layer> = layer;
            if let Some(child) = layer.inputs.get(*next) {
                *next += 1;
                if seen.insert(child.token) {
                    stack.push((child, 0));
                }
                continue;
            }
            // Every input was given an id before: layers form no cycles.
            let inputs = layer.inputs.iter().map(|i| ids[&i.token]).collect();
            let grid = layer.grid();
            let n: usize = grid.iter().product();
            ids.insert(layer.token, planned.len());
            planned.push(Planned {
                layer: Arc::clone(layer),
                grid,
                inputs,
                blocks: (0..n).map(|_| Block::default()).collect(),
            });
            stack.pop();
        }
    }
    (planned, ids)
}

/// Walks from the outputs down: which blocks are needed, and how many consumers each has.
fn count_consumers(planned: &mut [Planned]) -> Result<(), Error> {
    let mut deps = Vec::new();
    for id in (0..planned.len()).rev() {
        let (below, rest) = planned.split_at_mut(id);
        let p = &mut rest[0];
        for flat in 0..p.blocks.len() {
            if !p.blocks[flat].needed {
                continue;
            }
            let idx = unflatten(&p.grid, flat);
            deps.clear();
            if p.layer.op.external().is_none() {
                p.layer.op.deps(&p.layer, &idx, &mut deps);
            }
            let fuses = p.layer.op.blockwise() || deps.len() == 1;
            let mut list = Vec::with_capacity(deps.len());
            for (input, dep_idx) in deps.drain(..) {
                let dep_id = *p.inputs.get(input).ok_or_else(|| {
                    Error::Internal(format!("{} read input {input}", p.layer.label))
                })?;
                let q = &mut below[dep_id];
                let in_range = dep_idx.len() == q.grid.len()
                    && dep_idx.iter().zip(&q.grid).all(|(i, g)| i < g);
                if !in_range {
                    return Err(Error::Internal(format!(
                        "{} read block {dep_idx:?} of a grid {:?}",
                        p.layer.label, q.grid
                    )));
                }
                let dep_flat = flat_index(&q.grid, &dep_idx);
                let b = &mut q.blocks[dep_flat];
                b.needed = true;
                if b.consumers.is_empty() {
                    b.consumer_fuses = fuses;
                }
                b.consumers.push((id, flat));
                list.push((dep_id, dep_flat));
            }
            p.blocks[flat].deps = list;
        }
    }
    Ok(())
}

/// Marks the blocks made inside their consumer's task, and those streamed into
/// several reductions at once, inputs first.
fn choose_fusion(planned: &mut [Planned]) {
    for id in 0..planned.len() {
        let (below, rest) = planned.split_at_mut(id);
        let Some((p, above)) = rest.split_first_mut() else {
            continue;
        };
        let external = p.layer.op.external().is_some();
        let regional = p.layer.op.regional().is_some();
        for b in p.blocks.iter_mut().filter(|b| b.needed) {
            let (mut deepest, mut pure) = (0, regional);
            for &(l, f) in &b.deps {
                let d = &below[l].blocks[f];
                deepest = deepest.max(if d.fused { d.depth } else { 0 });
                pure &= d.fused && d.pure;
            }
            b.depth = deepest + 1;
            b.pure = pure;
            b.fused = !b.output
                && !external
                && b.projection.is_none()
                && b.consumers.len() == 1
                && b.consumer_fuses
                && b.depth < MAX_FUSED_DEPTH;
            // Several reductions of one generated block: fold each strip into all.
            b.shared_stream = !b.output
                && b.pure
                && b.consumers.len() > 1
                && b.consumers.iter().all(|&(l, f)| {
                    let c = &above[l - id - 1];
                    c.layer.op.streaming().is_some() && c.blocks[f].deps.len() == 1
                });
            if b.shared_stream {
                for (k, &(l, f)) in b.consumers.iter().enumerate() {
                    above[l - id - 1].blocks[f].projection = Some(k);
                }
            }
        }
    }
}

/// Finds the tile groups and marks their blocks.
fn choose_groups(planned: &mut [Planned]) -> Vec<Group> {
    // The task each needed block is made in: its own, or its (only) consumer's.
    let mut task_of: Vec<Vec<(usize, usize)>> = planned
        .iter()
        .map(|p| vec![(usize::MAX, 0); p.blocks.len()])
        .collect();
    for id in (0..planned.len()).rev() {
        for (f, b) in planned[id].blocks.iter().enumerate() {
            task_of[id][f] = match b.consumers.first() {
                Some(&(l, g)) if b.fused => task_of[l][g],
                _ => (id, f),
            };
        }
    }
    let mut groups = Vec::new();
    for id in 0..planned.len() {
        for f in 0..planned[id].blocks.len() {
            if let Some(group) = group_from(planned, &task_of, (id, f)) {
                for &(l, g) in group.members.iter().chain(&group.made) {
                    planned[l].blocks[g].group = Some(groups.len());
                }
                groups.push(group);
            }
        }
    }
    groups
}

/// Whether block `(l, f)` is a task of its own that no other plan (a shared stream, a
/// projection, another group, an output, an existing node) has claimed.
fn unclaimed_task(planned: &[Planned], (l, f): (usize, usize)) -> bool {
    let b = &planned[l].blocks[f];
    b.needed
        && !b.fused
        && !b.output
        && b.group.is_none()
        && b.projection.is_none()
        && !b.shared_stream
        && planned[l].layer.op.external().is_none()
}

/// Whether block `(l, f)` is a reduction a tile group can fold: a streaming task whose
/// parts may come in any order, over a 2-d input.
fn groupable_reduction(planned: &[Planned], (l, f): (usize, usize)) -> bool {
    let [(dl, _)] = planned[l].blocks[f].deps[..] else {
        return false;
    };
    unclaimed_task(planned, (l, f))
        && planned[l]
            .layer
            .op
            .streaming()
            .is_some_and(|s| s.any_order())
        && planned[dl].grid.len() == 2
}

/// Whether block `(l, f)` can be made whole inside a tile group's task.
fn groupable_block(planned: &[Planned], (l, f): (usize, usize)) -> bool {
    unclaimed_task(planned, (l, f)) && !planned[l].layer.op.unknown_chunks()
}

/// The blocks made by other tasks that the fused tree of block `(l, f)` reads (pushed to
/// `leaves`), and whether some step of it permutes its input; `None` if a step of the
/// tree cannot make any region (it is not regional).
fn tree_leaves(
    planned: &[Planned],
    (l, f): (usize, usize),
    leaves: &mut Vec<(usize, usize)>,
) -> Option<bool> {
    let b = &planned[l].blocks[f];
    if !b.fused {
        leaves.push((l, f));
        return Some(false);
    }
    let regional = planned[l].layer.op.regional()?;
    let mut permutes = regional.permutes();
    for &dep in &b.deps {
        permutes |= tree_leaves(planned, dep, leaves)?;
    }
    Some(permutes)
}

/// The tile group that reduction `start` begins, if it makes one: the reductions and
/// blocks that read each other's blocks, at most [`MAX_GROUP`] of each, nothing else
/// reading those blocks, and some tile read through a permutation (else strips do as
/// well).
fn group_from(
    planned: &[Planned],
    task_of: &[Vec<(usize, usize)>],
    start: (usize, usize),
) -> Option<Group> {
    if !groupable_reduction(planned, start) {
        return None;
    }
    let (mut members, mut made) = (vec![start], Vec::new());
    let (mut next, mut permutes) = (0, false);
    let mut leaves = Vec::new();
    while let Some(&(l, f)) = members.get(next) {
        next += 1;
        leaves.clear();
        permutes |= tree_leaves(planned, planned[l].blocks[f].deps[0], &mut leaves)?;
        for &leaf in &leaves {
            if made.contains(&leaf) {
                continue;
            }
            if !groupable_block(planned, leaf) || made.len() == MAX_GROUP {
                return None;
            }
            made.push(leaf);
            for &(cl, cf) in &planned[leaf.0].blocks[leaf.1].consumers {
                let task = task_of[cl][cf];
                if members.contains(&task) {
                    continue;
                }
                if !groupable_reduction(planned, task) || members.len() == MAX_GROUP {
                    return None;
                }
                members.push(task);
            }
        }
    }
    // A tree with no block made by another task (`x.t().sum()` of a generated `x`)
    // streams strips from nothing: no group.
    (permutes && !made.is_empty()).then_some(Group {
        members,
        made,
        node: None,
    })
}

/// What one task runs: a tree of block steps whose leaves are the task's inputs.
#[derive(Clone)]
enum Step {
    /// Argument `arg` of the task: a block made by another task, covering `region`
    /// (`(start, len)` per axis) of its layer.
    Input {
        arg: usize,
        region: Vec<(usize, usize)>,
    },
    Op {
        layer: Arc<Layer>,
        idx: Vec<usize>,
        children: Vec<Step>,
    },
}

/// Builds the node of every block that is not fused, inputs first.
fn build_nodes(planned: &mut [Planned], groups: &mut [Group]) -> Result<(), Error> {
    for id in 0..planned.len() {
        // The task of each group whose first member is in this layer.
        for flat in 0..planned[id].blocks.len() {
            if let Some(g) = planned[id].blocks[flat].group
                && groups[g].node.is_none()
                && groups[g].members.contains(&(id, flat))
            {
                groups[g].node = Some(group_task(planned, &groups[g])?);
            }
        }
        let (below, rest) = planned.split_at_mut(id);
        let Some((p, above)) = rest.split_first_mut() else {
            continue;
        };
        for flat in 0..p.blocks.len() {
            let b = &p.blocks[flat];
            if !b.needed || b.fused {
                continue;
            }
            if let Some(g) = b.group {
                // A member is its output of the group's task; a made block has no task.
                let group = &groups[g];
                if let (Some(k), Some(node)) = (
                    group.members.iter().position(|&m| m == (id, flat)),
                    &group.node,
                ) {
                    let key = block_key(&p.layer, &unflatten(&p.grid, flat));
                    p.blocks[flat].node = Some(project(p.layer.label, key, Arc::clone(node), k));
                }
                continue;
            }
            if let Some(node) = p.layer.op.external() {
                p.blocks[flat].node = Some(Arc::clone(node));
                continue;
            }
            if let Some(k) = b.projection {
                let &(l, f) = b.deps.first().ok_or_else(|| {
                    Error::Internal("a streamed reduction without its input".into())
                })?;
                let node = below[l].blocks[f].node.clone().ok_or_else(|| {
                    Error::Internal("a streamed reduction before its input".into())
                })?;
                let key = block_key(&p.layer, &unflatten(&p.grid, flat));
                p.blocks[flat].node = Some(project(p.layer.label, key, node, k));
                continue;
            }
            let mut args: Vec<Arg<BlockValue>> = Vec::new();
            let children = b
                .deps
                .iter()
                .map(|&(l, f)| step(below, l, f, &mut args))
                .collect::<Result<Vec<_>, Error>>()?;
            let root = Step::Op {
                layer: Arc::clone(&p.layer),
                idx: unflatten(&p.grid, flat),
                children,
            };
            let node = if b.shared_stream {
                let readers = b
                    .consumers
                    .iter()
                    .map(|&(l, f)| {
                        (
                            Arc::clone(&above[l - id - 1].layer),
                            unflatten(&above[l - id - 1].grid, f),
                        )
                    })
                    .collect();
                stream_to_all(root, readers)
            } else {
                run_task(root, args)
            };
            p.blocks[flat].node = Some(node);
        }
    }
    Ok(())
}

/// Dask's key of block `idx` of `layer`: `('add-<token>', 0, 1)`.
fn block_key(layer: &Layer, idx: &[usize]) -> Box<str> {
    let mut key = format!("('{}'", layer.name());
    for i in idx {
        key.push_str(&format!(", {i}"));
    }
    if idx.is_empty() {
        key.push(',');
    }
    key.push(')');
    key.into_boxed_str()
}

/// The node of one task: `root`'s step tree over the values of `args`, keyed by the
/// block it makes.
fn run_task(root: Step, args: Vec<Arg<BlockValue>>) -> NodeRef {
    let (label, key) = match &root {
        Step::Op { layer, idx, .. } => (layer.label, block_key(layer, idx)),
        Step::Input { .. } => ("input", "input".into()),
    };
    // A reduction over generators and elementwise steps folds their output a strip at
    // a time, never making the whole block.
    let streams = matches!(&root, Step::Op { layer, children, .. }
        if layer.op.streaming().is_some()
            && matches!(children.as_slice(), [only @ Step::Op { .. }] if regional_tree(only)));
    wired_node(
        label,
        key,
        &BLOCK_WIRE,
        args,
        move |args: &Vec<Arg<BlockValue>>, inputs| {
            let mut values = take_args(args, inputs)?;
            if streams {
                let folded = run_streaming(&root, &values);
                // The blocks read are spent (where this task is their last reader):
                // their memory makes the next blocks on this thread.
                values
                    .into_iter()
                    .flatten()
                    .for_each(super::buffers::recycle_any);
                folded
            } else {
                run(&root, &mut values)
            }
        },
    )
}

/// Every argument's value, each the task's to take.
fn take_args(
    args: &[Arg<BlockValue>],
    inputs: &mut crate::graph::Inputs<'_>,
) -> Result<Vec<Option<BlockValue>>, BoxError> {
    args.iter().map(|a| a.take(inputs).map(Some)).collect()
}

/// The node that makes the pure block `root` a strip at a time and folds each strip
/// into every reader (streaming reductions): its value is the readers' blocks.
fn stream_to_all(root: Step, readers: Vec<(Arc<Layer>, Vec<usize>)>) -> NodeRef {
    let label = readers.first().map_or("stream", |(l, _)| l.label);
    let key = match &root {
        Step::Op { layer, idx, .. } => block_key(layer, idx),
        Step::Input { .. } => "stream".into(),
    };
    keyed_node(label, key, (), move |(), _| {
        let readers: Vec<(&Layer, &[usize])> =
            readers.iter().map(|(l, i)| (&**l, i.as_slice())).collect();
        Ok(block(stream_into(&root, &readers, &[])?))
    })
}

/// Makes the regional `input` (over the task's inputs `values`) a strip at a time and
/// folds each strip into every reader (streaming reductions, block `idx` of `layer`
/// each): their blocks, in order.
fn stream_into(
    input: &Step,
    readers: &[(&Layer, &[usize])],
    values: &[Option<BlockValue>],
) -> Result<Vec<BlockValue>, BoxError> {
    let Step::Op { layer, idx, .. } = input else {
        return Err("internal: a stream over a stored block".into());
    };
    let region = layer.region(idx);
    let mut folders = readers
        .iter()
        .map(|&(l, i)| {
            l.op.streaming()
                .map(|s| s.folder(l, i, &region))
                .ok_or_else(|| BoxError::from("internal: a reader that cannot stream"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    fold_made(&region, &|r| region_of(input, r, values), &mut folders)?;
    folders.into_iter().map(|f| f.finish()).collect()
}

/// Output `k` of a shared-stream task, keyed `key`.
fn project(label: &'static str, key: Box<str>, from: NodeRef, k: usize) -> NodeRef {
    let args = vec![Arg::node(Delayed::<BlockValue>::from_node(from))];
    wired_node(
        label,
        key,
        &BLOCK_WIRE,
        args,
        move |args: &Vec<Arg<BlockValue>>, inputs| {
            let all = args
                .first()
                .ok_or("internal: a projection without its input")?
                .take(inputs)?;
            typed::<Vec<BlockValue>>(&all)?
                .get(k)
                .cloned()
                .ok_or_else(|| "internal: a shared stream gave too few blocks".into())
        },
    )
}

/// The step tree of block `flat` of layer `id` (fused), adding its unfused inputs to `args`.
fn step(
    planned: &[Planned],
    id: usize,
    flat: usize,
    args: &mut Vec<Arg<BlockValue>>,
) -> Result<Step, Error> {
    step_over(planned, id, flat, args, &[])
}

/// [`step`] in a task that makes the blocks `made` itself: block `made[k]` is the
/// task's value `args.len() + k` once every argument is in.
fn step_over(
    planned: &[Planned],
    id: usize,
    flat: usize,
    args: &mut Vec<Arg<BlockValue>>,
    made: &[(usize, usize)],
) -> Result<Step, Error> {
    let p = &planned[id];
    let b = &p.blocks[flat];
    let input = |arg| Step::Input {
        arg,
        region: p.layer.region(&unflatten(&p.grid, flat)),
    };
    if let Some(k) = made.iter().position(|&m| m == (id, flat)) {
        return Ok(input(args.len() + k));
    }
    if !b.fused {
        let node = b
            .node
            .clone()
            .ok_or_else(|| Error::Internal(format!("{} has no task yet", p.layer.label)))?;
        args.push(Arg::node(Delayed::from_node(node)));
        return Ok(input(args.len() - 1));
    }
    op_step(planned, id, flat, args, made)
}

/// The step that makes block `flat` of layer `id` in the task, from the steps of its
/// dependencies (see [`step_over`]), whether or not it is fused.
fn op_step(
    planned: &[Planned],
    id: usize,
    flat: usize,
    args: &mut Vec<Arg<BlockValue>>,
    made: &[(usize, usize)],
) -> Result<Step, Error> {
    let p = &planned[id];
    let children = p.blocks[flat]
        .deps
        .iter()
        .map(|&(l, f)| step_over(planned, l, f, args, made))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Step::Op {
        layer: Arc::clone(&p.layer),
        idx: unflatten(&p.grid, flat),
        children,
    })
}

/// A tile group's reduction: its layer and block, its input's step tree, the region
/// of that input, and its tiles.
struct GroupMember {
    layer: Arc<Layer>,
    idx: Vec<usize>,
    input: Step,
    region: Vec<(usize, usize)>,
    tiles: Vec<Vec<(usize, usize)>>,
}

/// The order a tile group's task folds its members' tiles, planned with the task.
struct TilePlan {
    /// (member, tile, strip of the streamed block the tile reads), in folding order.
    order: Vec<(usize, usize, Option<usize>)>,
    /// With the group's last made block made a strip at a time: the strips' regions.
    strips: Option<Vec<Vec<(usize, usize)>>>,
}

/// The node of tile group `group`: makes its blocks, then folds every member a tile at
/// a time, the tiles that read the same input tiles one after the other. Its value is
/// the members' blocks, in order.
fn group_task(planned: &[Planned], group: &Group) -> Result<NodeRef, Error> {
    let mut args: Vec<Arg<BlockValue>> = Vec::new();
    let made = group
        .made
        .iter()
        .map(|&(l, f)| op_step(planned, l, f, &mut args, &[]))
        .collect::<Result<Vec<_>, Error>>()?;
    let members = group
        .members
        .iter()
        .map(|&(l, f)| {
            let &(dl, df) = planned[l].blocks[f]
                .deps
                .first()
                .ok_or_else(|| Error::Internal("a grouped reduction without input".into()))?;
            // Every leaf of a member's tree is a made block: no argument is added here.
            let input = step_over(planned, dl, df, &mut args, &group.made)?;
            let region = planned[dl].layer.region(&unflatten(&planned[dl].grid, df));
            Ok(GroupMember {
                layer: Arc::clone(&planned[l].layer),
                idx: unflatten(&planned[l].grid, f),
                input,
                tiles: super::tiles::tiles(&region),
                region,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let (&(l, f), &(ml, _)) = group
        .made
        .first()
        .zip(group.members.first())
        .ok_or_else(|| Error::Internal("an empty tile group".into()))?;
    let key = block_key(&planned[l].layer, &unflatten(&planned[l].grid, f));
    let label = planned[ml].layer.label;
    // The made blocks are the task's values after its arguments, in order.
    let plan = plan_tiles(&members, made.last(), args.len() + made.len() - 1);
    Ok(keyed_node(
        label,
        key,
        args,
        move |args: &Vec<Arg<BlockValue>>, inputs| {
            let mut values = take_args(args, inputs)?;
            // Every made block whole, but the last when it is made a strip at a time.
            let whole = made.len() - usize::from(plan.strips.is_some());
            for step in &made[..whole] {
                let block = run(step, &mut values)?;
                values.push(Some(block));
            }
            let folded = fold_tiles(&members, &plan, made.last(), &mut values);
            values
                .into_iter()
                .flatten()
                .for_each(super::buffers::recycle_any);
            Ok(block(folded?))
        },
    ))
}

/// Plans the folding of a tile group's members: their tiles in the order that reads
/// each input tile once ([`paired_order`](super::tiles::paired_order)) and, if the
/// group's last made block (`last`, the task's value `arg`) can make any region and
/// every tile reads it within one strip of [`TILE`](super::tiles::TILE) rows, sorted
/// by that strip, so that the block is made a strip at a time just before the tiles
/// that read it, read from cache rather than memory.
fn plan_tiles(members: &[GroupMember], last: Option<&Step>, arg: usize) -> TilePlan {
    let reads: Vec<Vec<Footprint>> = members
        .iter()
        .map(|m| {
            m.tiles
                .iter()
                .map(|tile| {
                    let mut reads = Vec::new();
                    footprint(&m.input, tile, &mut reads);
                    reads.sort_unstable();
                    reads
                })
                .collect()
        })
        .collect();
    let paired = super::tiles::paired_order(&reads);
    let unstreamed = || TilePlan {
        order: paired.iter().map(|&(m, t)| (m, t, None)).collect(),
        strips: None,
    };
    let Some(last @ Step::Op { layer, idx, .. }) = last else {
        return unstreamed();
    };
    let region = layer.region(idx);
    let Some(&rows) = region.first() else {
        return unstreamed();
    };
    if !regional_tree(last) {
        return unstreamed();
    }
    let strips: Vec<Vec<(usize, usize)>> = super::tiles::tiles(&[rows])
        .into_iter()
        .map(|band| {
            let mut strip = region.clone();
            strip[0] = band[0];
            strip
        })
        .collect();
    let mut order = Vec::with_capacity(paired.len());
    for &(m, t) in &paired {
        let mut bands = reads[m][t]
            .iter()
            .filter(|(a, _)| *a == arg)
            .map(|(_, r)| strips.iter().position(|s| within(r, s)));
        let band = match bands.next() {
            None => None,
            Some(Some(band)) if bands.all(|b| b == Some(band)) => Some(band),
            _ => return unstreamed(),
        };
        order.push((m, t, band));
    }
    // Stable: within a strip, mirrored tiles stay together.
    order.sort_by_key(|&(_, _, band)| band);
    TilePlan {
        order,
        strips: Some(strips),
    }
}

/// Folds each member of a tile group over the task's `values` in `plan`'s order: the
/// members' blocks. With strips in the plan, `last` (the group's last made block, the
/// next value) is made a strip at a time as the tiles reach it.
fn fold_tiles(
    members: &[GroupMember],
    plan: &TilePlan,
    last: Option<&Step>,
    values: &mut Vec<Option<BlockValue>>,
) -> Result<Vec<BlockValue>, BoxError> {
    let mut folders = members
        .iter()
        .map(|m| {
            m.layer
                .op
                .streaming()
                .map(|s| s.folder(&m.layer, &m.idx, &m.region))
                .ok_or_else(|| BoxError::from("internal: a grouped reduction cannot stream"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let streamed = plan.strips.as_ref().zip(last);
    if streamed.is_some() {
        values.push(None);
    }
    let mut inputs: Vec<Step> = members.iter().map(|m| m.input.clone()).collect();
    let mut current = None;
    for &(m, t, band) in &plan.order {
        if let (Some(band), Some((strips, step))) = (band, streamed)
            && current != Some(band)
        {
            let made = region_of(step, &strips[band], values)?;
            let arg = values.len() - 1;
            if let Some(old) = values[arg].replace(made) {
                super::buffers::recycle_any(old);
            }
            for (input, member) in inputs.iter_mut().zip(members) {
                *input = with_input_region(&member.input, arg, &strips[band]);
            }
            current = Some(band);
        }
        let tile = &members[m].tiles[t];
        let value = region_of(&inputs[m], tile, values)?;
        let origin: Vec<usize> = tile.iter().map(|&(start, _)| start).collect();
        folders[m].fold(tile, &value, &origin)?;
        super::buffers::recycle_any(value);
    }
    folders.into_iter().map(|f| f.finish()).collect()
}

/// Whether region `inner` lies inside `outer`.
fn within(inner: &[(usize, usize)], outer: &[(usize, usize)]) -> bool {
    inner.len() == outer.len()
        && inner
            .iter()
            .zip(outer)
            .all(|(&(s, l), &(os, ol))| s >= os && s + l <= os + ol)
}

/// `step` with input `arg` covering `region` (a strip of it made on its own).
fn with_input_region(step: &Step, arg: usize, region: &[(usize, usize)]) -> Step {
    match step {
        Step::Input { arg: a, .. } if *a == arg => Step::Input {
            arg,
            region: region.to_vec(),
        },
        Step::Input { .. } => step.clone(),
        Step::Op {
            layer,
            idx,
            children,
        } => Step::Op {
            layer: Arc::clone(layer),
            idx: idx.clone(),
            children: children
                .iter()
                .map(|c| with_input_region(c, arg, region))
                .collect(),
        },
    }
}

/// What a region of a step tree reads: (value of the task, region of it), sorted.
type Footprint = Vec<(usize, Vec<(usize, usize)>)>;

/// The regions of the task's values that region `r` of a regional step tree reads, as
/// (value, region).
fn footprint(step: &Step, r: &[(usize, usize)], reads: &mut Footprint) {
    match step {
        Step::Input { arg, .. } => reads.push((*arg, r.to_vec())),
        Step::Op {
            layer, children, ..
        } => {
            if let Some(regional) = layer.op.regional() {
                for (i, c) in children.iter().enumerate() {
                    footprint(c, &regional.input_region(layer, i, r), reads);
                }
            }
        }
    }
}

/// Whether a fused step tree can be made any region at a time: regional steps over
/// blocks made by other tasks, read through windows (never copied).
fn regional_tree(step: &Step) -> bool {
    match step {
        Step::Input { .. } => true,
        Step::Op {
            layer, children, ..
        } => layer.op.regional().is_some() && children.iter().all(regional_tree),
    }
}

fn run(step: &Step, values: &mut [Option<BlockValue>]) -> Result<BlockValue, BoxError> {
    match step {
        Step::Input { arg, .. } => values
            .get_mut(*arg)
            .and_then(Option::take)
            .ok_or_else(|| "internal: a task input was read twice".into()),
        Step::Op {
            layer,
            idx,
            children,
        } => {
            let inputs = children
                .iter()
                .map(|c| run(c, values))
                .collect::<Result<Vec<_>, _>>()?;
            layer.op.run(layer, idx, inputs)
        }
    }
}

/// Runs a streaming reduction step over its regional input; `values` are the task's
/// inputs.
fn run_streaming(root: &Step, values: &[Option<BlockValue>]) -> Result<BlockValue, BoxError> {
    let Step::Op {
        layer,
        idx,
        children,
    } = root
    else {
        return Err("internal: a streaming task without a step".into());
    };
    let [input] = children.as_slice() else {
        return Err("internal: a streaming task without one input".into());
    };
    stream_into(input, &[(layer, idx)], values)?
        .pop()
        .ok_or_else(|| "internal: a stream without its block".into())
}

/// Region `r` of a regional step tree over the task's inputs `values`.
fn region_of(
    step: &Step,
    r: &[(usize, usize)],
    values: &[Option<BlockValue>],
) -> Result<BlockValue, BoxError> {
    let (layer, children) = match step {
        Step::Op {
            layer, children, ..
        } => (layer, children),
        Step::Input { arg, region } => {
            let value = values
                .get(*arg)
                .and_then(Option::as_ref)
                .ok_or("internal: a task input missing")?;
            let shape = super::layer::lengths(region);
            let local: Vec<(usize, usize)> = r
                .iter()
                .zip(region)
                .map(|(&(start, len), &(origin, _))| (start - origin, len))
                .collect();
            return super::window::window(value, &shape, &local);
        }
    };
    let regional = layer
        .op
        .regional()
        .ok_or("internal: a region of an op that cannot make one")?;
    let inputs = children
        .iter()
        .enumerate()
        .map(|(i, c)| region_of(c, &regional.input_region(layer, i, r), values))
        .collect::<Result<Vec<_>, _>>()?;
    regional.run_region(layer, r, inputs)
}

/// How many tasks computing `roots` makes (for tests and pictures).
#[cfg(test)]
pub(crate) fn task_count(roots: &[Arc<Layer>]) -> usize {
    let nodes = lower(roots).expect("lowers");
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<NodeRef> = nodes.into_iter().flatten().collect();
    while let Some(n) = stack.pop() {
        if seen.insert(Arc::as_ptr(&n) as *const () as usize) {
            n.visit_deps(&mut |d| stack.push(Arc::clone(d)));
        }
    }
    seen.len()
}

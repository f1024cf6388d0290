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
    build_nodes(&mut planned)?;
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

/// What one task runs: a tree of block steps whose leaves are the task's inputs.
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
fn build_nodes(planned: &mut [Planned]) -> Result<(), Error> {
    for id in 0..planned.len() {
        let (below, rest) = planned.split_at_mut(id);
        let Some((p, above)) = rest.split_first_mut() else {
            continue;
        };
        for flat in 0..p.blocks.len() {
            let b = &p.blocks[flat];
            if !b.needed || b.fused {
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
            let mut values = args
                .iter()
                .map(|a| a.take(inputs).map(Some))
                .collect::<Result<Vec<_>, _>>()?;
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
    let p = &planned[id];
    let b = &p.blocks[flat];
    if !b.fused {
        let node = b
            .node
            .clone()
            .ok_or_else(|| Error::Internal(format!("{} has no task yet", p.layer.label)))?;
        args.push(Arg::node(Delayed::from_node(node)));
        return Ok(Step::Input {
            arg: args.len() - 1,
            region: p.layer.region(&unflatten(&p.grid, flat)),
        });
    }
    let children = b
        .deps
        .iter()
        .map(|&(l, f)| step(planned, l, f, args))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Step::Op {
        layer: Arc::clone(&p.layer),
        idx: unflatten(&p.grid, flat),
        children,
    })
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

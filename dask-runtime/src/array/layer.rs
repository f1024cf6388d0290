//! One array operation as a layer of block tasks (Dask's `HighLevelGraph` layer): what
//! each block reads from the layers below and how it is made from them.
//!
//! Layers are type-erased (a block is a [`BlockValue`]) so that the machinery that plans
//! and runs them is compiled once, in this crate, whatever element types a user picks.

use crate::error::BoxError;
use crate::graph::NodeRef;
use std::any::Any;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A block, or a reduction's partial result, as the executor stores it.
pub(crate) type BlockValue = Arc<dyn Any + Send + Sync>;

/// `(start, len)` per axis, in the layer's global coordinates.
pub(crate) type Region = [(usize, usize)];

/// A shape mistake found while building an array expression, kept until `compute()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ShapeError {
    pub(crate) operation: &'static str,
    pub(crate) message: String,
}

impl ShapeError {
    pub(crate) fn new(operation: &'static str, message: String) -> Self {
        ShapeError { operation, message }
    }
}

impl From<ShapeError> for crate::Error {
    fn from(e: ShapeError) -> crate::Error {
        crate::Error::Shape {
            operation: e.operation,
            message: e.message,
        }
    }
}

/// The identity of a layer: a hash of its operation, its parameters and its inputs'
/// tokens (Dask's `tokenize`). Equal expressions have equal tokens, so a compute makes
/// their blocks once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Token(u128);

/// Builds a [`Token`]: two independent 64-bit SipHashes of the same input.
#[derive(Clone)]
pub(crate) struct Tokenizer(DefaultHasher, DefaultHasher);

static UNIQUE: AtomicU64 = AtomicU64::new(0);

impl Tokenizer {
    pub(crate) fn new(label: &str) -> Self {
        let (mut a, mut b) = (DefaultHasher::new(), DefaultHasher::new());
        0_u8.hash(&mut a);
        1_u8.hash(&mut b);
        let t = Tokenizer(a, b);
        t.add(label)
    }

    /// Adds a parameter.
    pub(crate) fn add(mut self, value: impl Hash) -> Self {
        value.hash(&mut self.0);
        value.hash(&mut self.1);
        self
    }

    /// Adds an input layer.
    pub(crate) fn input(self, layer: &Layer) -> Self {
        self.add(layer.token.0)
    }

    /// Makes the token unique to this call: for closures, which have no value to hash.
    pub(crate) fn unique(self) -> Self {
        self.add(("unique", UNIQUE.fetch_add(1, Ordering::Relaxed)))
    }

    pub(crate) fn finish(self) -> Token {
        Token(u128::from(self.0.finish()) << 64 | u128::from(self.1.finish()))
    }
}

/// How the blocks of one layer are made. `layer` is the layer that holds the op, for
/// its chunks and its inputs' chunks.
pub(crate) trait BlockOp: Send + Sync + 'static {
    /// Appends the input blocks block `idx` reads, as `(input, block index)`, in the
    /// order [`BlockOp::run`] gets their values. By default the same block of input 0.
    fn deps(&self, _layer: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        out.push((0, idx.to_vec()));
    }

    /// Makes block `idx` from the values of its dependencies. By default, a regional
    /// op makes the block's region, and a streaming one folds its input block (in
    /// memory) a strip at a time.
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        if let Some(r) = self.regional() {
            return r.run_region(layer, &layer.region(idx), inputs);
        }
        match (self.streaming(), inputs.first(), layer.inputs.first()) {
            (Some(s), Some(data), Some(input)) => {
                let region = input.region(idx);
                let folded =
                    super::stream::fold_stored(&region, data, s.folder(layer, idx, &region));
                // The block is spent: its memory makes the next blocks on this thread.
                inputs.into_iter().for_each(super::buffers::recycle_any);
                folded
            }
            _ => Err(format!("internal: `{}` has no way to run", layer.label).into()),
        }
    }

    /// Whether each block reads at most one block of each input and does all its work
    /// per block (elementwise steps, slices): fusing its inputs into its task costs no
    /// parallelism.
    fn blockwise(&self) -> bool {
        false
    }

    /// For ops that can make any region of their output from the same-shaped regions
    /// of their inputs (generators, elementwise steps, transposes).
    fn regional(&self) -> Option<&dyn Regional> {
        None
    }

    /// For reduction steps that can fold a block a region at a time.
    fn streaming(&self) -> Option<&dyn Streaming> {
        None
    }

    /// A block computed by an existing graph node (`from_delayed`): the node, used as
    /// the block's task.
    fn external(&self) -> Option<&NodeRef> {
        None
    }

    /// Whether the blocks' lengths along the (one) axis are known only once computed
    /// (`extract`, `unique`: Dask's `nan` chunks). The layer's chunks then hold only
    /// the number of blocks.
    fn unknown_chunks(&self) -> bool {
        false
    }
}

/// See [`BlockOp::regional`]. Such an op reads exactly one block of each input, in
/// input order.
pub(crate) trait Regional {
    /// The region of input `input` that the output region `region` reads.
    fn input_region(&self, layer: &Layer, input: usize, region: &Region) -> Vec<(usize, usize)>;
    /// Whether some output region reads its input at another place (a transpose): the
    /// reads a tile-at-a-time fold pairs up (see `tiles.rs`).
    fn permutes(&self) -> bool {
        false
    }
    /// The output region, from the values of the inputs' regions.
    fn run_region(
        &self,
        layer: &Layer,
        region: &Region,
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError>;
}

/// See [`BlockOp::streaming`]: the op reads one block of its one input, and can fold
/// it a part at a time.
pub(crate) trait Streaming {
    /// A folder for block `idx`, whose input block covers `input`.
    fn folder<'a>(
        &'a self,
        layer: &'a Layer,
        idx: &[usize],
        input: &Region,
    ) -> Box<dyn Folder + 'a>;
    /// Whether the folder takes parts of any shape in any order (a reduction over all
    /// elements), not only strips of whole rows in order.
    fn any_order(&self) -> bool {
        false
    }
}

/// Folds an input block part by part (strips of rows, in order; or, if its op says
/// [`Streaming::any_order`], any parts in any order), then gives the op's block.
pub(crate) trait Folder {
    /// Folds `part` (global coordinates) of the input; its values are in `data`, whose
    /// first element sits at `origin` (a strip made for the part, or the whole block).
    fn fold(&mut self, part: &Region, data: &BlockValue, origin: &[usize]) -> Result<(), BoxError>;
    /// The op's block.
    fn finish(self: Box<Self>) -> Result<BlockValue, BoxError>;
}

/// One layer: an array, or an internal step of a reduction (then its "shape" is its
/// grid of partial results).
pub(crate) struct Layer {
    pub(crate) token: Token,
    /// The operation's name (`add`, `sum`): its tasks' name.
    pub(crate) label: &'static str,
    pub(crate) shape: Vec<usize>,
    pub(crate) chunks: Vec<Vec<usize>>,
    pub(crate) inputs: Vec<Arc<Layer>>,
    pub(crate) op: Box<dyn BlockOp>,
    /// How many partial results a reduction of this layer combines in one task.
    pub(crate) split_every: usize,
}

impl Layer {
    /// The layer's name, Dask's form: `add-<32 hex digits>`.
    pub(crate) fn name(&self) -> String {
        format!("{}-{:032x}", self.label, self.token.0)
    }

    /// The number of blocks along each axis.
    pub(crate) fn grid(&self) -> Vec<usize> {
        self.chunks.iter().map(Vec::len).collect()
    }

    /// `(start, len)` of block `idx` along each axis.
    pub(crate) fn region(&self, idx: &[usize]) -> Vec<(usize, usize)> {
        region(&self.chunks, idx)
    }
}

impl Drop for Layer {
    // A million-step expression is a million-deep chain of layers: unhook the inputs
    // and drop them from a loop, not one stack frame a layer.
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.inputs);
        while let Some(mut layer) = pending.pop() {
            if let Some(unique) = Arc::get_mut(&mut layer) {
                pending.append(&mut unique.inputs);
            }
        }
    }
}

/// `(start, len)` of block `idx` along each axis.
pub(crate) fn region(chunks: &[Vec<usize>], idx: &[usize]) -> Vec<(usize, usize)> {
    chunks
        .iter()
        .zip(idx)
        .map(|(c, &i)| (c[..i].iter().sum(), c[i]))
        .collect()
}

/// The lengths of a region.
pub(crate) fn lengths(region: &Region) -> Vec<usize> {
    region.iter().map(|(_, l)| *l).collect()
}

/// The row-major position of block `idx` in a grid.
pub(crate) fn flat_index(grid: &[usize], idx: &[usize]) -> usize {
    grid.iter().zip(idx).fold(0, |acc, (&g, &i)| acc * g + i)
}

/// The block index at row-major position `flat` of a grid.
pub(crate) fn unflatten(grid: &[usize], mut flat: usize) -> Vec<usize> {
    let mut idx = vec![0; grid.len()];
    for (i, &g) in idx.iter_mut().zip(grid).rev() {
        *i = flat % g.max(1);
        flat /= g.max(1);
    }
    idx
}

/// Every combination of one value from each list, in row-major order.
pub(crate) fn cartesian(lists: &[Vec<usize>]) -> Vec<Vec<usize>> {
    lists.iter().fold(vec![Vec::new()], |acc, list| {
        acc.iter()
            .flat_map(|prefix| {
                list.iter().map(move |&v| {
                    let mut p = prefix.clone();
                    p.push(v);
                    p
                })
            })
            .collect()
    })
}

/// The typed block inside a [`BlockValue`].
pub(crate) fn typed<T: Send + Sync + 'static>(value: &BlockValue) -> Result<&T, BoxError> {
    value
        .downcast_ref::<T>()
        .ok_or_else(|| format!("internal: a block is not a {}", std::any::type_name::<T>()).into())
}

/// The block inside a [`BlockValue`], owned: moved out when nobody else holds it.
pub(crate) fn owned<T: Clone + Send + Sync + 'static>(value: BlockValue) -> Result<T, BoxError> {
    let value = value
        .downcast::<T>()
        .map_err(|_| format!("internal: a block is not a {}", std::any::type_name::<T>()))?;
    Ok(Arc::try_unwrap(value).unwrap_or_else(|shared| (*shared).clone()))
}

/// Wraps a block for the executor.
pub(crate) fn block<T: Send + Sync + 'static>(value: T) -> BlockValue {
    Arc::new(value)
}

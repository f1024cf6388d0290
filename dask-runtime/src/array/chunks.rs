//! Chunk specifications and the chunks (block sizes per axis, Dask's form) they give.

use super::ShapeError;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The byte size "auto" chunks aim at, like Dask's `array.chunk-size`.
pub const AUTO_CHUNK_BYTES: usize = 128 << 20;

/// Stands for "the whole axis" in a per-axis chunk size (Dask's `-1`).
pub const FULL: usize = usize::MAX;

/// How to cut an array into blocks.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{ChunkSpec, FULL, zeros};
///
/// assert_eq!(zeros::<f64>([10, 6], 4).chunks(), [vec![4, 4, 2], vec![4, 2]]);
/// assert_eq!(zeros::<f64>([10, 6], [5, FULL]).chunks(), [vec![5, 5], vec![6]]);
/// assert_eq!(zeros::<f64>([10, 6], vec![vec![3, 7], vec![6]]).chunks(), [vec![3, 7], vec![6]]);
/// assert_eq!(zeros::<f64>([10, 6], ChunkSpec::Auto).chunks(), [vec![10], vec![6]]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkSpec {
    /// The same block size on every axis (the last block of an axis may be smaller).
    Uniform(usize),
    /// A block size per axis; [`FULL`] for the whole axis.
    PerAxis(Vec<usize>),
    /// Explicit block sizes per axis; each axis's sizes must add up to its length.
    Explicit(Vec<Vec<usize>>),
    /// Blocks of about [`AUTO_CHUNK_BYTES`].
    Auto,
    /// Blocks of about this many bytes.
    AutoBytes(usize),
    #[doc(hidden)]
    /// A spelling that is not a chunk spec, kept to be reported.
    Named(String),
}

/// Dask's default: `"auto"`.
impl Default for ChunkSpec {
    fn default() -> Self {
        ChunkSpec::Auto
    }
}

/// `"auto"`, as Dask spells it, for [`ChunkSpec::Auto`]; any other text is kept as an
/// error of the array it makes.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::zeros;
/// assert_eq!(zeros::<f64>([10_000, 10_000], "auto").chunks()[0], [4096, 4096, 1808]);
/// assert!(zeros::<f64>([10], "big").check().is_err());
/// ```
impl From<&str> for ChunkSpec {
    fn from(text: &str) -> Self {
        match text {
            "auto" => ChunkSpec::Auto,
            other => ChunkSpec::Named(other.to_owned()),
        }
    }
}

impl From<usize> for ChunkSpec {
    fn from(size: usize) -> Self {
        ChunkSpec::Uniform(size)
    }
}

impl<const N: usize> From<[usize; N]> for ChunkSpec {
    fn from(sizes: [usize; N]) -> Self {
        ChunkSpec::PerAxis(sizes.to_vec())
    }
}

impl From<&[usize]> for ChunkSpec {
    fn from(sizes: &[usize]) -> Self {
        ChunkSpec::PerAxis(sizes.to_vec())
    }
}

impl From<Vec<usize>> for ChunkSpec {
    fn from(sizes: Vec<usize>) -> Self {
        ChunkSpec::PerAxis(sizes)
    }
}

impl From<Vec<Vec<usize>>> for ChunkSpec {
    fn from(sizes: Vec<Vec<usize>>) -> Self {
        ChunkSpec::Explicit(sizes)
    }
}

/// Every block's length on each axis, one list an axis: `[vec![20, 17], vec![2, 3]]`.
impl<const N: usize> From<[Vec<usize>; N]> for ChunkSpec {
    fn from(sizes: [Vec<usize>; N]) -> Self {
        ChunkSpec::Explicit(sizes.to_vec())
    }
}

impl ChunkSpec {
    /// The block sizes per axis for `shape`, with `element_bytes` for "auto".
    pub(crate) fn resolve(
        &self,
        shape: &[usize],
        element_bytes: usize,
    ) -> Result<Vec<Vec<usize>>, ShapeError> {
        let op = "chunks";
        element_count(shape)?;
        let grid: Result<Vec<usize>, ShapeError> = match self {
            ChunkSpec::Uniform(size) => shape.iter().map(|&n| block_count(n, *size)).collect(),
            ChunkSpec::PerAxis(sizes) if sizes.len() == shape.len() => shape
                .iter()
                .zip(sizes)
                .map(|(&n, &size)| block_count(n, if size == FULL { n.max(1) } else { size }))
                .collect(),
            ChunkSpec::Explicit(blocks) => Ok(blocks.iter().map(Vec::len).collect()),
            // Checked below, where they are known, or refused with their own message.
            _ => Ok(Vec::new()),
        };
        check_block_count(&grid?)?;
        let chunks = match self {
            ChunkSpec::Uniform(size) => shape.iter().map(|&n| regular(n, *size, op)).collect(),
            ChunkSpec::PerAxis(sizes) => {
                if sizes.len() != shape.len() {
                    return Err(ShapeError::new(
                        op,
                        format!(
                            "{} chunk sizes {sizes:?} for a {}-d shape {shape:?}",
                            sizes.len(),
                            shape.len()
                        ),
                    ));
                }
                shape
                    .iter()
                    .zip(sizes)
                    .map(|(&n, &size)| regular(n, if size == FULL { n.max(1) } else { size }, op))
                    .collect()
            }
            ChunkSpec::Explicit(blocks) => {
                if blocks.len() != shape.len() {
                    return Err(ShapeError::new(
                        op,
                        format!(
                            "chunks for {} axes, shape {shape:?} has {}",
                            blocks.len(),
                            shape.len()
                        ),
                    ));
                }
                for (axis, (sizes, &n)) in blocks.iter().zip(shape).enumerate() {
                    if sizes.iter().sum::<usize>() != n {
                        return Err(ShapeError::new(
                            op,
                            format!(
                                "chunks {sizes:?} of axis {axis} add up to {}, not its length {n}",
                                sizes.iter().sum::<usize>()
                            ),
                        ));
                    }
                    if n > 0 && sizes.contains(&0) {
                        return Err(ShapeError::new(
                            op,
                            format!("a zero-size chunk on axis {axis}: {sizes:?}"),
                        ));
                    }
                }
                Ok(blocks.clone())
            }
            ChunkSpec::Auto => auto(shape, element_bytes, AUTO_CHUNK_BYTES),
            ChunkSpec::AutoBytes(bytes) => auto(shape, element_bytes, *bytes),
            ChunkSpec::Named(text) => Err(ShapeError::new(
                op,
                format!("chunks {text:?}: the only named chunking is \"auto\""),
            )),
        }?;
        check_block_count(&chunks.iter().map(Vec::len).collect::<Vec<_>>())?;
        Ok(chunks)
    }
}

/// The most blocks an array may have unless raised with [`set_max_blocks`]: enough for
/// a 10⁶-task graph a layer, far below what would exhaust memory while building it.
pub const DEFAULT_MAX_BLOCKS: usize = 1_000_000;

static MAX_BLOCKS: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_BLOCKS);

/// Sets the most blocks an array may have (for the whole process); an operation that
/// would make more fails with [`Error::Shape`](crate::Error::Shape) saying how many it
/// would have made. Returns the previous ceiling.
///
/// ```
/// # use dask_runtime as dask;
/// let x = dask::array::zeros::<f64>([10_000, 10_000], [1, 1]);   // 10^8 blocks
/// let err = x.check().unwrap_err();
/// assert!(format!("{err:#}").contains("100000000 blocks"), "{err}");
/// ```
pub fn set_max_blocks(n: usize) -> usize {
    MAX_BLOCKS.swap(n, Ordering::Relaxed)
}

/// The most blocks an array may have (see [`set_max_blocks`]).
pub fn max_blocks() -> usize {
    MAX_BLOCKS.load(Ordering::Relaxed)
}

/// The number of elements of `shape`, or an error when it overflows `usize`.
pub(crate) fn element_count(shape: &[usize]) -> Result<usize, ShapeError> {
    shape
        .iter()
        .try_fold(1_usize, |n, &len| n.checked_mul(len))
        .ok_or_else(|| {
            ShapeError::new(
                "shape",
                format!("shape {shape:?} has more elements than a usize can count"),
            )
        })
}

/// The number of blocks of size `size` along an axis of length `n`, without making them.
fn block_count(n: usize, size: usize) -> Result<usize, ShapeError> {
    if size == 0 {
        return Err(ShapeError::new("chunks", "a zero-size chunk".into()));
    }
    Ok(n.div_ceil(size).max(1))
}

/// Refuses a grid of more blocks than [`max_blocks`].
fn check_block_count(grid: &[usize]) -> Result<(), ShapeError> {
    let limit = max_blocks();
    let blocks = grid.iter().try_fold(1_usize, |n, &len| n.checked_mul(len));
    match blocks {
        Some(blocks) if blocks <= limit => Ok(()),
        blocks => Err(ShapeError::new(
            "chunks",
            format!(
                "{} blocks (grid {grid:?}), more than the limit of {limit} tasks a layer: \
                 use bigger chunks, or raise it with dask::array::set_max_blocks",
                blocks.map_or_else(|| "more than usize::MAX".to_owned(), |b| b.to_string())
            ),
        )),
    }
}

fn regular(n: usize, size: usize, op: &'static str) -> Result<Vec<usize>, ShapeError> {
    if size == 0 {
        return Err(ShapeError::new(op, "a zero-size chunk".into()));
    }
    if n == 0 {
        return Ok(vec![0]);
    }
    let mut sizes = vec![size; n / size];
    if !n.is_multiple_of(size) {
        sizes.push(n % size);
    }
    Ok(sizes)
}

/// Dask's "auto" rule (`normalize_chunks` with `chunks="auto"`): blocks as square as
/// the shape allows holding about `target` bytes; an axis shorter than the square's
/// side is taken whole and the others share what is left. 10,000 x 10,000 `f64` gives
/// 4096 x 4096 blocks (128 MiB), as in Dask.
fn auto(
    shape: &[usize],
    element_bytes: usize,
    target: usize,
) -> Result<Vec<Vec<usize>>, ShapeError> {
    let mut size: Vec<Option<usize>> = vec![None; shape.len()];
    loop {
        let autos: Vec<usize> = (0..shape.len()).filter(|&i| size[i].is_none()).collect();
        if autos.is_empty() {
            break;
        }
        let fixed: f64 = size.iter().flatten().map(|&s| s.max(1) as f64).product();
        let side =
            (target as f64 / element_bytes.max(1) as f64 / fixed).powf(1.0 / autos.len() as f64);
        let small: Vec<usize> = autos
            .iter()
            .copied()
            .filter(|&i| (shape[i] as f64) < side)
            .collect();
        if small.is_empty() {
            for i in autos {
                size[i] = Some((side as usize).max(1));
            }
            break;
        }
        for i in small {
            size[i] = Some(shape[i]);
        }
    }
    shape
        .iter()
        .zip(&size)
        .map(|(&n, s)| regular(n, s.unwrap_or(n).max(1), "chunks"))
        .collect()
}

/// Where each block starts along an axis.
pub(crate) fn offsets(sizes: &[usize]) -> Vec<usize> {
    let mut start = 0;
    sizes
        .iter()
        .map(|s| {
            let o = start;
            start += s;
            o
        })
        .collect()
}

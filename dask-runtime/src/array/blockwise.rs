//! `blockwise` with index notation, and the `map_blocks` forms built on it: several
//! arrays at once, axes dropped or added, output chunks given (Dask's `blockwise` and
//! `map_blocks(..., drop_axis=, new_axis=, chunks=)`).
//!
//! Each input names its axes with letters; the output's letters say which axes it
//! has. Inputs are cut alike along each shared letter (the finer of their chunks);
//! a letter missing from the output is contracted: that axis is made one block
//! (Dask's `concatenate=True`), so each output block reads one block of each input.

use super::blocks::rechunk_layer;
use super::chunks::offsets;
use super::layer::{BlockOp, BlockValue, Layer, Tokenizer, block, lengths};
use super::window::view;
use super::{Array, ChunkSpec, Element, ShapeError};
use crate::error::BoxError;
use ndarray::{ArrayD, ArrayViewD};
use std::marker::PhantomData;
use std::sync::Arc;

/// Options of [`blockwise`], [`Array::map_blocks_with`] and [`map_blocks`]: axes
/// dropped or added, and the output's chunks when the function changes block sizes.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::BlockOptions;
/// let o = BlockOptions::new().drop_axis(&[1]).new_axis(&[0]).chunks(vec![vec![2], vec![3, 3]]);
/// # let _ = o;
/// ```
#[derive(Clone, Debug, Default)]
pub struct BlockOptions {
    drop_axis: Vec<usize>,
    new_axis: Vec<usize>,
    new_letters: Vec<(char, usize)>,
    chunks: Option<ChunkSpec>,
}

impl BlockOptions {
    /// No axes dropped or added; the output cut as the inputs are.
    pub fn new() -> Self {
        BlockOptions::default()
    }

    /// Input axes the function removes (`map_blocks` forms; Dask's `drop_axis`). Each
    /// block then holds those axes whole.
    pub fn drop_axis(mut self, axes: &[usize]) -> Self {
        self.drop_axis = axes.to_vec();
        self
    }

    /// Output axes the function adds, each one block (`map_blocks` forms; Dask's
    /// `new_axis`); their lengths come from [`BlockOptions::chunks`], else 1.
    pub fn new_axis(mut self, axes: &[usize]) -> Self {
        self.new_axis = axes.to_vec();
        self
    }

    /// An output letter of [`blockwise`] that no input has, of length `len`, one block
    /// (Dask's `new_axes={'k': len}`).
    pub fn new_letter(mut self, letter: char, len: usize) -> Self {
        self.new_letters.push((letter, len));
        self
    }

    /// The output's chunks, when the function returns blocks of other sizes than the
    /// inputs' (one size an axis, or explicit sizes: the block counts must be the
    /// grid's). Each block's shape is checked when it is made.
    pub fn chunks(mut self, chunks: impl Into<ChunkSpec>) -> Self {
        self.chunks = Some(chunks.into());
        self
    }
}

/// Each output block from one block of each input.
struct Blockwise<T, U, F> {
    /// Per input, per axis: the output axis it follows, or `None` (contracted or
    /// broadcast: always its block 0).
    follows: Vec<Vec<Option<usize>>>,
    f: F,
    types: PhantomData<fn(T) -> U>,
}

impl<T, U, F> BlockOp for Blockwise<T, U, F>
where
    T: Element,
    U: Element,
    F: Fn(&[ArrayViewD<'_, T>], &[usize]) -> ArrayD<U> + Send + Sync + 'static,
{
    fn deps(&self, _: &Layer, idx: &[usize], out: &mut Vec<(usize, Vec<usize>)>) {
        for (input, axes) in self.follows.iter().enumerate() {
            out.push((
                input,
                axes.iter().map(|a| a.map_or(0, |o| idx[o])).collect(),
            ));
        }
    }

    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let views = inputs
            .iter()
            .map(view::<T>)
            .collect::<Result<Vec<_>, _>>()?;
        let out = (self.f)(&views, idx);
        let want = lengths(&layer.region(idx));
        if out.shape() != want.as_slice() {
            return Err(format!(
                "{}: block {idx:?} came back with shape {:?}, expected {want:?} (give the \
                 output's chunks in BlockOptions::chunks if the function changes sizes)",
                layer.label,
                out.shape()
            )
            .into());
        }
        Ok(block(out))
    }

    fn blockwise(&self) -> bool {
        true
    }
}

/// The finest cut of an axis that every input's chunks fall on (Dask's
/// `common_blockdim`).
fn common_chunks(cuts: &[&[usize]]) -> Vec<usize> {
    let mut bounds: Vec<usize> = cuts
        .iter()
        .flat_map(|c| {
            let starts = offsets(c);
            starts
                .into_iter()
                .skip(1)
                .chain(std::iter::once(c.iter().sum()))
        })
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    if bounds.last().is_none_or(|&b| b == 0) {
        return vec![0]; // an empty axis: one empty block
    }
    let mut previous = 0;
    bounds
        .into_iter()
        .filter(|&b| b > 0)
        .map(|b| {
            let len = b - previous;
            previous = b;
            len
        })
        .collect()
}

/// Applies `f` to matching blocks of several arrays, each indexed by letters (Dask's
/// `blockwise` with `concatenate=True`): `out` names the output's axes; a letter that
/// an input has and the output lacks is contracted (that axis made one block), and a
/// letter of length 1 in one input is broadcast against the others. All inputs hold
/// the same element type (cast with `astype` first). The result's name is unique to
/// this call.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{BlockOptions, blockwise, from_ndarray};
/// use ndarray::{Ix2, arr2};
/// // A blocked matrix product: "ik" from "ij" and "jk", j contracted.
/// let a = from_ndarray(arr2(&[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).into_dyn(), [2, 1]);
/// let b = from_ndarray(arr2(&[[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]]).into_dyn(), [1, 2]);
/// let c = blockwise("ik", &[(&a, "ij"), (&b, "jk")], BlockOptions::new(), |blocks, _| {
///     let x = blocks[0].view().into_dimensionality::<Ix2>().unwrap();
///     let y = blocks[1].view().into_dimensionality::<Ix2>().unwrap();
///     x.dot(&y).into_dyn()
/// });
/// assert_eq!(c.chunks(), [vec![2, 1], vec![2, 1]]);
/// assert_eq!(c.compute().unwrap()[[2, 2]], 28.0);
/// ```
pub fn blockwise<T, U, F>(
    out: &str,
    inputs: &[(&Array<T>, &str)],
    options: BlockOptions,
    f: F,
) -> Array<U>
where
    T: Element,
    U: Element,
    F: Fn(&[ArrayViewD<'_, T>], &[usize]) -> ArrayD<U> + Send + Sync + 'static,
{
    let mut layers = Vec::new();
    for (a, _) in inputs {
        match a.layer() {
            Ok(l) => layers.push(Arc::clone(l)),
            Err(e) => return Array::from_error(e),
        }
    }
    let letters: Vec<Vec<char>> = inputs.iter().map(|(_, s)| s.chars().collect()).collect();
    let out: Vec<char> = out.chars().collect();
    let token = Tokenizer::new("blockwise").add(&out);
    layer("blockwise", token, &layers, &letters, &out, &options, f)
}

/// The blockwise layer of `f` over `layers` (planned by [`plan`]), its name unique to
/// the call (closures have no value to hash).
fn layer<T, U, F>(
    label: &'static str,
    token: Tokenizer,
    layers: &[Arc<Layer>],
    letters: &[Vec<char>],
    out: &[char],
    options: &BlockOptions,
    f: F,
) -> Array<U>
where
    T: Element,
    U: Element,
    F: Fn(&[ArrayViewD<'_, T>], &[usize]) -> ArrayD<U> + Send + Sync + 'static,
{
    match plan(label, layers, letters, out, options, T::ops()) {
        Ok((shape, chunks, sources, follows)) => Array::from_op(
            label,
            token.unique(),
            shape,
            chunks,
            sources,
            Blockwise {
                follows,
                f,
                types: PhantomData,
            },
        ),
        Err(e) => Array::from_error(e),
    }
}

/// The parts of a blockwise layer.
type Planned = (
    Vec<usize>,
    Vec<Vec<usize>>,
    Vec<Arc<Layer>>,
    Vec<Vec<Option<usize>>>,
);

/// Shape, chunks, rechunked inputs and, per input axis, the output axis it follows.
fn plan(
    label: &'static str,
    layers: &[Arc<Layer>],
    letters: &[Vec<char>],
    out: &[char],
    options: &BlockOptions,
    ops: &'static super::element::ElementOps,
) -> Result<Planned, ShapeError> {
    let fail = |m: String| Err(ShapeError::new(label, m));
    if layers.is_empty() {
        return fail("no input arrays".into());
    }
    for (k, (layer, l)) in layers.iter().zip(letters).enumerate() {
        if l.len() != layer.shape.len() {
            return fail(format!(
                "input {k} is {}-d but indexed {:?}",
                layer.shape.len(),
                l.iter().collect::<String>()
            ));
        }
        let mut seen = l.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != l.len() {
            return fail(format!(
                "input {k} repeats a letter in {:?}",
                l.iter().collect::<String>()
            ));
        }
    }
    // Each letter's length: the inputs agree, or have 1 there (broadcast).
    let mut length: Vec<(char, usize)> = Vec::new();
    for (layer, l) in layers.iter().zip(letters) {
        for (&c, &n) in l.iter().zip(&layer.shape) {
            match length.iter_mut().find(|(d, _)| *d == c) {
                Some((_, m)) if *m == n || n == 1 => {}
                Some((_, m)) if *m == 1 => *m = n,
                Some((_, m)) => {
                    return fail(format!(
                        "letter {c:?} has lengths {m} and {n} in the inputs"
                    ));
                }
                None => length.push((c, n)),
            }
        }
    }
    for &(c, _) in &options.new_letters {
        if length.iter().any(|(d, _)| *d == c) {
            return fail(format!("new letter {c:?} is an input's letter too"));
        }
    }
    let len_of = |c: char| length.iter().find(|(d, _)| *d == c).map(|(_, n)| *n);
    // Per letter, the common cut of the inputs that have it full length.
    let mut cut: Vec<(char, Vec<usize>)> = Vec::new();
    for &(c, n) in &length {
        let contracted = !out.contains(&c);
        let chunks: Vec<&[usize]> = layers
            .iter()
            .zip(letters)
            .filter_map(|(layer, l)| {
                let ax = l.iter().position(|&d| d == c)?;
                (layer.shape[ax] == n).then_some(layer.chunks[ax].as_slice())
            })
            .collect();
        let whole = vec![n];
        cut.push((
            c,
            if contracted {
                whole
            } else {
                common_chunks(&chunks)
            },
        ));
    }
    let cut_of = |c: char| cut.iter().find(|(d, _)| *d == c).map(|(_, v)| v.clone());
    let mut sources = Vec::new();
    let mut follows = Vec::new();
    for (layer, l) in layers.iter().zip(letters) {
        let mut chunks = Vec::new();
        let mut axes = Vec::new();
        for (ax, &c) in l.iter().enumerate() {
            let broadcast = layer.shape[ax] == 1 && len_of(c) != Some(1);
            if broadcast {
                chunks.push(vec![1]);
                axes.push(None);
            } else {
                chunks.push(cut_of(c).unwrap_or_default());
                axes.push(out.iter().position(|&o| o == c));
            }
        }
        sources.push(rechunk_layer(layer, chunks, ops));
        follows.push(axes);
    }
    let mut shape = Vec::new();
    let mut grid_chunks = Vec::new();
    for &c in out {
        if let Some(n) = len_of(c) {
            shape.push(n);
            grid_chunks.push(cut_of(c).unwrap_or_default());
        } else if let Some(&(_, n)) = options.new_letters.iter().find(|(d, _)| *d == c) {
            shape.push(n);
            grid_chunks.push(vec![n]);
        } else {
            return fail(format!(
                "output letter {c:?} is in no input (give its length with new_letter)"
            ));
        }
    }
    let chunks = match &options.chunks {
        None => grid_chunks,
        Some(spec) => output_chunks(label, spec, &grid_chunks)?,
    };
    let shape = if options.chunks.is_some() {
        chunks.iter().map(|c| c.iter().sum()).collect()
    } else {
        shape
    };
    Ok((shape, chunks, sources, follows))
}

/// The output chunks the user gave, checked against the grid the inputs make.
fn output_chunks(
    label: &'static str,
    spec: &ChunkSpec,
    grid: &[Vec<usize>],
) -> Result<Vec<Vec<usize>>, ShapeError> {
    let counts: Vec<usize> = grid.iter().map(Vec::len).collect();
    // One size an axis: every block of that axis that size.
    let sized = |sizes: &[usize]| -> Vec<Vec<usize>> {
        sizes
            .iter()
            .zip(&counts)
            .map(|(&s, &n)| vec![s; n])
            .collect()
    };
    let chunks = match spec {
        ChunkSpec::Explicit(c) => c.clone(),
        ChunkSpec::Uniform(s) => sized(&vec![*s; grid.len()]),
        ChunkSpec::PerAxis(s) if s.len() == grid.len() => sized(s),
        other => {
            return Err(ShapeError::new(
                label,
                format!("output chunks {other:?}: give a size an axis or explicit sizes"),
            ));
        }
    };
    let got: Vec<usize> = chunks.iter().map(Vec::len).collect();
    if got != counts {
        return Err(ShapeError::new(
            label,
            format!(
                "output chunks {chunks:?} have {got:?} blocks an axis; the inputs make {counts:?}"
            ),
        ));
    }
    Ok(chunks)
}

impl<T: Element> Array<T> {
    /// [`Array::map_blocks`] with options: axes the function drops (each block then
    /// holds them whole) or adds, and the output's chunks when it changes block sizes
    /// (Dask's `map_blocks(f, drop_axis=, new_axis=, chunks=)`).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::{BlockOptions, ones};
    /// use ndarray::Axis;
    /// // Row sums: axis 1 dropped, each block holds whole rows.
    /// let x = ones::<f64>([6, 4], [2, 2]);
    /// let sums = x.map_blocks_with(BlockOptions::new().drop_axis(&[1]), |b, _| b.sum_axis(Axis(1)));
    /// assert_eq!(sums.chunks(), [vec![2, 2, 2]]);
    /// assert_eq!(sums.compute().unwrap().as_slice().unwrap(), [4.0; 6]);
    /// ```
    pub fn map_blocks_with<U, F>(&self, options: BlockOptions, f: F) -> Array<U>
    where
        U: Element,
        F: Fn(ArrayViewD<'_, T>, &[usize]) -> ArrayD<U> + Send + Sync + 'static,
    {
        map_blocks(&[self], options, move |blocks, idx| {
            f(blocks[0].view(), idx)
        })
    }
}

/// `f` over matching blocks of several arrays (Dask's `map_blocks(f, a, b, ...)`): the
/// arrays' axes are lined up from the last (NumPy broadcasting: an axis of length 1,
/// or missing, is broadcast), cut alike, and `f` gets one block of each. Options as in
/// [`Array::map_blocks_with`]: `drop_axis` and `new_axis` count the output's axes as
/// the broadcast shape's.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{BlockOptions, arange, map_blocks, ones};
/// let x = arange(6).reshape([2, 3]).rechunk([1, 3]);
/// let row = ones::<f64>([3], 3);
/// let y = map_blocks(&[&x, &row], BlockOptions::new(), |b, _| &b[0] + &b[1]);
/// assert_eq!(y.compute().unwrap()[[1, 2]], 6.0);
/// ```
pub fn map_blocks<T, U, F>(arrays: &[&Array<T>], options: BlockOptions, f: F) -> Array<U>
where
    T: Element,
    U: Element,
    F: Fn(&[ArrayViewD<'_, T>], &[usize]) -> ArrayD<U> + Send + Sync + 'static,
{
    let mut layers = Vec::new();
    for a in arrays {
        match a.layer() {
            Ok(l) => layers.push(Arc::clone(l)),
            Err(e) => return Array::from_error(e),
        }
    }
    let ndim = layers.iter().map(|l| l.shape.len()).max().unwrap_or(0);
    let letter = |i: usize| char::from_u32(0x3b1 + i as u32).unwrap_or('?'); // α, β, ...
    let letters: Vec<Vec<char>> = layers
        .iter()
        .map(|l| (ndim - l.shape.len()..ndim).map(letter).collect())
        .collect();
    if let Some(&bad) = options.drop_axis.iter().find(|&&a| a >= ndim) {
        return Array::failed("map_blocks", format!("drop_axis {bad} of {ndim}-d input"));
    }
    let mut out: Vec<char> = (0..ndim)
        .filter(|a| !options.drop_axis.contains(a))
        .map(letter)
        .collect();
    let mut new_axis = options.new_axis.clone();
    new_axis.sort_unstable();
    let mut options = options;
    for (k, &at) in new_axis.iter().enumerate() {
        if at > out.len() {
            return Array::failed(
                "map_blocks",
                format!("new_axis {at} past the output's axes"),
            );
        }
        let c = letter(ndim + k);
        out.insert(at, c);
        // Its length from the given chunks, else 1.
        let len = match &options.chunks {
            Some(ChunkSpec::Explicit(c)) => c.get(at).map_or(1, |v| v.iter().sum()),
            Some(ChunkSpec::PerAxis(c)) => c.get(at).copied().unwrap_or(1),
            _ => 1,
        };
        options.new_letters.push((c, len));
    }
    let token = Tokenizer::new("map_blocks");
    layer("map_blocks", token, &layers, &letters, &out, &options, f)
}

#[cfg(test)]
mod test {
    use super::common_chunks;

    #[test]
    fn common_chunks_cut_where_any_input_cuts() {
        assert_eq!(common_chunks(&[&[4, 4, 2], &[5, 5]]), [4, 1, 3, 2]);
        assert_eq!(common_chunks(&[&[10]]), [10]);
        assert_eq!(common_chunks(&[&[0]]), [0]);
    }
}

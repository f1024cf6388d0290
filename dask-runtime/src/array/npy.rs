//! NumPy's `.npy` files, to move arrays to and from Python: a small reader and writer
//! of the format (versions 1 to 3, little- or big-endian, C or Fortran order) for the
//! element types arrays hold.

use super::create::generated_fallibly;
use super::layer::{BlockOp, BlockValue, Layer, Region, Tokenizer};
use super::window::view;
use super::{Array, ChunkSpec, Element};
use crate::{BoxError, Error};
use ndarray::{ArrayD, IxDyn};
use std::path::Path;
use std::sync::Arc;

const MAGIC: &[u8] = b"\x93NUMPY";

impl<T: Element> Array<T> {
    /// Writes the array to a `.npy` file (`np.load(path)` reads it) block by block: the
    /// header first, then each block at its place in the file, by the task that makes
    /// it, so the array is never whole in memory.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// use dask::array::{arange, from_npy};
    /// let path = std::env::temp_dir().join(format!("doc-npy-{}.npy", std::process::id()));
    /// arange(6).to_npy(&path).unwrap();
    /// let back = from_npy::<f64>(&path, 4).unwrap();
    /// assert_eq!(back.compute().unwrap(), arange(6).compute().unwrap());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// A compute error, or [`Error::Io`] naming the file.
    pub fn to_npy(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let layer = Arc::clone(self.layer()?);
        let io_error = |e: std::io::Error| Error::Io {
            path: path.display().to_string(),
            source: Box::new(e),
        };
        let file = std::fs::File::create(path).map_err(io_error)?;
        let header = header_bytes(T::NPY_DESCR, &layer.shape).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        write_at(&file, &header, 0).map_err(io_error)?;
        let elements: usize = layer.shape.iter().product();
        file.set_len((header.len() + elements * size_of::<T>()) as u64)
            .map_err(io_error)?;
        let sink = Arc::new(NpySink {
            file,
            path: path.display().to_string(),
            data_start: header.len(),
            shape: layer.shape.clone(),
        });
        super::blocks::write_blocks(
            "to_npy",
            path,
            layer,
            WriteBlocks::<T>(sink, std::marker::PhantomData),
        )
    }
}

/// An open `.npy` file being written, its header in place.
struct NpySink {
    file: std::fs::File,
    path: String,
    data_start: usize,
    shape: Vec<usize>,
}

/// Each block written at its place in the file; the block made is a marker.
struct WriteBlocks<T>(Arc<NpySink>, std::marker::PhantomData<fn() -> T>);

impl<T: Element> BlockOp for WriteBlocks<T> {
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let values = view::<T>(inputs.first().ok_or("internal: no block to write")?)?;
        let sink = &self.0;
        let region = layer.inputs[0].region(idx);
        let mut bytes = Vec::with_capacity(values.len() * size_of::<T>());
        for &v in values.iter() {
            T::npy_write(v, &mut bytes);
        }
        let item = size_of::<T>().max(1);
        let mut at = 0;
        for (start, len) in runs(&sink.shape, &region) {
            let part = &bytes[at * item..(at + len) * item];
            write_at(&sink.file, part, (sink.data_start + start * item) as u64)
                .map_err(|e| format!("{}: {e}", sink.path))?;
            at += len;
        }
        Ok(super::blocks::written(idx))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// A `.npy` file (as `np.save` writes it) as a chunked array, lazily: only the header
/// is read here; each block (or each strip of one, when a reduction streams it) reads
/// its own bytes from the file when it is computed, so an array larger than memory can
/// be reduced (Dask's `from_npy_stack`/`mmap_mode` role, without a memory map).
///
/// # Errors
///
/// [`Error::Io`] naming the file when it cannot be read, is not a `.npy` file, is
/// damaged or truncated, or holds another element type. A file changed or removed
/// after this call fails the compute, naming it.
pub fn from_npy<T: Element>(
    path: impl AsRef<Path>,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, Error> {
    let path = path.as_ref();
    let io_error = |source: BoxError| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| io_error(Box::new(e)))?;
    let metadata = file.metadata().map_err(|e| io_error(Box::new(e)))?;
    let file_len = metadata.len() as usize;
    // The header: at most 64 KiB for version 1, and never near 1 MiB in practice.
    let mut prefix = vec![0_u8; file_len.min(1 << 20)];
    read_at(&file, &mut prefix, 0).map_err(|e| io_error(Box::new(e)))?;
    let header = Header::parse(&prefix, file_len).map_err(io_error)?;
    if header.kind != T::NPY_DESCR[1..] {
        return Err(io_error(
            format!(
                "the file holds {} elements, not {} ({})",
                header.descr,
                T::NAME,
                T::NPY_DESCR
            )
            .into(),
        ));
    }
    let token = Tokenizer::new("from_npy")
        .add(path)
        .add(file_len)
        .add(metadata.modified().ok());
    let shape = header.shape.clone();
    let source = Arc::new(NpySource {
        file,
        path: path.display().to_string(),
        header,
    });
    Ok(generated_fallibly(
        "from_npy",
        token,
        &shape,
        chunks.into(),
        move |region| source.read::<T>(region),
    ))
}

/// Reads `buf.len()` bytes at `offset`, without a shared cursor (tasks read one file
/// at once).
#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Writes `buf` at `offset`, without a shared cursor.
#[cfg(unix)]
fn write_at(file: &std::fs::File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn write_at(file: &std::fs::File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_write(buf, offset)?;
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

/// An open `.npy` file and its header.
struct NpySource {
    file: std::fs::File,
    path: String,
    header: Header,
}

impl NpySource {
    /// The elements of `region`, read from the file a contiguous run at a time.
    fn read<T: Element>(&self, region: &Region) -> Result<ArrayD<T>, BoxError> {
        let h = &self.header;
        let item = size_of::<T>().max(1);
        // A Fortran-order file is a C-order file of the reversed shape.
        let (shape, region): (Vec<usize>, Vec<(usize, usize)>) = if h.fortran_order {
            (
                h.shape.iter().rev().copied().collect(),
                region.iter().rev().copied().collect(),
            )
        } else {
            (h.shape.clone(), region.to_vec())
        };
        let lengths: Vec<usize> = region.iter().map(|&(_, l)| l).collect();
        let n: usize = lengths.iter().product();
        let mut values: Vec<T> = Vec::with_capacity(n);
        let mut buffer: Vec<u8> = Vec::new();
        for (start, len) in runs(&shape, &region) {
            buffer.resize(len * item, 0);
            read_at(
                &self.file,
                &mut buffer,
                (h.data_start + start * item) as u64,
            )
            .map_err(|e| format!("{}: {e}", self.path))?;
            values.extend(
                buffer
                    .chunks_exact(item)
                    .map(|b| T::npy_read(b, h.big_endian)),
            );
        }
        let array = ArrayD::from_shape_vec(IxDyn(&lengths), values)?;
        Ok(if h.fortran_order {
            array.reversed_axes()
        } else {
            array
        })
    }
}

/// The contiguous runs of a C-order array of `shape` that `region` covers, as (first
/// element, length), in row-major order; adjacent runs merged.
fn runs(shape: &[usize], region: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let Some((&(last_start, last_len), outer)) = region.split_last() else {
        return vec![(0, 1)]; // a 0-d array: its one element
    };
    if last_len == 0 || outer.iter().any(|&(_, l)| l == 0) {
        return Vec::new();
    }
    let outer_lengths: Vec<usize> = outer.iter().map(|&(_, l)| l).collect();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for at in ndarray::indices(IxDyn(&outer_lengths)) {
        let mut flat = 0;
        for (k, &(start, _)) in outer.iter().enumerate() {
            flat = flat * shape[k] + start + at[k];
        }
        let first = flat * shape[shape.len() - 1] + last_start;
        match out.last_mut() {
            Some((s, l)) if *s + *l == first => *l += last_len,
            _ => out.push((first, last_len)),
        }
    }
    out
}

/// What a `.npy` header says.
#[derive(Clone, Debug)]
struct Header {
    descr: String,
    /// The descr without its byte-order mark (`f8`, `b1`).
    kind: String,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<usize>,
    data_start: usize,
}

impl Header {
    /// Reads the header and checks that the file holds as many bytes as it declares,
    /// before anything is allocated for them: a damaged or hostile header must not make
    /// the reader allocate 10^17 elements.
    fn parse(bytes: &[u8], file_len: usize) -> Result<Header, BoxError> {
        if bytes.len() < 10 || &bytes[..6] != MAGIC {
            return Err("not a .npy file (no \\x93NUMPY magic)".into());
        }
        let (header_len, text_start) = match bytes[6] {
            1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
            2 | 3 if bytes.len() >= 12 => (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            ),
            v => return Err(format!(".npy format version {v} is not supported").into()),
        };
        let data_start = text_start + header_len;
        let text = bytes
            .get(text_start..data_start)
            .ok_or_else(|| format!("header of {header_len} bytes is longer than the file"))?;
        let text = String::from_utf8_lossy(text);
        let field = |name: &str| -> Result<&str, BoxError> {
            let at = text
                .find(&format!("'{name}'"))
                .ok_or_else(|| format!("header has no '{name}'"))?
                + name.len()
                + 2;
            Ok(text[at..]
                .trim_start()
                .strip_prefix(':')
                .ok_or_else(|| format!("header's '{name}' has no value"))?
                .trim_start())
        };
        let descr: String = field("descr")?
            .trim_start_matches(['\'', '"'])
            .chars()
            .take_while(|&c| c != '\'' && c != '"')
            .collect();
        let (order, kind) = descr.split_at(descr.len().min(1));
        let (big_endian, kind) = match order {
            ">" => (true, kind.to_owned()),
            "<" | "|" | "=" => (false, kind.to_owned()),
            _ => (false, descr.clone()),
        };
        let fortran_order = field("fortran_order")?.starts_with("True");
        let shape_text = field("shape")?
            .strip_prefix('(')
            .and_then(|s| s.split(')').next())
            .ok_or("cannot read the header's shape")?;
        let mut shape = Vec::new();
        for dim in shape_text
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            shape.push(
                dim.trim_end_matches('L')
                    .parse::<usize>()
                    .map_err(|_| format!("shape entry {dim:?} is not a length"))?,
            );
        }
        let elements = shape
            .iter()
            .try_fold(1_usize, |n, &d| n.checked_mul(d))
            .ok_or("the header's shape has more elements than a usize counts")?;
        let item_bytes: usize = kind
            .trim_start_matches(char::is_alphabetic)
            .parse()
            .map_err(|_| format!("cannot read the element size in descr {descr:.20}"))?;
        let declared = elements
            .checked_mul(item_bytes)
            .ok_or("the header declares more bytes than a usize counts")?;
        let held = file_len.saturating_sub(data_start);
        if declared > held {
            return Err(format!(
                "the header declares {elements} elements ({declared} bytes) but the file holds \
                 {held} bytes of data: truncated or damaged"
            )
            .into());
        }
        Ok(Header {
            descr,
            kind,
            big_endian,
            fortran_order,
            shape,
            data_start,
        })
    }
}

/// A version 1.0 `.npy` header: padded with spaces so that the data starts on a
/// 64-byte boundary, as NumPy writes it.
fn header_bytes(descr: &str, shape: &[usize]) -> Result<Vec<u8>, BoxError> {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape = match dims.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let len =
        u16::try_from(header.len()).map_err(|_| "the array has too many axes for a .npy header")?;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    Ok(out)
}

//! NumPy's `.npy` files, to move arrays to and from Python: a small reader and writer
//! of the format (versions 1 to 3, little- or big-endian, C or Fortran order) for the
//! element types arrays hold.

use super::{Array, ChunkSpec, Element, from_ndarray};
use crate::{BoxError, Error, Options};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use std::io::Write as _;
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";

impl<T: Element> Array<T> {
    /// Computes the array and writes it to a `.npy` file (`np.load(path)` reads it).
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
        let data = self.compute_with(Options::new())?;
        let mut bytes = Vec::with_capacity(data.len() * size_of::<T>());
        for &v in data.iter() {
            T::npy_write(v, &mut bytes);
        }
        write(path.as_ref(), T::NPY_DESCR, data.shape(), &bytes)
    }
}

/// Reads a `.npy` file (as `np.save` writes it) into a chunked array.
///
/// # Errors
///
/// [`Error::Io`] naming the file when it cannot be read, is not a `.npy` file, is
/// damaged or truncated, or holds another element type.
pub fn from_npy<T: Element>(
    path: impl AsRef<Path>,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, Error> {
    let path = path.as_ref();
    let io_error = |source: BoxError| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let bytes = std::fs::read(path).map_err(|e| io_error(Box::new(e)))?;
    let header = Header::parse(&bytes).map_err(io_error)?;
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
    let item = size_of::<T>().max(1);
    let values: Vec<T> = bytes[header.data_start..]
        .chunks_exact(item)
        .take(header.elements)
        .map(|b| T::npy_read(b, header.big_endian))
        .collect();
    let shape = IxDyn(&header.shape);
    let data = if header.fortran_order {
        ArrayD::from_shape_vec(shape.f(), values)
    } else {
        ArrayD::from_shape_vec(shape, values)
    }
    .map_err(|e| io_error(Box::new(e)))?;
    Ok(from_ndarray(data, chunks))
}

/// What a `.npy` header says.
struct Header {
    descr: String,
    /// The descr without its byte-order mark (`f8`, `b1`).
    kind: String,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<usize>,
    elements: usize,
    data_start: usize,
}

impl Header {
    /// Reads the header and checks that the file holds as many bytes as it declares,
    /// before anything is allocated for them: a damaged or hostile header must not make
    /// the reader allocate 10^17 elements.
    fn parse(bytes: &[u8]) -> Result<Header, BoxError> {
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
        let held = bytes.len() - data_start;
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
            elements,
            data_start,
        })
    }
}

/// Writes a version 1.0 `.npy` file: the header padded with spaces so that the data
/// starts on a 64-byte boundary, as NumPy writes it.
fn write(path: &Path, descr: &str, shape: &[usize], data: &[u8]) -> Result<(), Error> {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape = match dims.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let io_error = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        source: Box::new(e),
    };
    let len = u16::try_from(header.len()).map_err(|_| Error::Io {
        path: path.display().to_string(),
        source: "the array has too many axes for a .npy header".into(),
    })?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(io_error)?);
    file.write_all(MAGIC).map_err(io_error)?;
    file.write_all(&[1, 0]).map_err(io_error)?;
    file.write_all(&len.to_le_bytes()).map_err(io_error)?;
    file.write_all(header.as_bytes()).map_err(io_error)?;
    file.write_all(data).map_err(io_error)?;
    file.flush().map_err(io_error)
}

//! NumPy's `.npy` files, to move arrays to and from Python (via the ndarray-npy crate).

use super::{Array, ChunkSpec, Element, from_ndarray};
use crate::{Error, Options};
use std::path::Path;

impl<T: Element> Array<T> {
    /// Computes the array and writes it to a `.npy` file (`np.load(path)` reads it).
    ///
    /// # Errors
    ///
    /// A compute error, or [`Error::Io`] naming the file.
    pub fn to_npy(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let data = self.compute_with(Options::new())?;
        ndarray_npy::write_npy(path, &data).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: Box::new(e),
        })
    }
}

/// Reads a `.npy` file (as `np.save` writes it) into a chunked array.
///
/// # Errors
///
/// [`Error::Io`] naming the file when it cannot be read or holds another element type.
pub fn from_npy<T: Element>(
    path: impl AsRef<Path>,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, Error> {
    let path = path.as_ref();
    let io_error = |source: crate::BoxError| Error::Io {
        path: path.display().to_string(),
        source,
    };
    check_size(path).map_err(io_error)?;
    let data: ndarray::ArrayD<T> =
        ndarray_npy::read_npy(path).map_err(|e| io_error(Box::new(e)))?;
    Ok(from_ndarray(data, chunks))
}

/// Checks that the file holds as many bytes as its header declares, before anything is
/// allocated for them: a damaged or hostile header must not make the reader allocate
/// 10^17 elements.
fn check_size(path: &Path) -> Result<(), crate::BoxError> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut head = [0_u8; 12];
    let got = file.read(&mut head)?;
    if got < 10 || &head[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let (header_len, text_start) = match head[6] {
        1 => (u64::from(u16::from_le_bytes([head[8], head[9]])), 10),
        2 | 3 if got == 12 => (
            u64::from(u32::from_le_bytes([head[8], head[9], head[10], head[11]])),
            12,
        ),
        v => return Err(format!(".npy format version {v} is not supported").into()),
    };
    let data_start = text_start + header_len;
    if data_start > file_len {
        return Err(format!("header of {header_len} bytes is longer than the file").into());
    }
    let mut header = vec![0_u8; header_len as usize];
    let mut file = std::fs::File::open(path)?;
    std::io::copy(&mut (&mut file).take(text_start), &mut std::io::sink())?;
    file.read_exact(&mut header)?;
    let header = String::from_utf8_lossy(&header);
    let field = |name: &str| -> Option<&str> {
        let at = header.find(&format!("'{name}'"))? + name.len() + 2;
        Some(header[at..].trim_start().strip_prefix(':')?.trim_start())
    };
    let descr = field("descr").ok_or("header has no 'descr'")?;
    let item_bytes: u64 = descr
        .trim_start_matches(['\'', '"'])
        .trim_start_matches(['<', '>', '|', '='])
        .trim_start_matches(char::is_alphabetic)
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| format!("cannot read the element size in descr {descr:.20}"))?;
    let shape = field("shape").ok_or("header has no 'shape'")?;
    let shape = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("cannot read the header's shape")?;
    let mut elements: u64 = 1;
    for dim in shape.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let dim: u64 = dim
            .trim_end_matches('L')
            .parse()
            .map_err(|_| format!("shape entry {dim:?} is not a length"))?;
        elements = elements
            .checked_mul(dim)
            .ok_or("the header's shape has more elements than a u64 counts")?;
    }
    let declared = elements
        .checked_mul(item_bytes)
        .ok_or("the header declares more bytes than a u64 counts")?;
    if declared > file_len - data_start {
        return Err(format!(
            "the header declares {elements} elements ({declared} bytes) but the file holds {} \
             bytes of data: truncated or damaged",
            file_len - data_start
        )
        .into());
    }
    Ok(())
}

//! NumPy's `.npy` files, to move arrays to and from Python (via the ndarray-npy crate).

use super::{Array, ChunkSpec, Element, from_ndarray};
use crate::{Error, Scheduler};
use std::path::Path;

impl<T: Element> Array<T> {
    /// Computes the array and writes it to a `.npy` file (`np.load(path)` reads it).
    ///
    /// # Errors
    ///
    /// A compute error, or [`Error::Io`] naming the file.
    pub fn to_npy(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let data = self.compute_with(Scheduler::from_env()?)?;
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
    let data: ndarray::ArrayD<T> = ndarray_npy::read_npy(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: Box::new(e),
    })?;
    Ok(from_ndarray(data, chunks))
}

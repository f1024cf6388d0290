//! Zarr storage (Dask's `to_zarr` / `from_zarr`), on the zarrs crate, behind the
//! `zarr` feature: each block is one Zarr chunk, read or written by its own task, so an
//! array larger than memory round-trips with only the blocks in flight in memory.
//!
//! ```
//! # use dask_runtime as dask;
//! use dask::array::{self, random};
//! let dir = std::env::temp_dir().join(format!("dask-rs-doc-{}.zarr", std::process::id()));
//! let x = random::default_rng(1).normal(0.0, 1.0, [100, 60], [30, 25]);
//! x.to_zarr(&dir).unwrap();
//! let y: array::Array<f64> = array::from_zarr(&dir).unwrap();
//! assert_eq!(y.chunks(), x.chunks());
//! assert_eq!(y.compute().unwrap(), x.compute().unwrap());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use super::layer::{BlockOp, BlockValue, Layer, Region, Tokenizer, block, lengths};
use super::window::view;
use super::{Array, Element, ShapeError};
use crate::Error;
use crate::error::BoxError;
use ndarray::{ArrayD, IxDyn};
use std::path::Path;
use std::sync::Arc;
use zarrs::array::{ArrayBuilder, ArraySubset, DataType, FillValue, data_type};
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::byte_range::ByteRangeIterator;
use zarrs::storage::{
    Bytes, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
    StorePrefix, WritableStorageTraits,
};

type ZarrArray = zarrs::array::Array<FilesystemStore>;
type ZarrWriter = zarrs::array::Array<UnsyncedStore>;

/// The element types Zarr stores: each with its Zarr data type.
pub trait ZarrElement: Element + zarrs::array::Element + zarrs::array::ElementOwned {
    /// The Zarr data type of this element type.
    #[doc(hidden)]
    fn zarr_type() -> DataType;
    /// `values` as the bytes they lie in memory as.
    #[doc(hidden)]
    fn bytes(values: &[Self]) -> &[u8];
    /// `values` as bytes to overwrite, if any bytes make valid elements (not `bool`).
    #[doc(hidden)]
    fn bytes_mut(values: &mut [Self]) -> Option<&mut [u8]>;
}

macro_rules! zarr_element {
    ($($t:ty => $f:ident),*) => {$(
        impl ZarrElement for $t {
            fn zarr_type() -> DataType {
                data_type::$f()
            }
            fn bytes(values: &[Self]) -> &[u8] {
                bytemuck::cast_slice(values)
            }
            fn bytes_mut(values: &mut [Self]) -> Option<&mut [u8]> {
                Some(bytemuck::cast_slice_mut(values))
            }
        }
    )*};
}
zarr_element!(f64 => float64, f32 => float32, i8 => int8, i16 => int16, i32 => int32,
    i64 => int64, u8 => uint8, u16 => uint16, u32 => uint32, u64 => uint64,
    num_complex::Complex64 => complex128, num_complex::Complex32 => complex64);

impl ZarrElement for bool {
    fn zarr_type() -> DataType {
        data_type::bool()
    }
    fn bytes(values: &[Self]) -> &[u8] {
        bytemuck::cast_slice(values)
    }
    fn bytes_mut(_: &mut [Self]) -> Option<&mut [u8]> {
        None
    }
}

/// Zarr's fill value: the element's zero (all bytes 0 for every type here).
fn zero_fill<T>() -> FillValue {
    FillValue::from(vec![0_u8; size_of::<T>()])
}

/// The store's error at `path`, as an I/O error naming it; a codec this build lacks
/// says which feature brings it.
fn zarr_error<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| {
        let mut message = format!("zarr: {e}");
        if message.contains("is not supported")
            && ["zstd", "blosc"].iter().any(|c| message.contains(c))
            && cfg!(not(feature = "zarr-c-codecs"))
        {
            message.push_str(" (build with the `zarr-c-codecs` feature for zstd and blosc)");
        }
        Error::Io {
            path: path.display().to_string(),
            source: message.into(),
        }
    }
}

/// A region as a Zarr subset.
/// The store `to_zarr` writes through: zarrs' filesystem store, except that a chunk
/// is written without an `fsync`. zarrs syncs every file it writes (10.5 of the 13 s a
/// 4 GB round trip took here); zarr-python, which Dask writes through, syncs none, and
/// neither does this: the operating system writes the files back, as it does for
/// `std::fs::write`.
struct UnsyncedStore(FilesystemStore);

impl ReadableStorageTraits for UnsyncedStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        self.0.get_partial_many(key, byte_ranges)
    }
    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.0.size_key(key)
    }
    fn supports_get_partial(&self) -> bool {
        self.0.supports_get_partial()
    }
}

impl WritableStorageTraits for UnsyncedStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        let path = self.0.key_to_fspath(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, value)?;
        Ok(())
    }
    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator<'_>,
    ) -> Result<(), StorageError> {
        self.0.set_partial_many(key, offset_values)
    }
    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        self.0.erase(key)
    }
    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        self.0.erase_prefix(prefix)
    }
    fn supports_set_partial(&self) -> bool {
        self.0.supports_set_partial()
    }
}

fn subset(region: &Region) -> ArraySubset {
    let ranges: Vec<std::ops::Range<u64>> = region
        .iter()
        .map(|&(start, len)| start as u64..(start + len) as u64)
        .collect();
    ArraySubset::new_with_ranges(&ranges)
}

/// Each block written as its Zarr chunk; the block made is a 0-d marker.
struct WriteChunks<T> {
    array: Arc<ZarrWriter>,
    /// Chunks are stored as their elements' little-endian bytes, nothing else: a whole
    /// block is written to its file straight from its own memory.
    raw: bool,
    element: std::marker::PhantomData<fn() -> T>,
}

/// A block's elements as the bytes of its chunk file, held by the block itself (the
/// write reads them where they are; a copy of each 20 MB chunk was a sixth of a round
/// trip).
struct ChunkBytes<T>(BlockValue, std::marker::PhantomData<fn() -> T>);

impl<T: ZarrElement> AsRef<[u8]> for ChunkBytes<T> {
    fn as_ref(&self) -> &[u8] {
        let slice = self
            .0
            .downcast_ref::<ArrayD<T>>()
            .and_then(|a| a.as_slice())
            .unwrap_or(&[]);
        T::bytes(slice)
    }
}

impl<T: ZarrElement> BlockOp for WriteChunks<T> {
    fn run(
        &self,
        _: &Layer,
        idx: &[usize],
        inputs: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let input = inputs.first().ok_or("internal: no block to write")?;
        let values = view::<T>(input)?;
        let chunk: Vec<u64> = idx.iter().map(|&i| i as u64).collect();
        let full: Vec<usize> = self
            .array
            .chunk_shape(&chunk)?
            .iter()
            .map(|n| n.get() as usize)
            .collect();
        let whole = input
            .downcast_ref::<ArrayD<T>>()
            .is_some_and(|a| a.shape() == full && a.as_slice().is_some());
        if self.raw && whole {
            if T::bytes(values.as_slice().unwrap_or(&[]))
                .iter()
                .all(|&b| b == 0)
            {
                // As zarrs does: a chunk of fill values is not stored.
                self.array.erase_chunk(&chunk)?;
            } else {
                let bytes =
                    Bytes::from_owner(ChunkBytes::<T>(Arc::clone(input), std::marker::PhantomData));
                store_raw(&self.array, &chunk, bytes)?;
                // Written: the block's memory makes the next block on this thread.
                inputs.into_iter().for_each(super::buffers::recycle_any);
            }
        } else if full == values.shape()
            && let Some(slice) = values.as_slice()
        {
            // A whole chunk in row-major order: encoded by zarrs from the block.
            self.array.store_chunk(&chunk, slice)?;
        } else {
            // An edge chunk (Zarr stores it whole, padded with the fill value, zero), or
            // a block in another layout.
            let mut padded = ArrayD::<T>::default(IxDyn(&full));
            padded
                .slice_each_axis_mut(|ax| ndarray::Slice::from(0..values.len_of(ax.axis)))
                .assign(&values);
            let data: Vec<T> = padded.into_raw_vec_and_offset().0;
            self.array.store_chunk(&chunk, data)?;
        }
        Ok(super::blocks::written(idx))
    }
    fn blockwise(&self) -> bool {
        true
    }
}

/// Stores `bytes` as the chunk at `chunk`, unencoded: only for an array whose chunks are
/// their elements' little-endian bytes (no compressor, the `bytes` codec little-endian)
/// on a little-endian machine, where the bytes of a whole row-major block are its
/// encoding.
#[allow(unsafe_code)] // zarrs' `store_encoded_chunk` trusts its caller's encoding.
fn store_raw(array: &ZarrWriter, chunk: &[u64], bytes: Bytes) -> Result<(), BoxError> {
    // SAFETY: the caller's contract above is the encoding zarrs would have written.
    unsafe { array.store_encoded_chunk(chunk, bytes)? };
    Ok(())
}

/// Each block read from its Zarr chunk.
struct ReadChunks<T> {
    array: Arc<ZarrArray>,
    /// The store's directory, when a chunk file holds its elements' little-endian bytes
    /// and nothing else (see [`raw_chunks`]): a whole chunk is then read straight into
    /// its block.
    raw: Option<Arc<FilesystemStore>>,
    element: std::marker::PhantomData<fn() -> T>,
}

impl<T: ZarrElement> ReadChunks<T> {
    /// The chunk at `chunk` read from its file into a block of `shape`, if the file is
    /// there and of the size the shape needs (else zarrs reads it, and says what is
    /// wrong).
    fn read_raw(
        &self,
        store: &FilesystemStore,
        chunk: &[u64],
        shape: &[usize],
    ) -> Result<Option<ArrayD<T>>, BoxError> {
        use std::io::Read;
        let path = store.key_to_fspath(&self.array.chunk_key(chunk));
        let mut file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("zarr: {}: {e}", path.display()).into()),
        };
        let n: usize = shape.iter().product();
        if file.metadata()?.len() != (n * size_of::<T>()) as u64 {
            return Ok(None);
        }
        // Every element is read over: a recycled block's old values need no zeroing.
        let mut values = super::buffers::take_filled::<T>(n);
        let Some(bytes) = T::bytes_mut(&mut values) else {
            return Ok(None);
        };
        file.read_exact(bytes)
            .map_err(|e| format!("zarr: {}: {e}", path.display()))?;
        Ok(Some(ArrayD::from_shape_vec(IxDyn(shape), values)?))
    }
}

impl<T: ZarrElement> BlockOp for ReadChunks<T> {
    fn deps(&self, _: &Layer, _: &[usize], _: &mut Vec<(usize, Vec<usize>)>) {}
    fn run(
        &self,
        layer: &Layer,
        idx: &[usize],
        _: Vec<BlockValue>,
    ) -> Result<BlockValue, BoxError> {
        let region = layer.region(idx);
        let shape = lengths(&region);
        if let Some(store) = &self.raw {
            let chunk: Vec<u64> = idx.iter().map(|&i| i as u64).collect();
            let full = self.array.chunk_shape(&chunk)?;
            if full
                .iter()
                .map(|n| n.get() as usize)
                .eq(shape.iter().copied())
                && let Some(values) = self.read_raw(store, &chunk, &shape)?
            {
                return Ok(block(values));
            }
        }
        let values: Vec<T> = self.array.retrieve_array_subset(&subset(&region))?;
        Ok(block(ArrayD::from_shape_vec(IxDyn(&shape), values)?))
    }
}

/// Whether each chunk file of `array` holds exactly its elements' little-endian bytes
/// on this (little-endian) machine: no compressor, filter, transpose or storage
/// transformer, in Zarr v3 or v2 metadata.
fn raw_chunks(array: &ZarrArray) -> bool {
    let Ok(meta) = serde_json::to_value(array.metadata()) else {
        return false;
    };
    let none_or_empty = |key: &str| {
        meta.get(key)
            .is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty))
    };
    let little = match meta.get("zarr_format").and_then(serde_json::Value::as_u64) {
        Some(3) => {
            let codecs = meta.get("codecs").and_then(serde_json::Value::as_array);
            none_or_empty("storage_transformers")
                && codecs.is_some_and(|c| {
                    c.len() == 1
                        && c[0].get("name").and_then(serde_json::Value::as_str) == Some("bytes")
                        && c[0]
                            .get("configuration")
                            .and_then(|c| c.get("endian"))
                            .is_none_or(|e| e == "little")
                })
        }
        Some(2) => {
            none_or_empty("compressor")
                && none_or_empty("filters")
                && meta.get("order").and_then(serde_json::Value::as_str) == Some("C")
                && meta
                    .get("dtype")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|d| d.starts_with('<') || d.starts_with('|'))
        }
        _ => false,
    };
    little && cfg!(target_endian = "little")
}

/// How [`Array::to_zarr_with`] compresses each chunk: Zarr's bytes-to-bytes codec.
/// Reading needs no option: [`from_zarr`] decodes whatever codecs the array's metadata
/// names, if they are built in (gzip always; zstd and blosc with the `zarr-c-codecs`
/// feature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Chunks stored as their raw bytes (the default).
    #[default]
    None,
    /// gzip at a level from 0 to 9 (pure Rust: flate2 on miniz_oxide).
    Gzip(u32),
    /// zstd at a level from -7 to 22 (zarr-python's default codec for Zarr v3; the
    /// `zarr-c-codecs` feature).
    #[cfg(feature = "zarr-c-codecs")]
    Zstd(i32),
}

/// How [`Array::to_zarr_with`] writes: whether it replaces an array already there
/// (Dask's `overwrite=`), and the chunks' [`Compression`].
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{self, random, Compression, ZarrOptions};
/// let dir = std::env::temp_dir().join(format!("dask-rs-gzip-{}.zarr", std::process::id()));
/// let x = random::default_rng(1).integers(0, 4, [200, 50], [50, 50]);
/// x.to_zarr_with(&dir, ZarrOptions::new().compression(Compression::Gzip(6))).unwrap();
/// let y: array::Array<i64> = array::from_zarr(&dir).unwrap();
/// assert_eq!(y.compute().unwrap(), x.compute().unwrap());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ZarrOptions {
    overwrite: bool,
    compression: Compression,
}

impl ZarrOptions {
    /// Refuse to replace an array, store chunks uncompressed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replace a Zarr array already at the path (every file of its store is erased).
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Compress each chunk with `compression`.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }
}

/// The codec chain's compressor for `compression`.
fn compressor(
    compression: Compression,
) -> Result<Vec<Arc<dyn zarrs::array::BytesToBytesCodecTraits>>, Error> {
    use zarrs::array::codec;
    Ok(match compression {
        Compression::None => Vec::new(),
        Compression::Gzip(level) => {
            let gzip = codec::GzipCodec::new(level).map_err(|e| -> Error {
                ShapeError::new("to_zarr", format!("gzip level {level}: {e}")).into()
            })?;
            vec![Arc::new(gzip)]
        }
        #[cfg(feature = "zarr-c-codecs")]
        Compression::Zstd(level) => {
            if !(-7..=22).contains(&level) {
                return Err(ShapeError::new(
                    "to_zarr",
                    format!("zstd level {level} is outside -7..=22"),
                )
                .into());
            }
            vec![Arc::new(codec::ZstdCodec::new(level, false))]
        }
    })
}

impl<T: ZarrElement> Array<T> {
    /// Writes the array to a Zarr (v3) array at `path` (a directory, made if needed),
    /// one chunk a block, each written by the task that makes the block: the array is
    /// never whole in memory. Zarr chunks are regular, so blocks of unequal sizes
    /// (other than the last of each axis) are rechunked to the first block's size
    /// first, as Dask asks you to. A Zarr array already at `path` is an error (Dask's
    /// `overwrite=False`); see [`Array::to_zarr_overwrite`].
    ///
    /// Like zarr-python's (and Dask's), the chunk files are not `fsync`ed: they are in
    /// the operating system's cache when this returns, and on disk once it writes them
    /// back. Sync the files yourself if the data must survive a power cut.
    ///
    /// # Errors
    ///
    /// A kept shape error, a task's failure, or the store's (named `zarr: ...`).
    pub fn to_zarr(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.to_zarr_with(path, ZarrOptions::new())
    }

    /// [`Array::to_zarr`], replacing a Zarr array already at `path` (every file of the
    /// store at `path` is erased first: Dask's `overwrite=True`).
    ///
    /// # Errors
    ///
    /// As [`Array::to_zarr`].
    pub fn to_zarr_overwrite(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.to_zarr_with(path, ZarrOptions::new().overwrite(true))
    }

    /// [`Array::to_zarr`] as `options` say: replacing an array already there, and
    /// compressing each chunk (Dask's `to_zarr(..., overwrite=, compressor=)`).
    ///
    /// # Errors
    ///
    /// As [`Array::to_zarr`]; a compression level out of its codec's range is a
    /// [`Error::Shape`].
    pub fn to_zarr_with(&self, path: impl AsRef<Path>, options: ZarrOptions) -> Result<(), Error> {
        let (path, overwrite) = (path.as_ref(), options.overwrite);
        let codecs = compressor(options.compression)?;
        let layer = self.layer()?;
        let regular: Vec<Vec<usize>> = layer
            .chunks
            .iter()
            .zip(&layer.shape)
            .map(|(c, &n)| {
                let size = c.first().copied().unwrap_or(n).max(1);
                super::structure::regular_chunks(n, size)
            })
            .collect();
        let x = self.rechunk_to(regular.clone());
        let layer = x.layer()?;
        let store = Arc::new(UnsyncedStore(
            FilesystemStore::new(path).map_err(zarr_error(path))?,
        ));
        let exists = path.join("zarr.json").exists() || path.join(".zarray").exists();
        if exists && !overwrite {
            return Err(ShapeError::new(
                "to_zarr",
                format!(
                    "{} already holds a Zarr array (use to_zarr_overwrite to replace it)",
                    path.display()
                ),
            )
            .into());
        }
        if exists {
            store
                .erase_prefix(&StorePrefix::root())
                .map_err(zarr_error(path))?;
        }
        let shape: Vec<u64> = layer.shape.iter().map(|&n| n as u64).collect();
        let chunk: Vec<u64> = regular
            .iter()
            .map(|c| c.first().copied().unwrap_or(1).max(1) as u64)
            .collect();
        let raw = codecs.is_empty() && cfg!(target_endian = "little");
        let array = ArrayBuilder::new(shape, chunk, T::zarr_type(), zero_fill::<T>())
            .bytes_to_bytes_codecs(codecs)
            .build(store, "/")
            .map_err(zarr_error(path))?;
        array.store_metadata().map_err(zarr_error(path))?;
        super::blocks::write_blocks(
            "to_zarr",
            path,
            Arc::clone(layer),
            WriteChunks::<T> {
                array: Arc::new(array),
                raw,
                element: std::marker::PhantomData,
            },
        )
    }
}

/// The Zarr array at `path` (v3, or v2 read through zarrs), lazily: each block is one
/// Zarr chunk, read by its own task (Dask's `from_zarr`). Its data type must be `T`'s.
///
/// # Errors
///
/// The store's error, or a data type other than `T`'s.
pub fn from_zarr<T: ZarrElement>(path: impl AsRef<Path>) -> Result<Array<T>, Error> {
    let path = path.as_ref();
    let store = Arc::new(FilesystemStore::new(path).map_err(zarr_error(path))?);
    let array = ZarrArray::open(Arc::clone(&store), "/").map_err(zarr_error(path))?;
    if array.data_type() != &T::zarr_type() {
        return Err(ShapeError::new(
            "from_zarr",
            format!(
                "the Zarr array holds {}, not {}",
                array.data_type(),
                T::NAME
            ),
        )
        .into());
    }
    let shape: Vec<usize> = array.shape().iter().map(|&n| n as usize).collect();
    let first = vec![0_u64; shape.len()];
    let chunk = array.chunk_shape(&first).map_err(zarr_error(path))?;
    let chunks: Vec<Vec<usize>> = shape
        .iter()
        .zip(chunk.iter())
        .map(|(&n, c)| super::structure::regular_chunks(n, c.get() as usize))
        .collect();
    let token = Tokenizer::new("from_zarr").add(path).add(T::NAME);
    let raw = raw_chunks(&array).then(|| Arc::clone(&store));
    Ok(Array::from_op(
        "from_zarr",
        token,
        shape,
        chunks,
        Vec::new(),
        ReadChunks::<T> {
            array: Arc::new(array),
            raw,
            element: std::marker::PhantomData,
        },
    ))
}

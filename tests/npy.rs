//! `.npy` files written by NumPy 2 (`tests/data/npy`, made with `np.save`) read back
//! as NumPy wrote them, and the files we write are byte for byte NumPy's.

use dask::array::{self, Array, Element};
use ndarray::{Array2, ArrayD, IxDyn};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/npy")
        .join(name)
}

/// What the fixtures hold: `np.arange(12).reshape(3, 4) * 0.5 - 1`.
fn values() -> Array2<f64> {
    Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 * 0.5 - 1.0)
}

fn read<T: Element>(name: &str) -> ArrayD<T> {
    array::from_npy::<T>(fixture(name), 2)
        .unwrap()
        .compute()
        .unwrap()
}

#[test]
fn numpys_files_read_back_as_numpy_wrote_them() {
    let a = values().into_dyn();
    assert_eq!(read::<f64>("f8_3x4.npy"), a);
    assert_eq!(read::<f64>("f8_fortran_3x4.npy"), a);
    assert_eq!(read::<f64>("f8_big_endian_3x4.npy"), a);
    assert_eq!(read::<f32>("f4_3x4.npy"), a.mapv(|v| v as f32));
    assert_eq!(read::<i64>("i8_3x4.npy"), a.mapv(|v| (v * 4.0) as i64));
    assert_eq!(read::<bool>("b1_3x4.npy"), a.mapv(|v| v > 0.0));
    assert_eq!(read::<f64>("f8_0d.npy"), ArrayD::from_elem(IxDyn(&[]), 2.5));
    assert_eq!(read::<f64>("f8_empty_0x3.npy").shape(), [0, 3]);
}

/// Writes `written` to `dir/name` and checks it is the NumPy fixture `name`, byte for byte.
fn same<T: Element>(dir: &Path, written: &Array<T>, name: &str) {
    let path = dir.join(name);
    written.to_npy(&path).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(fixture(name)).unwrap(),
        "{name}"
    );
}

#[test]
fn the_files_we_write_are_numpys() {
    let dir = std::env::temp_dir().join(format!("dask-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = array::from_ndarray(values(), [2, 3]);
    same(&dir, &a, "f8_3x4.npy");
    same(&dir, &a.mapv(|v| v as f32), "f4_3x4.npy");
    same(&dir, &a.mapv(|v| (v * 4.0) as i64), "i8_3x4.npy");
    same(&dir, &a.gt(0.0), "b1_3x4.npy");
    same(&dir, &array::full([], 2.5, 1), "f8_0d.npy");
    same(&dir, &array::zeros::<f64>([0, 3], 2), "f8_empty_0x3.npy");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_of_another_type_is_an_error_naming_both() {
    let err = array::from_npy::<i64>(fixture("f8_3x4.npy"), 2).unwrap_err();
    assert!(
        format!("{err:#}").contains("f8") && format!("{err:#}").contains("i64"),
        "{err}"
    );
    assert!(format!("{err:#}").contains("f8_3x4.npy"), "{err}");
}

#[test]
fn written_block_by_block_and_read_lazily_a_strip_at_a_time() {
    let dir = std::env::temp_dir();
    let (one, many) = (
        dir.join(format!("dask-rs-npy-one-{}.npy", std::process::id())),
        dir.join(format!("dask-rs-npy-many-{}.npy", std::process::id())),
    );
    let x = dask::array::random::default_rng(5).normal(0.0, 1.0, [37, 29, 3], [5, 7, 2]);
    // Blocks written at their places (column blocks make runs within rows) give the
    // same bytes as the whole array in one block.
    x.rechunk([37, 29, 3]).to_npy(&one).unwrap();
    x.to_npy(&many).unwrap();
    assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&many).unwrap());
    let y = dask::array::from_npy::<f64>(&many, [4, 10, 3]).unwrap();
    assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    // A reduction streams the file's strips; the sum is the same.
    let (a, b) = (y.sum().compute().unwrap(), x.sum().compute().unwrap());
    assert!((a - b).abs() < 1e-9);
    // The file removed after the lazy open: the compute fails, naming it.
    std::fs::remove_file(&many).unwrap();
    let z = dask::array::from_npy::<f64>(&one, 10).unwrap();
    std::fs::write(&one, b"").unwrap();
    let err = z.sum().compute().unwrap_err();
    let why = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(why.contains("dask-rs-npy-one"), "{err:?}");
    std::fs::remove_file(&one).unwrap();
}

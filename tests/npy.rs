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

//! `to_zarr` / `from_zarr` (feature `zarr`): round trips of every kind of element on
//! ragged chunks, edge chunks, and a Zarr v2 array written by zarr-python.

use dask::array::{self, Array, Complex64, random};
use ndarray::ArrayD;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dask-rs-zarr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn round_trips_keep_values_and_use_regular_chunks() {
    let dir = scratch("f64");
    let x = random::default_rng(3).normal(0.0, 1.0, [37, 23, 5], [10, 7, 5]);
    x.to_zarr(&dir).unwrap();
    let y: Array<f64> = array::from_zarr(&dir).unwrap();
    assert_eq!(y.chunks(), x.chunks());
    assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    // Unequal blocks are made regular (the first block's size) before writing.
    let ragged = array::from_ndarray(
        x.compute().unwrap(),
        vec![vec![20, 17], vec![3, 20], vec![5]],
    );
    assert!(ragged.to_zarr(&dir).is_err(), "an array is already there");
    ragged.to_zarr_overwrite(&dir).unwrap();
    let z: Array<f64> = array::from_zarr(&dir).unwrap();
    assert_eq!(z.chunks()[0], vec![20, 17]);
    assert_eq!(
        z.chunks()[1],
        vec![3; 7].into_iter().chain([2]).collect::<Vec<_>>()
    );
    assert_eq!(z.compute().unwrap(), x.compute().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_element_type_round_trips_and_types_are_checked() {
    let dir = scratch("types");
    let ints = random::default_rng(1)
        .integers(-100, 100, [50], 16)
        .astype::<i32>();
    ints.to_zarr(&dir).unwrap();
    let back: Array<i32> = array::from_zarr(&dir).unwrap();
    assert_eq!(back.compute().unwrap(), ints.compute().unwrap());
    // Read as another type: an error naming both.
    match array::from_zarr::<f64>(&dir) {
        Err(dask::Error::Shape { message, .. }) => assert!(message.contains("f64"), "{message}"),
        other => panic!("{other:?}"),
    }
    let flags = ints.gt(0);
    flags.to_zarr_overwrite(&dir).unwrap();
    assert_eq!(
        array::from_zarr::<bool>(&dir).unwrap().compute().unwrap(),
        flags.compute().unwrap()
    );
    let z = ints.astype::<Complex64>().conj();
    z.to_zarr_overwrite(&dir).unwrap();
    assert_eq!(
        array::from_zarr::<Complex64>(&dir)
            .unwrap()
            .compute()
            .unwrap(),
        z.compute().unwrap()
    );
    assert!(array::from_zarr::<f64>(dir.join("missing")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_zarr_v2_array_from_zarr_python_reads() {
    // data/zarr/v2_arange: zarr-python's `zarr.create_array(..., zarr_format=2)` of
    // np.arange(60.0).reshape(6, 10) in chunks (4, 3) (scripts/make_zarr_fixture.py).
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/zarr/v2_arange");
    let x: Array<f64> = array::from_zarr(&path).unwrap();
    assert_eq!(x.chunks(), [vec![4, 2], vec![3, 3, 3, 1]]);
    let want = ArrayD::from_shape_fn(ndarray::IxDyn(&[6, 10]), |i| (i[0] * 10 + i[1]) as f64);
    assert_eq!(x.compute().unwrap(), want);
}

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
    reads_as_arange("v2_arange");
}

/// The fixture `name` reads as `arange_6_10`, in its (4, 3) chunks.
fn reads_as_arange(name: &str) {
    let x = fixture(name).unwrap();
    assert_eq!(x.chunks(), [vec![4, 2], vec![3, 3, 3, 1]], "{name}");
    assert_eq!(x.compute().unwrap(), arange_6_10(), "{name}");
}

/// A fixture of `scripts/make_zarr_fixture.py`: arange(60.0) as 6 x 10 in (4, 3) chunks.
fn fixture(name: &str) -> Result<Array<f64>, dask::Error> {
    array::from_zarr(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("data/zarr")
            .join(name),
    )
}

fn arange_6_10() -> ArrayD<f64> {
    ArrayD::from_shape_fn(ndarray::IxDyn(&[6, 10]), |i| (i[0] * 10 + i[1]) as f64)
}

/// The bytes of every chunk file under `dir` (everything but the metadata).
fn chunk_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != "zarr.json") {
                total += entry.metadata().unwrap().len();
            }
        }
    }
    total
}

#[test]
fn gzip_compresses_chunks_and_reads_back() {
    use dask::array::{Compression, ZarrOptions};
    let dir = scratch("gzip");
    // Zeros and ones in 64-bit integers: compressible. (A chunk all of the fill value,
    // zero, is not stored at all, with or without a codec.)
    let x = random::default_rng(5).integers(0, 2, [300, 200], [100, 50]);
    let raw = scratch("raw");
    x.to_zarr(&raw).unwrap();
    x.to_zarr_with(&dir, ZarrOptions::new().compression(Compression::Gzip(6)))
        .unwrap();
    let meta = std::fs::read_to_string(dir.join("zarr.json")).unwrap();
    assert!(meta.contains("\"gzip\""), "{meta}");
    assert!(
        chunk_bytes(&dir) * 5 < chunk_bytes(&raw),
        "gzip {} bytes against {} raw",
        chunk_bytes(&dir),
        chunk_bytes(&raw)
    );
    let y: Array<i64> = array::from_zarr(&dir).unwrap();
    assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    // Overwriting with another codec through the options.
    let z = random::default_rng(6).normal(0.0, 1.0, [30, 20], [10, 10]);
    assert!(z.to_zarr_with(&dir, ZarrOptions::new()).is_err());
    z.to_zarr_with(
        &dir,
        ZarrOptions::new()
            .overwrite(true)
            .compression(Compression::Gzip(1)),
    )
    .unwrap();
    let back: Array<f64> = array::from_zarr(&dir).unwrap();
    assert_eq!(back.compute().unwrap(), z.compute().unwrap());
    // A level gzip does not have is a shape error, before anything is written.
    let err = z
        .to_zarr_with(
            scratch("bad-level"),
            ZarrOptions::new().compression(Compression::Gzip(12)),
        )
        .unwrap_err();
    assert!(matches!(err, dask::Error::Shape { .. }), "{err:?}");
    assert!(err.to_string().contains("gzip level 12"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&raw).unwrap();
}

#[cfg(not(feature = "zarr-c-codecs"))]
#[test]
fn zarr_pythons_default_codecs_without_the_c_codecs_are_a_clear_error() {
    for name in ["v3_zstd_arange", "v2_zstd_arange", "v2_blosc_arange"] {
        let err = fixture(name).and_then(|x| x.compute()).unwrap_err();
        let text = format!("{err:#}");
        assert!(matches!(err, dask::Error::Io { .. }), "{name}: {err:?}");
        assert!(text.contains(name), "names the store: {text}");
        assert!(
            text.contains("is not supported") && text.contains("`zarr-c-codecs` feature"),
            "{name}: {text}"
        );
    }
}

#[cfg(feature = "zarr-c-codecs")]
#[test]
fn zarr_pythons_default_codecs_read_and_zstd_writes() {
    use dask::array::{Compression, ZarrOptions};
    for name in ["v3_zstd_arange", "v2_zstd_arange", "v2_blosc_arange"] {
        reads_as_arange(name);
    }
    let dir = scratch("zstd");
    let x = random::default_rng(7).normal(0.0, 1.0, [120, 80], [50, 30]);
    x.to_zarr_with(&dir, ZarrOptions::new().compression(Compression::Zstd(3)))
        .unwrap();
    let meta = std::fs::read_to_string(dir.join("zarr.json")).unwrap();
    assert!(meta.contains("\"zstd\""), "{meta}");
    let y: Array<f64> = array::from_zarr(&dir).unwrap();
    assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    let err = x
        .to_zarr_with(
            scratch("zstd-bad"),
            ZarrOptions::new().compression(Compression::Zstd(40)),
        )
        .unwrap_err();
    assert!(err.to_string().contains("zstd level 40"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_writes_at_once_and_a_block_failing_halfway() {
    let dirs = [scratch("twice-a"), scratch("twice-b")];
    let x = |seed: u64| random::default_rng(seed).normal(0.0, 1.0, [300, 200], [64, 50]);
    let writers: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(k, dir)| {
            let (dir, x) = (dir.clone(), x(20 + k as u64));
            std::thread::spawn(move || {
                x.to_zarr(&dir).unwrap();
                let back: Array<f64> = array::from_zarr(&dir).unwrap();
                assert_eq!(back.compute().unwrap(), x.compute().unwrap());
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    // Each directory holds its own writer's array.
    let a: Array<f64> = array::from_zarr(&dirs[0]).unwrap();
    assert_eq!(a.compute().unwrap(), x(20).compute().unwrap());

    // A block that panics halfway through a write: the write returns that error, and
    // the next write puts the whole array there.
    let bad = x(30).map_blocks(|b, idx| {
        assert!(idx != [2, 1], "block [2, 1] is bad");
        b.to_owned()
    });
    let err = bad.to_zarr_overwrite(&dirs[0]).unwrap_err();
    assert!(
        matches!(err, dask::Error::TaskPanicked { .. }) && err.to_string().contains("is bad"),
        "{err}"
    );
    x(30).to_zarr_overwrite(&dirs[0]).unwrap();
    let back: Array<f64> = array::from_zarr(&dirs[0]).unwrap();
    assert_eq!(back.compute().unwrap(), x(30).compute().unwrap());
    for dir in dirs {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn uncompressed_chunks_read_straight_and_big_endian_ones_through_zarrs() {
    // Little-endian chunks are read straight into their blocks; big-endian ones (v3's
    // `bytes` codec with `endian: big`, v2's `>f8`) are swapped by zarrs. Read the
    // wrong way, the values would be byte-swapped garbage.
    for name in ["v2_arange", "v3_big_endian_arange", "v2_big_endian_arange"] {
        reads_as_arange(name);
    }
}

#[test]
fn chunks_of_zeros_missing_chunks_and_damaged_chunk_files() {
    let dir = scratch("damaged");
    // Block [0, 1] is all zeros: not stored, as zarrs and zarr-python skip a chunk of
    // fill values; it reads back as zeros.
    let x = random::default_rng(9)
        .normal(0.0, 1.0, [40, 30], [20, 10])
        .map_blocks(|b, idx| {
            if idx == [0, 1] {
                b.mapv(|_| 0.0)
            } else {
                b.to_owned()
            }
        });
    x.to_zarr(&dir).unwrap();
    let chunk = |i: usize, j: usize| dir.join("c").join(i.to_string()).join(j.to_string());
    assert!(!chunk(0, 1).exists() && chunk(0, 0).exists());
    let y: Array<f64> = array::from_zarr(&dir).unwrap();
    assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    // A chunk file lost afterwards reads as the fill value, as in zarr-python.
    std::fs::remove_file(chunk(1, 2)).unwrap();
    let mut expected = x.compute().unwrap();
    expected
        .slice_each_axis_mut(|ax| ndarray::Slice::from([20..40, 20..30][ax.axis.index()].clone()))
        .fill(0.0);
    assert_eq!(y.compute().unwrap(), expected);
    // A chunk file cut short is an error naming the block and the size, not a short
    // block.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(chunk(1, 1))
        .unwrap();
    file.set_len(100).unwrap();
    let err = y.compute().unwrap_err();
    assert!(
        matches!(err, dask::Error::TaskFailed { .. } | dask::Error::Io { .. }),
        "{err:?}"
    );
    let text = format!("{err:#}");
    assert!(
        text.contains("from_zarr") && text.contains("expected 1600"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

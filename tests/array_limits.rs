//! Bad sizes are errors, not aborts, and sums follow IEEE like NumPy: the regression
//! tests of the trust issue's array findings.

use dask::array::{self, Array};
use dask::prelude::*;
use ndarray::{ArrayD, IxDyn};

fn from(values: &[f64], chunk: usize) -> Array<f64> {
    array::from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[values.len()]), values.to_vec()).unwrap(),
        chunk,
    )
}

#[test]
fn sums_and_means_keep_infinities_as_numpy_does() {
    let inf = f64::INFINITY;
    for chunk in [1, 2, 4] {
        assert_eq!(from(&[1.0, inf], chunk).sum().compute().unwrap(), inf);
        assert_eq!(from(&[1e308, 1e308], chunk).sum().compute().unwrap(), inf);
        assert_eq!(
            from(&[-1e308, -1e308, 5.0], chunk).sum().compute().unwrap(),
            -inf
        );
        assert_eq!(from(&[1.0, inf, 3.0], chunk).mean().compute().unwrap(), inf);
        assert!(from(&[inf, -inf], chunk).sum().compute().unwrap().is_nan());
        assert!(
            from(&[1.0, f64::NAN], chunk)
                .sum()
                .compute()
                .unwrap()
                .is_nan()
        );
        assert_eq!(from(&[1.5, 2.5, -1.0], chunk).sum().compute().unwrap(), 3.0);
    }
    // Over many strips and blocks, too.
    let mut big = vec![1.0; 100_000];
    big[77_777] = inf;
    assert_eq!(from(&big, 1_000).sum().compute().unwrap(), inf);
    big[12_345] = -inf;
    assert!(from(&big, 1_000).mean().compute().unwrap().is_nan());
}

#[test]
fn linspace_of_one_point_is_its_start() {
    let one = array::linspace(0.0, 1.0, 1, 1).compute().unwrap();
    assert_eq!(one.as_slice().unwrap(), [0.0]);
    let two = array::linspace(0.0, 1.0, 2, 1).compute().unwrap();
    assert_eq!(two.as_slice().unwrap(), [0.0, 1.0]);
}

#[test]
fn integer_division_wraps_like_numpy() {
    let x = array::from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[3]), vec![i64::MIN, 7, -7]).unwrap(),
        2,
    );
    let quotient = (&x / -1).compute().unwrap();
    assert_eq!(quotient.as_slice().unwrap(), [i64::MIN, -7, 7]);
    let minus_one = -array::ones::<i64>([3], 2);
    let remainder = (&x % &minus_one).compute().unwrap();
    assert_eq!(remainder.as_slice().unwrap(), [0, 0, 0]);
    let by_zero = (&x / 0).compute().unwrap();
    assert_eq!(by_zero.as_slice().unwrap(), [0, 0, 0]);
}

#[test]
fn too_many_blocks_is_an_error_naming_the_count() {
    let x = array::random::default_rng(1).normal(0.0, 1.0, [10_000, 10_000], [1, 1]);
    let err = x.check().unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    // A reduction of it fails with the same message (wrapped: see issue 11).
    let text = format!("{:#}", x.mean().compute().unwrap_err());
    assert!(text.contains("100000000 blocks"), "{text}");
    assert!(text.contains("set_max_blocks"), "{text}");
    // The ceiling is configurable.
    assert_eq!(array::max_blocks(), array::DEFAULT_MAX_BLOCKS);
}

#[test]
fn shapes_whose_size_overflows_are_errors_in_every_build() {
    let x = array::zeros::<f64>([usize::MAX / 2, 4], [usize::MAX / 2, 4]);
    let err = x.check().unwrap_err();
    assert!(
        format!("{err:#}").contains("more elements than a usize"),
        "{err}"
    );
    let y = array::ones::<f64>([1 << 40, 1 << 40], [1 << 20, 1 << 20]);
    let err = y.check().unwrap_err();
    assert!(format!("{err:#}").contains("more elements"), "{err}");
}

#[test]
fn arange_of_too_many_elements_is_refused_at_once() {
    let x = array::arange_with(0.0, 1e300, 1.0, 1000);
    let err = x.check().unwrap_err();
    assert!(format!("{err:#}").contains("too many"), "{err}");
    // Many but representable elements: refused by the block ceiling, not by memory.
    let y = array::arange_with(0.0, 1e12, 1.0, 1000);
    assert!(format!("{:#}", y.check().unwrap_err()).contains("blocks"));
}

#[test]
fn an_npy_header_larger_than_its_file_is_refused_before_allocating() {
    let dir = std::env::temp_dir().join(format!("dask-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A valid version-1 header declaring 10^17 f64 elements, and 16 bytes of data.
    let mut header =
        String::from("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000000000,), }");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend([0_u8; 16]);
    let path = dir.join("hostile.npy");
    std::fs::write(&path, &bytes).unwrap();
    let err = array::from_npy::<f64>(&path, 1000).unwrap_err();
    let text = format!("{err:#}");
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(text.contains("100000000000000000 elements"), "{text}");
    assert!(text.contains("hostile.npy"), "{text}");
    // A file that is not .npy at all.
    std::fs::write(&path, b"hello").unwrap();
    assert!(array::from_npy::<f64>(&path, 1000).is_err());
    // A good file still reads.
    let good = dir.join("good.npy");
    from(&[1.0, 2.0, 3.0], 2).to_npy(&good).unwrap();
    let back = array::from_npy::<f64>(&good, 2).unwrap().compute().unwrap();
    assert_eq!(back.as_slice().unwrap(), [1.0, 2.0, 3.0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

//! `dask::array::fft` (feature `fft`) against the discrete Fourier transform written
//! out as its sum, along each axis of a blocked 2-d array.

use dask::array::{self, Complex64, FULL, fft};
use ndarray::{ArrayD, Axis, IxDyn};
use std::f64::consts::PI;

/// NumPy's `fft` of one lane by definition, padded or cut to `n`.
fn dft(lane: &[Complex64], n: usize, inverse: bool) -> Vec<Complex64> {
    let sign = if inverse { 1.0 } else { -1.0 };
    let scale = if inverse { 1.0 / n as f64 } else { 1.0 };
    (0..n)
        .map(|k| {
            let mut total = Complex64::default();
            for (j, &v) in lane.iter().take(n).enumerate() {
                let angle = sign * 2.0 * PI * (j * k) as f64 / n as f64;
                total += v * Complex64::new(angle.cos(), angle.sin());
            }
            total * scale
        })
        .collect()
}

fn signal() -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(&[6, 7]), |i| {
        ((i[0] * 7 + i[1]) as f64 * 0.9).sin() + i[0] as f64
    })
}

fn close(a: Complex64, b: Complex64) -> bool {
    (a - b).norm() < 1e-9
}

#[test]
fn fft_and_ifft_match_the_sum_along_each_axis() {
    let a = signal();
    for axis in 0..2 {
        let mut chunks = vec![vec![3, 3], vec![4, 3]];
        chunks[axis] = vec![a.shape()[axis]];
        let x = array::from_ndarray(a.clone(), chunks);
        for n in [None, Some(4), Some(9)] {
            let got = fft::fft(&x, n, axis).compute().unwrap();
            let len = n.unwrap_or(a.shape()[axis]);
            for (lane, out) in a.lanes(Axis(axis)).into_iter().zip(got.lanes(Axis(axis))) {
                let c: Vec<Complex64> = lane.iter().map(|&v| Complex64::new(v, 0.0)).collect();
                let want = dft(&c, len, false);
                assert!(
                    out.iter().zip(&want).all(|(&p, &q)| close(p, q)),
                    "axis {axis}, n {n:?}"
                );
            }
        }
        let back = fft::ifft(&fft::fft(&x, None, axis), None, axis)
            .compute()
            .unwrap();
        assert!(
            back.iter()
                .zip(a.iter())
                .all(|(p, &q)| close(*p, Complex64::new(q, 0.0)))
        );
    }
}

#[test]
fn real_transforms_keep_half_the_spectrum_and_invert() {
    let a = signal();
    let x = array::from_ndarray(a.clone(), [2, FULL]);
    let full = fft::fft(&x, None, 1).compute().unwrap();
    let half = fft::rfft(&x, None, 1).compute().unwrap();
    assert_eq!(half.shape(), [6, 4]);
    for r in 0..6 {
        for k in 0..4 {
            assert!(close(half[[r, k]], full[[r, k]]));
        }
    }
    // irfft(rfft(x), n) is x, for odd and even n.
    for n in [7, 6] {
        let cut = x.slice(dask::array::s![.., ..n]).rechunk([2, FULL]);
        let back = fft::irfft(&fft::rfft(&cut, None, 1), Some(n), 1)
            .compute()
            .unwrap();
        let want = a.slice_axis(Axis(1), ndarray::Slice::from(0..n));
        assert!(
            back.iter()
                .zip(want.iter())
                .all(|(p, q)| (p - q).abs() < 1e-9),
            "n {n}"
        );
    }
    assert_eq!(
        fft::fftfreq(5, 1.0, 2)
            .compute()
            .unwrap()
            .as_slice()
            .unwrap(),
        [0.0, 0.2, 0.4, -0.4, -0.2]
    );
    assert_eq!(
        fft::rfftfreq(5, 0.1, 2)
            .compute()
            .unwrap()
            .as_slice()
            .unwrap(),
        [0.0, 2.0, 4.0]
    );
}

#[test]
fn an_axis_in_several_blocks_is_an_error_naming_the_fix() {
    let x = array::from_ndarray(signal(), [3, 3]);
    match fft::fft(&x, None, 1).check() {
        Err(dask::Error::Shape { message, .. }) => {
            assert!(message.contains("rechunk"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(fft::fft(&x, None, 2).check().is_err());
    assert!(fft::fft(&x.rechunk([3, FULL]), Some(0), 1).check().is_err());
}

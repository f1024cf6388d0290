//! Discrete Fourier transforms along one axis (Dask's `dask.array.fft`, NumPy's
//! conventions: no scaling forward, `1/n` inverse), on the rustfft crate, behind the
//! `fft` feature.
//!
//! As in Dask, the transformed axis must be one block (rechunk it with `FULL` first);
//! every lane along it is transformed inside its block, the other axes keep their
//! chunks.
//!
//! ```
//! # use dask_runtime as dask;
//! use dask::array::{FULL, fft, from_ndarray};
//! let x = from_ndarray(ndarray::arr1(&[1.0, 2.0, 3.0, 4.0]), FULL);
//! let f = fft::fft(&x, None, 0).compute().unwrap();
//! assert_eq!(f[[0]].re, 10.0);
//! let back = fft::ifft(&fft::fft(&x, None, 0), None, 0).compute().unwrap();
//! assert!((back[[2]].re - 3.0).abs() < 1e-12);
//! ```

use super::elementwise::CastTo;
use super::{Array, BlockOptions, Element, from_ndarray};
use ndarray::{ArrayD, ArrayViewD, Axis};
use num_complex::Complex64;
use rustfft::FftPlanner;

/// Which transform a lane gets.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Forward,
    Inverse,
    /// Real input, the `n / 2 + 1` non-negative frequencies out.
    Real,
    /// The non-negative frequencies in, `n` real values out (as complex, real part).
    InverseReal,
}

/// Each lane along `axis` of `x` transformed to `out_len` values.
fn along(
    x: &Array<Complex64>,
    n: Option<usize>,
    axis: usize,
    kind: Kind,
    label: &'static str,
) -> Array<Complex64> {
    let layer = match x.layer() {
        Ok(l) => l,
        Err(e) => return Array::from_error(e),
    };
    if axis >= layer.shape.len() {
        return Array::failed(
            label,
            format!("axis {axis} of a {}-d array", layer.shape.len()),
        );
    }
    if layer.chunks[axis].len() > 1 {
        return Array::failed(
            label,
            format!(
                "axis {axis} is in {} blocks; an FFT needs it in one (as Dask does): \
                 rechunk it with FULL first",
                layer.chunks[axis].len()
            ),
        );
    }
    let m = layer.shape[axis];
    // The transform's length, and what comes out along the axis.
    let (len, out_len) = match kind {
        Kind::Forward | Kind::Inverse => {
            let n = n.unwrap_or(m);
            (n, n)
        }
        Kind::Real => {
            let n = n.unwrap_or(m);
            (n, n / 2 + 1)
        }
        Kind::InverseReal => {
            let n = n.unwrap_or(2 * m.saturating_sub(1));
            (n, n)
        }
    };
    if len == 0 {
        return Array::failed(label, format!("a transform of length 0 along axis {axis}"));
    }
    let mut chunks = layer.chunks.clone();
    chunks[axis] = vec![out_len];
    let options = BlockOptions::new().chunks(chunks);
    x.map_blocks_with(options, move |block, _| {
        transform(block, axis, len, out_len, kind)
    })
}

fn transform(
    block: ArrayViewD<'_, Complex64>,
    axis: usize,
    len: usize,
    out_len: usize,
    kind: Kind,
) -> ArrayD<Complex64> {
    let mut shape = block.shape().to_vec();
    shape[axis] = out_len;
    let mut out = ArrayD::<Complex64>::zeros(shape);
    let mut planner = FftPlanner::<f64>::new();
    let plan = match kind {
        Kind::Forward | Kind::Real => planner.plan_fft_forward(len),
        Kind::Inverse | Kind::InverseReal => planner.plan_fft_inverse(len),
    };
    let scale = match kind {
        Kind::Forward | Kind::Real => 1.0,
        Kind::Inverse | Kind::InverseReal => 1.0 / len as f64,
    };
    let mut buffer = vec![Complex64::default(); len];
    let mut scratch = vec![Complex64::default(); plan.get_inplace_scratch_len()];
    for (lane, mut target) in block
        .lanes(Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(Axis(axis)))
    {
        buffer.fill(Complex64::default());
        match kind {
            Kind::InverseReal => {
                // The spectrum of a real signal: X[n - k] = conj(X[k]).
                let half = len / 2 + 1;
                for (k, &v) in lane.iter().take(half).enumerate() {
                    buffer[k] = v;
                    if k > 0 && len - k >= half {
                        buffer[len - k] = v.conj();
                    }
                }
                buffer[0].im = 0.0;
                if len.is_multiple_of(2) {
                    buffer[len / 2].im = 0.0;
                }
            }
            _ => {
                for (b, &v) in buffer.iter_mut().zip(lane.iter()) {
                    *b = v;
                }
            }
        }
        plan.process_with_scratch(&mut buffer, &mut scratch);
        for (t, &v) in target.iter_mut().zip(&buffer) {
            *t = match kind {
                Kind::InverseReal => Complex64::new(v.re * scale, 0.0),
                _ => v * scale,
            };
        }
    }
    out
}

/// The discrete Fourier transform along `axis` (NumPy's `fft(x, n, axis)`): `n` pads
/// with zeros or cuts each lane first. Real input is cast to complex.
pub fn fft<T: Element + CastTo<Complex64>>(
    x: &Array<T>,
    n: Option<usize>,
    axis: usize,
) -> Array<Complex64> {
    along(&x.astype::<Complex64>(), n, axis, Kind::Forward, "fft")
}

/// The inverse transform along `axis`, scaled by `1/n` (NumPy's `ifft`).
pub fn ifft<T: Element + CastTo<Complex64>>(
    x: &Array<T>,
    n: Option<usize>,
    axis: usize,
) -> Array<Complex64> {
    along(&x.astype::<Complex64>(), n, axis, Kind::Inverse, "ifft")
}

/// The transform of real input along `axis`: its `n / 2 + 1` non-negative frequencies
/// (NumPy's `rfft`).
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{FULL, fft, from_ndarray};
/// let x = from_ndarray(ndarray::arr1(&[1.0, 0.0, -1.0, 0.0]), FULL);
/// let f = fft::rfft(&x, None, 0).compute().unwrap();
/// assert_eq!(f.len(), 3);
/// assert!((f[[1]].re - 2.0).abs() < 1e-12);
/// let back = fft::irfft(&fft::rfft(&x, None, 0), Some(4), 0).compute().unwrap();
/// assert!((back[[2]] + 1.0).abs() < 1e-12);
/// ```
pub fn rfft<T: Element + CastTo<f64>>(
    x: &Array<T>,
    n: Option<usize>,
    axis: usize,
) -> Array<Complex64> {
    along(
        &x.astype::<f64>().astype::<Complex64>(),
        n,
        axis,
        Kind::Real,
        "rfft",
    )
}

/// The real signal of `n` values (default `2 (m - 1)`) whose non-negative frequencies
/// are `x` along `axis` (NumPy's `irfft`).
pub fn irfft(x: &Array<Complex64>, n: Option<usize>, axis: usize) -> Array<f64> {
    along(x, n, axis, Kind::InverseReal, "irfft").re()
}

/// The sample frequencies of an FFT of length `n` with spacing `d` (NumPy's
/// `fftfreq`): `0, 1, ..., -(n/2), ..., -1` over `n d`.
///
/// ```
/// # use dask_runtime as dask;
/// let f = dask::array::fft::fftfreq(4, 0.5, 2).compute().unwrap();
/// assert_eq!(f.as_slice().unwrap(), [0.0, 0.5, -1.0, -0.5]);
/// ```
pub fn fftfreq(n: usize, d: f64, chunks: impl Into<super::ChunkSpec>) -> Array<f64> {
    let values: Vec<f64> = (0..n)
        .map(|k| {
            let k = if k < n.div_ceil(2) {
                k as f64
            } else {
                k as f64 - n as f64
            };
            k / (n as f64 * d)
        })
        .collect();
    from_ndarray(ndarray::Array1::from(values).into_dyn(), chunks)
}

/// The sample frequencies of [`rfft`]: `0, 1, ..., n/2` over `n d` (NumPy's
/// `rfftfreq`).
pub fn rfftfreq(n: usize, d: f64, chunks: impl Into<super::ChunkSpec>) -> Array<f64> {
    let values: Vec<f64> = (0..=n / 2).map(|k| k as f64 / (n as f64 * d)).collect();
    from_ndarray(ndarray::Array1::from(values).into_dyn(), chunks)
}

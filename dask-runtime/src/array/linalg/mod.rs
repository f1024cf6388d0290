//! Linear algebra on blocked `f64` arrays (Dask's `dask.array.linalg`), on the faer
//! crate's dense kernels (pure Rust: no system LAPACK), behind the `linalg` feature.
//!
//! - [`tsqr`] / [`qr`]: QR of a tall-and-skinny matrix, each row block factored in
//!   parallel and the small `R`s once more (Dask's algorithm); a short-and-wide matrix
//!   of one row block is factored as Dask's `sfqr` does.
//! - [`svd`]: the thin SVD of a tall-and-skinny (or short-and-wide) matrix through
//!   TSQR; [`svd_compressed`]: the first `k` singular triplets of any blocked matrix by
//!   randomized projection with power iterations (Halko, Martinsson and Tropp).
//! - [`lstsq`]: least squares through TSQR, as Dask's.
//! - [`cholesky`]: blocked, the tile algorithm (each tile step a task), as Dask's.
//! - [`lu`]: blocked LU with partial pivoting over whole columns (LAPACK's
//!   algorithm; Dask's pivots only inside diagonal tiles); [`solve_triangular`]:
//!   blocked substitution; [`solve`] and [`inv`] built on both, in tiles throughout.
//! - [`norm`]: vector and matrix norms from reductions (and the SVD for 2-norms).
//!
//! Every function takes `f64` or `Complex64` matrices ([`LinalgElement`]). For complex
//! ones the transposes of the real algorithms are conjugate transposes: `Q^H Q = I`,
//! `a = U diag(S) V^H`, [`cholesky`]'s `a = L L^H`. Singular values, norms, residuals
//! and ranks are real (`f64`), as NumPy's are.
//!
//! ```
//! # use dask_runtime as dask;
//! use dask::array::{linalg, random};
//! let a = random::default_rng(1).normal(0.0, 1.0, [10_000, 20], [1_000, 20]);
//! let (q, r) = linalg::tsqr(&a);
//! let back = q.dot(&r);
//! let err = (&back - &a).abs().max().compute().unwrap();
//! assert!(err < 1e-10);
//! ```

mod cholesky;
mod dense;
mod lu;
mod triangular;
mod tsqr;

use super::{Array, Element, Scalar, ShapeError, random, s};
use crate::array::layer::{BlockValue, block};
use crate::array::layer::{Layer, Tokenizer};
use crate::error::BoxError;
use dense::{dyn2, from_faer, gathered, matrix_layer, to_faer};
use ndarray::{Array1, ArrayD, ArrayView2, IxDyn};
use triangular::Triangle;

/// The element types of every function here: `f64` and
/// [`Complex64`](crate::array::Complex64).
pub trait LinalgElement:
    Element
    + faer::traits::ComplexField
    + faer::traits::Conjugate<Canonical = Self>
    + ndarray::LinalgScalar
{
    /// Whether a pivot can be divided by: not zero, and finite.
    #[doc(hidden)]
    fn usable_pivot(self) -> bool;
    /// The element of the real number `v`.
    #[doc(hidden)]
    fn from_real(v: f64) -> Self;
    /// The complex conjugate (the value itself for a real).
    #[doc(hidden)]
    fn conj(self) -> Self;
    /// The absolute value (modulus).
    #[doc(hidden)]
    fn modulus(self) -> f64;
    /// The squared absolute value, `re^2 + im^2`.
    #[doc(hidden)]
    fn abs2(self) -> f64;
    /// Whether [`LinalgElement::conj`] does anything: a real type skips the copy.
    #[doc(hidden)]
    const COMPLEX: bool;
}

impl LinalgElement for f64 {
    const COMPLEX: bool = false;
    fn usable_pivot(self) -> bool {
        self != 0.0 && self.is_finite()
    }
    fn from_real(v: f64) -> Self {
        v
    }
    fn conj(self) -> Self {
        self
    }
    fn modulus(self) -> f64 {
        self.abs()
    }
    fn abs2(self) -> f64 {
        self * self
    }
}

impl LinalgElement for super::Complex64 {
    const COMPLEX: bool = true;
    fn usable_pivot(self) -> bool {
        self != Self::new(0.0, 0.0) && self.re.is_finite() && self.im.is_finite()
    }
    fn from_real(v: f64) -> Self {
        Self::new(v, 0.0)
    }
    fn conj(self) -> Self {
        num_complex::Complex::conj(&self)
    }
    fn modulus(self) -> f64 {
        self.norm()
    }
    fn abs2(self) -> f64 {
        self.norm_sqr()
    }
}

/// The conjugate transpose `x^H` (the transpose of a real matrix).
fn adjoint<T: LinalgElement>(x: &Array<T>) -> Array<T> {
    if T::COMPLEX {
        x.map_named("conj", Tokenizer::new("conj"), T::conj).t()
    } else {
        x.t()
    }
}

/// The matrix product of 2-d arrays of any [`LinalgElement`] (`Array::dot` is for
/// real elements).
fn mm<T: LinalgElement>(a: &Array<T>, b: &Array<T>) -> Array<T> {
    crate::array::dot::matmul(a, b)
}

/// A real array as `T`s: `x.astype::<T>()`, named as that is (so a real and a
/// complex array made from the same reals have different names, and blocks).
fn of_reals<T: LinalgElement>(x: &Array<f64>) -> Array<T> {
    let token = Tokenizer::new("astype").add((f64::NAME, T::NAME));
    x.map_named("astype", token, T::from_real)
}

/// `f` of each element, as reals: moduli, squared moduli.
fn real_map<T: LinalgElement>(x: &Array<T>, label: &'static str, f: fn(T) -> f64) -> Array<f64> {
    x.map_named(label, Tokenizer::new(label), f)
}

/// The token of a dense step (its inputs are added by the layer).
fn token(label: &str) -> Tokenizer {
    Tokenizer::new(label)
}

fn failed2<T: Element>(e: ShapeError) -> (Array<T>, Array<T>) {
    (Array::from_error(e.clone()), Array::from_error(e))
}

fn failed3<T: Element, S: Element>(e: ShapeError) -> (Array<T>, Array<S>, Array<T>) {
    (
        Array::from_error(e.clone()),
        Array::from_error(e.clone()),
        Array::from_error(e),
    )
}

/// `(Q, R)` of a tall-and-skinny matrix: `Q` (m x n', orthonormal columns, in `a`'s
/// row blocks; unitary columns, `Q^H Q = I`, for complex) and `R` (n' x n, upper
/// triangular), n' = min(m, n). Columns are made one block (Dask requires it; here it
/// is done for you).
pub fn tsqr<T: LinalgElement>(a: &Array<T>) -> (Array<T>, Array<T>) {
    tsqr::tsqr(a).unwrap_or_else(failed2)
}

/// `(Q, R)` of `a` (NumPy's reduced mode): TSQR for tall-and-skinny matrices; a matrix
/// wider than tall in one row block is factored as Dask's `sfqr` does (its first `m`
/// columns factored, `R = Q^H a`).
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{linalg, random};
/// let a = random::default_rng(2).normal(0.0, 1.0, [5, 40], [5, 10]);
/// let (q, r) = linalg::qr(&a);
/// assert_eq!((q.shape(), r.shape()), (&[5, 5][..], &[5, 40][..]));
/// let err = (&q.dot(&r) - &a).abs().max().compute().unwrap();
/// assert!(err < 1e-12);
/// ```
pub fn qr<T: LinalgElement>(a: &Array<T>) -> (Array<T>, Array<T>) {
    let layer = match matrix_layer("qr", a) {
        Ok(l) => l,
        Err(e) => return failed2(e),
    };
    let (m, n) = (layer.shape[0], layer.shape[1]);
    if m >= n || layer.chunks[0].len() > 1 {
        return tsqr(a);
    }
    let first = a.slice(s![.., ..m]);
    let q = gathered("sfqr", token("sfqr"), &[&first], vec![vec![m, m]], |m| {
        Ok(vec![dyn2(tsqr::thin_qr(&m[0]).0)])
    })
    .output::<T>(0);
    let r = mm(&adjoint(&q), a);
    (q, r)
}

/// The thin SVD `(U, S, Vt)` of a tall-and-skinny or short-and-wide matrix: `a = U
/// diag(S) Vt`, `S` real and descending, through TSQR (of `a`, or of its transpose
/// when it is wider than tall), as Dask's `svd`. For a complex `a`, `Vt` is `V^H`.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{linalg, random};
/// let a = random::default_rng(3).normal(0.0, 1.0, [2_000, 10], [500, 10]);
/// let (u, s, vt) = linalg::svd(&a);
/// let back = (&u * &s).dot(&vt);
/// assert!((&back - &a).abs().max().compute().unwrap() < 1e-10);
/// ```
pub fn svd<T: LinalgElement>(a: &Array<T>) -> (Array<T>, Array<f64>, Array<T>) {
    let layer = match matrix_layer("svd", a) {
        Ok(l) => l,
        Err(e) => return failed3(e),
    };
    let (m, n) = (layer.shape[0], layer.shape[1]);
    if m < n {
        let (u, s, vt) = svd(&a.t());
        return (vt.t(), s, u.t());
    }
    let (q, r) = match tsqr::tsqr(a) {
        Ok(qr) => qr,
        Err(e) => return failed3(e),
    };
    let k = m.min(n);
    let out = gathered(
        "svd",
        token("svd"),
        &[&r],
        vec![vec![k, k], vec![k], vec![k, n]],
        |r| {
            let (u, s, vt) = small_svd(&r[0])?;
            Ok(vec![dyn2(u), block(s.into_dyn()), dyn2(vt)])
        },
    );
    let (ur, s, vt) = (out.output::<T>(0), out.output::<f64>(1), out.output::<T>(2));
    (mm(&q, &ur), s, vt)
}

/// `U`, `S` (real) and `V^H` of a small dense matrix.
type SmallSvd<T> = (ndarray::Array2<T>, Array1<f64>, ndarray::Array2<T>);

/// The SVD of a small dense matrix, in one piece.
fn small_svd<T: LinalgElement>(a: &ArrayView2<'_, T>) -> Result<SmallSvd<T>, BoxError> {
    let svd = to_faer(a)
        .thin_svd()
        .map_err(|e| format!("the SVD did not converge: {e:?}"))?;
    // Singular values are real and non-negative, whatever the element type.
    let s: Vec<f64> = svd
        .S()
        .column_vector()
        .iter()
        .map(|&v| v.modulus())
        .collect();
    let mut vt = from_faer(svd.V()).reversed_axes();
    if T::COMPLEX {
        vt.mapv_inplace(T::conj);
    }
    let vt = vt.as_standard_layout().into_owned();
    Ok((from_faer(svd.U()), Array1::from(s), vt))
}

/// The first `k` singular triplets `(U, S, Vt)` of any blocked matrix, approximately
/// (Dask's `svd_compressed`): `a` is projected on `k + 10` random directions (seeded
/// by `seed`), `n_power_iter` power iterations sharpen the subspace (each
/// re-orthonormalised by TSQR), and the small projected matrix is decomposed exactly.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{linalg, random};
/// // A rank-3 matrix: three triplets reproduce it.
/// let rng = random::default_rng(4);
/// let left = rng.normal(0.0, 1.0, [1_000, 3], [250, 3]);
/// let right = rng.normal(0.0, 1.0, [3, 300], [3, 100]);
/// let a = left.dot(&right);
/// let (u, s, vt) = linalg::svd_compressed(&a, 3, 1, 0);
/// let back = (&u * &s).dot(&vt);
/// assert!((&back - &a).abs().max().compute().unwrap() < 1e-8);
/// ```
pub fn svd_compressed<T: LinalgElement>(
    a: &Array<T>,
    k: usize,
    n_power_iter: usize,
    seed: u64,
) -> (Array<T>, Array<f64>, Array<T>) {
    let layer = match matrix_layer("svd_compressed", a) {
        Ok(l) => l,
        Err(e) => return failed3(e),
    };
    let (m, n) = (layer.shape[0], layer.shape[1]);
    if k == 0 || k > m.min(n) {
        return failed3(ShapeError::new(
            "svd_compressed",
            format!("k = {k} for a {m} x {n} matrix: 1 <= k <= {}", m.min(n)),
        ));
    }
    let l = (k + 10).min(m.min(n));
    let omega = of_reals(&random::default_rng(seed).standard_normal([n, l], [n, l]));
    let basis = |y: &Array<T>| tsqr(y).0;
    let mut q = basis(&mm(a, &omega));
    for _ in 0..n_power_iter {
        let z = basis(&mm(&adjoint(a), &q));
        q = basis(&mm(a, &z));
    }
    let b = mm(&adjoint(&q), a); // l x n
    let (ub, s, vt) = svd(&b);
    let u = mm(&q, &ub);
    (
        u.slice(s![.., ..k]),
        s.slice(s![..k]),
        vt.slice(s![..k, ..]),
    )
}

/// A least-squares solution of `a x = b`, as Dask's `lstsq` gives it.
#[derive(Clone, Debug)]
pub struct Lstsq<T: Element = f64> {
    /// The solution: `n` values (or `n x k` for `k` right-hand sides).
    pub x: Array<T>,
    /// The squared residual `|b - a x|^2` of each right-hand side (`[1]` for one).
    pub residuals: Array<f64>,
    /// The rank of `a` (singular values of `R` above NumPy's tolerance).
    pub rank: Scalar<i64>,
    /// The singular values of `a` (those of its `R`), descending.
    pub s: Array<f64>,
}

/// Least squares through TSQR (Dask's `lstsq`): `a = Q R`, then `R x = Q^H b`, solved
/// by back substitution. `a` is tall and skinny (m >= n); `b` has `m` rows.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{from_ndarray, linalg};
/// let a = from_ndarray(ndarray::arr2(&[[1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [1.0, 4.0]]), [2, 2]);
/// let b = from_ndarray(ndarray::arr1(&[6.0, 5.0, 7.0, 10.0]), 2);
/// let fit = linalg::lstsq(&a, &b);
/// let x = fit.x.compute().unwrap();
/// assert!((x[0] - 3.5).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
/// assert_eq!(fit.rank.compute().unwrap(), 2);
/// ```
pub fn lstsq<T: LinalgElement>(a: &Array<T>, b: &Array<T>) -> Lstsq<T> {
    let fail = |e: ShapeError| Lstsq {
        x: Array::from_error(e.clone()),
        residuals: Array::from_error(e.clone()),
        rank: Scalar::from_array(Array::from_error(e.clone())),
        s: Array::from_error(e),
    };
    let (la, lb) = match (matrix_layer("lstsq", a), b.layer()) {
        (Ok(la), Ok(lb)) => (la, lb.clone()),
        (Err(e), _) => return fail(e),
        (_, Err(e)) => return fail(e),
    };
    let (m, n) = (la.shape[0], la.shape[1]);
    if m < n || lb.shape.first() != Some(&m) || lb.shape.len() > 2 {
        return fail(ShapeError::new(
            "lstsq",
            format!(
                "a {:?} must be tall (m >= n) and b {:?} have its m rows",
                la.shape, lb.shape
            ),
        ));
    }
    let one = lb.shape.len() == 1;
    let b2 = if one { b.reshape([m, 1]) } else { b.clone() };
    let k = b2.layer.as_ref().map_or(1, |l| l.shape[1]);
    let (q, r) = tsqr(a);
    let qtb = mm(&adjoint(&q), &b2);
    let out = gathered(
        "lstsq",
        token("lstsq"),
        &[&r, &qtb],
        vec![vec![n, k], vec![], vec![n]],
        move |v| {
            let (r, qtb) = (&v[0], &v[1]);
            let mut x = to_faer(qtb);
            faer::linalg::triangular_solve::solve_upper_triangular_in_place(
                to_faer(r).as_ref(),
                x.as_mut(),
                faer::Par::Seq,
            );
            let s = small_svd(r)?.1;
            let largest = s.iter().copied().fold(0.0, f64::max);
            let tol = largest * m.max(n) as f64 * f64::EPSILON;
            let rank = s.iter().filter(|&&v| v > tol).count() as f64;
            Ok(vec![
                dyn2(from_faer(x.as_ref())),
                block(ArrayD::from_elem(IxDyn(&[]), rank)),
                block(s.into_dyn()),
            ] as Vec<BlockValue>)
        },
    );
    let (x2, rank, s) = (
        out.output::<T>(0),
        out.output::<f64>(1),
        out.output::<f64>(2),
    );
    let fitted = mm(a, &x2);
    let resid = crate::array::elementwise::zip_with(
        "sub",
        Tokenizer::new("sub"),
        (&b2).into(),
        (&fitted).into(),
        |p: T, q: T| p - q,
    );
    let residuals = real_map(&resid, "abs2", T::abs2).sum_axis(0);
    Lstsq {
        x: if one { x2.reshape([n]) } else { x2 },
        residuals,
        rank: Scalar::from_array(rank.astype::<i64>()),
        s,
    }
}

/// A square matrix's layer, or the error naming `operation`.
fn square<T: Element>(operation: &'static str, a: &Array<T>) -> Result<usize, ShapeError> {
    let l = matrix_layer(operation, a)?;
    if l.shape[0] != l.shape[1] {
        return Err(ShapeError::new(
            operation,
            format!("a square matrix is needed, not {:?}", l.shape),
        ));
    }
    Ok(l.shape[0])
}

/// `(P, L, U)` of a square matrix, `a = P L U` (SciPy's `lu`, as Dask's
/// `dask.array.linalg.lu`): `P` a permutation matrix, `L` lower triangular with a unit
/// diagonal, `U` upper triangular, all in square tiles of `a`'s row chunks.
///
/// Blocked, LAPACK's right-looking algorithm: a step a tile column, whose panel is
/// factored with the pivot chosen from the whole column (not only inside the diagonal
/// tile, as Dask's is), then the row swaps and trailing updates as tasks a tile each.
/// An exactly zero pivot is an error ("singular matrix"), as NumPy's `solve` says.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{from_ndarray, linalg};
/// // The first diagonal tile is singular; partial pivoting swaps rows across tiles.
/// let a = ndarray::arr2(&[[0.0, 1.0, 2.0], [0.0, 3.0, 1.0], [4.0, 1.0, 1.0]]);
/// let (p, l, u) = linalg::lu(&from_ndarray(a.clone(), 1));
/// let back = p.dot(&l).dot(&u).compute().unwrap();
/// assert!((back - a.into_dyn()).iter().all(|d| d.abs() < 1e-12));
/// ```
pub fn lu<T: LinalgElement>(a: &Array<T>) -> (Array<T>, Array<T>, Array<T>) {
    match square("lu", a).and_then(|_| lu::plu(a)) {
        Ok(plu) => plu,
        Err(e) => failed3(e),
    }
}

/// `x` with `a x = b` for a triangular `a` (SciPy's `solve_triangular`, as Dask's):
/// only `a`'s lower (`lower`) or upper triangle is read; `b` is a vector or a matrix of
/// right-hand sides. Blocked: forward (or back) substitution a row tile at a time,
/// each tile of the solution a task. A zero on the diagonal is an error.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{from_ndarray, linalg};
/// let l = from_ndarray(ndarray::arr2(&[[2.0, 0.0], [1.0, 4.0]]), 1);
/// let b = from_ndarray(ndarray::arr1(&[2.0, 9.0]), 1);
/// let x = linalg::solve_triangular(&l, &b, true).compute().unwrap();
/// assert_eq!(x.as_slice().unwrap(), [1.0, 2.0]);
/// ```
pub fn solve_triangular<T: LinalgElement>(a: &Array<T>, b: &Array<T>, lower: bool) -> Array<T> {
    let shape = Triangle { lower, unit: false };
    right_hand_side("solve_triangular", a, b, |tiles, b2| {
        triangular::substitute(tiles, b2, shape)
    })
}

/// Runs `solve` on `a` retiled square (its row chunks) and `b` as a matrix of
/// right-hand sides, giving back `b`'s rank.
fn right_hand_side<T: LinalgElement>(
    operation: &'static str,
    a: &Array<T>,
    b: &Array<T>,
    solve: impl FnOnce(&std::sync::Arc<Layer>, &std::sync::Arc<Layer>) -> Result<Array<T>, ShapeError>,
) -> Array<T> {
    let n = match square(operation, a) {
        Ok(n) => n,
        Err(e) => return Array::from_error(e),
    };
    let shape = match b.layer() {
        Ok(l) => l.shape.clone(),
        Err(e) => return Array::from_error(e),
    };
    if shape.first() != Some(&n) || shape.len() > 2 {
        return Array::failed(
            operation,
            format!("b {shape:?} must have the {n} rows of a"),
        );
    }
    let one = shape.len() == 1;
    let b2 = if one { b.reshape([n, 1]) } else { b.clone() };
    let tiles = match (a.layer(), b2.layer()) {
        (Ok(a), Ok(b)) => solve(&dense::square_tiles::<T>(a), b),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let x = Array::from_result(tiles.and_then(|x| x.layer().cloned()));
    if one { x.reshape([n]) } else { x }
}

/// The solution `x` of `a x = b` for square `a` (NumPy's `solve`; `b` a vector or a
/// matrix of right-hand sides): the blocked [`lu`] of `a`, `b` put in its row order,
/// then forward and back substitution, every step in tiles of `a`'s row chunks (the
/// matrix is never gathered into one block). A singular `a` is an error.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{from_ndarray, linalg};
/// let a = from_ndarray(ndarray::arr2(&[[3.0, 1.0], [1.0, 2.0]]), 1);
/// let b = from_ndarray(ndarray::arr1(&[9.0, 8.0]), 1);
/// let x = linalg::solve(&a, &b).compute().unwrap();
/// assert!((x[0] - 2.0).abs() < 1e-12 && (x[1] - 3.0).abs() < 1e-12);
///
/// // Complex systems the same way.
/// use dask::array::Complex64 as C;
/// let a = from_ndarray(ndarray::arr2(&[[C::new(0.0, 1.0), C::new(0.0, 0.0)],
///                                      [C::new(0.0, 0.0), C::new(2.0, 0.0)]]), 1);
/// let b = from_ndarray(ndarray::arr1(&[C::new(1.0, 0.0), C::new(4.0, 0.0)]), 1);
/// let x = linalg::solve(&a, &b).compute().unwrap();
/// assert_eq!(x[0], C::new(0.0, -1.0));
/// assert_eq!(x[1], C::new(2.0, 0.0));
/// ```
pub fn solve<T: LinalgElement>(a: &Array<T>, b: &Array<T>) -> Array<T> {
    right_hand_side("solve", a, b, |tiles, b2| {
        let factors = lu::factor::<T>(tiles);
        let sizes = factors.tiles.chunks[0].clone();
        let permuted = triangular::permute_rows::<T>(&factors.perm, b2, &sizes);
        let lower = Triangle {
            lower: true,
            unit: true,
        };
        let y = triangular::substitute::<T>(&factors.tiles, &permuted, lower)?;
        let upper = Triangle {
            lower: false,
            unit: false,
        };
        triangular::substitute(&factors.tiles, y.layer()?, upper)
    })
}

/// The inverse of a square matrix: [`solve`] with the identity on the right, so
/// blocked the same way. A singular matrix is an error.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{from_ndarray, linalg};
/// let a = from_ndarray(ndarray::arr2(&[[2.0, 0.0], [0.0, 4.0]]), 1);
/// assert_eq!(linalg::inv(&a).compute().unwrap()[[1, 1]], 0.25);
/// ```
pub fn inv<T: LinalgElement>(a: &Array<T>) -> Array<T> {
    let n = match square("inv", a) {
        Ok(n) => n,
        Err(e) => return Array::from_error(e),
    };
    let tile = a
        .layer()
        .ok()
        .and_then(|l| l.chunks[0].first().copied())
        .unwrap_or(n)
        .max(1);
    solve(a, &of_reals(&crate::array::eye(n, tile)))
}

/// The Cholesky factor of a symmetric (for complex, Hermitian) positive-definite
/// matrix: `L` with `a = L L^T` (`L L^H`) when `lower`, else `U = L^T` (`L^H`) with
/// `a = U^T U` (Dask's default, `lower=False`). A matrix that is not positive definite
/// is an error.
///
/// Blocked, as Dask's: the matrix in square tiles of its row chunks, each tile step a
/// task (the diagonal tile factored, the tiles below it solved, the trailing tiles
/// updated), so no task holds more than three tiles and the result keeps the tiles
/// as its chunks. Only the lower triangle of `a` is read.
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{from_ndarray, linalg};
/// let a = from_ndarray(ndarray::arr2(&[[4.0, 2.0], [2.0, 5.0]]), 1);
/// let l = linalg::cholesky(&a, true).compute().unwrap();
/// assert_eq!(l, ndarray::arr2(&[[2.0, 0.0], [1.0, 2.0]]).into_dyn());
/// ```
pub fn cholesky<T: LinalgElement>(a: &Array<T>, lower: bool) -> Array<T> {
    if let Err(e) = square("cholesky", a) {
        return Array::from_error(e);
    }
    cholesky::cholesky(a, lower).unwrap_or_else(Array::from_error)
}

/// Which norm [`norm`] computes (NumPy's `ord`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Norm {
    /// NumPy's `ord=None`: the 2-norm of a vector, the Frobenius norm of a matrix.
    Default,
    /// Frobenius (matrices).
    Fro,
    /// Nuclear: the sum of singular values (matrices).
    Nuc,
    /// `inf`: the largest `|x|` (vectors), the largest row sum of `|a|` (matrices).
    Inf,
    /// `-inf`: the smallest `|x|`, or the smallest row sum.
    NegInf,
    /// `1`: the sum of `|x|`, or the largest column sum of `|a|`.
    One,
    /// `-1`: the smallest column sum (matrices); `(sum |x|^-1)^-1` (vectors).
    NegOne,
    /// `2`: the 2-norm (vectors), the largest singular value (matrices).
    Two,
    /// `-2`: the smallest singular value (matrices); `(sum |x|^-2)^-1/2` (vectors).
    NegTwo,
    /// `p`: `(sum |x|^p)^(1/p)` (vectors; `0` counts the non-zeros).
    P(f64),
}

/// A vector or matrix norm (NumPy's `norm(x, ord)` for 1-d and 2-d arrays, as Dask's).
///
/// ```
/// # use dask_runtime as dask;
/// use dask::array::{from_ndarray, linalg::{Norm, norm}};
/// let v = from_ndarray(ndarray::arr1(&[3.0, -4.0]), 1);
/// assert_eq!(norm(&v, Norm::Default).compute().unwrap(), 5.0);
/// assert_eq!(norm(&v, Norm::Inf).compute().unwrap(), 4.0);
/// let m = from_ndarray(ndarray::arr2(&[[1.0, -2.0], [3.0, 4.0]]), 1);
/// assert_eq!(norm(&m, Norm::One).compute().unwrap(), 6.0);
/// ```
pub fn norm<T: LinalgElement>(x: &Array<T>, ord: Norm) -> Scalar<f64> {
    let ndim = match x.layer() {
        Ok(l) => l.shape.len(),
        Err(e) => return Scalar::from_array(Array::from_error(e)),
    };
    let a = real_map(x, "abs", T::modulus);
    let root = |s: Scalar<f64>, p: f64| Scalar::from_array(s.into_array().powf(1.0 / p));
    let singular = |pick: fn(&Array<f64>) -> Scalar<f64>| pick(&svd(x).1);
    match (ndim, ord) {
        (1, Norm::Default | Norm::Two) => Scalar::from_array((&a * &a).sum().into_array().sqrt()),
        (1, Norm::Inf) => a.max(),
        (1, Norm::NegInf) => a.min(),
        (1, Norm::One) => a.sum(),
        (1, Norm::NegOne) => root(a.powf(-1.0).sum(), -1.0),
        (1, Norm::NegTwo) => root(a.powf(-2.0).sum(), -2.0),
        (1, Norm::P(0.0)) => Scalar::from_array(a.ne_elem(0.0).astype::<f64>().sum().into_array()),
        (1, Norm::P(p)) => root(a.powf(p).sum(), p),
        (2, Norm::Default | Norm::Fro) => Scalar::from_array((&a * &a).sum().into_array().sqrt()),
        (2, Norm::One) => a.sum_axis(0).max(),
        (2, Norm::NegOne) => a.sum_axis(0).min(),
        (2, Norm::Inf) => a.sum_axis(1).max(),
        (2, Norm::NegInf) => a.sum_axis(1).min(),
        (2, Norm::Two) => singular(|s| s.max()),
        (2, Norm::NegTwo) => singular(|s| s.min()),
        (2, Norm::Nuc) => singular(|s| s.sum()),
        (n, ord) => Scalar::from_array(Array::failed(
            "norm",
            format!("{ord:?} is not a norm of a {n}-d array"),
        )),
    }
}

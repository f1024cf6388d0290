//! `dask::array::linalg` (feature `linalg`): each factorisation checked by what defines
//! it (products, orthogonality, triangles) on ragged blocks, and against the same
//! factorisation of the matrix in one block.

use dask::array::linalg::{self, Norm};
use dask::array::{self, Array, Complex64, random};
use ndarray::{Array2, ArrayD, Ix2};

fn max_abs(a: &Array<f64>) -> f64 {
    a.abs().max().compute().unwrap()
}

fn dense(a: &Array<f64>) -> Array2<f64> {
    a.compute().unwrap().into_dimensionality::<Ix2>().unwrap()
}

fn orthonormal_columns(q: &Array<f64>) -> f64 {
    let q = dense(q);
    let gram = q.t().dot(&q);
    (&gram - &Array2::<f64>::eye(gram.nrows()))
        .iter()
        .fold(0.0, |m, v| m.max(v.abs()))
}

/// Computes `x` under a profiler: its summary, and the task count of a label in it.
fn task_counts<C: dask::Computable>(x: C) -> (String, impl Fn(&str) -> Option<usize>) {
    let profiler = dask::diagnostics::Profiler::new();
    let options = dask::Options::new().callbacks(&[std::sync::Arc::new(profiler.clone())]);
    dask::compute_with(x, options).unwrap();
    let summary = profiler.summary();
    let lines = summary.clone();
    let count = move |name: &str| {
        lines
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse::<usize>().ok())
    };
    (summary, count)
}

#[test]
fn tsqr_factors_ragged_row_blocks_even_shorter_than_wide() {
    let rng = random::default_rng(1);
    // Row blocks of 7, 3 (shorter than the 5 columns), 12 and 1.
    let a = rng.normal(0.0, 1.0, [23, 5], vec![vec![7, 3, 12, 1], vec![2, 3]]);
    let (q, r) = linalg::tsqr(&a);
    assert_eq!((q.shape(), r.shape()), (&[23, 5][..], &[5, 5][..]));
    assert_eq!(q.chunks()[0], vec![7, 3, 12, 1]);
    assert!(max_abs(&(&q.dot(&r) - &a)) < 1e-12);
    assert!(orthonormal_columns(&q) < 1e-12);
    let r = dense(&r);
    assert!(
        (0..5).all(|i| (0..i).all(|j| r[[i, j]] == 0.0)),
        "R is upper triangular"
    );
    // The same R as one block's QR, up to the signs of its rows.
    let (_, r1) = linalg::tsqr(&a.rechunk([23, 5]));
    let r1 = dense(&r1);
    for i in 0..5 {
        let sign = (r[[i, i]] * r1[[i, i]]).signum();
        for j in 0..5 {
            assert!((r[[i, j]] - sign * r1[[i, j]]).abs() < 1e-10);
        }
    }
    // Short and wide in one row block: Dask's sfqr.
    let w = rng.normal(0.0, 1.0, [4, 30], [4, 7]);
    let (q, r) = linalg::qr(&w);
    assert!(max_abs(&(&q.dot(&r) - &w)) < 1e-12);
    assert!(orthonormal_columns(&q) < 1e-12);
    // Mistakes.
    assert!(
        linalg::tsqr(&array::zeros::<f64>([0, 3], 1))
            .0
            .check()
            .is_err()
    );
    assert!(
        linalg::tsqr(&array::zeros::<f64>([4], 1))
            .1
            .check()
            .is_err()
    );
}

#[test]
fn svd_reconstructs_and_matches_one_block() {
    let rng = random::default_rng(2);
    for shape in [[300, 8], [8, 300]] {
        let a = rng.normal(0.0, 1.0, shape, [70, 70]);
        let (u, s, vt) = linalg::svd(&a);
        assert!(max_abs(&(&(&u * &s).dot(&vt) - &a)) < 1e-10, "{shape:?}");
        assert!(orthonormal_columns(&u) < 1e-10);
        assert!(orthonormal_columns(&vt.t()) < 1e-10);
        let s = s.compute().unwrap();
        let v: Vec<f64> = s.iter().copied().collect();
        assert!(v.windows(2).all(|w| w[0] >= w[1] && w[1] >= 0.0));
        let one = linalg::svd(&a.rechunk(shape)).1.compute().unwrap();
        assert!(s.iter().zip(&one).all(|(x, y)| (x - y).abs() < 1e-10));
    }
    // Known singular values: a scaled permutation.
    let mut d = Array2::<f64>::zeros((6, 3));
    d[[4, 0]] = -3.0;
    d[[1, 1]] = 5.0;
    d[[2, 2]] = 1.0;
    let s = linalg::svd(&array::from_ndarray(d.into_dyn(), 2))
        .1
        .compute()
        .unwrap();
    assert!(
        s.iter()
            .zip([5.0, 3.0, 1.0])
            .all(|(x, y)| (x - y).abs() < 1e-12),
        "{s}"
    );
}

#[test]
fn svd_compressed_finds_the_leading_triplets() {
    let rng = random::default_rng(3);
    let a = rng.normal(0.0, 1.0, [2_000, 60], [500, 30]);
    // A decaying spectrum: scale column j by 0.8^j.
    let scale = array::from_ndarray(
        ndarray::Array1::from_shape_fn(60, |j| 0.8_f64.powi(j as i32)).into_dyn(),
        60,
    );
    let a = &a * &scale;
    let exact = linalg::svd(&a).1.compute().unwrap();
    let (u, s, vt) = linalg::svd_compressed(&a, 5, 2, 7);
    assert_eq!(
        (u.shape(), s.shape(), vt.shape()),
        (&[2_000, 5][..], &[5][..], &[5, 60][..])
    );
    let s = s.compute().unwrap();
    for k in 0..5 {
        assert!(
            (s[k] - exact[k]).abs() < 1e-3 * exact[0],
            "{k}: {} vs {}",
            s[k],
            exact[k]
        );
    }
    assert!(orthonormal_columns(&u) < 1e-10);
    assert!(linalg::svd_compressed(&a, 0, 0, 0).1.check().is_err());
    assert!(linalg::svd_compressed(&a, 61, 0, 0).1.check().is_err());
}

#[test]
fn lstsq_solve_inv_and_cholesky() {
    let rng = random::default_rng(4);
    let a = rng.normal(0.0, 1.0, [500, 6], [90, 6]);
    let truth = array::from_ndarray(
        ndarray::arr1(&[1.0, -2.0, 0.5, 3.0, 0.0, 1.5]).into_dyn(),
        6,
    );
    let noise = rng.normal(0.0, 0.01, [500], 90);
    let b = &a.dot(&truth) + &noise;
    let fit = linalg::lstsq(&a, &b);
    // The normal equations hold at the solution: a^T (b - a x) = 0.
    let resid = &b - &a.dot(&fit.x);
    assert!(max_abs(&a.t().dot(&resid)) < 1e-9);
    let r2: f64 = resid.compute().unwrap().iter().map(|v| v * v).sum();
    assert!((fit.residuals.compute().unwrap()[[0]] - r2).abs() < 1e-9);
    assert_eq!(fit.rank.compute().unwrap(), 6);
    assert_eq!(fit.s.shape(), [6]);
    // Rank-deficient: a column repeated.
    let twice = array::concatenate(&[a.clone(), a.slice(dask::array::s![.., 0..1])], 1);
    assert_eq!(linalg::lstsq(&twice, &b).rank.compute().unwrap(), 6);

    let m = rng.normal(0.0, 1.0, [40, 40], [16, 16]);
    let spd = &m.t().dot(&m) + &array::eye(40, 16).mapv(|v| v * 40.0);
    let rhs = rng.normal(0.0, 1.0, [40, 3], [16, 3]);
    let x = linalg::solve(&spd, &rhs);
    assert!(max_abs(&(&spd.dot(&x) - &rhs)) < 1e-10);
    let inv = linalg::inv(&spd);
    assert!(max_abs(&(&inv.dot(&spd) - &array::eye(40, 40))) < 1e-10);
    let l = linalg::cholesky(&spd, true);
    assert!(max_abs(&(&l.dot(&l.t()) - &spd)) < 1e-9);
    let u = linalg::cholesky(&spd, false);
    assert!(max_abs(&(&u.t().dot(&u) - &spd)) < 1e-9);
    let upper = dense(&u);
    assert!((0..40).all(|i| (0..i).all(|j| upper[[i, j]] == 0.0)));

    // Mistakes: singular, not positive definite, not square, mismatched rows.
    let singular = array::from_ndarray(ndarray::arr2(&[[1.0, 2.0], [2.0, 4.0]]).into_dyn(), 1);
    let why = |e: dask::Error| {
        std::error::Error::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    assert!(why(linalg::inv(&singular).compute().unwrap_err()).contains("singular"));
    let minus = array::from_ndarray(ndarray::arr2(&[[1.0, 0.0], [0.0, -1.0]]).into_dyn(), 1);
    assert!(
        why(linalg::cholesky(&minus, true).compute().unwrap_err()).contains("positive definite")
    );
    assert!(linalg::solve(&a, &b).check().is_err());
    assert!(linalg::lstsq(&a, &rhs).x.check().is_err());
}

#[test]
fn blocked_cholesky_matches_one_tile_on_ragged_tiles() {
    let rng = random::default_rng(9);
    let n = 45;
    let m = rng.normal(0.0, 1.0, [n, n], [n, n]);
    let spd = (&m.t().dot(&m) + &array::eye(n, n).mapv(move |v| v * n as f64))
        .persist()
        .unwrap();
    let whole = dense(&linalg::cholesky(&spd, true));
    // Tiles of 10, 10, 10, 10, 5; then ragged 7, 20, 1, 17; then one tile a row.
    for rows in [vec![10, 10, 10, 10, 5], vec![7, 20, 1, 17], vec![1; n]] {
        let a = spd.rechunk(vec![rows.clone(), vec![n]]);
        let l = linalg::cholesky(&a, true);
        assert_eq!(
            l.chunks(),
            [rows.clone(), rows.clone()],
            "square tiles of the rows"
        );
        let got = dense(&l);
        let diff = (&got - &whole).iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(diff < 1e-10, "{rows:?}: {diff}");
        assert!((0..n).all(|i| (i + 1..n).all(|j| got[[i, j]] == 0.0)));
        let u = dense(&linalg::cholesky(&a, false));
        assert_eq!(u, got.t());
    }
    // Each tile of each step is a task of its own: 5 x 5 tiles, so 10 tiles below the
    // diagonal, each solved by a panel task (steps with one reader are fused at
    // compute time, so other counts vary).
    let tiles = spd.rechunk(vec![vec![9; 5], vec![n]]);
    let (summary, count) = task_counts(linalg::cholesky(&tiles, true));
    assert_eq!(count("cholesky-panel"), Some(10), "{summary}");
    assert!(
        count("cholesky-update").is_some_and(|c| c >= 10),
        "{summary}"
    );
    // Many small tiles (30 steps, about 4,500 tile tasks): the same factor.
    let big = 120;
    let m = rng.normal(0.0, 1.0, [big, big], [big, big]);
    let spd_big = (&m.t().dot(&m) + &array::eye(big, big).mapv(move |v| v * big as f64))
        .persist()
        .unwrap();
    let one = dense(&linalg::cholesky(&spd_big, true));
    let many = dense(&linalg::cholesky(
        &spd_big.rechunk(vec![vec![4; 30], vec![big]]),
        true,
    ));
    assert!(gap(&one, &many) < 1e-9);
    // Not positive definite in a late tile: the error names it, whatever the tiling.
    let mut bad = dense(&spd);
    bad[[44, 44]] = -1e6;
    let bad = array::from_ndarray(bad.into_dyn(), 10);
    let err = linalg::cholesky(&bad, true).compute().unwrap_err();
    let why = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(why.contains("positive definite"), "{why}");
}

/// Largest `|a - b|` of two matrices.
fn gap(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    (a - b).iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

#[test]
fn blocked_lu_pivots_across_tiles_and_matches_one_tile() {
    let rng = random::default_rng(12);
    let n = 45;
    let a = rng.normal(0.0, 1.0, [n, n], [n, n]).persist().unwrap();
    let whole = linalg::lu(&a);
    let (p1, l1, u1) = (dense(&whole.0), dense(&whole.1), dense(&whole.2));
    for rows in [vec![10, 10, 10, 10, 5], vec![7, 20, 1, 17], vec![1; n]] {
        let tiled = a.rechunk(vec![rows.clone(), vec![n]]);
        let (p, l, u) = linalg::lu(&tiled);
        assert_eq!(l.chunks(), [rows.clone(), rows.clone()], "square tiles");
        let (p, l, u) = (dense(&p), dense(&l), dense(&u));
        // The same factors as one tile's: the pivots come from whole columns.
        assert_eq!(p, p1, "{rows:?}");
        assert!(gap(&l, &l1) < 1e-10 && gap(&u, &u1) < 1e-10, "{rows:?}");
        assert!(gap(&p.dot(&l).dot(&u), &dense(&a)) < 1e-10);
        assert!((0..n).all(|i| l[[i, i]] == 1.0 && (i + 1..n).all(|j| l[[i, j]] == 0.0)));
        assert!((0..n).all(|i| (0..i).all(|j| u[[i, j]] == 0.0)));
        // |L| <= 1: each pivot is the largest in its column.
        assert!(l.iter().all(|v| v.abs() <= 1.0 + 1e-12));
    }
    // Many small tiles (30 steps): the same factors.
    let big = rng.normal(0.0, 1.0, [120, 120], 120).persist().unwrap();
    let (p1, _, u1) = linalg::lu(&big);
    let (p30, _, u30) = linalg::lu(&big.rechunk(vec![vec![4; 30], vec![120]]));
    assert_eq!(dense(&p1), dense(&p30));
    assert!(gap(&dense(&u1), &dense(&u30)) < 1e-9);
    // Every diagonal tile singular, the matrix not: swaps cross tiles (Dask's lu,
    // pivoting inside a diagonal tile, says "singular matrix" here).
    let swap = Array2::from_shape_fn((6, 6), |(i, j)| if (i + 3) % 6 == j { 2.0 } else { 0.0 });
    let x = array::from_ndarray(swap.clone().into_dyn(), 3);
    let (p, l, u) = linalg::lu(&x);
    assert!(gap(&dense(&p).dot(&dense(&l)).dot(&dense(&u)), &swap) < 1e-15);
    let b = array::from_ndarray(ndarray::arr1(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).into_dyn(), 2);
    let solved = linalg::solve(&x, &b).compute().unwrap();
    assert_eq!(solved.as_slice().unwrap(), [2.0, 2.5, 3.0, 0.5, 1.0, 1.5]);
    // Each step's panel is one task, each trailing tile its own: 5 tiles, 5 panels.
    let tiled = a.rechunk(vec![vec![9; 5], vec![n]]);
    let (summary, count) = task_counts(linalg::lu(&tiled));
    assert_eq!(count("lu-panel"), Some(5), "{summary}");
}

#[test]
fn blocked_solve_and_inv_on_ragged_tiles_and_their_mistakes() {
    let rng = random::default_rng(13);
    let n = 37;
    let a = rng.normal(0.0, 1.0, [n, n], [10, 37]).persist().unwrap();
    let dense_a = dense(&a);
    // Right-hand sides in other row chunks than a's, several column blocks.
    let b = rng.normal(0.0, 1.0, [n, 5], [vec![20, 17], vec![2, 3]]);
    let x = linalg::solve(&a, &b);
    assert_eq!(x.shape(), [n, 5]);
    assert!(gap(&dense_a.dot(&dense(&x)), &dense(&b)) < 1e-9);
    let v = rng.normal(0.0, 1.0, [n], 8);
    let xv = linalg::solve(&a, &v).compute().unwrap();
    let back = dense_a.dot(&xv.into_dimensionality::<ndarray::Ix1>().unwrap());
    let want = v.compute().unwrap();
    assert!(back.iter().zip(&want).all(|(p, q)| (p - q).abs() < 1e-9));
    let inv = dense(&linalg::inv(&a));
    assert!(gap(&inv.dot(&dense_a), &Array2::eye(n)) < 1e-9);

    // Two solves at once, 8 x 8 tiles each, on one pool: each is its own system's.
    let runs: Vec<_> = (0..2u64)
        .map(|seed| {
            std::thread::spawn(move || {
                let rng = random::default_rng(100 + seed);
                let a = rng.normal(0.0, 1.0, [200, 200], 25).persist().unwrap();
                let b = rng.normal(0.0, 1.0, [200, 3], [25, 3]).persist().unwrap();
                let x = linalg::solve(&a, &b)
                    .compute_with(dask::Scheduler::Threads(2))
                    .unwrap()
                    .into_dimensionality::<ndarray::Ix2>()
                    .unwrap();
                gap(&dense(&a).dot(&x), &dense(&b))
            })
        })
        .collect();
    for run in runs {
        assert!(run.join().unwrap() < 1e-9);
    }

    // Triangular solves read only their triangle.
    let lower = Array2::from_shape_fn((n, n), |(i, j)| {
        if i == j {
            2.0 + i as f64
        } else {
            dense_a[[i, j]]
        }
    });
    let tri = array::from_ndarray(lower.clone().into_dyn(), 8);
    for is_lower in [true, false] {
        let x = dense(&linalg::solve_triangular(&tri, &b, is_lower));
        let t = Array2::from_shape_fn((n, n), |(i, j)| {
            if (is_lower && j <= i) || (!is_lower && j >= i) {
                lower[[i, j]]
            } else {
                0.0
            }
        });
        assert!(gap(&t.dot(&x), &dense(&b)) < 1e-9, "lower {is_lower}");
    }

    // Mistakes: singular only at the last step (an exact zero pivot there, as NumPy
    // needs to say so), a zero on a triangle's diagonal, mismatched rows, not square.
    let why = |e: dask::Error| {
        std::error::Error::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let mut late = dense_a.clone();
    late.row_mut(n - 1).fill(0.0);
    let late = array::from_ndarray(late.into_dyn(), 10);
    assert!(why(linalg::solve(&late, &b).compute().unwrap_err()).contains("singular"));
    let mut zero = lower.clone();
    zero[[30, 30]] = 0.0;
    let zero = array::from_ndarray(zero.into_dyn(), 8);
    let err = why(linalg::solve_triangular(&zero, &b, true)
        .compute()
        .unwrap_err());
    assert!(err.contains("diagonal 30"), "{err}");
    let short = rng.normal(0.0, 1.0, [n - 1, 2], 10);
    assert!(linalg::solve(&a, &short).check().is_err());
    assert!(linalg::solve_triangular(&a, &short, true).check().is_err());
    let wide = rng.normal(0.0, 1.0, [n, n + 1], 10);
    assert!(linalg::lu(&wide).0.check().is_err());
    // An empty system gives empty results, as NumPy's.
    let empty = array::from_ndarray(Array2::<f64>::zeros((0, 0)).into_dyn(), 1);
    let none = array::from_ndarray(ndarray::Array1::<f64>::zeros(0).into_dyn(), 1);
    assert_eq!(linalg::solve(&empty, &none).compute().unwrap().shape(), [0]);
    assert_eq!(linalg::inv(&empty).compute().unwrap().shape(), [0, 0]);
    assert_eq!(linalg::lu(&empty).2.compute().unwrap().shape(), [0, 0]);
    assert_eq!(
        linalg::cholesky(&empty, true).compute().unwrap().shape(),
        [0, 0]
    );
}

/// A matrix of complex normals (real and imaginary parts independent).
fn complex_normals(seed: u64, shape: [usize; 2]) -> Array2<Complex64> {
    let rng = random::default_rng(seed);
    let (re, im) = (
        rng.normal(0.0, 1.0, shape, shape).compute().unwrap(),
        rng.normal(0.0, 1.0, shape, shape).compute().unwrap(),
    );
    let z = ndarray::Zip::from(&re)
        .and(&im)
        .map_collect(|&r, &i| Complex64::new(r, i));
    z.into_dimensionality::<Ix2>().unwrap()
}

/// The largest modulus of `x - y`.
fn cgap(x: &Array2<Complex64>, y: &Array2<Complex64>) -> f64 {
    (x - y).iter().fold(0.0_f64, |m, v| m.max(v.norm()))
}

fn dense_c(x: &Array<Complex64>) -> Array2<Complex64> {
    x.compute().unwrap().into_dimensionality::<Ix2>().unwrap()
}

/// The conjugate transpose.
fn conj_t(m: &Array2<Complex64>) -> Array2<Complex64> {
    m.t().mapv(|v| v.conj())
}

#[test]
fn lu_solve_inv_and_triangular_solves_take_complex_matrices() {
    let n = 23;
    let a = complex_normals(1, [n, n]);
    let b = complex_normals(2, [n, 3]);
    let za = array::from_ndarray(a.clone().into_dyn(), 6);
    let zb = array::from_ndarray(b.clone().into_dyn(), [5, 3]);
    let (p, l, u) = linalg::lu(&za);
    let (p, l, u) = (dense_c(&p), dense_c(&l), dense_c(&u));
    assert!(cgap(&p.dot(&l).dot(&u), &a) < 1e-12);
    assert!((0..n).all(|i| l[[i, i]] == Complex64::new(1.0, 0.0)));
    let x = dense_c(&linalg::solve(&za, &zb));
    assert!(cgap(&a.dot(&x), &b) < 1e-10);
    let inv = dense_c(&linalg::inv(&za));
    assert!(cgap(&inv.dot(&a), &Array2::eye(n)) < 1e-10);
    let t = dense_c(&linalg::solve_triangular(
        &array::from_ndarray(u.clone().into_dyn(), 6),
        &zb,
        false,
    ));
    assert!(cgap(&u.dot(&t), &b) < 1e-10);
    // Cholesky of a Hermitian positive-definite matrix: a = L L^H, U = L^H.
    let h = a.dot(&conj_t(&a)) + Array2::<Complex64>::eye(n) * Complex64::new(n as f64, 0.0);
    let zh = array::from_ndarray(h.clone().into_dyn(), 6);
    let l = dense_c(&linalg::cholesky(&zh, true));
    assert!(cgap(&l.dot(&conj_t(&l)), &h) < 1e-10);
    assert!((0..n).all(|i| (i + 1..n).all(|j| l[[i, j]] == Complex64::new(0.0, 0.0))));
    let one_tile = dense_c(&linalg::cholesky(&zh.rechunk(n), true));
    assert!(cgap(&l, &one_tile) < 1e-10);
    let u = dense_c(&linalg::cholesky(&zh, false));
    assert_eq!(u, conj_t(&l));
    // A singular complex matrix is refused as a real one is.
    let mut singular = a.clone();
    singular.row_mut(n - 1).fill(Complex64::new(0.0, 0.0));
    let singular = array::from_ndarray(singular.into_dyn(), 6);
    assert!(linalg::solve(&singular, &zb).compute().is_err());
}

#[test]
fn tsqr_qr_svd_lstsq_and_norms_take_complex_matrices() {
    let unitary_gap = |q: &Array2<Complex64>| cgap(&conj_t(q).dot(q), &Array2::eye(q.ncols()));
    // TSQR on ragged row blocks: Q^H Q = I, R upper, Q R = a; as one block.
    let a = complex_normals(3, [60, 7]);
    let za = array::from_ndarray(a.clone().into_dyn(), [vec![20, 5, 30, 5], vec![7]]);
    let (q, r) = linalg::tsqr(&za);
    let (q, r) = (dense_c(&q), dense_c(&r));
    assert!(unitary_gap(&q) < 1e-12 && cgap(&q.dot(&r), &a) < 1e-12);
    assert!((0..7).all(|i| (0..i).all(|j| r[[i, j]] == Complex64::new(0.0, 0.0))));
    let (_, r1) = linalg::tsqr(&za.rechunk([60, 7]));
    // R is unique up to a unit phase per row.
    let r1 = dense_c(&r1);
    assert!((0..7).all(|i| (r[[i, i]].norm() - r1[[i, i]].norm()).abs() < 1e-10));
    // Short and wide in one row block (Dask's sfqr): R = Q^H a.
    let w = complex_normals(4, [5, 40]);
    let (q, r) = linalg::qr(&array::from_ndarray(w.clone().into_dyn(), [5, 10]));
    let (q, r) = (dense_c(&q), dense_c(&r));
    assert!(unitary_gap(&q) < 1e-12 && cgap(&q.dot(&r), &w) < 1e-12);
    // SVD, tall and wide: U diag(S) V^H = a, S real and descending, U and V unitary.
    for (m, chunks) in [
        (&a, vec![vec![20, 5, 30, 5], vec![7]]),
        (&w, vec![vec![5], vec![10; 4]]),
    ] {
        let (u, s, vt) = linalg::svd(&array::from_ndarray(m.clone().into_dyn(), chunks));
        let (u, vt) = (dense_c(&u), dense_c(&vt));
        let s = s.compute().unwrap();
        assert!(
            s.iter()
                .zip(s.iter().skip(1))
                .all(|(x, y)| x >= y && *y >= 0.0)
        );
        let us = Array2::from_shape_fn(u.dim(), |(i, j)| u[[i, j]] * s[j]);
        assert!(cgap(&us.dot(&vt), m) < 1e-10);
        assert!(unitary_gap(&u) < 1e-10 && unitary_gap(&conj_t(&vt)) < 1e-10);
    }
    // The 2-norm is the largest singular value; Frobenius and 1-norms from moduli.
    let moduli = a.mapv(|v| v.norm());
    let fro = moduli.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((linalg::norm(&za, Norm::Fro).compute().unwrap() - fro).abs() < 1e-10);
    let one = moduli
        .sum_axis(ndarray::Axis(0))
        .fold(0.0_f64, |m, &v| m.max(v));
    assert!((linalg::norm(&za, Norm::One).compute().unwrap() - one).abs() < 1e-10);
    let sa = linalg::svd(&za).1.compute().unwrap();
    assert!((linalg::norm(&za, Norm::Two).compute().unwrap() - sa[0]).abs() < 1e-12);
    // A rank-2 complex matrix: two compressed triplets reproduce it.
    let low = complex_normals(5, [80, 2]).dot(&complex_normals(6, [2, 30]));
    let zlow = array::from_ndarray(low.clone().into_dyn(), [20, 10]);
    let (u, s, vt) = linalg::svd_compressed(&zlow, 2, 1, 0);
    let (u, s, vt) = (dense_c(&u), s.compute().unwrap(), dense_c(&vt));
    let us = Array2::from_shape_fn(u.dim(), |(i, j)| u[[i, j]] * s[j]);
    assert!(cgap(&us.dot(&vt), &low) < 1e-8);
    // The same seed for a real and a complex matrix in one compute: each gets its own
    // random directions (their names differ by element type), not the other's.
    let real = array::from_ndarray(low.mapv(|v| v.re).into_dyn(), [20, 10]);
    let (s_real, s_complex) = dask::compute((
        linalg::svd_compressed(&real, 2, 1, 0).1,
        linalg::svd_compressed(&zlow, 2, 1, 0).1,
    ))
    .unwrap();
    assert!((s_complex[0] - s[0]).abs() < 1e-8 && s_real[0] > 0.0);
    // Least squares: exact for a consistent system; otherwise the residual is
    // orthogonal to a's columns (a^H (b - a x) = 0), and the residuals are |b - a x|^2.
    let x0 = complex_normals(7, [7, 2]);
    let exact = linalg::lstsq(&za, &array::from_ndarray(a.dot(&x0).into_dyn(), [20, 2]));
    assert!(cgap(&dense_c(&exact.x), &x0) < 1e-10);
    assert_eq!(exact.rank.compute().unwrap(), 7);
    let b = complex_normals(8, [60, 2]);
    let fit = linalg::lstsq(&za, &array::from_ndarray(b.clone().into_dyn(), [25, 2]));
    let x = dense_c(&fit.x);
    let resid = &b - &a.dot(&x);
    assert!(cgap(&conj_t(&a).dot(&resid), &Array2::zeros((7, 2))) < 1e-10);
    let want: Vec<f64> = resid
        .columns()
        .into_iter()
        .map(|c| c.iter().map(|v| v.norm_sqr()).sum())
        .collect();
    let got = fit.residuals.compute().unwrap();
    assert!(
        got.iter()
            .zip(&want)
            .all(|(g, w)| (g - w).abs() < 1e-9 * w.max(1.0))
    );
    let singular = fit.s.compute().unwrap();
    assert!(
        (singular[0] - sa[0]).abs() < 1e-10,
        "a's singular values, through R"
    );
}

#[test]
fn norms_match_numpy() {
    let v = ndarray::arr1(&[3.0, -4.0, 0.0, 1.0]);
    let x = array::from_ndarray(v.clone().into_dyn(), 3);
    let abs: Vec<f64> = v.iter().map(|a: &f64| a.abs()).collect();
    let p = |p: f64| abs.iter().map(|a| a.powf(p)).sum::<f64>().powf(1.0 / p);
    let cases = [
        (Norm::Default, 26.0_f64.sqrt()),
        (Norm::Two, 26.0_f64.sqrt()),
        (Norm::One, 8.0),
        (Norm::Inf, 4.0),
        (Norm::NegInf, 0.0),
        (Norm::P(3.0), p(3.0)),
        (Norm::P(0.0), 3.0),
    ];
    for (ord, want) in cases {
        let got = linalg::norm(&x, ord).compute().unwrap();
        assert!((got - want).abs() < 1e-12, "{ord:?}: {got} vs {want}");
    }
    let m = ndarray::arr2(&[[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]]);
    let y = array::from_ndarray(m.clone().into_dyn(), 1);
    let fro = m.iter().map(|v| v * v).sum::<f64>().sqrt();
    let (s, _, _) = (linalg::svd(&y).1.compute().unwrap(), 0, 0);
    let cases = [
        (Norm::Default, fro),
        (Norm::Fro, fro),
        (Norm::One, 6.0),
        (Norm::NegOne, 1.5),
        (Norm::Inf, 8.0),
        (Norm::NegInf, 3.5),
        (Norm::Two, s[0]),
        (Norm::NegTwo, s[1]),
        (Norm::Nuc, s[0] + s[1]),
    ];
    for (ord, want) in cases {
        let got = linalg::norm(&y, ord).compute().unwrap();
        assert!((got - want).abs() < 1e-12, "{ord:?}: {got} vs {want}");
    }
    // Two singular values squared sum to the Frobenius norm squared.
    assert!((s[0] * s[0] + s[1] * s[1] - fro * fro).abs() < 1e-10);
    assert!(linalg::norm(&y, Norm::P(3.0)).check().is_err());
    let cube: Array<f64> = array::from_ndarray(ArrayD::zeros(ndarray::IxDyn(&[2, 2, 2])), 1);
    assert!(linalg::norm(&cube, Norm::Default).check().is_err());
}

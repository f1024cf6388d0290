//! Every operation checked against plain `ndarray` on the same data, across chunkings.

use super::random::default_rng;
use super::*;
use crate::{Error, Scheduler};
use ndarray::{Array2, ArrayD, Axis, Dimension, IxDyn, Slice, arr1, arr2};
use proptest::prelude::*;
use std::collections::HashSet;

/// A deterministic test matrix: distinct, non-integer values.
fn data(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let k = i.slice().iter().fold(0_usize, |acc, &v| acc * 31 + v) as f64;
        (k * 0.37).sin() * 10.0 + k * 0.001
    })
}

fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>) {
    assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want) {
        let tol = 1e-12 * w.abs().max(1.0);
        assert!(
            (g - w).abs() <= tol || (g.is_nan() && w.is_nan()),
            "got {g}, want {w}"
        );
    }
}

fn chunkings() -> Vec<ChunkSpec> {
    vec![
        ChunkSpec::Uniform(1),
        ChunkSpec::Uniform(3),
        ChunkSpec::PerAxis(vec![4, FULL]),
        ChunkSpec::Uniform(100),
    ]
}

#[test]
fn creation_matches_ndarray() {
    for c in chunkings() {
        assert_eq!(
            zeros::<f64>([5, 7], c.clone()).compute().unwrap(),
            ArrayD::<f64>::zeros(IxDyn(&[5, 7]))
        );
        assert_eq!(
            ones::<i64>([5, 7], c.clone()).compute().unwrap(),
            ArrayD::<i64>::ones(IxDyn(&[5, 7]))
        );
        assert_eq!(
            full([5, 7], true, c.clone()).compute().unwrap(),
            ArrayD::from_elem(IxDyn(&[5, 7]), true)
        );
        assert_eq!(
            eye(5, c.clone()).compute().unwrap(),
            Array2::<f64>::eye(5).into_dyn()
        );
        let d = data(&[5, 7]);
        assert_eq!(from_ndarray(d.clone(), c.clone()).compute().unwrap(), d);
    }
    assert_eq!(
        arange(7).rechunk(3).compute().unwrap(),
        ndarray::Array1::range(0.0, 7.0, 1.0).into_dyn()
    );
    assert_close(
        &linspace(-1.0, 2.0, 13, 5).compute().unwrap(),
        &ndarray::Array1::linspace(-1.0, 2.0, 13).into_dyn(),
    );
    let d = crate::delayed_value(arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn());
    assert_eq!(
        from_delayed(d.clone(), [2, 2]).sum().compute().unwrap(),
        10.0
    );
    let wrong = from_delayed(d, [4]).compute().unwrap_err();
    assert!(format!("{wrong:#}").contains("declared [4]"), "{wrong:#}");
}

#[test]
fn auto_chunks_are_dasks() {
    // What dask.array 2026.8 gives for `chunks="auto"` (128 MiB).
    let first = |shape: &[usize], bytes: usize| -> Vec<usize> {
        let chunks = ChunkSpec::Auto.resolve(shape, bytes).unwrap();
        chunks.iter().map(|c| c[0]).collect()
    };
    assert_eq!(
        ChunkSpec::Auto.resolve(&[10_000, 10_000], 8).unwrap(),
        [vec![4096, 4096, 1808], vec![4096, 4096, 1808]]
    );
    assert_eq!(first(&[100_000], 8), [100_000]);
    assert_eq!(first(&[20_000, 500], 8), [20_000, 500]);
    assert_eq!(first(&[1000, 1000, 1000], 8), [255, 255, 255]);
    assert_eq!(first(&[10_000, 10_000], 4), [5792, 5792]);
    assert_eq!(first(&[10_000, 10_000], 1), [10_000, 10_000]);
    assert_eq!(first(&[3, 0], 8), [3, 0]);
}

#[test]
fn chunk_specs_and_their_errors() {
    let x = zeros::<f64>([10, 6], [4, FULL]);
    assert_eq!(x.chunks(), [vec![4, 4, 2], vec![6]]);
    assert_eq!((x.ndim(), x.nblocks(), x.numblocks()), (2, 3, vec![3, 1]));
    let auto = zeros::<f64>([4096, 4096], ChunkSpec::AutoBytes(1 << 20));
    assert!(
        auto.chunks()
            .iter()
            .all(|c| c.iter().all(|&s| s * 8 <= 1 << 20))
    );
    assert_eq!(auto.chunks()[0].iter().sum::<usize>(), 4096);
    for (spec, message) in [
        (ChunkSpec::Uniform(0), "zero-size chunk"),
        (
            ChunkSpec::Explicit(vec![vec![3, 3], vec![6]]),
            "add up to 6, not its length 10",
        ),
        (
            ChunkSpec::Explicit(vec![vec![10, 0], vec![6]]),
            "zero-size chunk on axis 0",
        ),
        (
            ChunkSpec::PerAxis(vec![2]),
            "1 chunk sizes [2] for a 2-d shape",
        ),
    ] {
        let err = zeros::<f64>([10, 6], spec).compute().unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err:?}");
        assert!(format!("{err:#}").contains(message), "{err}");
    }
}

#[test]
fn random_arrays_do_not_depend_on_chunks_or_workers() {
    let reference = default_rng(3)
        .normal(1.0, 2.0, [37, 23], 100)
        .compute()
        .unwrap();
    for (c, s) in [
        (ChunkSpec::Uniform(5), Scheduler::Sync),
        (ChunkSpec::PerAxis(vec![1, FULL]), Scheduler::Threads(3)),
        (
            ChunkSpec::Explicit(vec![vec![30, 7], vec![1, 22]]),
            Scheduler::Threads(1),
        ),
    ] {
        let x = default_rng(3)
            .normal(1.0, 2.0, [37, 23], c)
            .compute_with(s)
            .unwrap();
        assert_eq!(x, reference);
    }
    let rng = default_rng(3);
    let first = rng.standard_normal([37, 23], 10).compute().unwrap();
    let second = rng.standard_normal([37, 23], 10).compute().unwrap();
    assert_ne!(first, second, "each call draws a new stream");
    assert_ne!(
        default_rng(4)
            .standard_normal([37, 23], 10)
            .compute()
            .unwrap(),
        first
    );

    let big = default_rng(11).normal(0.0, 1.0, [1_000, 1_000], 250);
    let (m, s) = crate::compute((big.mean(), big.std())).unwrap();
    assert!(
        m.abs() < 0.005 && (s - 1.0).abs() < 0.005,
        "mean {m}, std {s}"
    );
    let u = default_rng(5)
        .uniform(-2.0, 3.0, [10_000], 999)
        .compute()
        .unwrap();
    assert!(u.iter().all(|&v| (-2.0..3.0).contains(&v)));
    let k = default_rng(5)
        .integers(-3, 4, [10_000], 999)
        .compute()
        .unwrap();
    assert!(k.iter().all(|&v| (-3..4).contains(&v)));
    let seen: HashSet<i64> = k.iter().copied().collect();
    assert_eq!(seen.len(), 7);
    assert!(default_rng(1).normal(0.0, -1.0, [3], 1).check().is_err());
    assert!(default_rng(1).integers(3, 3, [3], 1).check().is_err());
}

#[test]
fn elementwise_with_broadcasting_and_mismatched_chunks() {
    let (a, b) = (data(&[6, 5]), data(&[5]) + 1.0);
    let x = from_ndarray(a.clone(), [4, 2]);
    let y = from_ndarray(b.clone(), 3);
    assert_close(&(&x + &y).compute().unwrap(), &(&a + &b));
    assert_close(&(&x - &y).compute().unwrap(), &(&a - &b));
    assert_close(&(&x * &y).compute().unwrap(), &(&a * &b));
    assert_close(&(&x / &y).compute().unwrap(), &(&a / &b));
    assert_close(
        &(2.0 * &x - 1.0).compute().unwrap(),
        &a.mapv(|v| 2.0 * v - 1.0),
    );
    assert_close(&(-&x).compute().unwrap(), &a.mapv(|v| -v));
    let col = from_ndarray(a.slice(ndarray::s![.., 0..1]).to_owned(), 2);
    let row = from_ndarray(a.slice(ndarray::s![0..1, ..]).to_owned(), 4);
    let want = &a.slice(ndarray::s![.., 0..1]) + &a.slice(ndarray::s![0..1, ..]);
    assert_close(&(&col + &row).compute().unwrap(), &want.into_dyn());
    let same_shape_other_chunks = from_ndarray(a.clone(), [1, 5]);
    assert_close(
        &(&x + &same_shape_other_chunks).compute().unwrap(),
        &(&a + &a),
    );

    assert_eq!(x.gt(0.0).compute().unwrap(), a.mapv(|v| v > 0.0));
    assert_eq!(
        x.le(&y).compute().unwrap(),
        ndarray::Zip::from(&a)
            .and_broadcast(&b)
            .map_collect(|p, q| p <= q)
    );
    let w = where_(&x.gt(0.0), &x, 0.0).compute().unwrap();
    assert_close(&w, &a.mapv(|v| if v > 0.0 { v } else { 0.0 }));
    assert_close(
        &x.abs().sqrt().compute().unwrap(),
        &a.mapv(|v| v.abs().sqrt()),
    );
    assert_close(&x.exp().ln().compute().unwrap(), &a.mapv(|v| v.exp().ln()));
    assert_close(&x.sin().compute().unwrap(), &a.mapv(f64::sin));
    assert_close(
        &x.cos().powf(2.0).compute().unwrap(),
        &a.mapv(|v| v.cos().powf(2.0)),
    );
    assert_close(
        &x.clip(-1.0, 1.0).compute().unwrap(),
        &a.mapv(|v| v.clamp(-1.0, 1.0)),
    );
    let ints = from_ndarray(arr1(&[-3_i64, 4, -5]).into_dyn(), 2);
    assert_eq!(
        (&ints * 2 + 1)
            .abs()
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [5, 9, 9]
    );
    assert_eq!(
        (&ints / 0)
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [0, 0, 0]
    );
    assert_eq!(
        (!&x.gt(0.0)).and(x.lt(5.0)).compute().unwrap(),
        a.mapv(|v| v <= 0.0)
    );

    let err = (&x + &from_ndarray(data(&[4]), 2)).compute().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Shape {
                operation: "add",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(format!("{err:#}").contains("[6, 5] and [4]"), "{err}");
    // A kept error survives further operations.
    let chained = (&(&x + &from_ndarray(data(&[4]), 2)) * 2.0).sum();
    assert!(
        chained
            .compute()
            .unwrap_err()
            .to_string()
            .contains("[6, 5] and [4]")
    );
}

#[test]
fn map_blocks_sees_block_indices_and_checks_shapes() {
    let x = zeros::<f64>([4, 6], [2, 3]);
    let tagged = x
        .map_blocks(|b, i| b.mapv(|_| (i[0] * 10 + i[1]) as f64))
        .compute()
        .unwrap();
    assert_eq!(tagged[[3, 5]], 11.0);
    assert_eq!(tagged[[0, 4]], 1.0);
    let bad = x.map_blocks(|_, _| ArrayD::<f64>::zeros(IxDyn(&[1])));
    let err = bad.compute().unwrap_err();
    assert!(
        format!("{err:#}").contains("came back with shape [1]"),
        "{err}"
    );
}

#[test]
fn full_reductions_match_ndarray() {
    let a = data(&[9, 7]);
    for c in chunkings() {
        let x = from_ndarray(a.clone(), c).with_split_every(2);
        let n = a.len() as f64;
        let mean = a.sum() / n;
        let var = a.mapv(|v| (v - mean) * (v - mean)).sum() / n;
        let (sum, m, v, s) = crate::compute((x.sum(), x.mean(), x.var(), x.std())).unwrap();
        assert!((sum - a.sum()).abs() < 1e-12 * a.sum().abs().max(1.0));
        assert!((m - mean).abs() < 1e-13, "{m} vs {mean}");
        assert!((v - var).abs() < 1e-12 * var);
        assert!((s - var.sqrt()).abs() < 1e-12);
        assert!((x.var_ddof(1.0).compute().unwrap() - var * n / (n - 1.0)).abs() < 1e-12 * var);
        let min = a.iter().copied().fold(f64::INFINITY, f64::min);
        let max = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(x.min().compute().unwrap(), min);
        assert_eq!(x.max().compute().unwrap(), max);
        assert_eq!(
            a.iter().nth(x.argmin().compute().unwrap() as usize),
            Some(&min)
        );
        assert_eq!(
            a.iter().nth(x.argmax().compute().unwrap() as usize),
            Some(&max)
        );
        let p = from_ndarray(arr2(&[[1.5, -2.0], [0.5, 3.0]]).into_dyn(), 1).prod();
        assert_eq!(p.compute().unwrap(), -4.5);
    }
    let b = from_ndarray(arr1(&[false, true, false]).into_dyn(), 1);
    assert_eq!(crate::compute((b.any(), b.all())).unwrap(), (true, false));
    let empty = zeros::<f64>([0], 1);
    assert_eq!(empty.sum().compute().unwrap(), 0.0);
    assert!(empty.mean().compute().unwrap().is_nan());
    assert!(format!("{:#}", empty.max().compute().unwrap_err()).contains("empty array"));
    let with_nan = from_ndarray(arr1(&[1.0, f64::NAN, 3.0]).into_dyn(), 1);
    assert!(with_nan.max().compute().unwrap().is_nan());
    assert_eq!(with_nan.argmax().compute().unwrap(), 1);
    let ints = from_ndarray(arr1(&[i64::MAX - 1, 1, 5]).into_dyn(), 1);
    assert_eq!(ints.sum().compute().unwrap(), i64::MAX.wrapping_add(5));
}

#[test]
fn a_mean_of_many_values_is_exact_to_1e_12() {
    // Integers up to 2^20 summed in f64 are exact, so the mean has an exact reference.
    let n = 4_000_000_usize;
    let x = arange(n).rechunk(100_000);
    let exact = (n as f64 - 1.0) / 2.0;
    assert_eq!(x.mean().compute().unwrap(), exact);
    // Large values with tiny parts: a naive sum drops the tiny parts.
    let y = &x * 1e-9 + 1e8;
    let want = 1e8 + exact * 1e-9;
    let got = y.mean().compute().unwrap();
    assert!(((got - want) / want).abs() < 1e-12, "{got} vs {want}");
}

/// Every axis reduction of `x` along every axis against ndarray on `a`, x's values.
fn check_axis_reductions(x: &Array<f64>, a: &ArrayD<f64>) {
    for axis in 0..a.ndim() {
        let ax = Axis(axis);
        assert_close(&x.sum_axis(axis).compute().unwrap(), &a.sum_axis(ax));
        assert_close(
            &x.mean_axis(axis).compute().unwrap(),
            &a.mean_axis(ax).unwrap(),
        );
        assert_close(
            &x.var_axis(axis, 1.0).compute().unwrap(),
            &a.var_axis(ax, 1.0),
        );
        assert_close(
            &x.std_axis(axis, 0.0).compute().unwrap(),
            &a.std_axis(ax, 0.0),
        );
        assert_close(
            &x.max_axis(axis).compute().unwrap(),
            &a.map_axis(ax, |l| l.fold(f64::MIN, |m, &v| m.max(v))),
        );
        assert_close(
            &x.min_axis(axis).compute().unwrap(),
            &a.map_axis(ax, |l| l.fold(f64::MAX, |m, &v| m.min(v))),
        );
        let argmax = a.map_axis(ax, |l| {
            l.iter()
                .enumerate()
                .fold(
                    (0, f64::MIN),
                    |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) },
                )
                .0 as i64
        });
        assert_eq!(x.argmax_axis(axis).compute().unwrap(), argmax);
        assert_close(
            &x.prod_axis(axis).compute().unwrap(),
            &a.map_axis(ax, |l| l.product()),
        );
        let keep = x.sum_axis_keepdims(axis).compute().unwrap();
        assert_close(&keep, &a.sum_axis(ax).insert_axis(ax));
        let keep_max = x.max_axis(axis).expand_dims(axis).compute().unwrap();
        assert_close(
            &keep_max,
            &a.map_axis(ax, |l| l.fold(f64::MIN, |m, &v| m.max(v)))
                .insert_axis(ax),
        );
    }
}

#[test]
fn axis_reductions_match_ndarray() {
    let a = data(&[5, 6, 4]);
    for c in [
        ChunkSpec::Uniform(2),
        ChunkSpec::PerAxis(vec![5, 1, 3]),
        ChunkSpec::Uniform(10),
    ] {
        check_axis_reductions(&from_ndarray(a.clone(), c), &a);
    }
    let b = from_ndarray(arr2(&[[true, false], [true, true]]).into_dyn(), 1);
    assert_eq!(
        b.all_axis(0)
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [true, false]
    );
    assert_eq!(
        b.any_axis(1)
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [true, true]
    );
    let err = from_ndarray(a, 2).sum_axis(3).compute().unwrap_err();
    assert!(
        format!("{err:#}").contains("axis 3 is out of range for a 3-d array"),
        "{err}"
    );
}

#[test]
fn axis_reductions_of_generated_blocks_strip_by_strip() {
    // Blocks above one strip (32,768 elements), lanes across more than one panel
    // (64), ragged edges: generated and fused blocks take the strip path.
    let rng = default_rng(5);
    let x = &rng.normal(0.0, 1.0, [700, 150], [400, 150]) * 0.01 + 1.0;
    check_axis_reductions(&x, &x.compute().unwrap());
    let y = rng.normal(0.0, 1.0, [300, 300], [210, 190]);
    let fused = &(&y + &y.t()) * 0.01 + 1.0;
    check_axis_reductions(&fused, &fused.compute().unwrap());
    let z = &rng.uniform(0.5, 1.5, [40, 30, 70], [25, 30, 70]) - 0.0;
    check_axis_reductions(&z, &z.compute().unwrap());
    // Column-major strips: lanes along axis 0 are already contiguous.
    let yt = &y.t() * 0.01 + 1.0;
    check_axis_reductions(&y.t(), &y.t().compute().unwrap());
    check_axis_reductions(&yt, &yt.compute().unwrap());
}

#[test]
fn axis_reductions_over_an_empty_axis() {
    // As NumPy: sums of nothing are 0, means NaN, and a max has no identity.
    let a = ArrayD::<f64>::zeros(IxDyn(&[0, 5]));
    let x = from_ndarray(a.clone(), 2);
    assert_eq!(x.sum_axis(0).compute().unwrap(), a.sum_axis(Axis(0)));
    assert!(x.mean_axis(0).compute().unwrap().iter().all(|v| v.is_nan()));
    assert_eq!(x.sum_axis(1).compute().unwrap().len(), 0);
    let err = x.max_axis(0).compute().unwrap_err();
    assert!(format!("{err:#}").contains("no identity"), "{err}");
}

#[test]
fn structure_matches_ndarray() {
    let a = data(&[7, 5]);
    let x = from_ndarray(a.clone(), [3, 2]);
    assert_eq!(x.t().compute().unwrap(), a.t().to_owned());
    let c = data(&[2, 3, 4]);
    let z = from_ndarray(c.clone(), [1, 2, 3]);
    assert_eq!(
        z.transpose(&[1, 2, 0]).compute().unwrap(),
        c.clone().permuted_axes(IxDyn(&[1, 2, 0]))
    );
    assert!(z.transpose(&[0, 0, 1]).check().is_err());

    let s = x.slice(&[Slice::new(1, Some(-1), 2), Slice::new(-4, None, 3)]);
    // NumPy's a[1:-1:2, -4::3], written out: rows 1, 3, 5 and columns 1, 4.
    let want =
        ndarray::Array2::from_shape_fn((3, 2), |(i, j)| a[[1 + 2 * i, 1 + 3 * j]]).into_dyn();
    assert_eq!(s.compute().unwrap(), want);
    assert_eq!(x.slice(&[Slice::new(5, Some(2), 1)]).shape(), [0, 5]);
    let zero_step = Slice {
        start: 0,
        end: None,
        step: 0,
    };
    assert!(x.slice(&[zero_step]).check().is_err());
    assert!(x.slice(s![9, ..]).check().is_err());

    assert_eq!(x.rechunk([2, FULL]).compute().unwrap(), a);
    assert_eq!(x.rechunk([2, FULL]).chunks(), [vec![2, 2, 2, 1], vec![5]]);

    let cat = concatenate(&[x.clone(), from_ndarray(a.clone(), 4)], 1)
        .compute()
        .unwrap();
    assert_eq!(
        cat,
        ndarray::concatenate(Axis(1), &[a.view(), a.view()]).unwrap()
    );
    assert!(
        concatenate(&[x.clone(), zeros([3, 3], 1)], 1)
            .check()
            .is_err()
    );
    let st = stack(&[x.clone(), x.clone()], 2).compute().unwrap();
    assert_eq!(st, ndarray::stack(Axis(2), &[a.view(), a.view()]).unwrap());

    let flat = x.reshape([35]).compute().unwrap();
    assert_eq!(
        flat.iter().copied().collect::<Vec<_>>(),
        a.iter().copied().collect::<Vec<_>>()
    );
    let r = from_ndarray(data(&[6, 4]), [4, 3])
        .reshape([3, 2, 4])
        .compute()
        .unwrap();
    assert_eq!(
        r,
        data(&[6, 4])
            .into_shape_with_order(IxDyn(&[3, 2, 4]))
            .unwrap()
    );
    let r = from_ndarray(data(&[6, 4]), [1, 1])
        .reshape([8, 3])
        .compute()
        .unwrap();
    assert_eq!(
        r,
        data(&[6, 4]).into_shape_with_order(IxDyn(&[8, 3])).unwrap()
    );
    assert!(
        x.reshape([6, 6])
            .compute()
            .unwrap_err()
            .to_string()
            .contains("35 elements")
    );
    // Transposed blocks are column-major views: reshape reads them in row-major order.
    let tr = data(&[4, 6]).t().as_standard_layout().into_owned();
    for chunks in [[6, 4], [2, 4]] {
        let r = from_ndarray(data(&[4, 6]), [chunks[1], chunks[0]])
            .t()
            .reshape([3, 2, 4])
            .compute()
            .unwrap();
        assert_eq!(
            r,
            tr.clone().into_shape_with_order(IxDyn(&[3, 2, 4])).unwrap()
        );
    }
    let one = from_ndarray(data(&[1, 1]), 1)
        .t()
        .reshape([0_usize; 0])
        .compute()
        .unwrap();
    assert_eq!(
        one,
        data(&[1, 1]).into_shape_with_order(IxDyn(&[])).unwrap()
    );
}

#[test]
fn dot_matches_ndarray() {
    let (a, b) = (data(&[9, 7]), data(&[7, 5]));
    let want = a
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .dot(&b.view().into_dimensionality::<ndarray::Ix2>().unwrap());
    for (ca, cb) in [(2, 3), (4, 7), (7, 1)] {
        let x = from_ndarray(a.clone(), ca);
        let y = from_ndarray(b.clone(), cb);
        assert_close(&x.dot(&y).compute().unwrap(), &want.clone().into_dyn());
        assert_close(
            &x.matmul(&y).t().compute().unwrap(),
            &want.t().to_owned().into_dyn(),
        );
    }
    let err = from_ndarray(a.clone(), 3)
        .dot(&from_ndarray(a, 3))
        .compute()
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("[9, 7] and [9, 7] do not multiply"),
        "{err}"
    );
}

#[test]
fn dot_of_strided_blocks_and_other_element_types() {
    // Blocks big enough for gemm's packed kernels, with ragged edges.
    let (a, b) = (data(&[130, 70]), data(&[90, 70]));
    let (a2, b2) = (
        a.view().into_dimensionality::<ndarray::Ix2>().unwrap(),
        b.view().into_dimensionality::<ndarray::Ix2>().unwrap(),
    );
    // A transposed operand hands the kernel column-major blocks.
    let want = a2.dot(&b2.t());
    let got = from_ndarray(a.clone(), 64)
        .dot(&from_ndarray(b.clone(), [33, 64]).t())
        .compute()
        .unwrap();
    assert_close(&got, &want.into_dyn());
    let want_t = a2.t().dot(&a2);
    let got_t = from_ndarray(a.clone(), [50, 64])
        .t()
        .dot(&from_ndarray(a, [50, 64]))
        .compute()
        .unwrap();
    assert_close(&got_t, &want_t.into_dyn());

    // f32 goes through gemm too; integers through ndarray. Small integers are exact.
    let ints = Array2::from_shape_fn((40, 30), |(i, j)| (i * 7 + j * 3) as i64 % 11 - 5);
    let ints_b = Array2::from_shape_fn((30, 20), |(i, j)| (i * 5 + j) as i64 % 7 - 3);
    let want = ints.dot(&ints_b).into_dyn();
    let got = from_ndarray(ints.clone().into_dyn(), 16)
        .dot(&from_ndarray(ints_b.clone().into_dyn(), 16))
        .compute()
        .unwrap();
    assert_eq!(got, want);
    let got32 = from_ndarray(ints.mapv(|v| v as f32).into_dyn(), 16)
        .dot(&from_ndarray(ints_b.mapv(|v| v as f32).into_dyn(), 16))
        .compute()
        .unwrap();
    assert_eq!(got32, want.mapv(|v| v as f32));
}

#[test]
fn block_product_reports_blocks_that_do_not_multiply() {
    let (l, r) = (Array2::<f64>::ones((3, 4)), Array2::<f64>::ones((5, 2)));
    let mut acc = None;
    let err = block_product::mul_add(&mut acc, &l.view(), &r.view()).unwrap_err();
    assert!(err.contains("[3, 4] and [5, 2]"), "{err}");
    let mut acc = Some(Array2::<f64>::zeros((2, 2)));
    let r = Array2::<f64>::ones((4, 2));
    let err = block_product::mul_add(&mut acc, &l.view(), &r.view()).unwrap_err();
    assert!(err.contains("into (2, 2)"), "{err}");
    // Empty inner axis: a zero product, not a kernel call on empty memory.
    let mut acc = None;
    let (l, r) = (Array2::<f64>::ones((3, 0)), Array2::<f64>::ones((0, 2)));
    block_product::mul_add(&mut acc, &l.view(), &r.view()).unwrap();
    assert_eq!(acc.unwrap(), Array2::<f64>::zeros((3, 2)));
}

#[test]
fn persist_to_delayed_and_npy() {
    let x = default_rng(9).normal(0.0, 1.0, [6, 4], [4, 3]);
    let kept = x.persist().unwrap();
    assert_eq!(kept.compute().unwrap(), x.compute().unwrap());
    assert_eq!(kept.chunks(), x.chunks());
    let blocks = x.to_delayed().unwrap();
    assert_eq!(blocks.shape(), [2, 2]);
    assert_eq!(
        blocks[[1, 1]].compute().unwrap(),
        x.compute()
            .unwrap()
            .slice(ndarray::s![4.., 3..])
            .to_owned()
            .into_dyn()
    );

    let path = std::env::temp_dir().join(format!("dask-test-{}.npy", std::process::id()));
    x.to_npy(&path).unwrap();
    let back = from_npy::<f64>(&path, 5).unwrap();
    assert_eq!(back.compute().unwrap(), x.compute().unwrap());
    assert!(matches!(from_npy::<i64>(&path, 5), Err(Error::Io { .. })));
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(from_npy::<f64>(&path, 5), Err(Error::Io { .. })));
}

/// The tasks computing `a` makes.
fn tasks<T: Element>(a: &Array<T>) -> usize {
    lower::task_count(&[std::sync::Arc::clone(a.layer().unwrap())])
}

#[test]
fn elementwise_steps_fuse_into_one_task_a_block() {
    let x = default_rng(1).normal(0.0, 1.0, [8, 8], 2); // 16 blocks
    let plain = x.mean();
    // 16 block tasks (each makes and folds its block), one merge of the 4x4 partials
    // (split_every 4 on each axis) that also finishes.
    assert_eq!(tasks(plain.as_array()), 16 + 1);
    let chain = (&(&x * 2.0) - 1.0).sqrt().abs().mean();
    assert_eq!(tasks(chain.as_array()), 16 + 1);
    // `x` read by two consumers (itself and its transpose): its blocks are tasks of
    // their own, made once.
    let shared = (&x + &x.t()).mean();
    // Blocks (i, j) and (j, i) of `x` are read only by the mirrored blocks of the sum:
    // one task a pair makes both and folds both (6 pairs, 4 on the diagonal), and 16
    // projections hand out the partials.
    assert_eq!(tasks(shared.as_array()), 6 + 4 + 16 + 1);
    // Read by something else too (a max), the blocks are tasks of their own, made
    // once, each folded by a sum task and a max task; then the two merges.
    let (sum, max) = ((&x + &x.t()).sum(), x.max());
    let layers =
        [sum.as_array(), max.as_array()].map(|a| std::sync::Arc::clone(a.layer().unwrap()));
    assert_eq!(lower::task_count(&layers), 16 + 16 + 16 + 1 + 1);
}

#[test]
fn several_reductions_of_a_generated_array_share_each_strip() {
    let x = default_rng(5).normal(0.0, 1.0, [64, 48], [16, 24]); // 8 blocks
    let (mean, std) = (x.mean(), x.std());
    let (sum0, max1) = (x.sum_axis(0), x.max_axis_keepdims(1));
    let layers = [mean.as_array(), std.as_array(), &sum0, &max1]
        .map(|a| std::sync::Arc::clone(a.layer().unwrap()));
    // 8 tasks that make each block a strip at a time and fold it four ways, 4 x 8
    // projections of their results, and the trees: 1 + 1 merges for the full
    // reductions, 2 + 4 for the axis ones.
    assert_eq!(lower::task_count(&layers), 8 + 32 + 2 + 2 + 4);
    let together = crate::compute((&mean, &std, &sum0, &max1)).unwrap();
    let a = x.compute().unwrap();
    assert!((together.0 - a.mean().unwrap()).abs() < 1e-12);
    assert!((together.1 - a.std(0.0)).abs() < 1e-12);
    assert_close(&together.2, &a.sum_axis(Axis(0)));
    let max = a.map_axis(Axis(1), |l| l.iter().copied().fold(f64::MIN, f64::max));
    assert_eq!(together.3, max.insert_axis(Axis(1)));
    // The same as computed one by one.
    assert_eq!(together.0, mean.compute().unwrap());
    assert_eq!(together.1, std.compute().unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn slices_match_ndarray_whatever_the_chunks(
        rows in 1_usize..9,
        cols in 1_usize..9,
        chunk in (1_usize..5, 1_usize..5),
        r in (-10_isize..10, proptest::option::of(-10_isize..10), prop_oneof![1_isize..4, -3_isize..0]),
        c in (-10_isize..10, proptest::option::of(-10_isize..10), prop_oneof![1_isize..4, -3_isize..0]),
        index in -9_isize..9,
    ) {
        let a = data(&[rows, cols]);
        let x = from_ndarray(a.clone(), [chunk.0, chunk.1]);
        let (rs, cs) = (Slice::new(r.0, r.1, r.2), Slice::new(c.0, c.1, c.2));
        // ndarray panics on bounds past the axis (we clamp, as NumPy does): compare
        // where ndarray answers.
        let reference = std::panic::catch_unwind(|| a.slice(s![rs, cs]).to_owned().into_dyn());
        prop_assume!(reference.is_ok());
        let want = reference.unwrap();
        let got = x.slice(s![rs, cs]);
        prop_assert_eq!(got.shape(), want.shape());
        prop_assert_eq!(got.compute().unwrap(), want);
        // An index drops its axis; NewAxis adds one.
        let at = if index < 0 { index + rows as isize } else { index };
        if (0..rows as isize).contains(&at) {
            let want = a.slice(s![index, ndarray::NewAxis, cs]).to_owned().into_dyn();
            // (`cs` is known good for ndarray from above.)
            prop_assert_eq!(x.slice(s![index, ndarray::NewAxis, cs]).compute().unwrap(), want);
        } else {
            prop_assert!(x.slice(s![index, ..]).check().is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn take_matches_ndarrays_select(
        rows in 1_usize..9,
        cols in 1_usize..6,
        chunk in (1_usize..5, 1_usize..5),
        axis in 0_usize..2,
        picks in proptest::collection::vec(0_usize..9, 0..12),
    ) {
        let a = data(&[rows, cols]);
        let x = from_ndarray(a.clone(), [chunk.0, chunk.1]);
        let n = a.shape()[axis];
        let indices: Vec<usize> = picks.iter().map(|&p| p % n).collect();
        let got = x.take(&indices, axis);
        prop_assert_eq!(got.compute().unwrap(), a.select(Axis(axis), &indices));
        // Composes: the sum of what was taken.
        let want: f64 = a.select(Axis(axis), &indices).sum();
        prop_assert!((got.sum().compute().unwrap() - want).abs() < 1e-9);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn results_do_not_depend_on_chunking(
        shape in proptest::collection::vec(1_usize..7, 1..4),
        sizes in proptest::collection::vec(1_usize..5, 3),
    ) {
        let a = data(&shape);
        let chunks: Vec<usize> = shape.iter().zip(&sizes).map(|(_, &s)| s).collect();
        let x = from_ndarray(a.clone(), chunks);
        let one = from_ndarray(a.clone(), 100);
        let expr = |x: &Array<f64>| (&(x * 3.0) + &x.sin()).clip(-5.0, 5.0);
        prop_assert_eq!(expr(&x).compute().unwrap(), expr(&one).compute().unwrap());
        let axis = shape.len() - 1;
        assert_close(&expr(&x).sum_axis(axis).compute().unwrap(), &expr(&one).sum_axis(axis).compute().unwrap());
        let (m1, m2) = crate::compute((expr(&x).mean(), expr(&one).mean())).unwrap();
        prop_assert!((m1 - m2).abs() < 1e-12);
    }
}

#[test]
fn generated_and_elementwise_blocks_can_be_made_a_region_at_a_time() {
    let x = default_rng(1).normal(0.0, 1.0, [8, 8], 4);
    let has_region = |a: &Array<f64>| a.layer().unwrap().op.regional().is_some();
    assert!(has_region(&x));
    assert!(has_region(&x.t()));
    assert!(has_region(&(&x * 2.0)));
    assert!(has_region(&(&x + &x.t())));
    assert!(!has_region(&x.rechunk(2)));
    assert!(!has_region(&x.map_blocks(|b, _| b.to_owned())));
}

#[test]
fn strip_buffers_are_recycled_on_the_same_thread_only_when_unshared() {
    let strip = ArrayD::from_elem(IxDyn(&[32, 1000]), 1.5_f64);
    let ptr = strip.as_ptr();
    buffers::recycle(strip);
    let again = buffers::take::<f64>(32_000);
    assert_eq!(again.as_ptr(), ptr, "the freed strip's memory comes back");
    assert!(again.is_empty() && again.capacity() >= 32_000);
    // Two whole blocks are kept, the best fit is taken, and a block above 64 MB goes
    // back to the allocator; a block someone else holds is left alone.
    let f64_spares = || f64::spare().with(|s| s.borrow().len());
    let i64_spares = || i64::spare().with(|s| s.borrow().len());
    let before = f64_spares();
    let blocks: Vec<ArrayD<f64>> = [1000, 1002, 1004]
        .iter()
        .map(|&n| ArrayD::zeros(IxDyn(&[n, 1000])))
        .collect();
    let small = blocks[0].as_ptr();
    blocks.into_iter().for_each(buffers::recycle);
    assert_eq!(
        f64_spares(),
        before + 2,
        "two 8 MB blocks are kept, not three"
    );
    let block = buffers::take::<f64>(1000 * 1000);
    assert_eq!(block.as_ptr(), small, "the smallest that fits");
    let strip = buffers::take::<f64>(32_000);
    assert!(
        strip.capacity() < 1_000_000,
        "a strip does not take a block"
    );
    assert_eq!(f64_spares(), before + 1);
    buffers::recycle(ArrayD::<f64>::zeros(IxDyn(&[9000, 1000])));
    assert_eq!(f64_spares(), before + 1, "a 72 MB block is not kept");
    let shared = std::sync::Arc::new(ArrayD::from_elem(IxDyn(&[8]), 2_i64));
    let held = std::sync::Arc::clone(&shared);
    let before = i64_spares();
    buffers::recycle_value::<i64>(shared);
    assert_eq!(*held, ArrayD::from_elem(IxDyn(&[8]), 2_i64));
    assert_eq!(i64_spares(), before, "a shared block is not taken");
    buffers::recycle_value::<i64>(held);
    assert_eq!(i64_spares(), before + 1, "the last holder's block is kept");
}

#[test]
fn filled_buffers_keep_a_spare_s_values_and_default_the_rest() {
    // A spare of 40,000 values, each 7: a filled take of fewer keeps them (the caller
    // writes every element), of more adds zeros; with no spare, all zeros.
    buffers::recycle(ArrayD::from_elem(IxDyn(&[40, 1000]), 7_i64));
    let shorter = buffers::take_filled::<i64>(30_000);
    assert_eq!(shorter.len(), 30_000);
    assert!(shorter.iter().all(|&v| v == 7));
    buffers::recycle(ArrayD::from_shape_vec(IxDyn(&[30_000]), shorter).unwrap());
    let longer = buffers::take_filled::<i64>(35_000);
    assert_eq!(longer.len(), 35_000);
    assert!(longer[..30_000].iter().all(|&v| v == 7));
    assert!(longer[30_000..].iter().all(|&v| v == 0));
    let fresh = std::thread::spawn(|| buffers::take_filled::<i64>(100))
        .join()
        .unwrap();
    assert_eq!(fresh, vec![0; 100]);
}

#[test]
fn recycled_maps_match_ndarray_in_every_layout() {
    let a = data(&[6, 5]);
    // The same values as `a`, column-major.
    let mut t = ArrayD::zeros(ndarray::ShapeBuilder::f(IxDyn(&[6, 5])));
    t.assign(&a);
    assert!(t.as_slice().is_none());
    for x in [a.view(), t.view()] {
        let got = buffers::map(&x, |v| v * 2.0 - 1.0).unwrap();
        assert_eq!(got, a.mapv(|v| v * 2.0 - 1.0));
        for y in [a.view(), t.view()] {
            let got = buffers::zip_map(&x, &y, |p, q| p - 3.0 * q).unwrap();
            assert_eq!(got, &a - &(&a * 3.0));
        }
    }
    // A block beside a transposed one, as tiles of larger blocks (rows not
    // contiguous either way), as a tile group folds them.
    let big = data(&[40, 43]);
    let big_t = big.t().as_standard_layout().into_owned();
    let window = big.slice_each_axis(|ax| Slice::from(3..3 + [19, 21][ax.axis.index()]));
    let big_tt = big_t.t();
    let mirror = big_tt.slice_each_axis(|ax| Slice::from(3..3 + [19, 21][ax.axis.index()]));
    assert!(window.as_slice().is_none() && mirror.as_slice().is_none());
    for (x, y) in [(&window, &mirror), (&mirror, &window)] {
        let want = ndarray::Zip::from(x)
            .and(y)
            .map_collect(|&p, &q| p * 10.0 + q);
        assert_eq!(buffers::zip_map(x, y, |p, q| p * 10.0 + q).unwrap(), want);
    }
}

#[test]
fn reductions_of_a_zero_dimensional_array_see_its_one_value() {
    let x = full([], 7.0_f64, 1);
    assert_eq!(x.sum().compute().unwrap(), 7.0);
    assert_eq!(x.mean().compute().unwrap(), 7.0);
    assert_eq!(x.max().compute().unwrap(), 7.0);
    let z = default_rng(4).normal(0.0, 1.0, [], 1);
    let value = z.compute().unwrap().sum();
    assert!(value != 0.0);
    assert_eq!(z.sum().compute().unwrap(), value);
}

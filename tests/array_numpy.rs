//! What a NumPy user types: nan-functions, `ptp`, cumulative sums, `//` and `%`, each
//! against the same computation written out by hand.

use dask::array::{self, Array};
use ndarray::{Array2, ArrayD, Axis};

/// A matrix with NaNs scattered, and a whole row and a whole column of them.
fn data() -> Array2<f64> {
    Array2::from_shape_fn((7, 6), |(i, j)| {
        if (i * 6 + j) % 5 == 2 || i == 3 || j == 4 {
            f64::NAN
        } else {
            ((i * 6 + j) as f64 * 0.7).sin() * 10.0
        }
    })
}

fn kept(lane: ndarray::ArrayView1<'_, f64>) -> Vec<f64> {
    lane.iter().copied().filter(|v| !v.is_nan()).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn full_nan_reductions_skip_nans() {
    let a = data();
    let all: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    for chunks in [[2, 2], [7, 6], [3, 4]] {
        let x = array::from_ndarray(a.clone(), chunks);
        assert!(x.sum().compute().unwrap().is_nan());
        assert!(close(x.nansum().compute().unwrap(), all.iter().sum()));
        assert!(close(x.nanmean().compute().unwrap(), mean));
        assert!(close(x.nanvar().compute().unwrap(), var));
        assert!(close(
            x.nanstd_ddof(1.0).compute().unwrap(),
            (var * n / (n - 1.0)).sqrt()
        ));
        let min = all.iter().copied().fold(f64::MAX, f64::min);
        let max = all.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(x.nanmin().compute().unwrap(), min);
        assert_eq!(x.nanmax().compute().unwrap(), max);
        let at = |v: f64| a.iter().position(|&x| x == v).unwrap() as i64;
        assert_eq!(x.nanargmin().compute().unwrap(), at(min));
        assert_eq!(x.nanargmax().compute().unwrap(), at(max));
        assert!(x.ptp().compute().unwrap().is_nan());
        assert!(close(
            x.nanmax().compute().unwrap() - x.nanmin().compute().unwrap(),
            max - min
        ));
    }
}

#[test]
fn axis_nan_reductions_skip_nans_and_all_nan_lanes_are_nan() {
    let a = data();
    let x = array::from_ndarray(a.clone(), [3, 2]);
    for axis in 0..2 {
        let sums = x.nansum_axis(axis).compute().unwrap();
        let means = x.nanmean_axis(axis).compute().unwrap();
        let maxes = x.nanmax_axis_keepdims(axis).compute().unwrap();
        for (k, lane) in a.lanes(Axis(axis)).into_iter().enumerate() {
            let v = kept(lane);
            assert!(close(sums[k], v.iter().sum()), "axis {axis} lane {k}");
            let mean = if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            };
            assert!(
                close(means[k], mean),
                "axis {axis} lane {k}: {} vs {mean}",
                means[k]
            );
            let max = v.iter().copied().fold(f64::NAN, f64::max);
            assert!(
                close(maxes.iter().nth(k).copied().unwrap(), max),
                "axis {axis} lane {k}"
            );
        }
    }
    // Column 4 is all NaN: its argmin is an error, as NumPy's raises.
    assert!(x.nanargmin_axis(0).compute().is_err());
    assert_eq!(
        x.nanargmin_axis(1)
            .slice(&[ndarray::Slice::from(0..3)])
            .compute()
            .unwrap(),
        a.slice(ndarray::s![0..3, ..])
            .map_axis(Axis(1), |l| {
                let v = kept(l);
                let min = v.iter().copied().fold(f64::MAX, f64::min);
                l.iter().position(|&x| x == min).unwrap() as i64
            })
            .into_dyn()
    );
}

#[test]
fn integers_have_no_nans_and_ptp_is_exact() {
    let a = ArrayD::from_shape_vec(vec![5], vec![4_i64, -9, 7, 0, 3]).unwrap();
    let x: Array<i64> = array::from_ndarray(a, 2);
    assert_eq!(x.nansum().compute().unwrap(), x.sum().compute().unwrap());
    assert_eq!(x.ptp().compute().unwrap(), 16);
    assert_eq!(x.nanargmin().compute().unwrap(), 1);
    let m = array::from_ndarray(ndarray::arr2(&[[1.0, 5.0], [-2.0, 0.5]]), 1);
    assert_eq!(
        m.ptp_axis(0).compute().unwrap(),
        ndarray::arr1(&[3.0, 4.5]).into_dyn()
    );
}

#[test]
fn cumulative_sums_and_products_match_ndarray_across_chunkings() {
    let a = Array2::from_shape_fn((9, 7), |(i, j)| ((i * 7 + j) as f64 * 0.3).cos() + 1.1);
    for chunks in [[2, 3], [9, 7], [4, 1], [1, 7]] {
        let x = array::from_ndarray(a.clone(), chunks);
        for axis in 0..2 {
            let mut want = a.clone();
            want.accumulate_axis_inplace(Axis(axis), |&prev, cur| *cur += prev);
            let got = x.cumsum(axis).compute().unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-12 * w.abs().max(1.0),
                    "{chunks:?} axis {axis}"
                );
            }
            let mut want = a.clone();
            want.accumulate_axis_inplace(Axis(axis), |&prev, cur| *cur *= prev);
            let got = x.cumprod(axis).compute().unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-12 * w.abs().max(1.0),
                    "{chunks:?} axis {axis}"
                );
            }
        }
    }
    let ints: Array<i64> = array::from_ndarray(ndarray::arr1(&[3_i64, -1, 4, 1, -5]), 2);
    assert_eq!(
        ints.cumsum(0)
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [3, 2, 6, 7, 2]
    );
    assert!(ints.cumsum(1).check().is_err());
    // A scan is an operand like any array: its last element is the sum.
    let x = array::from_ndarray(a.clone(), [4, 4]);
    let last = x
        .cumsum(0)
        .slice(&[ndarray::Slice::from(-1..)])
        .sum()
        .compute()
        .unwrap();
    assert!((last - a.sum()).abs() < 1e-9);
}

#[test]
fn floor_divide_and_mod_follow_python() {
    let pairs: Vec<(i64, i64)> = (-12..=12)
        .flat_map(|a| (-4..=4).filter(|&b| b != 0).map(move |b| (a, b)))
        .collect();
    let (a, b): (Vec<i64>, Vec<i64>) = pairs.iter().copied().unzip();
    let x: Array<i64> = array::from_ndarray(ndarray::Array1::from(a.clone()), 7);
    let y: Array<i64> = array::from_ndarray(ndarray::Array1::from(b.clone()), 5);
    let q = x.floor_divide(&y).compute().unwrap();
    let r = x.mod_(&y).compute().unwrap();
    for (k, (&a, &b)) in a.iter().zip(&b).enumerate() {
        let want_q = (a as f64 / b as f64).floor() as i64;
        assert_eq!(q[k], want_q, "{a} // {b}");
        assert_eq!(r[k], a - b * want_q, "{a} % {b}");
        assert!(
            r[k] == 0 || (r[k] < 0) == (b < 0),
            "{a} % {b} has the divisor's sign"
        );
    }
    // Floats the same way; division by zero of integers is 0, as NumPy gives.
    let f = array::from_ndarray(ndarray::arr1(&[-7.5, 7.5, -1.0]), 2);
    assert_eq!(
        f.floor_divide(2.0).compute().unwrap(),
        ndarray::arr1(&[-4.0, 3.0, -1.0]).into_dyn()
    );
    assert_eq!(
        f.mod_(2.0).compute().unwrap(),
        ndarray::arr1(&[0.5, 1.5, 1.0]).into_dyn()
    );
    assert_eq!(x.floor_divide(0).sum().compute().unwrap(), 0);
}

#[test]
fn bool_arrays_count_and_average() {
    let a = data();
    let x = array::from_ndarray(a.clone(), [3, 4]);
    let above = x.gt(0.0);
    let count = a.iter().filter(|&&v| v > 0.0).count() as i64;
    assert_eq!(above.sum().compute().unwrap(), count);
    assert!((above.mean().compute().unwrap() - count as f64 / a.len() as f64).abs() < 1e-15);
    let per_column = above.sum_axis(0).compute().unwrap();
    for (j, col) in a.columns().into_iter().enumerate() {
        assert_eq!(
            per_column[j],
            col.iter().filter(|&&v| v > 0.0).count() as i64
        );
    }
}

#[test]
fn assign_where_replaces_under_a_mask_with_a_scalar_or_a_reduction() {
    let a = Array2::from_shape_fn((6, 5), |(i, j)| ((i * 5 + j) as f64 * 0.9).sin() * 4.0);
    let x = array::from_ndarray(a.clone(), [4, 2]);
    // The mean as the library computes it (compensated: the last bits may differ from
    // ndarray's plain sum).
    let mean = x.mean().compute().unwrap();
    assert!((mean - a.mean().unwrap()).abs() < 1e-12);
    // Values above the mean replaced by the mean (a lazy reduction as the value).
    let capped = x.assign_where(&x.gt(x.mean()), x.mean()).compute().unwrap();
    assert_eq!(
        capped,
        a.mapv(|v| if v > mean { mean } else { v }).into_dyn()
    );
    let zeroed = x.assign_where(&x.lt(0.0), 0.0).compute().unwrap();
    assert_eq!(zeroed, a.mapv(|v| v.max(0.0)).into_dyn());
}

#[test]
fn reductions_over_several_axes_match_ndarray() {
    let a = ndarray::Array3::from_shape_fn((5, 4, 6), |(i, j, k)| {
        ((i * 24 + j * 6 + k) as f64 * 0.41).sin() * 3.0
    })
    .into_dyn();
    // Generated blocks (streamed a strip at a time) and stored ones.
    let stored = array::from_ndarray(a.clone(), [2, 3, 4]);
    let made = &array::from_ndarray(a.clone(), [2, 3, 4]) * 1.0;
    for x in [stored, made] {
        for axes in [
            vec![0, 2],
            vec![1, 2],
            vec![0, 1],
            vec![0, 1, 2],
            vec![2, 0],
        ] {
            let mut want_sum = a.clone();
            let mut sorted = axes.clone();
            sorted.sort_unstable();
            for &ax in sorted.iter().rev() {
                want_sum = want_sum.sum_axis(Axis(ax));
            }
            let got = x.sum_axes(&axes).compute().unwrap();
            assert_eq!(got.shape(), want_sum.shape(), "{axes:?}");
            for (g, w) in got.iter().zip(&want_sum) {
                assert!(close(*g, *w), "sum over {axes:?}: {g} vs {w}");
            }
            let count: usize = sorted.iter().map(|&ax| a.shape()[ax]).product();
            let means = x.mean_axes(&axes).compute().unwrap();
            for (m, s) in means.iter().zip(&want_sum) {
                assert!(close(*m, s / count as f64), "mean over {axes:?}");
            }
            let kept = x.max_axes_keepdims(&axes);
            let shape: Vec<usize> = (0..3)
                .map(|ax| {
                    if sorted.contains(&ax) {
                        1
                    } else {
                        a.shape()[ax]
                    }
                })
                .collect();
            assert_eq!(kept.shape(), shape.as_slice());
        }
        // Variance over two axes: the two-pass formula on each lane.
        let var = x.var_axes(&[0, 2], 0.0).compute().unwrap();
        for j in 0..4 {
            let lane: Vec<f64> = a.index_axis(Axis(1), j).iter().copied().collect();
            let m = lane.iter().sum::<f64>() / lane.len() as f64;
            let v = lane.iter().map(|x| (x - m).powi(2)).sum::<f64>() / lane.len() as f64;
            assert!(close(var[j], v), "var lane {j}");
        }
        assert!(x.sum_axes(&[0, 0]).check().is_err());
        assert!(x.sum_axes(&[3]).check().is_err());
    }
}

#[test]
fn topk_and_histogram_match_sorting_and_counting_by_hand() {
    let a = data(); // NaNs scattered
    let x = array::from_ndarray(a.clone(), [3, 2]);
    let mut sorted: Vec<f64> = a.iter().copied().collect();
    // NumPy's order: NaN largest.
    sorted.sort_by(|p, q| match (p.is_nan(), q.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => q.partial_cmp(p).unwrap(),
    });
    let top = x.topk(20).compute().unwrap();
    for (g, w) in top.iter().zip(&sorted[..20]) {
        assert!(close(*g, *w), "{g} vs {w}");
    }
    let numbers: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
    let (counts, edges) = x.histogram(5, (-10.0, 10.0));
    let counts = counts.compute().unwrap();
    for b in 0..5 {
        let (lo, hi) = (edges[b], edges[b + 1]);
        let want = numbers
            .iter()
            .filter(|&&v| v >= lo && (v < hi || (b == 4 && v <= hi)))
            .count() as i64;
        assert_eq!(counts[b], want, "bin {b}");
    }
    assert_eq!(counts.sum(), numbers.len() as i64);
    assert!(x.histogram(0, (0.0, 1.0)).0.check().is_err());
}

#[test]
fn argtopk_matches_a_stable_sort_of_positions_on_every_chunking() {
    let a = data(); // NaNs scattered
    // Positions in the flattened array, largest value first (NaN largest), the lower
    // position first among equal values: a stable sort of the positions.
    let flat: Vec<f64> = a.iter().copied().collect();
    let mut order: Vec<usize> = (0..flat.len()).collect();
    order.sort_by(|&p, &q| match (flat[p].is_nan(), flat[q].is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => flat[q].partial_cmp(&flat[p]).unwrap(),
    });
    for chunks in [[1, 1], [3, 2], [4, 5], [100, 100]] {
        let x = array::from_ndarray(a.clone(), chunks);
        for k in [0, 1, 7, flat.len()] {
            let got = x.argtopk(k).compute().unwrap();
            let want: Vec<i64> = order[..k].iter().map(|&p| p as i64).collect();
            assert_eq!(
                got.iter().copied().collect::<Vec<_>>(),
                want,
                "k {k}, chunks {chunks:?}"
            );
        }
        assert!(
            x.argtopk(flat.len() + 1).check().is_ok(),
            "known only when computed"
        );
        assert!(x.argtopk(flat.len() + 1).compute().is_err());
    }
    // Ties: equal values come lowest position first, across blocks.
    let ties = array::from_ndarray(ndarray::arr1(&[2_i64, 7, 7, 1, 7, 2]), 2);
    assert_eq!(
        ties.argtopk(4).compute().unwrap(),
        ndarray::arr1(&[1_i64, 2, 4, 0]).into_dyn()
    );
}

/// Reshapes of a 3-d array on ragged chunks against ndarray's, with block sizes kept.
#[test]
fn reshape_keeps_blocks_near_their_size_and_infers_minus_one() {
    let a = ArrayD::from_shape_fn(ndarray::IxDyn(&[6, 10, 4]), |i| {
        (i[0] * 40 + i[1] * 4 + i[2]) as f64
    });
    let shapes: [&[i64]; 9] = [
        &[240],
        &[-1],
        &[6, 40],
        &[60, 4],
        &[6, 2, 5, 4],
        &[3, 2, 10, 4],
        &[-1, 5, 4],
        &[4, 6, 10],
        &[1, 6, 1, 10, 4, 1],
    ];
    for chunks in [
        vec![vec![6], vec![10], vec![4]],
        vec![vec![2, 4], vec![3, 3, 4], vec![1, 3]],
        vec![vec![1; 6], vec![5, 5], vec![4]],
    ] {
        let x = array::from_ndarray(a.clone(), chunks.clone());
        for dims in shapes {
            let y = x.reshape(dims);
            let shape = y.try_shape().unwrap().to_vec();
            let want = a
                .clone()
                .into_shape_with_order(ndarray::IxDyn(&shape))
                .unwrap();
            assert_eq!(y.compute().unwrap(), want, "{dims:?} from {chunks:?}");
        }
    }
    // The mission's array flattened: blocks of a million, not rows of 10^7 elements.
    let big = array::zeros::<f64>([10_000, 10_000], 1_000);
    let flat = big.reshape([-1]);
    assert!(flat.chunks()[0].iter().all(|&c| c == 1_000_000));
    let split = big.reshape([100, 100, 10_000]);
    assert_eq!(split.chunks()[0], vec![10; 10]);
    assert_eq!(split.chunks()[2], vec![1_000; 10]);
    // Axes that do not match up still work, in blocks of whole rows.
    let r = array::from_ndarray(a.clone(), [2, 3, 4]).reshape([4, 60]);
    assert_eq!(
        r.compute().unwrap(),
        a.clone()
            .into_shape_with_order(ndarray::IxDyn(&[4, 60]))
            .unwrap()
    );
    // Mistakes.
    let x = array::from_ndarray(a, [2, 3, 4]);
    for bad in [&[-1, -1][..], &[7, -1], &[-2, 120], &[0, -1], &[241]] {
        assert!(
            matches!(
                x.reshape(bad).check(),
                Err(dask::Error::Shape {
                    operation: "reshape",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(x.reshape(x.shape()).compute().unwrap().shape(), [6, 10, 4]);
}

/// NumPy's linear percentile of a lane, written out.
fn numpy_percentile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let at = q / 100.0 * (v.len() - 1) as f64;
    let lo = at.floor() as usize;
    let hi = at.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
}

#[test]
fn percentiles_exact_on_one_block_close_on_many() {
    let qs = [0.0, 1.0, 12.5, 50.0, 97.0, 100.0];
    let x = array::random::default_rng(8).normal(0.0, 1.0, [200_000], 200_000);
    let values: Vec<f64> = x.compute().unwrap().iter().copied().collect();
    let exact = x.percentile(&qs).compute().unwrap();
    for (q, got) in qs.iter().zip(&exact) {
        assert_eq!(*got, numpy_percentile(&values, *q), "q {q}");
    }
    // Twenty blocks: Dask's merge of per-block percentiles, close to the exact ones:
    // within 0.1% of the elements in rank.
    let approx = x.rechunk(10_000).percentile(&qs).compute().unwrap();
    let mut order = values.clone();
    order.sort_by(f64::total_cmp);
    for (q, got) in qs.iter().zip(&approx) {
        let rank = order.partition_point(|v| v < got) as f64 / order.len() as f64;
        assert!(
            (rank - q / 100.0).abs() < 0.001,
            "q {q}: {got} has rank {rank}"
        );
    }
    // The extremes are exact: every block's 0th and 100th percentile is kept.
    assert_eq!(approx[0], exact[0]);
    assert_eq!(approx[5], exact[5]);
    // Integers cast to f64; a NaN anywhere makes every answer NaN.
    let ints = array::from_ndarray(ndarray::arr1(&[3_i64, 1, 2, 10]).into_dyn(), 2);
    let p = ints.percentile(&[50.0]).compute().unwrap();
    assert!((p[0] - 2.5).abs() < 0.6, "{p}");
    let nan = array::from_ndarray(ndarray::arr1(&[1.0, f64::NAN, 3.0]).into_dyn(), 2);
    assert!(
        nan.percentile(&[10.0, 90.0])
            .compute()
            .unwrap()
            .iter()
            .all(|v| v.is_nan())
    );
    // Mistakes.
    for bad in [
        x.percentile(&[101.0]),
        x.percentile(&[]),
        x.percentile(&[f64::NAN]),
    ] {
        assert!(matches!(
            bad.check(),
            Err(dask::Error::Shape {
                operation: "percentile",
                ..
            })
        ));
    }
    let empty = array::zeros::<f64>([0], 1).percentile(&[50.0]).compute();
    assert!(empty.is_err());
}

#[test]
fn medians_and_percentiles_along_an_axis_match_the_lanes() {
    let a = ArrayD::from_shape_fn(ndarray::IxDyn(&[5, 6, 7]), |i| {
        (((i[0] * 42 + i[1] * 7 + i[2]) as f64) * 1.3).sin()
    });
    let x = array::from_ndarray(a.clone(), vec![vec![2, 3], vec![1, 5], vec![4, 3]]);
    for axis in 0..3 {
        let med = x.median_axis(axis).compute().unwrap();
        let want = a.map_axis(Axis(axis), |lane| numpy_percentile(&lane.to_vec(), 50.0));
        assert_eq!(med, want, "median along {axis}");
        let p = x.percentile_axis(&[10.0, 75.0], axis).compute().unwrap();
        for (j, q) in [10.0, 75.0].into_iter().enumerate() {
            let want = a.map_axis(Axis(axis), |lane| numpy_percentile(&lane.to_vec(), q));
            assert_eq!(p.index_axis(Axis(0), j), want, "q {q} along {axis}");
        }
    }
    assert!(x.median_axis(3).check().is_err());
    let with_nan = array::from_ndarray(data(), [3, 2])
        .median_axis(0)
        .compute()
        .unwrap();
    for (j, m) in with_nan.iter().enumerate() {
        assert_eq!(
            m.is_nan(),
            data().column(j).iter().any(|v| v.is_nan()),
            "column {j}"
        );
    }
}

#[test]
fn extract_unique_and_bincount_have_lengths_known_once_computed() {
    let a = data();
    let x = array::from_ndarray(a.clone(), vec![vec![3, 4], vec![2, 1, 3]]);
    // NumPy's extract: row-major order, whatever the chunks.
    let positive = x.extract(&x.gt(0.0));
    let want: Vec<f64> = a.iter().copied().filter(|&v| v > 0.0).collect();
    assert!(!positive.chunks_known());
    assert_eq!(
        positive
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        want
    );
    // Reductions over all elements need no sizes, as in Dask: each block folded whole.
    let sum: f64 = want.iter().sum();
    assert!(close(positive.sum().compute().unwrap(), sum));
    assert!(close(
        positive.mean().compute().unwrap(),
        sum / want.len() as f64
    ));
    let top = want.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(positive.max().compute().unwrap(), top);
    let (m, v) = dask::compute((positive.mean(), positive.var())).unwrap();
    let var = want.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / want.len() as f64;
    assert!(close(v, var), "{v} against {var}");
    assert_eq!(positive.unique().compute().unwrap().len(), {
        let mut d = want.clone();
        d.sort_by(f64::total_cmp);
        d.dedup();
        d.len()
    });
    // Elementwise steps with scalars, reductions as operands, and arrays of the same
    // unknown chunks, as in Dask; the results' sizes stay unknown.
    let doubled = &positive * 2.0;
    assert!(!doubled.chunks_known());
    let twice: Vec<f64> = want.iter().map(|v| v * 2.0).collect();
    assert_eq!(
        doubled
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        twice
    );
    let centred = (&positive - positive.mean()) / positive.std();
    let z = centred.compute().unwrap();
    assert_eq!(z.len(), want.len());
    assert!(close(z.sum(), 0.0) || z.sum().abs() < 1e-9, "{}", z.sum());
    let sum_sq = (&positive + &positive)
        .mapv(|v| v * v)
        .sum()
        .compute()
        .unwrap();
    assert!(close(sum_sq, want.iter().map(|v| 4.0 * v * v).sum()));
    let big = positive.gt(5.0).astype::<i64>().sum().compute().unwrap();
    assert_eq!(big, want.iter().filter(|&&v| v > 5.0).count() as i64);
    // With an array of known sizes: an error that says what to do.
    match (&positive + &x.slice(dask::array::s![0, ..])).check() {
        Err(dask::Error::Shape { message, .. }) => assert!(message.contains("compute_chunk_sizes")),
        other => panic!("{other:?}"),
    }
    // Two extracts of the same blocks but other lengths fail when computed.
    let negative = x.extract(&x.lt(0.0));
    assert!((&positive + &negative).compute().is_err());
    // Positions need the sizes: an error that says what to do.
    match positive.argmax().compute() {
        Err(dask::Error::Shape { message, .. }) => assert!(message.contains("compute_chunk_sizes")),
        other => panic!("{other:?}"),
    }
    // Other steps are built on known sizes: compute_chunk_sizes (or persist) makes them.
    match positive.sum_axis(0).check() {
        Err(dask::Error::Shape { message, .. }) => assert!(message.contains("compute_chunk_sizes")),
        other => panic!("{other:?}"),
    }
    let known = positive.compute_chunk_sizes().unwrap();
    assert!(known.chunks_known());
    assert_eq!(known.shape(), [want.len()]);
    assert_eq!(known.chunks()[0].iter().sum::<usize>(), want.len());
    assert!(close(known.sum().compute().unwrap(), want.iter().sum()));
    let kept = positive.persist().unwrap();
    assert_eq!(kept.chunks(), known.chunks());
    assert_eq!((&kept * 2.0).compute().unwrap().len(), want.len());
    assert!(
        x.extract(&x.sum_axis(0).gt(0.0)).check().is_err(),
        "mask of another shape"
    );
    // unique: sorted, NaN once at the end.
    let u = x.unique().compute().unwrap();
    let mut distinct: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    assert_eq!(u.len(), distinct.len() + 1);
    assert!(u[u.len() - 1].is_nan());
    assert_eq!(
        u.iter().take(distinct.len()).copied().collect::<Vec<_>>(),
        distinct
    );
    // bincount against counting by hand; bad values are named.
    let ints = array::random::default_rng(3).integers(0, 9, [1_000], 130);
    let values = ints.compute().unwrap();
    let mut want = vec![0_i64; 12];
    values.iter().for_each(|&v| want[v as usize] += 1);
    let got = ints.bincount(12).compute().unwrap();
    assert_eq!(got.iter().copied().collect::<Vec<_>>(), want);
    assert_eq!(ints.bincount(0).compute().unwrap().len(), 9);
    let negative = array::from_ndarray(ndarray::arr1(&[1_i64, -2]).into_dyn(), 1).bincount(0);
    let err = negative.compute().unwrap_err();
    let why = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(why.contains("-2"), "{why}");
    let empty = array::zeros::<i64>([0], 1);
    assert_eq!(empty.bincount(3).compute().unwrap().len(), 3);
    assert_eq!(empty.unique().compute().unwrap().len(), 0);

    // Weighted: the weights of each value summed, on chunks unlike the values'.
    let weights = array::random::default_rng(4)
        .normal(0.0, 1.0, [1_000], 170)
        .compute()
        .unwrap();
    let w = array::from_ndarray(weights.clone(), 333);
    let mut want = vec![0.0; 12];
    values
        .iter()
        .zip(weights.iter())
        .for_each(|(&v, &wt)| want[v as usize] += wt);
    let got = ints.bincount_weighted(&w, 12).compute().unwrap();
    assert_eq!(got.len(), 12);
    for (g, w) in got.iter().zip(&want) {
        assert!(close(*g, *w), "{g} against {w}");
    }
    assert_eq!(ints.bincount_weighted(&w, 0).compute().unwrap().len(), 9);
    // Float values that are whole numbers count; others are named.
    let floats = array::from_ndarray(ndarray::arr1(&[2.0, 0.0, 2.0]).into_dyn(), 2);
    let ones = array::ones::<f64>([3], 3);
    let sums = floats.bincount_weighted(&ones, 0).compute().unwrap();
    assert_eq!(sums.as_slice().unwrap(), [1.0, 0.0, 2.0]);
    let err = array::from_ndarray(ndarray::arr1(&[0.5]).into_dyn(), 1)
        .bincount_weighted(&array::ones::<f64>([1], 1), 0)
        .compute()
        .unwrap_err();
    let why = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(why.contains("0.5"), "{why}");
    // Weights of another shape are a shape error.
    let err = ints
        .bincount_weighted(&array::ones::<f64>([999], 100), 0)
        .compute()
        .unwrap_err();
    assert!(matches!(err, dask::Error::Shape { .. }), "{err:?}");
    assert_eq!(
        empty
            .bincount_weighted(&array::zeros::<f64>([0], 1), 2)
            .compute()
            .unwrap()
            .as_slice()
            .unwrap(),
        [0.0, 0.0]
    );
}

mod chunking {
    use super::*;
    use proptest::prelude::*;

    fn chunked(a: &ArrayD<f64>, rows: usize, cols: usize) -> Array<f64> {
        array::from_ndarray(a.clone(), [rows, cols])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The NumPy-breadth functions give the same values on any chunking.
        #[test]
        fn results_do_not_depend_on_the_chunking(
            rows in 1_usize..9, cols in 1_usize..9, r in 1_usize..5, c in 1_usize..5, seed in 0_u64..1000,
        ) {
            let a = array::random::default_rng(seed).integers(0, 6, [rows, cols], [rows, cols]).astype::<f64>().compute().unwrap();
            let (one, many) = (chunked(&a, rows, cols), chunked(&a, r, c));
            let same = |f: &dyn Fn(&Array<f64>) -> Array<f64>| f(&one).compute().unwrap() == f(&many).compute().unwrap();
            prop_assert!(same(&|x| x.cumsum(0)));
            prop_assert!(same(&|x| x.cumprod(1)));
            prop_assert!(same(&|x| x.median_axis(1)));
            prop_assert!(same(&|x| x.percentile_axis(&[10.0, 90.0], 0)));
            prop_assert!(same(&|x| x.unique()));
            prop_assert!(same(&|x| x.extract(&x.gt(2.0))));
            prop_assert!(same(&|x| x.reshape([-1])));
            prop_assert!(same(&|x| x.take(&[0, rows - 1, 0], 0)));
            prop_assert!(same(&|x| x.nanmean_axis(1)));
            prop_assert!(same(&|x| x.t().dot(x)));
            let counts = |x: &Array<f64>| x.astype::<i64>().bincount(0).compute().unwrap();
            prop_assert_eq!(counts(&one), counts(&many));
        }
    }
}

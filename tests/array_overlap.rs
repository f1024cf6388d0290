//! `map_overlap` against the same stencil over the whole array, padded by hand.

use dask::array::{self, Boundary, s};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "../examples/support/stencil.rs"]
mod stencil;

/// Where position `g` of an axis of length `n` reads, by `mode`, written out per mode
/// (depth at most `n`): `None` for the constant.
fn padded_source(g: isize, n: isize, mode: &str) -> Option<isize> {
    if (0..n).contains(&g) {
        return Some(g);
    }
    match mode {
        "reflect" if g < 0 => Some(-g - 1),
        "reflect" => Some(2 * n - 1 - g),
        "periodic" if g < 0 => Some(g + n),
        "periodic" => Some(g - n),
        "nearest" => Some(g.clamp(0, n - 1)),
        _ => None,
    }
}

/// The whole array padded by `depth` on each side.
fn pad(a: &ArrayD<f64>, depth: &[usize], mode: &str, constant: f64) -> ArrayD<f64> {
    let shape: Vec<usize> = a
        .shape()
        .iter()
        .zip(depth)
        .map(|(n, d)| n + 2 * d)
        .collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let mut at = Vec::new();
        for ax in 0..a.ndim() {
            let g = idx[ax] as isize - depth[ax] as isize;
            match padded_source(g, a.shape()[ax] as isize, mode) {
                Some(s) => at.push(s as usize),
                None => return constant,
            }
        }
        a[IxDyn(&at)]
    })
}

/// The mean of each element's 3^d neighbourhood, for the elements at least one away
/// from the edge; the edge keeps its value (the margins that are cut off).
fn smooth(b: ArrayViewD<'_, f64>) -> ArrayD<f64> {
    let mut out = b.to_owned();
    let d = b.ndim();
    for idx in ndarray::indices(b.raw_dim()) {
        let inner = (0..d).all(|ax| idx[ax] >= 1 && idx[ax] + 1 < b.shape()[ax]);
        if !inner {
            continue;
        }
        let mut total = 0.0;
        for offset in ndarray::indices(IxDyn(&vec![3; d])) {
            let at: Vec<usize> = (0..d).map(|ax| idx[ax] + offset[ax] - 1).collect();
            total += b[IxDyn(&at)];
        }
        out[&idx] = total / 3_f64.powi(d as i32);
    }
    out
}

fn data(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |idx| {
        let flat = (0..shape.len()).fold(0, |acc, k| acc * 31 + idx[k]);
        ((flat as f64) * 0.37).sin() * 5.0
    })
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
}

#[test]
fn a_3x3_smoothing_stencil_matches_ndarray_on_every_boundary() {
    let a = data(&[13, 11]);
    let modes = [
        ("reflect", Boundary::Reflect),
        ("periodic", Boundary::Periodic),
        ("nearest", Boundary::Nearest),
        ("constant", Boundary::Constant(2.5)),
    ];
    for chunks in [
        vec![vec![4, 4, 5], vec![3, 8]],
        vec![vec![13], vec![11]],
        vec![vec![1; 13], vec![2; 5].into_iter().chain([1]).collect()],
    ] {
        for (mode, boundary) in modes {
            let x = array::from_ndarray(a.clone(), chunks.clone());
            let got = x
                .map_overlap(1, boundary, |b, _| smooth(b))
                .compute()
                .unwrap();
            let padded = smooth(pad(&a, &[1, 1], mode, 2.5).view());
            let want = padded.slice(s![1..14, 1..12]).into_owned().into_dyn();
            assert!(close(&got, &want), "{mode} on {chunks:?}");
        }
    }
}

#[test]
fn no_boundary_hands_edge_blocks_over_unpadded() {
    // Each block reports how far it grew: its shape minus the block's own.
    let x = array::from_ndarray(data(&[10]), vec![vec![3, 4, 3]]);
    let grown = x
        .map_overlap(2, Boundary::None, |b, idx| {
            let own = [3, 4, 3][idx[0]];
            ArrayD::from_elem(b.raw_dim(), (b.len() - own) as f64)
        })
        .compute()
        .unwrap();
    assert_eq!(
        grown.iter().copied().collect::<Vec<_>>(),
        [2., 2., 2., 4., 4., 4., 4., 2., 2., 2.]
    );
}

#[test]
fn depths_past_the_neighbour_and_per_axis_in_3d() {
    let a = data(&[6, 5, 7]);
    let x = array::from_ndarray(a.clone(), vec![vec![2, 2, 2], vec![5], vec![1, 3, 3]]);
    // Depth 3 on axis 0 reaches two blocks over; none on axis 1.
    let depth = [3, 0, 2];
    let got = x
        .map_overlap(depth, Boundary::Reflect, |b, _| b.mapv(|v| v * 2.0))
        .compute()
        .unwrap();
    assert!(close(&got, &a.mapv(|v| v * 2.0)));
    // What each block saw is the padded array's window.
    let padded = pad(&a, &depth, "reflect", 0.0);
    let seen = x.map_overlap(depth, Boundary::Reflect, move |b, idx| {
        let starts = [[0, 2, 4][idx[0]], 0, [0, 1, 4][idx[2]]];
        let window = padded.slice_each_axis(|ax| {
            let i = ax.axis.index();
            ndarray::Slice::from(starts[i]..starts[i] + b.shape()[i])
        });
        let same = window.iter().zip(b.iter()).all(|(p, q)| p == q);
        ArrayD::from_elem(b.raw_dim(), if same { 1.0 } else { 0.0 })
    });
    assert_eq!(seen.sum().compute().unwrap(), a.len() as f64);
}

#[test]
fn each_input_block_is_made_once_for_all_its_neighbours() {
    let made = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&made);
    let x = array::from_ndarray(data(&[12, 12]), [4, 4]).map_blocks(move |b, _| {
        counter.fetch_add(1, Ordering::Relaxed);
        b.to_owned()
    });
    let y = x.map_overlap(1, Boundary::Nearest, |b, _| smooth(b));
    y.compute().unwrap();
    assert_eq!(made.load(Ordering::Relaxed), 9);
}

#[test]
fn mistakes_are_errors_not_panics() {
    let x = array::from_ndarray(data(&[8, 8]), [4, 4]);
    let wrong_shape = x.map_overlap(1, Boundary::Reflect, |b, _| {
        b.slice(s![1.., ..]).to_owned().into_dyn()
    });
    let err = wrong_shape.compute().unwrap_err();
    let err = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        err.contains("grown to [6, 6]") && err.contains("[5, 6]"),
        "{err}"
    );
    let bad_depth = x.map_overlap([1, 1, 1], Boundary::Reflect, |b, _| b.to_owned());
    assert!(matches!(
        bad_depth.check(),
        Err(dask::Error::Shape {
            operation: "map_overlap",
            ..
        })
    ));
    // An empty array and a depth on it.
    let empty = array::zeros::<f64>([0, 4], [1, 2]);
    let y = empty.map_overlap(2, Boundary::Periodic, |b, _| b.to_owned());
    assert_eq!(y.compute().unwrap().shape(), [0, 4]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Whatever the chunking, the same stencil gives the same values.
    #[test]
    fn results_do_not_depend_on_the_chunking(
        rows in 1_usize..12, cols in 1_usize..12, r in 1_usize..6, c in 1_usize..6, mode in 0_usize..4,
    ) {
        let a = data(&[rows, cols]);
        let boundary = [Boundary::Reflect, Boundary::Periodic, Boundary::Nearest, Boundary::Constant(-1.0)][mode];
        let one = array::from_ndarray(a.clone(), [rows, cols]).map_overlap(1, boundary, |b, _| smooth(b));
        let many = array::from_ndarray(a, [r, c]).map_overlap(1, boundary, |b, _| smooth(b));
        prop_assert!(close(&one.compute().unwrap(), &many.compute().unwrap()));
    }
}

#[test]
fn recycled_blocks_stay_right_when_shared_and_when_two_computes_run_at_once() {
    // Blocks of 2 MB and more are recycled from task to task on each worker. Here the
    // generated blocks are read by the stencil (each by up to nine neighbours) and by a
    // sum of their own, so a block must not be reused while another reader holds it;
    // and two computes run at once on the same pool.
    let x = array::random::default_rng(4).normal(0.0, 1.0, [1100, 1050], [512, 512]);
    let whole = x.compute().unwrap();
    let padded = stencil::smooth(pad(&whole, &[1, 1], "reflect", 0.0).view());
    let want = padded.slice(s![1..1101, 1..1051]).into_owned().into_dyn();
    let run = move || {
        let smoothed = x.map_overlap(1, Boundary::Reflect, |b, _| stencil::smooth(b));
        let options = dask::Options::new().scheduler(dask::Scheduler::Threads(2));
        dask::compute_with((smoothed.clone(), x.sum(), smoothed.sum()), options).unwrap()
    };
    let at_once: Vec<_> = (0..2).map(|_| std::thread::spawn(run.clone())).collect();
    for outcome in at_once
        .into_iter()
        .map(|t| t.join().unwrap())
        .chain([run()])
    {
        let (got, sum, smoothed_sum) = outcome;
        assert!(close(&got, &want));
        assert!((sum - whole.sum()).abs() < 1e-6, "{sum}");
        assert!((smoothed_sum - want.sum()).abs() < 1e-6, "{smoothed_sum}");
    }
}

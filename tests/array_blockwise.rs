//! `blockwise`, the `map_blocks` forms (several arrays, axes dropped or added,
//! output chunks) and user reductions, each against ndarray on mismatched, ragged chunks.

use dask::array::{self, BlockOptions, blockwise, map_blocks};
use ndarray::{ArrayD, Axis, Ix1, Ix2, IxDyn};

fn data(shape: &[usize], seed: f64) -> ArrayD<f64> {
    let mut k = 0.0;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        k += 1.0;
        (k * seed).sin()
    })
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
}

fn matmul(blocks: &[ndarray::ArrayViewD<'_, f64>], _: &[usize]) -> ArrayD<f64> {
    let x = blocks[0].view().into_dimensionality::<Ix2>().unwrap();
    let y = blocks[1].view().into_dimensionality::<Ix2>().unwrap();
    x.dot(&y).into_dyn()
}

#[test]
fn blockwise_contracts_missing_letters_and_lines_up_chunks() {
    let (a, b) = (data(&[7, 5], 0.3), data(&[5, 6], 0.7));
    let want = a
        .view()
        .into_dimensionality::<Ix2>()
        .unwrap()
        .dot(&b.view().into_dimensionality::<Ix2>().unwrap())
        .into_dyn();
    let x = array::from_ndarray(a, vec![vec![3, 4], vec![2, 3]]);
    let y = array::from_ndarray(b, vec![vec![1, 4], vec![4, 2]]);
    let c = blockwise("ik", &[(&x, "ij"), (&y, "jk")], BlockOptions::new(), matmul);
    assert_eq!(c.chunks(), [vec![3, 4], vec![4, 2]]);
    assert!(close(&c.compute().unwrap(), &want));
    // An outer product: two 1-d inputs, two output letters.
    let (u, v) = (data(&[4], 0.2), data(&[3], 0.9));
    let outer = blockwise(
        "ij",
        &[
            (&array::from_ndarray(u.clone(), 3), "i"),
            (&array::from_ndarray(v.clone(), 2), "j"),
        ],
        BlockOptions::new(),
        |b, _| {
            let (p, q) = (
                b[0].view().into_dimensionality::<Ix1>().unwrap(),
                b[1].view().into_dimensionality::<Ix1>().unwrap(),
            );
            ArrayD::from_shape_fn(IxDyn(&[p.len(), q.len()]), |i| p[i[0]] * q[i[1]])
        },
    );
    let want = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| u[[i[0]]] * v[[i[1]]]);
    assert!(close(&outer.compute().unwrap(), &want));
    // A new letter: each block repeated along a new axis of 2.
    let rep = blockwise(
        "ki",
        &[(&array::from_ndarray(u.clone(), 3), "i")],
        BlockOptions::new().new_letter('k', 2),
        |b, _| ndarray::stack(Axis(0), &[b[0].view(), b[0].view()]).unwrap(),
    );
    assert_eq!(rep.shape(), [2, 4]);
    assert_eq!(rep.compute().unwrap().index_axis(Axis(0), 1), u);
}

#[test]
fn map_blocks_over_several_arrays_broadcasts_as_numpy() {
    let (a, b) = (data(&[6, 4], 0.4), data(&[6, 4], 0.8));
    let x = array::from_ndarray(a.clone(), [2, 2]);
    let y = array::from_ndarray(b.clone(), [3, 1]);
    let row = data(&[4], 0.5);
    let r = array::from_ndarray(row.clone(), 4);
    let col = data(&[6, 1], 0.6);
    let c = array::from_ndarray(col.clone(), [4, 1]);
    let z = map_blocks(&[&x, &y, &r, &c], BlockOptions::new(), |bl, _| {
        &bl[0] * &bl[1] + &bl[2] - &bl[3]
    });
    let want = &a * &b + &row - &col;
    assert!(close(&z.compute().unwrap(), &want));
}

#[test]
fn map_blocks_drops_and_adds_axes_and_takes_output_chunks() {
    let a = data(&[6, 4], 0.4);
    let x = array::from_ndarray(a.clone(), [4, 3]);
    let sums = x.map_blocks_with(BlockOptions::new().drop_axis(&[1]), |b, _| {
        b.sum_axis(Axis(1))
    });
    assert_eq!(sums.chunks(), [vec![4, 2]]);
    assert!(close(&sums.compute().unwrap(), &a.sum_axis(Axis(1))));
    // A new leading axis of 3: each block stacked thrice (its length from the chunks).
    let options = BlockOptions::new()
        .new_axis(&[0])
        .chunks(vec![vec![3], vec![4, 2], vec![3, 1]]);
    let tripled = x.map_blocks_with(options, |b, _| {
        ndarray::stack(Axis(0), &[b.view(), b.view(), b.view()]).unwrap()
    });
    assert_eq!(tripled.shape(), [3, 6, 4]);
    assert!(close(
        &tripled.compute().unwrap().index_axis(Axis(0), 2).to_owned(),
        &a
    ));
    // Blocks that halve their rows, with the chunks said.
    let halves = x.map_blocks_with(
        BlockOptions::new().chunks(vec![vec![2, 1], vec![3, 1]]),
        |b, _| {
            b.slice_axis(Axis(0), ndarray::Slice::from(0..b.shape()[0] / 2))
                .to_owned()
        },
    );
    assert_eq!(halves.shape(), [3, 4]);
    let got = halves.compute().unwrap();
    assert_eq!(got.index_axis(Axis(0), 2), a.index_axis(Axis(0), 4));
}

#[test]
fn mistakes_are_shape_errors_naming_the_letters() {
    let x = array::from_ndarray(data(&[4, 3], 0.1), 2);
    let y = array::from_ndarray(data(&[5, 3], 0.1), 2);
    let id = |b: &[ndarray::ArrayViewD<'_, f64>], _: &[usize]| b[0].to_owned();
    let cases = [
        blockwise("ij", &[(&x, "ij"), (&y, "ij")], BlockOptions::new(), id),
        blockwise("ij", &[(&x, "i")], BlockOptions::new(), id),
        blockwise("ii", &[(&x, "ii")], BlockOptions::new(), id),
        blockwise("ik", &[(&x, "ij")], BlockOptions::new(), id),
        blockwise(
            "ij",
            &[(&x, "ij")],
            BlockOptions::new().chunks(vec![vec![4], vec![3]]),
            id,
        ),
        blockwise::<f64, f64, _>("ij", &[], BlockOptions::new(), id),
        x.map_blocks_with(BlockOptions::new().drop_axis(&[2]), |b, _| b.to_owned()),
    ];
    for (k, c) in cases.into_iter().enumerate() {
        match c.check() {
            Err(dask::Error::Shape { message, .. }) => assert!(!message.is_empty()),
            other => panic!("case {k}: {other:?}"),
        }
    }
    // A block of the wrong shape is an error when computed, naming the fix.
    let wrong = x.map_blocks_with(BlockOptions::new(), |b, _| {
        b.slice_axis(Axis(0), ndarray::Slice::from(0..1)).to_owned()
    });
    let err = wrong.compute().unwrap_err();
    let why = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(why.contains("BlockOptions::chunks"), "{why}");
}

#[test]
fn user_reductions_match_ndarray_whole_and_along_axes() {
    let a = data(&[300, 200, 3], 0.37);
    // Blocks larger than a strip: `chunk` also sees parts of blocks.
    for chunks in [vec![300, 200, 3], vec![70, 45, 2]] {
        let x = array::from_ndarray(a.clone(), chunks.clone());
        let sum_sq = x.reduction(
            |p| p.iter().map(|v| v * v).sum::<f64>(),
            |a, b| a + b,
            |s| s,
        );
        let want: f64 = a.iter().map(|v| v * v).sum();
        assert!(
            (sum_sq.compute().unwrap() - want).abs() < 1e-9 * want,
            "{chunks:?}"
        );
        let max = |p: ndarray::ArrayViewD<'_, f64>| p.iter().copied().fold(f64::MIN, f64::max);
        for (axes, keepdims) in [(vec![0], false), (vec![1], true), (vec![0, 2], false)] {
            let got = x
                .reduction_axes(&axes, keepdims, max, f64::max, |m| m)
                .compute()
                .unwrap();
            let mut want = a.clone();
            for &ax in axes.iter().rev() {
                want = want.map_axis(Axis(ax), |lane| {
                    lane.iter().copied().fold(f64::MIN, f64::max)
                });
                if keepdims {
                    want = want.insert_axis(Axis(ax));
                }
            }
            assert_eq!(got, want, "{axes:?} on {chunks:?}");
        }
    }
    // Integer partials from floats: counts of positives.
    let x = array::from_ndarray(a.clone(), [64, 64, 3]);
    let positives = x.reduction(
        |p| p.iter().filter(|v| **v > 0.0).count() as i64,
        |a, b| a + b,
        |n| n,
    );
    assert_eq!(
        positives.compute().unwrap(),
        a.iter().filter(|v| **v > 0.0).count() as i64
    );
}

#[test]
fn user_reductions_fail_cleanly() {
    let empty = array::zeros::<f64>([0, 3], 2);
    let err = empty
        .reduction(|p| p.len(), |a, b| a + b, |n| n as i64)
        .compute()
        .unwrap_err();
    let why = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(why.contains("no elements"), "{why}");
    let x = array::ones::<f64>([10], 3);
    let boom = x.reduction(
        |p| -> f64 {
            if p.len() == 1 {
                panic!("a bad part")
            } else {
                1.0
            }
        },
        |a, b| a + b,
        |s| s,
    );
    assert!(matches!(
        boom.compute(),
        Err(dask::Error::TaskPanicked { .. })
    ));
}

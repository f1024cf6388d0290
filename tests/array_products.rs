//! `dot` for 1-d and n-d operands, batched `matmul`, `tensordot` and `outer`, against
//! the same sums written out as loops, on ragged chunks.

use dask::array::{self, Array};
use ndarray::{ArrayD, IxDyn};

fn data(shape: &[usize], seed: f64) -> ArrayD<f64> {
    let mut k = 0.0;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        k += 1.0;
        (k * seed).sin()
    })
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-10)
}

/// NumPy's `tensordot`, as loops over every index.
fn tensordot_loops(a: &ArrayD<f64>, b: &ArrayD<f64>, sa: &[usize], sb: &[usize]) -> ArrayD<f64> {
    let free_a: Vec<usize> = (0..a.ndim()).filter(|x| !sa.contains(x)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|x| !sb.contains(x)).collect();
    let shape: Vec<usize> = free_a
        .iter()
        .map(|&x| a.shape()[x])
        .chain(free_b.iter().map(|&x| b.shape()[x]))
        .collect();
    let summed: Vec<usize> = sa.iter().map(|&x| a.shape()[x]).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |out| {
        let mut total = 0.0;
        for k in ndarray::indices(IxDyn(&summed)) {
            let mut ia = vec![0; a.ndim()];
            let mut ib = vec![0; b.ndim()];
            for (n, &x) in free_a.iter().enumerate() {
                ia[x] = out[n];
            }
            for (n, &x) in free_b.iter().enumerate() {
                ib[x] = out[free_a.len() + n];
            }
            for (n, (&x, &y)) in sa.iter().zip(sb).enumerate() {
                ia[x] = k[n];
                ib[y] = k[n];
            }
            total += a[IxDyn(&ia)] * b[IxDyn(&ib)];
        }
        total
    })
}

fn lazy(a: &ArrayD<f64>, chunk: usize) -> Array<f64> {
    array::from_ndarray(a.clone(), chunk)
}

#[test]
fn dot_follows_numpy_for_every_rank() {
    let (m, v, w) = (data(&[5, 7], 0.3), data(&[7], 0.5), data(&[5], 0.9));
    let t3 = data(&[2, 5, 7], 0.2);
    let t4 = data(&[3, 7, 4], 0.6);
    let cases: Vec<(Array<f64>, ArrayD<f64>)> = vec![
        (
            lazy(&m, 3).dot(&lazy(&v, 2)),
            tensordot_loops(&m, &v, &[1], &[0]),
        ),
        (
            lazy(&w, 2).dot(&lazy(&m, 4)),
            tensordot_loops(&w, &m, &[0], &[0]),
        ),
        (
            lazy(&v, 3).dot(&lazy(&v, 4)),
            tensordot_loops(&v, &v, &[0], &[0]),
        ),
        (
            lazy(&t3, 2).dot(&lazy(&t4, 3)),
            tensordot_loops(&t3, &t4, &[2], &[1]),
        ),
        (
            lazy(&t3, 3).dot(&lazy(&v, 3)),
            tensordot_loops(&t3, &v, &[2], &[0]),
        ),
    ];
    for (k, (got, want)) in cases.into_iter().enumerate() {
        assert!(close(&got.compute().unwrap(), &want), "case {k}");
    }
    assert!(lazy(&v, 2).dot(&lazy(&w, 2)).check().is_err());
    assert!(lazy(&v, 2).dot(&array::full([], 2.0, 1)).check().is_err());
}

#[test]
fn tensordot_and_outer_match_loops() {
    let a = data(&[3, 4, 5], 0.4);
    let b = data(&[5, 4, 2], 0.7);
    for (sa, sb) in [
        (vec![1, 2], vec![1, 0]),
        (vec![2], vec![0]),
        (vec![], vec![]),
    ] {
        let got = lazy(&a, 2)
            .tensordot(&lazy(&b, 3), (&sa, &sb))
            .compute()
            .unwrap();
        assert!(
            close(&got, &tensordot_loops(&a, &b, &sa, &sb)),
            "{sa:?} {sb:?}"
        );
    }
    assert!(
        lazy(&a, 2)
            .tensordot(&lazy(&b, 2), (&[0], &[0]))
            .check()
            .is_err()
    );
    assert!(
        lazy(&a, 2)
            .tensordot(&lazy(&b, 2), (&[2, 2], &[0, 0]))
            .check()
            .is_err()
    );
    let (u, v) = (data(&[2, 3], 0.1), data(&[4], 0.8));
    let o = lazy(&u, 2).outer(&lazy(&v, 3)).compute().unwrap();
    let flat: Vec<f64> = u.iter().copied().collect();
    let want = ArrayD::from_shape_fn(IxDyn(&[6, 4]), |i| flat[i[0]] * v[[i[1]]]);
    assert!(close(&o, &want));
}

#[test]
fn matmul_stacks_and_broadcasts_batches() {
    let a = data(&[4, 3, 6], 0.3);
    let b = data(&[6, 2], 0.5);
    let c = data(&[1, 6, 2], 0.8);
    let d = data(&[2, 1, 3, 6], 0.9);
    let per_matrix = |x: &ArrayD<f64>, y: &ArrayD<f64>, xi: &[usize], yi: &[usize]| {
        let mut xs = x.view();
        for &i in xi {
            xs = xs.index_axis_move(ndarray::Axis(0), i);
        }
        let mut ys = y.view();
        for &i in yi {
            ys = ys.index_axis_move(ndarray::Axis(0), i);
        }
        tensordot_loops(&xs.to_owned(), &ys.to_owned(), &[1], &[0])
    };
    let ab = lazy(&a, 2).matmul(&lazy(&b, 4)).compute().unwrap();
    let ac = lazy(&a, 3).matmul(&lazy(&c, 2)).compute().unwrap();
    let da = lazy(&d, 2).matmul(&lazy(
        &a.clone()
            .permuted_axes(vec![0, 2, 1])
            .as_standard_layout()
            .into_owned(),
        2,
    ));
    let da = da.compute().unwrap();
    assert_eq!(da.shape(), [2, 4, 3, 3]);
    let at = a
        .clone()
        .permuted_axes(vec![0, 2, 1])
        .as_standard_layout()
        .into_owned();
    for i in 0..4 {
        assert!(close(
            &ab.index_axis(ndarray::Axis(0), i).to_owned(),
            &per_matrix(&a, &b, &[i], &[])
        ));
        assert!(close(
            &ac.index_axis(ndarray::Axis(0), i).to_owned(),
            &per_matrix(&a, &c, &[i], &[0])
        ));
        for j in 0..2 {
            let got = da
                .index_axis(ndarray::Axis(0), j)
                .index_axis(ndarray::Axis(0), i)
                .to_owned();
            assert!(close(&got, &per_matrix(&d, &at, &[j, 0], &[i])));
        }
    }
    // A vector beside a stack, as NumPy: a column on the right, a row on the left,
    // the axis it gained dropped.
    let v = data(&[6], 0.1);
    let av = lazy(&a, 2).matmul(&lazy(&v, 4)).compute().unwrap();
    assert_eq!(av.shape(), [4, 3]);
    let w = data(&[3], 0.7);
    let wa = lazy(&w, 2).matmul(&lazy(&a, 2)).compute().unwrap();
    assert_eq!(wa.shape(), [4, 6]);
    let column = v.clone().into_shape_with_order(IxDyn(&[6, 1])).unwrap();
    let row = w.clone().into_shape_with_order(IxDyn(&[1, 3])).unwrap();
    for i in 0..4 {
        let want = per_matrix(&a, &column, &[i], &[]);
        assert!(close(
            &av.index_axis(ndarray::Axis(0), i).to_owned(),
            &want.index_axis(ndarray::Axis(1), 0).to_owned()
        ));
        let want = per_matrix(&row, &a, &[], &[i]);
        assert!(close(
            &wa.index_axis(ndarray::Axis(0), i).to_owned(),
            &want.index_axis(ndarray::Axis(0), 0).to_owned()
        ));
    }
    assert!(
        lazy(&a, 2)
            .matmul(&lazy(&data(&[5], 0.1), 2))
            .check()
            .is_err(),
        "a vector of the wrong length"
    );
    assert!(
        lazy(&a, 2)
            .matmul(&lazy(&data(&[5, 2], 0.1), 2))
            .check()
            .is_err()
    );
}

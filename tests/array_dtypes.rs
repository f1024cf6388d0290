//! Every integer element type (`i8` to `i64`, `u8` to `u64`): arithmetic, NumPy's
//! `//` and `%`, reductions, casts and `.npy` files, against the same operations on
//! the values in plain Rust.

use dask::array::{self, Array};
use ndarray::ArrayD;

macro_rules! each_integer {
    ($($t:ident),*) => {$(
        mod $t {
            use super::*;

            fn values() -> Vec<$t> {
                // Both ends of the type, zero, and a spread between.
                let mut v = vec![<$t>::MIN, <$t>::MAX, 0, 1, 7, 3];
                v.extend((0..20).map(|k: i32| (k * 37 % 101) as $t));
                v
            }

            fn lazy(v: &[$t]) -> Array<$t> {
                array::from_ndarray(ArrayD::from_shape_vec(ndarray::IxDyn(&[v.len()]), v.to_vec()).unwrap(), 5)
            }

            fn computed<E: array::Element>(a: Array<E>) -> Vec<E> {
                a.compute().unwrap().iter().copied().collect()
            }

            #[test]
            fn arithmetic_wraps_and_division_by_zero_is_zero() {
                let v = values();
                let x = lazy(&v);
                let w: Vec<$t> = v.iter().map(|a| a.wrapping_mul(3).wrapping_add(1)).collect();
                assert_eq!(computed(&(&x * (3 as $t)) + (1 as $t)), w);
                let zeros = vec![0 as $t; v.len()];
                assert_eq!(computed(&x / &lazy(&zeros)), zeros);
                assert_eq!(computed(&x % (0 as $t)), zeros);
                let q: Vec<$t> = v.iter().map(|a| a.wrapping_div(7)).collect();
                assert_eq!(computed(&x / (7 as $t)), q);
                // NumPy's floor division and modulo, by a positive divisor.
                let f: Vec<$t> = v.iter().map(|a| a.div_euclid(7)).collect();
                assert_eq!(computed(x.floor_divide(7 as $t)), f);
                let m: Vec<$t> = v.iter().map(|a| a.rem_euclid(7)).collect();
                assert_eq!(computed(x.mod_(7 as $t)), m);
            }

            #[test]
            fn reductions_and_comparisons() {
                let v = values();
                let x = lazy(&v);
                let sum = v.iter().fold(0 as $t, |a, b| a.wrapping_add(*b));
                assert_eq!(x.sum().compute().unwrap(), sum);
                assert_eq!(x.max().compute().unwrap(), <$t>::MAX);
                assert_eq!(x.min().compute().unwrap(), <$t>::MIN);
                assert_eq!(x.argmax().compute().unwrap(), 1);
                let mean = v.iter().map(|&a| a as f64).sum::<f64>() / v.len() as f64;
                assert!((x.mean().compute().unwrap() - mean).abs() < 1e-9 * mean.abs().max(1.0));
                let big = v.iter().filter(|&&a| a > 50).count() as i64;
                assert_eq!(x.gt(50 as $t).astype::<i64>().sum().compute().unwrap(), big);
                let top = x.topk(2).compute().unwrap();
                assert_eq!(top.iter().copied().collect::<Vec<_>>()[0], <$t>::MAX);
            }

            #[test]
            fn casts_and_npy_round_trips() {
                let v = values();
                let x = lazy(&v);
                let as_f64: Vec<f64> = v.iter().map(|&a| a as f64).collect();
                assert_eq!(computed(x.astype::<f64>()), as_f64);
                let back = lazy(&v).astype::<f64>().astype::<$t>();
                assert_eq!(computed(back), v);
                // Floats truncate toward zero and saturate (NumPy leaves out-of-range
                // values undefined).
                let f = array::from_ndarray(ndarray::arr1(&[-1.7, 2.9, 1e30, -1e30, f64::NAN]).into_dyn(), 2);
                let want: Vec<$t> = [-1.7_f64, 2.9, 1e30, -1e30, f64::NAN].iter().map(|&a| a as $t).collect();
                assert_eq!(computed(f.astype::<$t>()), want);
                let path = std::env::temp_dir().join(format!("dask-rs-{}-{}.npy", stringify!($t), std::process::id()));
                x.to_npy(&path).unwrap();
                let read: Array<$t> = array::from_npy(&path, 4).unwrap();
                assert_eq!(computed(read), v);
                std::fs::remove_file(&path).ok();
            }
        }
    )*};
}

each_integer!(i8, i16, i32, i64, u8, u16, u32, u64);

#[test]
fn signed_integers_negate_and_take_absolute_values_wrapping() {
    let x = array::from_ndarray(ndarray::arr1(&[i8::MIN, -3, 0, 5]).into_dyn(), 2);
    assert_eq!(
        (-&x).compute().unwrap().iter().copied().collect::<Vec<_>>(),
        [i8::MIN, 3, 0, -5]
    );
    assert_eq!(
        x.abs()
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [i8::MIN, 3, 0, 5]
    );
    let y = array::from_ndarray(ndarray::arr1(&[-7_i16, 7]).into_dyn(), 1);
    assert_eq!(
        y.floor_divide(-2)
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [3, -4]
    );
    assert_eq!(
        y.mod_(-2)
            .compute()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [-1, -1]
    );
}

#[test]
fn complex_arrays_add_multiply_reduce_and_round_trip_through_npy() {
    use dask::array::{Complex32, Complex64};
    let values: Vec<Complex64> = (0..10)
        .map(|k| Complex64::new(k as f64, 1.0 - k as f64))
        .collect();
    let x = array::from_ndarray(
        ArrayD::from_shape_vec(ndarray::IxDyn(&[10]), values.clone()).unwrap(),
        3,
    );
    let i = Complex64::new(0.0, 1.0);
    let y = &(&x * i) + &x.conj();
    let want: Vec<Complex64> = values.iter().map(|v| v * i + v.conj()).collect();
    assert_eq!(
        y.compute().unwrap().iter().copied().collect::<Vec<_>>(),
        want
    );
    let total: Complex64 = values.iter().sum();
    assert_eq!(x.sum().compute().unwrap(), total);
    assert_eq!(x.mean().compute().unwrap(), total / 10.0);
    assert_eq!(x.re().sum().compute().unwrap(), 45.0);
    assert!((x.norm().compute().unwrap()[[3]] - (9.0_f64 + 4.0).sqrt()).abs() < 1e-15);
    let e = x.exp().compute().unwrap();
    assert!((e[[2]] - values[2].exp()).norm() < 1e-12);
    // Equality only: complex numbers have no order.
    assert_eq!(
        x.eq_elem(x.conj()).astype::<i64>().sum().compute().unwrap(),
        1
    );
    // From real arrays, and between the two widths.
    let r = array::arange(4).astype::<Complex64>().astype::<Complex32>();
    assert_eq!(r.compute().unwrap()[[3]], Complex32::new(3.0, 0.0));
    let path = std::env::temp_dir().join(format!("dask-rs-c16-{}.npy", std::process::id()));
    x.to_npy(&path).unwrap();
    let back: Array<Complex64> = array::from_npy(&path, 4).unwrap();
    assert_eq!(
        back.compute().unwrap().iter().copied().collect::<Vec<_>>(),
        values
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn complex_dot_of_matrices_and_vectors_matches_ndarray() {
    use dask::array::Complex64;
    let z = |shape: &[usize], k: f64| {
        ArrayD::from_shape_fn(ndarray::IxDyn(shape), |i| {
            let flat = ndarray::Dimension::as_array_view(&i)
                .iter()
                .fold(0.0, |acc, &v| acc * 7.0 + v as f64);
            Complex64::new((flat * 0.3 + k).sin(), (flat * 0.7 - k).cos())
        })
    };
    let two = |a: &ArrayD<Complex64>| a.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
    let one = |a: &ArrayD<Complex64>| a.clone().into_dimensionality::<ndarray::Ix1>().unwrap();
    let (a, b, v, w) = (z(&[9, 7], 1.0), z(&[7, 5], 2.0), z(&[7], 3.0), z(&[9], 4.0));
    let close = |x: ArrayD<Complex64>, y: ArrayD<Complex64>| {
        assert_eq!(x.shape(), y.shape());
        assert!(
            x.iter().zip(&y).all(|(p, q)| (p - q).norm() < 1e-12),
            "{x} {y}"
        );
    };
    // Ragged blocks along the inner axis of both.
    let (da, db) = (
        array::from_ndarray(a.clone(), [vec![4, 5], vec![3, 4]]),
        array::from_ndarray(b.clone(), [vec![2, 5], vec![5]]),
    );
    let (dv, dw) = (
        array::from_ndarray(v.clone(), 3),
        array::from_ndarray(w.clone(), 4),
    );
    close(
        da.dot(&db).compute().unwrap(),
        two(&a).dot(&two(&b)).into_dyn(),
    );
    close(
        da.dot(&dv).compute().unwrap(),
        two(&a).dot(&one(&v)).into_dyn(),
    );
    close(
        dw.dot(&da).compute().unwrap(),
        one(&w).dot(&two(&a)).into_dyn(),
    );
    let inner = dv.dot(&dv).compute().unwrap();
    assert_eq!(inner.shape(), [] as [usize; 0]);
    assert!((inner[[]] - one(&v).dot(&one(&v))).norm() < 1e-12);
    // Mismatched inner lengths are an error naming both axes, not a panic.
    let err = da.dot(&dw).compute().unwrap_err();
    assert!(
        err.to_string()
            .contains("axis 1 (length 7) against axis 0 (length 9)"),
        "{err}"
    );

    // More axes, against plain loops: a stack of matrices (ragged blocks) times a
    // vector, a batched product (one side broadcast), tensordot and outer.
    let (c, d) = (z(&[2, 9, 7], 0.0), z(&[2, 7, 5], 5.0));
    let (dc, dd) = (
        array::from_ndarray(c.clone(), [vec![1, 1], vec![4, 5], vec![3, 4]]),
        array::from_ndarray(d.clone(), [vec![2], vec![2, 5], vec![5]]),
    );
    let sum = |f: &dyn Fn(usize) -> Complex64, n: usize| (0..n).map(f).sum::<Complex64>();
    let want = ArrayD::from_shape_fn(ndarray::IxDyn(&[2, 9]), |i| {
        sum(&|k| c[[i[0], i[1], k]] * v[[k]], 7)
    });
    close(dc.dot(&dv).compute().unwrap(), want);
    let want = ArrayD::from_shape_fn(ndarray::IxDyn(&[2, 9, 5]), |i| {
        sum(&|k| c[[i[0], i[1], k]] * d[[i[0], k, i[2]]], 7)
    });
    close(dc.matmul(&dd).compute().unwrap(), want);
    let want = ArrayD::from_shape_fn(ndarray::IxDyn(&[2, 9, 5]), |i| {
        sum(&|k| c[[i[0], i[1], k]] * b[[k, i[2]]], 7)
    });
    let db3 = db.reshape([1, 7, 5]);
    close(dc.matmul(&db3).compute().unwrap(), want.clone());
    close(dc.tensordot(&db, (&[2], &[0])).compute().unwrap(), want);
    let want = ArrayD::from_shape_fn(ndarray::IxDyn(&[9, 5]), |i| {
        sum(&|j| sum(&|k| c[[j, i[0], k]] * d[[j, k, i[1]]], 7), 2)
    });
    close(
        dc.tensordot(&dd, (&[0, 2], &[0, 1])).compute().unwrap(),
        want,
    );
    let want = ArrayD::from_shape_fn(ndarray::IxDyn(&[7, 9]), |i| v[[i[0]]] * w[[i[1]]]);
    close(dv.outer(&dw).compute().unwrap(), want);
    // A stack times a bare vector: the vector is a column, as NumPy's `matmul` takes it.
    let want = ArrayD::from_shape_fn(ndarray::IxDyn(&[2, 9]), |i| {
        sum(&|k| c[[i[0], i[1], k]] * v[[k]], 7)
    });
    close(dc.matmul(&dv).compute().unwrap(), want);
}

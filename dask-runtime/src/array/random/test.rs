use super::*;
use crate::array::FULL;
use rand_distr::{Distribution, StandardNormal};

#[test]
fn inlined_fast_path_draws_exactly_what_standard_normal_draws() {
    // Consecutive element keys of one stream, as arrays use them; ~12,000 take the
    // rejection path, including layer 0's tail.
    let stream = mix(7);
    let (mut rejected, mut tail) = (0, 0);
    for i in 0..1_000_000_u64 {
        let key = stream.wrapping_add(i.wrapping_mul(GOLDEN));
        let want: f64 = StandardNormal.sample(&mut ElementStream { key, counter: 0 });
        assert_eq!(
            standard_normal_of(key).to_bits(),
            want.to_bits(),
            "key {key}"
        );
        let bits = mix(key);
        if inside_layer(bits).is_none() {
            rejected += 1;
            tail += usize::from(bits & 0xff == 0);
        }
    }
    assert!((9_000..15_000).contains(&rejected), "{rejected} rejections");
    assert!(tail > 0, "no draw reached the tail");
}

#[test]
fn normals_have_the_right_moments() {
    let x = default_rng(3)
        .normal(2.0, 3.0, [400_000], 65_536)
        .compute()
        .unwrap();
    let n = x.len() as f64;
    let mean = x.sum() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let kurt = x
        .iter()
        .map(|v| ((v - mean) / var.sqrt()).powi(4))
        .sum::<f64>()
        / n;
    // Standard errors: 3/sqrt(n) = 0.005 for the mean, ~0.02 for the variance 9.
    assert!((mean - 2.0).abs() < 0.03, "mean {mean}");
    assert!((var - 9.0).abs() < 0.12, "variance {var}");
    assert!((kurt - 3.0).abs() < 0.05, "kurtosis {kurt}");
}

/// Mean and variance of a sample.
fn moments(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (mean, v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n)
}

#[test]
fn every_distribution_has_its_mean_and_variance() {
    let rng = default_rng(11);
    let n = [200_000];
    let f = |a: Array<f64>| moments(a.compute().unwrap().into_iter());
    let i = |a: Array<i64>| moments(a.compute().unwrap().into_iter().map(|v| v as f64));
    // (name, sample moments, true mean, true variance)
    let cases = [
        ("exponential", f(rng.exponential(2.0, n, 50_000)), 2.0, 4.0),
        ("poisson", i(rng.poisson(3.5, n, 50_000)), 3.5, 3.5),
        ("binomial", i(rng.binomial(20, 0.3, n, 50_000)), 6.0, 4.2),
        ("gamma", f(rng.gamma(2.0, 3.0, n, 50_000)), 6.0, 18.0),
        (
            "beta",
            f(rng.beta(2.0, 5.0, n, 50_000)),
            2.0 / 7.0,
            10.0 / 392.0,
        ),
        (
            "lognormal",
            f(rng.lognormal(0.0, 0.5, n, 50_000)),
            0.125_f64.exp(),
            (0.25_f64.exp() - 1.0) * 0.25_f64.exp(),
        ),
        ("chisquare", f(rng.chisquare(4.0, n, 50_000)), 4.0, 8.0),
    ];
    for (name, (mean, var), want_mean, want_var) in cases {
        // Five standard errors of the mean; 5% of the variance.
        let se = (want_var / 200_000.0_f64).sqrt();
        assert!((mean - want_mean).abs() < 5.0 * se, "{name}: mean {mean}");
        assert!(
            (var / want_var - 1.0).abs() < 0.05,
            "{name}: variance {var}"
        );
    }
}

#[test]
fn distributions_do_not_depend_on_the_chunks_and_differ_by_call() {
    let a = default_rng(4).gamma(0.5, 1.0, [90, 70], [13, 70]);
    let b = default_rng(4).gamma(0.5, 1.0, [90, 70], [90, 9]);
    let (a, b) = (a.compute().unwrap(), b.compute().unwrap());
    assert_eq!(a, b);
    let rng = default_rng(4);
    let (c, d) = (rng.poisson(2.0, [50], 7), rng.poisson(2.0, [50], 7));
    assert_ne!(c.name(), d.name());
    assert_ne!(c.compute().unwrap(), d.compute().unwrap());
}

#[test]
fn bad_parameters_are_shape_errors_naming_them() {
    let rng = default_rng(0);
    let errors = [
        rng.exponential(-1.0, [3], 3).check(),
        rng.poisson(-2.0, [3], 3).check(),
        rng.binomial(5, 1.5, [3], 3).check(),
        rng.gamma(0.0, 1.0, [3], 3).check(),
        rng.beta(1.0, f64::NAN, [3], 3).check(),
        rng.lognormal(0.0, -1.0, [3], 3).check(),
        rng.chisquare(0.0, [3], 3).check(),
        rng.choice::<i64>(&[], [3], 3, true, None).check(),
        rng.choice(&[1_i64, 2], [3], 3, false, None).check(),
        rng.choice(&[1_i64, 2], [3], 3, true, Some(&[1.0])).check(),
        rng.choice(&[1_i64, 2], [3], 3, true, Some(&[0.0, -1.0]))
            .check(),
        rng.choice(&[1_i64, 2, 3], [2], 3, false, Some(&[0.0, 1.0, 0.0]))
            .check(),
        rng.permutation_of(&crate::array::full([], 1.0, FULL))
            .check(),
    ];
    for (i, e) in errors.into_iter().enumerate() {
        match e {
            Err(crate::Error::Shape { message, .. }) => assert!(!message.is_empty(), "{i}"),
            other => panic!("case {i}: {other:?}"),
        }
    }
}

#[test]
fn choice_follows_its_weights_and_never_repeats_without_replacement() {
    let rng = default_rng(9);
    let x = rng
        .choice(
            &[0_i64, 1, 2, 3],
            [100_000],
            30_000,
            true,
            Some(&[1.0, 0.0, 3.0, 6.0]),
        )
        .compute()
        .unwrap();
    let mut counts = [0_usize; 4];
    x.iter().for_each(|&v| counts[v as usize] += 1);
    assert_eq!(counts[1], 0, "a zero weight was drawn");
    for (k, want) in [(0, 0.1), (2, 0.3), (3, 0.6)] {
        let share = counts[k] as f64 / 100_000.0;
        assert!((share - want).abs() < 0.01, "{k}: {share}");
    }
    let population: Vec<i64> = (0..1_000).collect();
    for weights in [None, Some(vec![1.0; 1_000])] {
        let y = rng
            .choice(&population, [20, 25], [7, 10], false, weights.as_deref())
            .compute()
            .unwrap();
        let mut seen: Vec<i64> = y.iter().copied().collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 500);
    }
    // Weighted without replacement: the heavy half is picked far more often.
    let weights: Vec<f64> = (0..1_000)
        .map(|i| if i < 500 { 1.0 } else { 9.0 })
        .collect();
    let z = rng
        .choice(&population, [100], 100, false, Some(&weights))
        .compute()
        .unwrap();
    assert!(z.iter().filter(|&&v| v >= 500).count() > 75);
}

#[test]
fn permutations_hold_every_element_once() {
    let rng = default_rng(1);
    let p = rng.permutation(1_000, 300).compute().unwrap();
    let mut seen: Vec<i64> = p.iter().copied().collect();
    assert_ne!(seen, (0..1_000).collect::<Vec<_>>());
    seen.sort_unstable();
    assert_eq!(seen, (0..1_000).collect::<Vec<_>>());
    let x = crate::array::arange(60).reshape([20, 3]).rechunk([6, 3]);
    let y = rng.permutation_of(&x).compute().unwrap();
    let mut rows: Vec<Vec<f64>> = y
        .outer_iter()
        .map(|r| r.iter().copied().collect::<Vec<f64>>())
        .collect();
    assert!(
        rows.iter()
            .all(|r| r[1] == r[0] + 1.0 && r[2] == r[0] + 2.0)
    );
    rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
    assert_eq!(
        rows,
        x.compute()
            .unwrap()
            .outer_iter()
            .map(|r| r.iter().copied().collect::<Vec<f64>>())
            .collect::<Vec<_>>()
    );
    assert_eq!(rng.permutation(0, 5).compute().unwrap().len(), 0);
}

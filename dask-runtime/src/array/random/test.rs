use super::*;
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

//! The cost of one normal draw (criterion): `dask::array::random::standard_normal_of`
//! against rand_distr's `StandardNormal` on the same per-element streams (the values
//! are identical; the fast path is inlined). `cargo bench --bench normals`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dask::array::random::standard_normal_of;
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;

const N: u64 = 1 << 16;
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An element's stream, as dask::array::random keys it, written out by hand.
struct Stream(u64, u64);
impl rand_core::TryRng for Stream {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let v = mix(self.0.wrapping_add(self.1));
        self.1 = self.1.wrapping_add(0xd1b5_4a32_d192_ed03);
        Ok(v)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
        unreachable!("not used by the normal distribution")
    }
}

fn normals(c: &mut Criterion) {
    let key = |i: u64| 12_345_u64.wrapping_add(i.wrapping_mul(GOLDEN));
    let mut group = c.benchmark_group("normal_draws");
    group.throughput(Throughput::Elements(N));
    group.bench_function("standard_normal_of", |b| {
        b.iter(|| {
            (0..N)
                .map(|i| standard_normal_of(key(black_box(i))))
                .sum::<f64>()
        })
    });
    group.bench_function("rand_distr_StandardNormal", |b| {
        b.iter(|| {
            (0..N)
                .map(|i| -> f64 { StandardNormal.sample(&mut Stream(key(black_box(i)), 0)) })
                .sum::<f64>()
        })
    });
    group.finish();
}

criterion_group!(benches, normals);
criterion_main!(benches);

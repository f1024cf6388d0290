//! Random arrays, NumPy-Generator style, that do not depend on the chunking.
//!
//! Every element draws from its own counter-based stream, keyed by the seed, the call
//! (each method call on a [`Generator`] is a new stream, as NumPy's generator advances)
//! and the element's global index. A block computes its elements wherever it runs, so
//! the same seed gives the same array whatever the chunks and the number of workers
//! (Dask's arrays change with the chunks). Normals use rand_distr's ziggurat, with its
//! fast path inlined ([`standard_normal_of`]).
//!
//! ```
//! # use dask_runtime as dask;
//! use dask::array::random::default_rng;
//!
//! let a = default_rng(7).normal(0.0, 1.0, [100, 80], [30, 40]).compute().unwrap();
//! let b = default_rng(7).normal(0.0, 1.0, [100, 80], [100, 7]).compute().unwrap();
//! assert_eq!(a, b);
//! ```

mod ziggurat;

#[cfg(test)]
use ziggurat::inside_layer;
pub use ziggurat::standard_normal_of;

use super::create::generated;
use super::layer::Tokenizer;
use super::{Array, ChunkSpec, ShapeError};
use ndarray::{ArrayD, IxDyn};
use std::convert::Infallible;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

/// A seeded source of random arrays, like NumPy's `np.random.default_rng(seed)`.
#[derive(Debug)]
pub struct Generator {
    seed: u64,
    calls: AtomicU64,
}

/// A generator seeded with `seed`.
pub fn default_rng(seed: u64) -> Generator {
    Generator {
        seed,
        calls: AtomicU64::new(0),
    }
}

/// A generator with a fresh seed from the operating system.
pub fn fresh_rng() -> Generator {
    default_rng(RandomState::new().hash_one(0x5eed_u64))
}

/// Normal samples with a fresh seed.
pub fn normal(
    loc: f64,
    scale: f64,
    shape: impl AsRef<[usize]>,
    chunks: impl Into<ChunkSpec>,
) -> Array<f64> {
    fresh_rng().normal(loc, scale, shape, chunks)
}

/// Standard normal samples with a fresh seed.
pub fn standard_normal(shape: impl AsRef<[usize]>, chunks: impl Into<ChunkSpec>) -> Array<f64> {
    fresh_rng().standard_normal(shape, chunks)
}

/// Uniform samples in `[low, high)` with a fresh seed.
pub fn uniform(
    low: f64,
    high: f64,
    shape: impl AsRef<[usize]>,
    chunks: impl Into<ChunkSpec>,
) -> Array<f64> {
    fresh_rng().uniform(low, high, shape, chunks)
}

/// Uniform samples in `[0, 1)` with a fresh seed.
pub fn random(shape: impl AsRef<[usize]>, chunks: impl Into<ChunkSpec>) -> Array<f64> {
    fresh_rng().random(shape, chunks)
}

/// Integers in `[low, high)` with a fresh seed.
pub fn integers(
    low: i64,
    high: i64,
    shape: impl AsRef<[usize]>,
    chunks: impl Into<ChunkSpec>,
) -> Array<i64> {
    fresh_rng().integers(low, high, shape, chunks)
}

#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The stream of one element: output `k` is SplitMix64's output at the position
/// `element key + k * STEP` (for `k = 0`, exactly SplitMix64 at the element's index).
/// One hash a draw; a normal needs one draw 98.8% of the time (the ziggurat's fast path).
struct ElementStream {
    key: u64,
    counter: u64,
}

const STEP: u64 = 0xd1b5_4a32_d192_ed03;

impl rand_core::TryRng for ElementStream {
    type Error = Infallible;
    #[inline(always)]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    #[inline(always)]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let v = mix(self.key.wrapping_add(self.counter));
        self.counter = self.counter.wrapping_add(STEP);
        Ok(v)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[inline(always)]
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1_u64 << 53) as f64)
}

impl Generator {
    fn stream(&self) -> u64 {
        mix(self.seed
            ^ mix(self
                .calls
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(GOLDEN)))
    }

    /// An array whose element at global index `i` is `draw(key of i's stream)`.
    fn draw<T: super::Element>(
        &self,
        name: &'static str,
        params: [u64; 2],
        shape: &[usize],
        chunks: ChunkSpec,
        draw: impl Fn(u64) -> T + Send + Sync + 'static,
    ) -> Array<T> {
        let stream = self.stream();
        let full: Vec<usize> = shape.to_vec();
        let token = Tokenizer::new(name).add((stream, params));
        generated(name, token, shape, chunks, move |region| {
            let lengths: Vec<usize> = region.iter().map(|(_, l)| *l).collect();
            let n: usize = lengths.iter().product();
            let mut values = super::buffers::take(n);
            let Some((&last, outer)) = lengths.split_last() else {
                // A 0-d array: one element, index 0.
                values.push(draw(mix(stream)));
                return ArrayD::from_shape_vec(IxDyn(&[]), values).unwrap_or_default();
            };
            let last_offset = region[region.len() - 1].0;
            for outer_index in ndarray::indices(IxDyn(outer)) {
                // The global flat index of this row's first element.
                let mut base = 0_u64;
                for (ax, &dim) in full.iter().enumerate().take(outer.len()) {
                    base = base * dim as u64 + (region[ax].0 + outer_index[ax]) as u64;
                }
                base = base * *full.last().unwrap_or(&1) as u64 + last_offset as u64;
                values.extend(
                    (base..base + last as u64)
                        .map(|i| draw(stream.wrapping_add(i.wrapping_mul(GOLDEN)))),
                );
            }
            ArrayD::from_shape_vec(IxDyn(&lengths), values).unwrap_or_default()
        })
    }

    /// Normal samples with mean `loc` and standard deviation `scale`.
    pub fn normal(
        &self,
        loc: f64,
        scale: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<f64> {
        self.normal_in(loc, scale, shape.as_ref(), chunks.into())
    }

    fn normal_in(&self, loc: f64, scale: f64, shape: &[usize], chunks: ChunkSpec) -> Array<f64> {
        if !(scale >= 0.0 && scale.is_finite() && loc.is_finite()) {
            return Array::from_error(ShapeError::new(
                "normal",
                format!("loc {loc} and scale {scale}: both must be finite, scale >= 0"),
            ));
        }
        self.draw(
            "normal",
            [loc.to_bits(), scale.to_bits()],
            shape,
            chunks,
            move |key| loc + scale * standard_normal_of(key),
        )
    }

    /// Standard normal samples.
    pub fn standard_normal(
        &self,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<f64> {
        self.normal(0.0, 1.0, shape, chunks)
    }

    /// Uniform samples in `[low, high)`.
    pub fn uniform(
        &self,
        low: f64,
        high: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<f64> {
        self.uniform_in(low, high, shape.as_ref(), chunks.into())
    }

    fn uniform_in(&self, low: f64, high: f64, shape: &[usize], chunks: ChunkSpec) -> Array<f64> {
        if !(low.is_finite() && high.is_finite() && low <= high) {
            return Array::from_error(ShapeError::new(
                "uniform",
                format!("low {low} and high {high}: both must be finite, low <= high"),
            ));
        }
        self.draw(
            "uniform",
            [low.to_bits(), high.to_bits()],
            shape,
            chunks,
            move |key| low + (high - low) * unit(mix(key)),
        )
    }

    /// Uniform samples in `[0, 1)`.
    pub fn random(&self, shape: impl AsRef<[usize]>, chunks: impl Into<ChunkSpec>) -> Array<f64> {
        self.uniform(0.0, 1.0, shape, chunks)
    }

    /// Integers in `[low, high)`, each equally likely (to within 2^-64).
    pub fn integers(
        &self,
        low: i64,
        high: i64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<i64> {
        self.integers_in(low, high, shape.as_ref(), chunks.into())
    }

    fn integers_in(&self, low: i64, high: i64, shape: &[usize], chunks: ChunkSpec) -> Array<i64> {
        if low >= high {
            return Array::from_error(ShapeError::new(
                "integers",
                format!("low {low} must be below high {high}"),
            ));
        }
        let range = high.abs_diff(low);
        self.draw(
            "integers",
            [low as u64, high as u64],
            shape,
            chunks,
            move |key| {
                let x = mix(key);
                low.wrapping_add(((u128::from(x) * u128::from(range)) >> 64) as i64)
            },
        )
    }
}

#[cfg(test)]
mod test;

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
use rand_distr::{Beta, Binomial, ChiSquared, Distribution, Exp, Gamma, LogNormal, Poisson};
use std::convert::Infallible;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
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
        let token = Tokenizer::new(name).add((stream, params));
        by_index(name, token, shape, chunks, move |i| {
            draw(stream.wrapping_add(i.wrapping_mul(GOLDEN)))
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

/// An array whose element at row-major position `i` is `value(i)`.
fn by_index<T: super::Element>(
    name: &'static str,
    token: Tokenizer,
    shape: &[usize],
    chunks: ChunkSpec,
    value: impl Fn(u64) -> T + Send + Sync + 'static,
) -> Array<T> {
    let full: Vec<usize> = shape.to_vec();
    generated(name, token, shape, chunks, move |region| {
        let lengths: Vec<usize> = region.iter().map(|(_, l)| *l).collect();
        let n: usize = lengths.iter().product();
        let mut values = super::buffers::take(n);
        let Some((&last, outer)) = lengths.split_last() else {
            // A 0-d array: one element, index 0.
            values.push(value(0));
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
            values.extend((base..base + last as u64).map(&value));
        }
        ArrayD::from_shape_vec(IxDyn(&lengths), values).unwrap_or_default()
    })
}

/// The parameters of a distribution, checked: rand_distr's error, as a shape error.
fn checked<D, E: std::fmt::Display>(
    operation: &'static str,
    params: String,
    made: Result<D, E>,
) -> Result<D, ShapeError> {
    made.map_err(|e| ShapeError::new(operation, format!("{params}: {e}")))
}

/// Draws from rand_distr's distributions, each element from its own stream as
/// [`Generator::normal`] does, so the results do not depend on the chunks either.
impl Generator {
    /// An array of draws of `dist`, converted by `into`.
    fn sample<S, T, D>(
        &self,
        name: &'static str,
        params: [u64; 2],
        shape: &[usize],
        chunks: ChunkSpec,
        dist: Result<D, ShapeError>,
        into: fn(S) -> T,
    ) -> Array<T>
    where
        S: 'static,
        T: super::Element,
        D: Distribution<S> + Send + Sync + 'static,
    {
        match dist {
            Ok(dist) => self.draw(name, params, shape, chunks, move |key| {
                into(dist.sample(&mut ElementStream { key, counter: 0 }))
            }),
            Err(e) => Array::from_error(e),
        }
    }

    /// Exponential samples with mean `scale` (NumPy's `exponential(scale)`; the rate is
    /// `1 / scale`).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::random::default_rng(1).exponential(2.0, [100_000], 25_000);
    /// assert!((x.mean().compute().unwrap() - 2.0).abs() < 0.05);
    /// ```
    pub fn exponential(
        &self,
        scale: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<f64> {
        let dist = checked(
            "exponential",
            format!("scale {scale}"),
            if scale > 0.0 && scale.is_finite() {
                Exp::new(1.0 / scale).map_err(|e| e.to_string())
            } else {
                Err("must be positive and finite".to_string())
            },
        );
        let (shape, chunks) = (shape.as_ref(), chunks.into());
        self.sample(
            "exponential",
            [scale.to_bits(), 0],
            shape,
            chunks,
            dist,
            f64::from,
        )
    }

    /// Poisson counts with mean `lam`.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::random::default_rng(1).poisson(3.0, [100_000], 25_000);
    /// assert!((x.mean().compute().unwrap() - 3.0).abs() < 0.05);
    /// ```
    pub fn poisson(
        &self,
        lam: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<i64> {
        let dist = checked("poisson", format!("lam {lam}"), Poisson::new(lam));
        let (shape, chunks) = (shape.as_ref(), chunks.into());
        // Counts are whole numbers below 2^63: rand_distr caps `lam` below that.
        let count = |v: f64| v as i64;
        self.sample("poisson", [lam.to_bits(), 0], shape, chunks, dist, count)
    }

    /// Successes in `n` trials of probability `p` each.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let x = dask::array::random::default_rng(1).binomial(10, 0.5, [100_000], 25_000);
    /// assert!((x.mean().compute().unwrap() - 5.0).abs() < 0.05);
    /// ```
    pub fn binomial(
        &self,
        n: u64,
        p: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<i64> {
        let dist = checked(
            "binomial",
            format!("n {n}, p {p}"),
            if i64::try_from(n).is_ok() {
                Binomial::new(n, p).map_err(|e| e.to_string())
            } else {
                Err("n must fit in an i64".to_string())
            },
        );
        let (shape, chunks) = (shape.as_ref(), chunks.into());
        let count = |v: u64| v as i64;
        self.sample("binomial", [n, p.to_bits()], shape, chunks, dist, count)
    }

    /// Gamma samples of shape `k` and scale `scale` (NumPy's `gamma(shape, scale)`).
    pub fn gamma(
        &self,
        k: f64,
        scale: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<f64> {
        let dist = checked(
            "gamma",
            format!("shape {k}, scale {scale}"),
            Gamma::new(k, scale),
        );
        let (shape, chunks) = (shape.as_ref(), chunks.into());
        self.sample(
            "gamma",
            [k.to_bits(), scale.to_bits()],
            shape,
            chunks,
            dist,
            f64::from,
        )
    }

    /// Beta samples with parameters `a` and `b`.
    pub fn beta(
        &self,
        a: f64,
        b: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<f64> {
        let dist = checked("beta", format!("a {a}, b {b}"), Beta::new(a, b));
        let (shape, chunks) = (shape.as_ref(), chunks.into());
        self.sample(
            "beta",
            [a.to_bits(), b.to_bits()],
            shape,
            chunks,
            dist,
            f64::from,
        )
    }

    /// Log-normal samples: `exp` of normals of mean `mean` and standard deviation
    /// `sigma` (NumPy's parameters).
    pub fn lognormal(
        &self,
        mean: f64,
        sigma: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<f64> {
        let dist = checked(
            "lognormal",
            format!("mean {mean}, sigma {sigma}"),
            if sigma >= 0.0 {
                LogNormal::new(mean, sigma).map_err(|e| e.to_string())
            } else {
                Err("sigma must be non-negative".to_string())
            },
        );
        let (shape, chunks) = (shape.as_ref(), chunks.into());
        let params = [mean.to_bits(), sigma.to_bits()];
        self.sample("lognormal", params, shape, chunks, dist, f64::from)
    }

    /// Chi-square samples with `df` degrees of freedom.
    pub fn chisquare(
        &self,
        df: f64,
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
    ) -> Array<f64> {
        let dist = checked("chisquare", format!("df {df}"), ChiSquared::new(df));
        let (shape, chunks) = (shape.as_ref(), chunks.into());
        self.sample(
            "chisquare",
            [df.to_bits(), 0],
            shape,
            chunks,
            dist,
            f64::from,
        )
    }

    /// Samples of `population` (NumPy's `choice`). With `replace`, each element is an
    /// independent draw, by `weights` when given (they need not sum to 1). Without, the
    /// elements are distinct positions of the population: Dask refuses that on several
    /// chunks; here the positions are drawn once, as the array is built, since the
    /// population is in memory anyway.
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let rng = dask::array::random::default_rng(5);
    /// let x = rng.choice(&[10_i64, 20, 30], [6], 4, true, None).compute().unwrap();
    /// assert!(x.iter().all(|v| [10, 20, 30].contains(v)));
    /// let y = rng.choice(&[1_i64, 2, 3, 4], [4], 2, false, None).compute().unwrap();
    /// let mut y = y.iter().copied().collect::<Vec<_>>();
    /// y.sort();
    /// assert_eq!(y, [1, 2, 3, 4]);
    /// ```
    pub fn choice<T: super::Element>(
        &self,
        population: &[T],
        shape: impl AsRef<[usize]>,
        chunks: impl Into<ChunkSpec>,
        replace: bool,
        weights: Option<&[f64]>,
    ) -> Array<T> {
        self.choice_in(population, shape.as_ref(), chunks.into(), replace, weights)
    }

    fn choice_in<T: super::Element>(
        &self,
        population: &[T],
        shape: &[usize],
        chunks: ChunkSpec,
        replace: bool,
        weights: Option<&[f64]>,
    ) -> Array<T> {
        let n = population.len();
        let fail = |message: String| Array::failed("choice", message);
        let Some(size) = shape.iter().try_fold(1_usize, |a, &d| a.checked_mul(d)) else {
            return fail(format!("shape {shape:?} has too many elements"));
        };
        if n == 0 && size > 0 {
            return fail("the population is empty".into());
        }
        if let Some(w) = weights {
            if w.len() != n {
                return fail(format!("{} weights for a population of {n}", w.len()));
            }
            if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                return fail("weights must be finite and non-negative".into());
            }
            if size > 0 && w.iter().filter(|v| **v > 0.0).count() < if replace { 1 } else { size } {
                return fail(format!(
                    "too few positive weights for {size} samples{}",
                    if replace { "" } else { " without replacement" }
                ));
            }
        }
        if !replace && size > n {
            return fail(format!(
                "{size} samples without replacement from a population of {n}"
            ));
        }
        let values: Arc<[T]> = population.into();
        let stream = self.stream();
        let mut token = Tokenizer::new("choice").add((stream, replace));
        for v in population {
            token = token.add(v.bits());
        }
        for w in weights.unwrap_or(&[]) {
            token = token.add(w.to_bits());
        }
        if replace {
            let running: Option<Vec<f64>> = weights.map(|w| {
                w.iter()
                    .scan(0.0, |total, v| {
                        *total += v;
                        Some(*total)
                    })
                    .collect()
            });
            return by_index("choice", token, shape, chunks, move |i| {
                let x = mix(stream.wrapping_add(i.wrapping_mul(GOLDEN)));
                let at = match &running {
                    // Inverse CDF: the first position whose running total passes u;
                    // a zero weight's position is never the first to pass.
                    Some(c) => {
                        let u = unit(x) * c[n - 1];
                        c.partition_point(|&t| t <= u).min(n - 1)
                    }
                    None => ((u128::from(x) * n as u128) >> 64) as usize,
                };
                values[at]
            });
        }
        let picked = distinct(stream, n, size, weights);
        by_index("choice", token, shape, chunks, move |i| {
            values[picked[i as usize]]
        })
    }

    /// The integers `0..n` in random order, in blocks of `chunks` (NumPy's
    /// `permutation(n)`).
    ///
    /// ```
    /// # use dask_runtime as dask;
    /// let p = dask::array::random::default_rng(2).permutation(10, 3).compute().unwrap();
    /// let mut seen = p.iter().copied().collect::<Vec<i64>>();
    /// seen.sort();
    /// assert_eq!(seen, (0..10).collect::<Vec<_>>());
    /// ```
    pub fn permutation(&self, n: usize, chunks: impl Into<ChunkSpec>) -> Array<i64> {
        let stream = self.stream();
        let order = distinct(stream, n, n, None);
        let token = Tokenizer::new("permutation").add((stream, n));
        by_index("permutation", token, &[n], chunks.into(), move |i| {
            order[i as usize] as i64
        })
    }

    /// `x` with its first axis in random order (NumPy's `permutation(x)`; Dask's
    /// `x[permutation(len(x))]`, chunks as [`Array::take`] makes them).
    pub fn permutation_of<T: super::Element>(&self, x: &Array<T>) -> Array<T> {
        let n = match x.layer() {
            Ok(layer) if !layer.shape.is_empty() => layer.shape[0],
            Ok(_) => return Array::failed("permutation", "a 0-d array has no axis".into()),
            Err(e) => return Array::from_error(e),
        };
        x.take(&distinct(self.stream(), n, n, None), 0)
    }
}

/// `size` distinct positions of `0..n`, in random order: a partial Fisher-Yates
/// shuffle, or with weights the `size` largest of Efraimidis and Spirakis's keys
/// `u^(1/w)` (sampling without replacement, each draw by weight).
fn distinct(stream: u64, n: usize, size: usize, weights: Option<&[f64]>) -> Vec<usize> {
    let mut rng = ElementStream {
        key: stream,
        counter: 0,
    };
    let mut next = || rand_core::TryRng::try_next_u64(&mut rng).unwrap_or_else(|e| match e {});
    match weights {
        None => {
            let mut order: Vec<usize> = (0..n).collect();
            for i in 0..size.min(n) {
                let rest = (n - i) as u128;
                let j = i + ((u128::from(next()) * rest) >> 64) as usize;
                order.swap(i, j);
            }
            order.truncate(size);
            order
        }
        Some(w) => {
            let mut keyed: Vec<(f64, usize)> = w
                .iter()
                .enumerate()
                .map(|(i, &wi)| {
                    // log(u) / w orders as u^(1/w) does, without underflow.
                    let u = unit(next()).max(f64::MIN_POSITIVE);
                    let key = if wi > 0.0 {
                        u.ln() / wi
                    } else {
                        f64::NEG_INFINITY
                    };
                    (key, i)
                })
                .collect();
            keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
            keyed.into_iter().take(size).map(|(_, i)| i).collect()
        }
    }
}

#[cfg(test)]
mod test;

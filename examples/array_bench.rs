//! `dask::array` on the mission's array: one JSON line per case.
//!
//! ```text
//! cargo run --release --example array_bench
//! ```
//!
//! Cases (medians of 3 runs, each in a fresh process so peak memory is its own):
//! `normal(0, 1, [10000, 10000], chunks [1000, 1000])` then `.mean()`, `.sum_axis(0)`,
//! `(x + x.t()).mean()`, `.std()`, `dask::compute((x.mean(), x.std()))`, a
//! standardisation and covariance `z.t().dot(&z)` of a 20,000x500 array, and a
//! 4000x4000 matmul; on the same array, NumPy's breadth: `cumsum(0)`, `nanmean` with
//! 10% NaN, and a 3x3 smoothing stencil through `map_overlap` (each then reduced to one
//! number, so that no 800 MB result is gathered); with `--features linalg`, `tsqr` of a
//! 1,000,000 x 100 matrix; with `--features zarr`, a 4 GB array written to Zarr and read
//! back into a sum. Baselines measured in the same
//! run: a hand-written rayon loop that generates and sums the same blocks (the element
//! keys written out here, each value drawn with the library's per-element sampler
//! `standard_normal_of`, and checked to give the same mean) and ndarray's
//! single-threaded `dot`. `exact_mean` sums the same values exactly (fixed point), and
//! the run checks the library's mean against it to 1e-12 relative. Block products run on the gemm crate's kernels; with
//! `--features blas`, on the system's OpenBLAS (`apt-get install libopenblas-dev`).

use dask::array::random::{default_rng, standard_normal_of};
use dask::array::{Array, Boundary};
use rayon::prelude::*;
use std::time::Instant;

const N: usize = 10_000;
const CHUNK: usize = 1_000;
const SEED: u64 = 42;

#[path = "support/peak_memory.rs"]
mod peak_memory;
use peak_memory::peak_mb;
#[path = "support/stencil.rs"]
mod stencil;
use stencil::smooth;

fn mission() -> Array<f64> {
    default_rng(SEED).normal(0.0, 1.0, [N, N], [CHUNK, CHUNK])
}

// The hand-written baselines: the same per-element stream keys as dask::array::random,
// written out here, and the same per-element sampler.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
/// The stream of the generator's first call.
const STREAM: u64 = mix(SEED ^ mix(GOLDEN));

/// The mission's value at row `i`, column `j`.
fn mission_value(i: usize, j: usize) -> f64 {
    standard_normal_of(STREAM.wrapping_add(((i * N + j) as u64).wrapping_mul(GOLDEN)))
}

/// Sums the mission's array block by block on rayon, as one would by hand.
fn rayon_mean() -> f64 {
    let blocks = N / CHUNK;
    let total: f64 = (0..blocks * blocks)
        .into_par_iter()
        .map(|b| {
            let (bi, bj) = (b / blocks, b % blocks);
            let mut sum = 0.0;
            for i in bi * CHUNK..(bi + 1) * CHUNK {
                for j in bj * CHUNK..(bj + 1) * CHUNK {
                    sum += mission_value(i, j);
                }
            }
            sum
        })
        .sum();
    total / (N * N) as f64
}

/// The mission's mean summed exactly: each value is a fixed-point integer in units of
/// 2^-90 (|x| < 8, so 10^8 of them fit an i128), dropping under 1e-27 a value.
fn exact_mean() -> f64 {
    const SCALE: f64 = (1_u128 << 90) as f64;
    let total: i128 = (0..N)
        .into_par_iter()
        .map(|i| {
            (0..N)
                .map(|j| (mission_value(i, j) * SCALE) as i128)
                .sum::<i128>()
        })
        .sum();
    total as f64 / SCALE / (N * N) as f64
}

fn run(case: &str) -> (f64, f64) {
    let start = Instant::now();
    let value = match case {
        "mean" => mission().mean().compute().expect("mean"),
        "rayon_mean" => rayon_mean(),
        "exact_mean" => exact_mean(),
        "sum_axis0" => mission().sum_axis(0).compute().expect("sum_axis").sum(),
        "x_plus_xt_mean" => {
            let x = mission();
            (&x + &x.t()).mean().compute().expect("mean")
        }
        "x_plus_xt_sum_axis0" => {
            // An axis reduction folds strips in order: no tile groups, the transposed
            // block read through strips.
            let x = mission();
            (&x + &x.t()).sum_axis(0).compute().expect("sum_axis").sum()
        }
        "x_plus_x_mean" => {
            // Beside `x_plus_xt_mean`: the same shared blocks, none read transposed.
            let x = mission();
            (&x + &x).mean().compute().expect("mean")
        }
        "std" => mission().std().compute().expect("std"),
        "cumsum" => mission().cumsum(0).mean().compute().expect("cumsum"),
        "nanmean" => {
            // P(z > 1.2816) = 10%: a tenth of the elements become NaN.
            let x = mission();
            let holes = dask::array::where_(&x.gt(1.2816), f64::NAN, &x);
            holes.nanmean().compute().expect("nanmean")
        }
        "overlap_identity" => {
            let same = mission().map_overlap(1, Boundary::Reflect, |b, _| b.to_owned());
            same.mean().compute().expect("overlap")
        }
        #[cfg(feature = "linalg")]
        "tsqr" => {
            // QR of a 1,000,000 x 100 matrix in 20 row blocks: Q streamed into a sum.
            let x = default_rng(5).normal(0.0, 1.0, [1_000_000, 100], [50_000, 100]);
            let (q, r) = dask::array::linalg::tsqr(&x);
            let (qs, rs) = dask::compute((q.sum(), r.sum())).expect("tsqr");
            qs + rs
        }
        #[cfg(feature = "linalg")]
        "solve" | "solve_one_tile" => {
            // A 4,000 x 4,000 system with 8 right-hand sides: blocked LU in 1,000-tiles,
            // or the same work in one tile (one task: faer's LU on one core).
            let tile = if case == "solve" { 1_000 } else { 4_000 };
            let rng = default_rng(7);
            let a = rng.normal(0.0, 1.0, [4_000, 4_000], tile);
            let b = rng.normal(0.0, 1.0, [4_000, 8], [tile, 8]);
            let x = dask::array::linalg::solve(&a, &b);
            // The residual's size says the answer is right, not just made; one compute,
            // so the LU is made once for both.
            let (r, sum) = dask::compute(((&a.dot(&x) - &b).abs().max(), x.sum())).expect("solve");
            assert!(r < 1e-6, "residual {r}");
            sum
        }
        #[cfg(feature = "zarr")]
        "zarr_round_trip" => {
            // 4 GB through Zarr and back: written block by block, read back into a sum.
            let dir =
                std::env::temp_dir().join(format!("dask-rs-bench-{}.zarr", std::process::id()));
            let x = default_rng(6).normal(0.0, 1.0, [50_000, 10_000], [1_000, 2_500]);
            x.to_zarr_overwrite(&dir).expect("to_zarr");
            let back: Array<f64> = dask::array::from_zarr(&dir).expect("from_zarr");
            let total = back.sum().compute().expect("sum");
            std::fs::remove_dir_all(&dir).expect("clean up");
            total
        }
        "stencil" => {
            let smoothed = mission().map_overlap(1, Boundary::Reflect, |b, _| smooth(b));
            smoothed.mean().compute().expect("stencil")
        }
        "mean_and_std" => {
            // One compute: the blocks the two reductions share are made once.
            let x = mission();
            let (m, s) = dask::compute((x.mean(), x.std())).expect("mean and std");
            m + s
        }
        "standardise_cov" => {
            // Standardise the columns, then the 500x500 covariance: z is made once.
            let x = default_rng(3).normal(0.0, 1.0, [20_000, 500], [2_000, 500]);
            let z = (&x - &x.mean_axis(0)) / &x.std_axis(0, 0.0);
            z.t().dot(&z).compute().expect("cov").sum()
        }
        "matmul" => {
            let rng = default_rng(1);
            let a = rng.standard_normal([4_000, 4_000], [1_000, 1_000]);
            let b = rng.standard_normal([4_000, 4_000], [1_000, 1_000]);
            a.dot(&b).sum().compute().expect("matmul")
        }
        "ndarray_matmul" => {
            let rng = default_rng(1);
            let a = rng
                .standard_normal([4_000, 4_000], 4_000)
                .compute()
                .expect("a");
            let b = rng
                .standard_normal([4_000, 4_000], 4_000)
                .compute()
                .expect("b");
            let (a, b) = (
                a.into_dimensionality::<ndarray::Ix2>().expect("2-d"),
                b.into_dimensionality::<ndarray::Ix2>().expect("2-d"),
            );
            let start = Instant::now();
            let sum = a.dot(&b).sum();
            return (start.elapsed().as_secs_f64(), sum);
        }
        "matmul_only" => {
            // The product alone, inputs already in memory (as NumPy's figure is).
            let rng = default_rng(1);
            let a = rng
                .standard_normal([4_000, 4_000], [1_000, 1_000])
                .persist()
                .expect("a");
            let b = rng
                .standard_normal([4_000, 4_000], [1_000, 1_000])
                .persist()
                .expect("b");
            let start = Instant::now();
            let sum = a.dot(&b).sum().compute().expect("matmul");
            return (start.elapsed().as_secs_f64(), sum);
        }
        other => panic!("unknown case {other}"),
    };
    (start.elapsed().as_secs_f64(), value)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, case] = args.as_slice()
        && flag == "--case"
    {
        let (seconds, value) = run(case);
        println!("{seconds} {value} {}", peak_mb());
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let cases = [
        #[cfg(feature = "linalg")]
        "tsqr",
        #[cfg(feature = "linalg")]
        "solve",
        #[cfg(feature = "linalg")]
        "solve_one_tile",
        #[cfg(feature = "zarr")]
        "zarr_round_trip",
        "mean",
        "rayon_mean",
        "exact_mean",
        "sum_axis0",
        "x_plus_xt_mean",
        "x_plus_xt_sum_axis0",
        "x_plus_x_mean",
        "std",
        "cumsum",
        "nanmean",
        "stencil",
        "mean_and_std",
        "standardise_cov",
        "matmul",
        "matmul_only",
        "ndarray_matmul",
    ];
    let mut means = Vec::new();
    for case in cases {
        let mut runs: Vec<(f64, f64, f64)> = (0..3)
            .map(|_| {
                let out = std::process::Command::new(&exe)
                    .args(["--case", case])
                    // With the `blas` feature: one BLAS thread a task, the workers
                    // supply the parallelism.
                    .env("OPENBLAS_NUM_THREADS", "1")
                    .output()
                    .expect("child");
                let text = String::from_utf8_lossy(&out.stdout);
                let v: Vec<f64> = text
                    .split_whitespace()
                    .filter_map(|t| t.parse().ok())
                    .collect();
                assert_eq!(
                    v.len(),
                    3,
                    "{case}: {text} {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                (v[0], v[1], v[2])
            })
            .collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (seconds, value, peak) = runs[1];
        if case.ends_with("mean") && !case.starts_with("x_plus") {
            means.push(value);
        }
        println!(
            "{{\"case\":\"{case}\",\"seconds\":{seconds:.4},\"value\":{value:.12e},\"peak_mb\":{peak:.1},\"runs\":3}}"
        );
    }
    // The library and the hand-written loop draw the same numbers, and the library's
    // compensated tree sum is right against the exact one.
    if let [lib, hand, exact] = means.as_slice() {
        assert!(
            (lib - hand).abs() < 1e-12,
            "dask::array mean {lib} vs hand-written {hand}"
        );
        let relative = ((lib - exact) / exact).abs();
        let naive = ((hand - exact) / exact).abs();
        println!(
            "{{\"check\":\"mean_vs_exact\",\"relative_error\":{relative:.3e},\"hand_written_relative_error\":{naive:.3e}}}"
        );
        assert!(relative < 1e-12, "mean {lib} vs exact {exact}");
    }
}

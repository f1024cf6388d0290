//! Arrays as a shared block graph: every block once per compute, reductions as
//! operands, names from the expression, no depth limit.

use dask::array::{self, Array, random::default_rng, where_};
use ndarray::{Array2, ArrayD, Axis};
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A deterministic matrix with distinct, non-integer values.
fn data(rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        let k = (i * 31 + j) as f64;
        (k * 0.37).sin() * 10.0 + k * 0.01
    })
}

/// `a` as an array whose every block run is counted in `runs`.
fn counted(a: &Array2<f64>, chunks: [usize; 2], runs: &Arc<AtomicUsize>) -> Array<f64> {
    let runs = Arc::clone(runs);
    array::from_ndarray(a.clone(), chunks).map_blocks(move |block, _| {
        runs.fetch_add(1, Ordering::SeqCst);
        block.to_owned()
    })
}

fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>) {
    assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{g} vs {w}");
    }
}

#[test]
fn a_shared_array_runs_each_block_once_per_compute() {
    let a = data(40, 30);
    let runs = Arc::new(AtomicUsize::new(0));
    let x = counted(&a, [10, 15], &runs); // 8 blocks
    let once = |what: &str, runs: &AtomicUsize| {
        assert_eq!(runs.swap(0, Ordering::SeqCst), 8, "{what}");
    };

    let (sum, max) = dask::compute((x.sum(), x.max())).unwrap();
    once("sum and max", &runs);
    assert!((sum - a.sum()).abs() < 1e-9);
    assert_eq!(max, a.iter().copied().fold(f64::MIN, f64::max));

    let twice = (&x + &x).compute().unwrap();
    once("x + x", &runs);
    assert_close(&twice, &(&a * 2.0).into_dyn());

    let z = ((&x - x.mean()) / x.std()).compute().unwrap();
    once("standardised", &runs);
    let want = (&a - a.mean().unwrap()) / a.std(0.0);
    assert_close(&z, &want.into_dyn());

    let z = (&x - &x.mean_axis(0)) / &x.std_axis(0, 0.0);
    let cov = z.t().dot(&z).compute().unwrap();
    once("z.t() . z", &runs);
    let za = (&a - &a.mean_axis(Axis(0)).unwrap()) / &a.std_axis(Axis(0), 0.0);
    assert_close(&cov, &za.t().dot(&za).into_dyn());
}

#[test]
fn mirrored_blocks_are_made_once_and_reduced_a_tile_at_a_time() {
    // 300 x 300 in blocks of 150: tiles are cut at multiples of 128, so some cross
    // no block edge and some are slivers; `x + x.t()` pairs block (0, 1) with (1, 0).
    let a = data(300, 300);
    let sym = &a + &a.t();
    let runs = Arc::new(AtomicUsize::new(0));
    let x = counted(&a, [150, 150], &runs);
    let s = &x + &x.t();
    // Computed together, the reductions share the blocks of `s` (made once each).
    let (sum, mean, max, arg) = dask::compute((s.sum(), s.mean(), s.max(), s.argmax())).unwrap();
    let made_once = || assert_eq!(runs.swap(0, Ordering::SeqCst), 4, "x made once");
    made_once();
    // One at a time, each reduction fuses the blocks of `s` into its tasks, and
    // blocks (0, 1) and (1, 0) of `x` are made in one task for both sums.
    let sum_alone = s.sum().compute().unwrap();
    made_once();
    assert_eq!(s.argmax().compute().unwrap(), arg);
    made_once();
    assert!((sum_alone - sum).abs() <= 1e-9 * sum.abs());
    // A user's reduction is folded in strips, in order, as Dask promises.
    let reduction = s.reduction(|b| b.sum(), |p: f64, q: f64| p + q, |t| t);
    let custom = reduction.compute().unwrap();
    made_once();
    assert!((sum - sym.sum()).abs() <= 1e-9 * sym.sum().abs());
    assert!((mean - sym.mean().unwrap()).abs() <= 1e-12);
    assert!((custom - sym.sum()).abs() <= 1e-9 * sym.sum().abs());
    let want_max = sym.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(max, want_max);
    // The matrix is symmetric: its max is at (i, j) and (j, i); NumPy's argmax is the
    // first in row-major order, whatever order the tiles were folded in.
    let first = sym.iter().position(|&v| v == want_max).unwrap();
    assert_eq!(arg, first as i64);
    assert_ne!(
        first / 300,
        first % 300,
        "the max is off the diagonal: a tie"
    );

    // Two computes at once, on threads of their own, each making its own groups.
    let sums: Vec<f64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| s.sum().compute_with(dask::Scheduler::Threads(2))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    assert_eq!(runs.swap(0, Ordering::SeqCst), 8, "x made once per compute");
    for got in sums {
        assert!((got - sum).abs() <= 1e-9 * sum.abs());
    }

    // A generated `x` (its second block of a pair made a strip at a time), rows and
    // columns of different chunkings, on one thread and on several.
    let g = default_rng(9).normal(0.0, 1.0, [300, 300], [128, 100]);
    let ga = g.compute().unwrap();
    let want = (&ga + &ga.t()).mean().unwrap();
    for scheduler in [dask::Scheduler::Sync, dask::Scheduler::Threads(3)] {
        let got = (&g + &g.t()).mean().compute_with(scheduler).unwrap();
        assert!((got - want).abs() <= 1e-12, "{got} vs {want}");
    }
    // Each reduction alone, and an axis reduction (strips, in order) beside them.
    let (total, along) = dask::compute(((&g - &g.t()).sum(), (&g + &g.t()).sum_axis(0))).unwrap();
    assert!(total.abs() <= 1e-9);
    assert_close(&along, &(&ga + &ga.t()).sum_axis(Axis(0)));
}

#[test]
fn reductions_are_operands_and_still_compute_to_values() {
    let a = data(12, 9);
    let x = array::from_ndarray(a.clone(), [5, 4]);
    let spread = x.max() - x.min();
    let want =
        a.iter().copied().fold(f64::MIN, f64::max) - a.iter().copied().fold(f64::MAX, f64::min);
    assert!((spread.compute().unwrap() - want).abs() < 1e-12);

    let above = where_(&x.gt(x.mean()), &x, 0.0).compute().unwrap();
    let m = a.mean().unwrap();
    assert_eq!(above, a.mapv(|v| if v > m { v } else { 0.0 }).into_dyn());

    let m: f64 = x.mean().compute().unwrap();
    assert!((m - a.mean().unwrap()).abs() < 1e-12);
    let (m2, s) = dask::compute((x.mean(), x.std())).unwrap();
    assert_eq!(m2, m);
    assert!((s - a.std(0.0)).abs() < 1e-12);

    // A scalar goes to a #[delayed] function's parameter as a Delayed does.
    let doubled = x.mean().to_delayed().map(|v| v * 2.0).compute().unwrap();
    assert_eq!(doubled, 2.0 * m);
}

#[test]
fn every_axis_reduction_has_a_keepdims_form_that_broadcasts() {
    let a = data(6, 8);
    let x = array::from_ndarray(a.clone(), [4, 3]);
    for axis in 0..2 {
        let kept = x.max_axis_keepdims(axis);
        let mut shape = vec![6, 8];
        shape[axis] = 1;
        assert_eq!(kept.shape(), shape.as_slice());
        assert_eq!(
            kept.compute().unwrap(),
            x.max_axis(axis).compute().unwrap().insert_axis(Axis(axis))
        );
        let centred = (&x - &x.mean_axis_keepdims(axis)).compute().unwrap();
        let means = a.mean_axis(Axis(axis)).unwrap().insert_axis(Axis(axis));
        assert_close(&centred, &(&a - &means).into_dyn());
        for (got, want) in [
            (x.std_axis_keepdims(axis, 1.0), a.std_axis(Axis(axis), 1.0)),
            (x.var_axis_keepdims(axis, 0.0), a.var_axis(Axis(axis), 0.0)),
            (x.sum_axis_keepdims(axis), a.sum_axis(Axis(axis))),
        ] {
            assert_close(
                &got.compute().unwrap(),
                &want.insert_axis(Axis(axis)).into_dyn(),
            );
        }
    }
}

#[test]
fn names_follow_the_expression() {
    let rng = |seed| default_rng(seed).normal(0.0, 1.0, [100, 80], [30, 40]);
    let expr = |x: &Array<f64>| ((x * 2.0) - x.mean()).sum_axis(0);
    assert_eq!(expr(&rng(1)).name(), expr(&rng(1)).name());
    assert_ne!(expr(&rng(1)).name(), expr(&rng(2)).name(), "seed");
    assert_ne!((&rng(1) * 2.0).name(), (&rng(1) * 3.0).name(), "scalar");
    assert_ne!((&rng(1) * 2.0).name(), (&rng(1) + 2.0).name(), "operation");
    assert_ne!(rng(1).name(), rng(1).rechunk([50, 40]).name(), "chunks");
    assert!(expr(&rng(1)).name().starts_with("sum-"));
    // Closures are unique to each call unless named.
    let a = rng(1).mapv(|v| v + 1.0);
    let b = rng(1).mapv(|v| v + 1.0);
    assert_ne!(a.name(), b.name());
    assert_eq!(a.named("plus-one").name(), b.named("plus-one").name());
}

#[test]
fn equal_expressions_in_one_compute_run_once() {
    let a = data(20, 20);
    let runs = Arc::new(AtomicUsize::new(0));
    let x = counted(&a, [10, 10], &runs).named("counted");
    let y = counted(&a, [10, 10], &runs).named("counted");
    let (p, q) = dask::compute(((&x + 1.0).sum(), (&y + 1.0).sum())).unwrap();
    assert_eq!(p, q);
    assert_eq!(runs.load(Ordering::SeqCst), 4, "one array's 4 blocks, once");
}

#[test]
fn a_million_step_chain_builds_computes_and_drops_on_a_small_stack() {
    let steps = 1_000_000;
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut x = array::zeros::<f64>([6], 3);
            for _ in 0..steps {
                x = &x + 1.0;
            }
            let got = x.compute().unwrap();
            assert!(got.iter().all(|&v| v == steps as f64), "{got:?}");
            drop(x);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn a_failed_array_says_so_instead_of_inventing_a_shape() {
    let bad = &array::zeros::<f64>([3, 4], 2) + &array::zeros::<f64>([5], 2);
    let err = bad.try_shape().unwrap_err();
    assert!(format!("{err:#}").contains("[3, 4] and [5]"), "{err}");
    assert!(bad.check().is_err());
    assert!((&bad + 1.0).mean().compute().is_err());
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| bad.len())).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("try_shape"), "{message}");
}

/// One step of a random expression DAG.
#[derive(Clone, Debug)]
enum Step {
    Add(usize, usize),
    Scale(usize, f64),
    Centre(usize),
    CentreAxis(usize, usize),
    Transpose(usize),
    Rechunk(usize, usize),
    Where(usize, usize),
}

fn step() -> impl Strategy<Value = Step> {
    let i = 0_usize..8;
    prop_oneof![
        (i.clone(), i.clone()).prop_map(|(a, b)| Step::Add(a, b)),
        (i.clone(), -2.0..2.0_f64).prop_map(|(a, c)| Step::Scale(a, c)),
        i.clone().prop_map(Step::Centre),
        (i.clone(), 0_usize..2).prop_map(|(a, ax)| Step::CentreAxis(a, ax)),
        i.clone().prop_map(Step::Transpose),
        (i.clone(), 1_usize..5).prop_map(|(a, c)| Step::Rechunk(a, c)),
        (i.clone(), i).prop_map(|(a, b)| Step::Where(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_expression_dags_match_ndarray(
        n in 1_usize..7,
        chunk in (1_usize..5, 1_usize..5),
        steps in proptest::collection::vec(step(), 1..8),
    ) {
        let a = data(n, n);
        let mut lazy = vec![array::from_ndarray(a.clone(), [chunk.0, chunk.1])];
        let mut eager = vec![a.into_dyn()];
        for s in steps {
            let pick = |i: usize| i % lazy.len();
            let (l, e) = match s {
                Step::Add(i, j) => (&lazy[pick(i)] + &lazy[pick(j)], &eager[pick(i)] + &eager[pick(j)]),
                Step::Scale(i, c) => (&lazy[pick(i)] * c, &eager[pick(i)] * c),
                Step::Centre(i) => {
                    let m = eager[pick(i)].mean().unwrap();
                    (&lazy[pick(i)] - lazy[pick(i)].mean(), eager[pick(i)].mapv(|v| v - m))
                }
                Step::CentreAxis(i, ax) => {
                    let m = eager[pick(i)].mean_axis(Axis(ax)).unwrap().insert_axis(Axis(ax));
                    (&lazy[pick(i)] - &lazy[pick(i)].mean_axis_keepdims(ax), &eager[pick(i)] - &m)
                }
                Step::Transpose(i) => (lazy[pick(i)].t(), eager[pick(i)].t().to_owned()),
                Step::Rechunk(i, c) => (lazy[pick(i)].rechunk(c), eager[pick(i)].clone()),
                Step::Where(i, j) => {
                    // The threshold as the lazy side computes it: a mean near an element
                    // (0 and ±1e-17 after centring) would make the comparison a coin toss.
                    let m = lazy[pick(j)].mean().compute().unwrap();
                    let e = ndarray::Zip::from(&eager[pick(i)])
                        .and(&eager[pick(j)])
                        .map_collect(|&x, &y| if x > m { x } else { y });
                    (where_(&lazy[pick(i)].gt(lazy[pick(j)].mean()), &lazy[pick(i)], &lazy[pick(j)]), e)
                }
            };
            lazy.push(l);
            eager.push(e);
        }
        // Every node at once: shared blocks are made once and feed several outputs.
        let got = dask::compute(&lazy).unwrap();
        for (g, e) in got.iter().zip(&eager) {
            prop_assert_eq!(g.shape(), e.shape());
            for (x, y) in g.iter().zip(e) {
                prop_assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{} vs {}", x, y);
            }
        }
        // Each node's sum alone: fused into the sum's tasks (tile groups where a
        // node reads blocks through a transpose).
        for (l, e) in lazy.iter().zip(&eager) {
            let total: f64 = l.sum().compute().unwrap();
            prop_assert!((total - e.sum()).abs() <= 1e-8 * e.sum().abs().max(1.0), "{} vs {}", total, e.sum());
        }
    }
}

#[test]
fn a_failing_block_is_named_by_its_dask_key() {
    let x = array::ones::<f64>([4, 4], 2).map_blocks(|b, idx| {
        if idx == [1, 0] {
            b.slice(ndarray::s![..1, ..]).to_owned().into_dyn()
        } else {
            b.to_owned()
        }
    });
    let err = format!("{:#}", x.compute().unwrap_err());
    let key = format!("('{}', 1, 0)", x.name());
    assert!(err.contains(&key), "{err}");
    // Fused into a reduction's task, the task is the reduction's block; the message
    // still says which step and block.
    let err = format!("{:#}", x.sum().compute().unwrap_err());
    assert!(err.contains("map_blocks: block [1, 0]"), "{err}");
    // Made inside a tile group (with its mirror, block [0, 1]), the same.
    let err = format!("{:#}", (&x + &x.t()).sum().compute().unwrap_err());
    assert!(err.contains("map_blocks: block [1, 0]"), "{err}");
    // A panic there is the group task's error, and the next compute works.
    let panics = array::ones::<f64>([4, 4], 2).map_blocks(|b, idx| {
        assert!(idx != [0, 1], "no block [0, 1] today");
        b.to_owned()
    });
    let err = (&panics + &panics.t()).mean().compute().unwrap_err();
    assert!(
        matches!(&err, dask::Error::TaskPanicked { message, .. } if message.contains("no block [0, 1] today")),
        "{err:#}"
    );
    let fine = array::ones::<f64>([4, 4], 2);
    assert_eq!((&fine + &fine.t()).sum().compute().unwrap(), 32.0);
}

/// A block read by several consumers is shared: its transpose and its strips reach
/// each consumer as windows onto it (no copy). Every kind of consumer reads them right.
#[test]
fn consumers_of_a_shared_block_read_it_transposed_and_in_strips() {
    let a = data(7, 7);
    let x = array::from_ndarray(a.clone(), [4, 4]); // uneven blocks: 4 and 3
    let t = x.t();
    let at = a.t().to_owned();
    let dyn_ = |m: Array2<f64>| m.into_dyn();
    let (whole, sum, scan, flat, sliced, gram, sym_rows, top) = dask::compute((
        &t,
        x.sum(),
        t.cumsum(0),
        t.reshape([49]),
        t.slice(ndarray::s![1..6, ..;-2]),
        t.dot(&x),
        (&x + &t).sum_axis(1),
        (&t * 2.0).max(),
    ))
    .unwrap();
    assert_close(&whole, &dyn_(at.clone()));
    assert!((sum - a.sum()).abs() < 1e-9);
    let mut want_scan = at.clone();
    want_scan.accumulate_axis_inplace(Axis(0), |&p, c| *c += p);
    assert_close(&scan, &dyn_(want_scan));
    assert_close(
        &flat,
        &at.iter()
            .copied()
            .collect::<ndarray::Array1<_>>()
            .into_dyn(),
    );
    assert_close(
        &sliced,
        &at.slice(ndarray::s![1..6, ..;-2]).to_owned().into_dyn(),
    );
    assert_close(&gram, &dyn_(at.dot(&a)));
    assert_close(&sym_rows, &(&a + &at).sum_axis(Axis(1)).into_dyn());
    assert_eq!(top, at.iter().fold(f64::MIN, |m, &v| m.max(2.0 * v)));
}

/// Four array computes at once with one profiler attached: each gets its own answer,
/// and the profiler records every task of every run.
#[test]
fn concurrent_array_computes_with_one_profiler_each_record_every_task() {
    use dask::diagnostics::{Callback, Profiler};
    use dask::{Options, Scheduler};
    let work = |seed: u64| {
        let x = default_rng(seed).normal(0.0, 1.0, [60, 60], [25, 25]);
        dask::compute(((&x + &x.t()).mean(), x.mean(), x.std()))
    };
    let profiled = |seed: u64, hooks: &[Arc<dyn Callback>]| {
        let x = default_rng(seed).normal(0.0, 1.0, [60, 60], [25, 25]);
        let options = Options::from(Scheduler::Threads(2)).callbacks(hooks);
        dask::compute_with(((&x + &x.t()).mean(), x.mean(), x.std()), options).unwrap()
    };
    // One run alone says how many tasks a run has.
    let alone = Profiler::new();
    let hooks: Vec<Arc<dyn Callback>> = vec![Arc::new(alone.clone())];
    profiled(0, &hooks);
    let per_run = alone.tasks();
    assert!(per_run > 9, "{per_run} tasks");

    let profiler = Profiler::new();
    let hooks: Vec<Arc<dyn Callback>> = vec![Arc::new(profiler.clone())];
    let start = Arc::new(std::sync::Barrier::new(4));
    let runs: Vec<_> = (0..4_u64)
        .map(|seed| {
            let (start, hooks) = (Arc::clone(&start), hooks.clone());
            std::thread::spawn(move || {
                start.wait();
                (seed, profiled(seed, &hooks))
            })
        })
        .collect();
    for run in runs {
        let (seed, got) = run.join().unwrap();
        assert_eq!(got, work(seed).unwrap(), "seed {seed}");
    }
    assert_eq!(profiler.tasks(), 4 * per_run);
}

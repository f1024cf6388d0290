//! `#[delayed]` functions used as a user would: through `dask::prelude` only.

mod common;

use common::{add, explode, inc, mean, total};
use dask::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[delayed]
fn shout(s: &str, times: usize) -> String {
    s.to_uppercase().repeat(times)
}

#[delayed]
fn ident<T: Clone + Send + Sync + 'static>(x: T) -> T {
    x
}

#[delayed]
fn first_n<T, const N: usize>(xs: Vec<T>) -> Vec<T>
where
    T: Clone + Send + Sync + 'static,
{
    xs.into_iter().take(N).collect()
}

#[derive(Debug, PartialEq)]
struct BadInput(String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad input: {}", self.0)
    }
}

impl std::error::Error for BadInput {}

#[delayed]
fn parse(s: String) -> Result<i64, BadInput> {
    s.trim().parse().map_err(|_| BadInput(s))
}

#[delayed]
fn read_len(path: String) -> std::io::Result<usize> {
    Ok(std::fs::read(path)?.len())
}

#[delayed]
#[allow(clippy::needless_pass_by_value)]
fn nothing() {}

mod inner {
    use dask::prelude::*;

    /// Visible to the crate only.
    #[delayed]
    pub(crate) fn double(x: i64) -> i64 {
        x * 2
    }
}

#[test]
fn the_missions_first_graph() {
    let z = add(inc(1), inc(2));
    assert_eq!(z.compute().unwrap(), 5);
    assert!(z.key().starts_with("add-"));
    let deps: Vec<&str> = z.dependencies().iter().map(|d| d.name()).collect();
    assert_eq!(deps, ["inc", "inc"]);
    assert_eq!(add::eager(inc::eager(1), inc::eager(2)), 5);
}

#[test]
fn arguments_mix_plain_values_and_delayeds() {
    let x = inc(10);
    let y = add(&x, 100);
    let z = add(x.clone(), y.clone());
    assert_eq!(dask::compute((x, y, z)).unwrap(), (11, 111, 122));
    assert_eq!(inner::double(add(1, 2)).compute().unwrap(), 6);
}

#[test]
fn a_vec_parameter_takes_a_list_of_delayeds() {
    let parts: Vec<Delayed<i64>> = (0..100).map(inc).collect();
    assert_eq!(
        total(parts.clone()).compute().unwrap(),
        (1..=100).sum::<i64>()
    );
    assert_eq!(total(vec![1, 2, 3]).compute().unwrap(), 6);
    assert_eq!(total(dask::delayed_value(vec![4, 5])).compute().unwrap(), 9);
}

#[test]
fn reference_parameters_borrow_without_copying() {
    let data = dask::delayed_value(vec![1.0, 2.0, 6.0]);
    let (m1, m2) = dask::compute((mean(&data), mean(&data))).unwrap();
    assert_eq!((m1, m2), (3.0, 3.0));
    assert_eq!(mean(&[2.0, 4.0][..]).compute().unwrap(), 3.0);
    assert_eq!(shout("ab", 2).compute().unwrap(), "ABAB");
    let word = dask::delayed_value(String::from("hi"));
    assert_eq!(
        shout(word, inc(0).map(|v| v as usize)).compute().unwrap(),
        "HI"
    );
}

#[test]
fn borrowed_inputs_are_never_cloned() {
    #[derive(Debug)]
    struct Counted(Arc<AtomicUsize>);
    impl Clone for Counted {
        fn clone(&self) -> Self {
            self.0.fetch_add(1, Ordering::SeqCst);
            Counted(Arc::clone(&self.0))
        }
    }
    #[delayed]
    fn peek(c: &Counted) -> usize {
        c.0.load(Ordering::SeqCst)
    }
    let clones = Arc::new(AtomicUsize::new(0));
    let source = dask::delayed_value(()).map({
        let clones = Arc::clone(&clones);
        move |()| Counted(Arc::clone(&clones))
    });
    let readers: Vec<Delayed<usize>> = (0..8).map(|_| peek(&source)).collect();
    assert_eq!(dask::compute(readers).unwrap(), vec![0; 8]);
    assert_eq!(clones.load(Ordering::SeqCst), 0);
}

/// A value without `Clone`, as a big buffer or a handle would be.
#[derive(Debug)]
struct Big(Vec<u8>);

#[delayed]
fn size(b: &Big) -> usize {
    b.0.len()
}

#[delayed]
fn make_big(n: usize) -> Big {
    Big(vec![7; n])
}

#[test]
fn a_borrowed_parameter_needs_no_clone() {
    // A plain value, lent to the task from the node (computed twice: still no copy).
    let plain = size(Big(vec![0; 3]));
    assert_eq!(plain.compute().unwrap(), 3);
    assert_eq!(plain.compute().unwrap(), 3);
    // A lazy one read by several tasks.
    let big = make_big(5);
    let sizes: Vec<Delayed<usize>> = (0..4).map(|_| size(&big)).collect();
    assert_eq!(dask::compute(sizes).unwrap(), [5; 4]);
    // In a plan, a binding only ever borrowed is never cloned either.
    let plan = graph!(|n: usize| {
        let b = make_big(n);
        let s = size(&b);
        let t = size(&b);
        add(s as i64, t as i64)
    });
    assert_eq!(plan.compute(6).unwrap(), 12);
}

#[test]
fn generic_functions_take_their_type_by_turbofish_when_given_a_delayed() {
    assert_eq!(ident(5_u8).compute().unwrap(), 5);
    assert_eq!(ident::<&str>("plain").compute().unwrap(), "plain");
    let x = inc(1);
    assert_eq!(ident::<i64>(x).compute().unwrap(), 2);
    let xs = dask::delayed_value(vec!['a', 'b', 'c']);
    assert_eq!(first_n::<char, 2>(xs).compute().unwrap(), vec!['a', 'b']);
}

#[test]
fn an_err_fails_the_compute_naming_the_task_and_keeping_the_error() {
    let ok = parse(" 42 ".to_owned());
    assert_eq!(ok.compute().unwrap(), 42);
    let bad = parse("forty".to_owned());
    let err = add(inc(1), bad.clone()).compute().unwrap_err();
    assert_eq!(err.task_name(), Some("parse"));
    assert_eq!(err.task_key(), Some(bad.key().as_str()));
    let Error::TaskFailed { source, .. } = &err else {
        panic!("expected TaskFailed, got {err:?}");
    };
    assert_eq!(
        source.downcast_ref::<BadInput>(),
        Some(&BadInput("forty".to_owned()))
    );
    assert_eq!(
        format!("{err:#}"),
        format!("task `parse` ({}) failed: bad input: forty", bad.key())
    );

    let missing = read_len("/nonexistent/dask-test-file".to_owned());
    let err = missing.compute_with(Scheduler::Sync).unwrap_err();
    let Error::TaskFailed { source, name, .. } = &err else {
        panic!("expected TaskFailed, got {err:?}");
    };
    assert_eq!(*name, "read_len");
    assert_eq!(
        source
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );
}

#[test]
fn a_panic_in_a_task_is_an_error_naming_it_on_every_scheduler() {
    for scheduler in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(3),
    ] {
        let boom = explode(inc(2));
        let err = add(explode(1), boom.clone())
            .compute_with(scheduler.clone())
            .unwrap_err();
        match err {
            Error::TaskPanicked {
                name, key, message, ..
            } => {
                assert_eq!(name, "explode");
                assert_eq!(key, boom.key());
                assert_eq!(message, "x = 3 is too big");
            }
            other => panic!("{scheduler:?}: expected a panic error, got {other:?}"),
        }
    }
}

#[test]
fn unit_functions_and_recomputation() {
    assert_eq!(nothing().compute().unwrap(), ());
    let log = Arc::new(Mutex::new(Vec::new()));
    #[delayed]
    fn record(log: Arc<Mutex<Vec<i64>>>, x: i64) -> i64 {
        log.lock().unwrap().push(x);
        x
    }
    let r = record(Arc::clone(&log), 7);
    assert_eq!(r.compute().unwrap(), 7);
    assert_eq!(r.compute().unwrap(), 7);
    assert_eq!(*log.lock().unwrap(), [7, 7]);
}

#[test]
fn schedulers_agree_on_a_wide_graph() {
    let leaves: Vec<Delayed<i64>> = (0..1_000).map(inc).collect();
    let pairs: Vec<Delayed<i64>> = leaves.chunks(2).map(|p| add(&p[0], &p[1])).collect();
    let sum = total(pairs);
    let expected: i64 = (1..=1_000).sum();
    for s in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
        Scheduler::Threads(8),
    ] {
        assert_eq!(sum.compute_with(s).unwrap(), expected);
    }
}

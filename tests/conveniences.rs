//! Dask's delayed conveniences and errors a user can work with: task names, the user's
//! own error back, chains printed once, tuples unpacked, nested collections computed
//! and passed (`compute_iter`'s timed tests are in `cancel_timing.rs`).

mod common;

use common::inc;
use dask::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, PartialEq)]
struct BadLine {
    file: String,
    line: usize,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} is not a number", self.line)
    }
}

impl std::error::Error for BadLine {}

#[delayed]
fn parse(file: String, text: String) -> Result<i64, BadLine> {
    text.trim().parse().map_err(|_| BadLine { file, line: 1 })
}

#[test]
fn a_named_task_is_named_in_errors_keys_and_pictures() {
    let files = [("a.csv", "1"), ("b.csv", "x"), ("c.csv", "3")];
    let parsed: Vec<Delayed<i64>> = files
        .iter()
        .map(|&(f, t)| parse(f.to_owned(), t.to_owned()).named(format!("parse {f}")))
        .collect();
    assert_eq!(parsed[1].key(), "parse b.csv");
    let err = dask::compute(parsed.clone()).unwrap_err();
    assert!(err.to_string().contains("(parse b.csv)"), "{err}");
    assert_eq!(err.task_key(), Some("parse b.csv"));
    // The user's own error, with its fields.
    let bad = err.downcast_ref::<BadLine>().unwrap();
    assert_eq!((bad.file.as_str(), bad.line), ("b.csv", 1));
    let dot = parsed[0].to_dot();
    assert!(dot.contains("parse a.csv"), "{dot}");
    // A second name replaces the first; names go with the task when it is dropped.
    let renamed = parsed[0].clone().named("first");
    assert_eq!(
        (renamed.key(), parsed[0].key()),
        ("first".into(), "first".into())
    );
}

#[test]
fn display_says_what_failed_and_the_chain_says_why_once() {
    let err = parse("f".to_owned(), "nope".to_owned())
        .compute()
        .unwrap_err();
    let plain = err.to_string();
    assert!(
        plain.starts_with("task `parse`") && !plain.contains("not a number"),
        "{plain}"
    );
    assert!(
        format!("{err:#}").ends_with(": line 1 is not a number"),
        "{err:#}"
    );
    // What an error-chain printer (anyhow, eyre) writes: each cause once.
    let mut chain = vec![err.to_string()];
    let mut next = std::error::Error::source(&err);
    while let Some(e) = next {
        chain.push(e.to_string());
        next = e.source();
    }
    let printed = chain.join(": ");
    assert_eq!(printed.matches("not a number").count(), 1, "{printed}");
}

#[test]
fn the_users_error_comes_back_through_a_wrapping_layer() {
    // A task that runs a compute of its own and passes its error on.
    let outer = dask::delayed_value(0_i64)
        .try_map(|_| parse("inner.csv".to_owned(), "?".to_owned()).compute());
    let err = outer.compute().unwrap_err();
    assert_eq!(err.downcast_ref::<BadLine>().unwrap().file, "inner.csv");
    assert!(err.downcast_ref::<std::num::ParseIntError>().is_none());
}

#[test]
fn a_non_string_panic_payload_is_kept() {
    #[derive(Debug, PartialEq)]
    struct Code(u16);
    let x = dask::delayed_value(1).map(|_: i32| -> i32 { std::panic::panic_any(Code(503)) });
    let err = x.compute().unwrap_err();
    let payload = err.panic_payload().expect("a payload");
    assert!(payload.is::<Code>());
    let Error::TaskPanicked {
        payload: Some(p), ..
    } = err
    else {
        panic!("expected a panic");
    };
    assert_eq!(*p.into_inner().downcast::<Code>().unwrap(), Code(503));
    // A text payload is the message, not a payload.
    let err = dask::delayed_value(1)
        .map(|_: i32| -> i32 { panic!("plain") })
        .compute()
        .unwrap_err();
    assert!(err.panic_payload().is_none());
}

#[test]
fn an_array_shape_error_is_a_shape_error_whatever_task_met_it() {
    let bad = &dask::array::zeros::<f64>([3], 1) + &dask::array::zeros::<f64>([4], 1);
    let err = bad
        .mean()
        .to_delayed()
        .map(|m| m * 2.0)
        .compute()
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
}

#[test]
fn dependencies_are_handles_to_look_at() {
    let x = inc(1);
    let y = inc(x.clone());
    let deps: Vec<dask::Task> = y.dependencies();
    assert_eq!(deps.len(), 1);
    assert_eq!((deps[0].key(), deps[0].name()), (x.key(), "inc"));
    assert!(deps[0].dependencies().is_empty());
}

#[test]
fn a_tuple_task_unpacks_into_one_lazy_value_a_field_and_runs_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let stats = dask::delayed_value(vec![3.0, 1.0, 2.0]).map(move |v: Vec<f64>| {
        counter.fetch_add(1, Ordering::SeqCst);
        let min = v.iter().copied().fold(f64::MAX, f64::min);
        let max = v.iter().copied().fold(f64::MIN, f64::max);
        (min, max, v.len())
    });
    let (min, max, n) = stats.unpack();
    let spread = &max - &min;
    assert_eq!(dask::compute((spread, n)).unwrap(), (2.0, 3));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn nested_collections_compute_to_the_same_shape() {
    let by_name: HashMap<&str, Delayed<i64>> = [("one", inc(0)), ("two", inc(1))].into();
    let sorted: BTreeMap<u8, Delayed<i64>> = [(2, inc(10)), (1, inc(20))].into();
    let x = dask::array::arange(4).rechunk(2);
    let (a, (list, map), sorted, (m, arr)) = dask::compute((
        inc(5),
        (vec![inc(1), inc(2)], by_name),
        sorted,
        (x.mean(), &x),
    ))
    .unwrap();
    assert_eq!((a, list), (6, vec![2, 3]));
    assert_eq!(map, HashMap::from([("one", 1), ("two", 2)]));
    assert_eq!(sorted.into_iter().collect::<Vec<_>>(), [(1, 21), (2, 11)]);
    assert_eq!((m, arr.len()), (1.5, 4));
}

#[delayed]
fn weighted(weights: HashMap<String, i64>, pair: (i64, i64), rows: Vec<Vec<i64>>) -> i64 {
    let w: i64 = weights.values().sum();
    w * (pair.0 + pair.1) + rows.iter().flatten().sum::<i64>()
}

#[test]
fn a_task_takes_maps_tuples_and_nested_lists_of_lazy_values() {
    let weights: HashMap<String, Delayed<i64>> =
        HashMap::from([("a".into(), inc(0)), ("b".into(), inc(1))]);
    let rows = vec![vec![inc(0), inc(1)], vec![inc(2)]];
    let got = weighted(weights, (inc(1), inc(2)), rows).compute().unwrap();
    assert_eq!(got, 3 * (2 + 3) + (1 + 2 + 3));
    // Plain values still work.
    let plain = weighted(HashMap::from([("c".into(), 2)]), (1, 1), vec![vec![1]]);
    assert_eq!(plain.compute().unwrap(), 5);
}

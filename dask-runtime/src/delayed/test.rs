use super::*;
use crate::{Error, Scheduler, compute, compute_with, delayed_value};
use std::sync::atomic::{AtomicUsize, Ordering};

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[test]
fn nothing_runs_until_compute_and_compute_runs_again() {
    let calls = counter();
    let c = Arc::clone(&calls);
    let x = delayed_value(20_i64).map(move |v| {
        c.fetch_add(1, Ordering::SeqCst);
        v + 1
    });
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(x.compute().unwrap(), 21);
    assert_eq!(x.compute_with(Scheduler::Sync).unwrap(), 21);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn keys_name_the_function_and_are_unique() {
    let a = delayed_value(1_u8);
    let b = a.map(|v| v * 2);
    assert!(a.key().starts_with("value-"), "{}", a.key());
    assert!(b.key().starts_with("map-"), "{}", b.key());
    assert_eq!(b.key().len(), "map-".len() + 16);
    assert_ne!(a.key(), delayed_value(1_u8).key());
    assert_eq!(a.key(), a.clone().key());
    assert_eq!(format!("{b:?}"), format!("Delayed({})", b.key()));
    assert_eq!(b.name(), "map");
    let deps = b.dependencies();
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0].key(), a.key());
}

#[test]
fn operators_between_delayeds_and_plain_values() {
    let x = delayed_value(7_i64);
    let y = delayed_value(3_i64);
    let exprs = vec![
        &x + &y,
        &x - 1,
        10 * &x,
        &x / &y,
        &x % 4,
        -&x,
        &x & 3,
        &x | 8,
        &x ^ &y,
        &x << 2,
        100_i64 >> &y,
        x.clone() + y.clone(),
    ];
    assert_eq!(
        compute(exprs).unwrap(),
        vec![10, 6, 70, 2, 3, -7, 3, 15, 4, 28, 12, 10]
    );
    let f = 1.5_f64 * delayed_value(2.0_f64) - 0.5;
    assert_eq!(f.compute().unwrap(), 2.5);
    assert!((!delayed_value(false)).compute().unwrap());
    let key = (&x + 1).key();
    assert!(key.starts_with("add-"), "{key}");
}

#[test]
fn a_shared_node_runs_once_in_one_compute() {
    let calls = counter();
    let c = Arc::clone(&calls);
    let shared = delayed_value(5_i64).map(move |v| {
        c.fetch_add(1, Ordering::SeqCst);
        v * 10
    });
    let a = shared.map(|v| v + 1);
    let b = shared.map(|v| v + 2);
    let s = shared.map(|v| format!("<{v}>"));
    let (a, b, s, again) = compute((a, b, s, shared.clone())).unwrap();
    assert_eq!((a, b, s.as_str(), again), (51, 52, "<50>", 50));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn collections_keep_their_shape() {
    let parts: Vec<Delayed<u32>> = (0..10).map(|i| delayed_value(i).map(|v| v * v)).collect();
    let expected: Vec<u32> = (0..10).map(|i| i * i).collect();
    assert_eq!(compute(parts.clone()).unwrap(), expected);
    assert_eq!(compute(&parts[2..4]).unwrap(), vec![4, 9]);
    let same = parts[3].clone();
    assert_eq!(compute([same.clone(), same]).unwrap(), [9, 9]);
    let empty: Vec<Delayed<u32>> = Vec::new();
    assert_eq!(compute(empty).unwrap(), Vec::<u32>::new());
    let mixed = (
        delayed_value(1_u8),
        delayed_value("two".to_owned()),
        delayed_value(3.0_f32),
        delayed_value(vec![4_i64]),
        delayed_value(Some('5')),
        delayed_value(6_usize),
        delayed_value(()),
        delayed_value((8, 8)),
    );
    assert_eq!(
        compute_with(mixed, Scheduler::Threads(2)).unwrap(),
        (1, "two".to_owned(), 3.0, vec![4], Some('5'), 6, (), (8, 8))
    );
}

#[test]
fn a_list_of_delayeds_is_one_argument() {
    fn total(xs: impl IntoArg<Vec<i64>>) -> Delayed<i64> {
        node("total", (xs.into_arg(), ()), |(xs, ()), inputs| {
            Ok(xs.take(inputs)?.iter().sum())
        })
    }
    let parts: Vec<Delayed<i64>> = (1..=4).map(delayed_value).collect();
    let t = total(parts);
    assert_eq!(t.compute().unwrap(), 10);
    assert_eq!(t.dependencies()[0].name(), "list");
    assert_eq!(t.dependencies()[0].dependencies().len(), 4);
    assert_eq!(total(vec![1, 2]).compute().unwrap(), 3);
    assert_eq!(total(&[5_i64, 6][..]).compute().unwrap(), 11);
    // A part listed twice and read by another task too: each read gets its value, and
    // the list holds its parts (in order) until it is dropped.
    let shared = delayed_value(7_i64).map(|v| v * 10);
    let list = vec![shared.clone(), delayed_value(1), shared.clone()];
    let t = total(list);
    assert_eq!(
        compute_with((&t, &shared), Scheduler::Threads(2)).unwrap(),
        (141, 70)
    );
    let parts = t.dependencies()[0].dependencies();
    assert_eq!(
        parts.iter().map(|p| p.name()).collect::<Vec<_>>(),
        ["map", "value", "map"]
    );
    drop(t);
    assert_eq!(shared.compute().unwrap(), 70);
}

#[test]
fn a_list_of_a_million_parts_runs_and_drops() {
    let parts: Vec<Delayed<u64>> = (0..1_000_000_u64).map(delayed_value).collect();
    let list = super::arg::gather(parts);
    assert_eq!(list.compute().unwrap().iter().sum::<u64>(), 499_999_500_000);
    drop(list);
}

#[test]
fn a_failing_map_names_the_task_and_keeps_the_source() {
    let parsed = delayed_value("12x".to_owned()).try_map(|s| s.parse::<i32>());
    let err = parsed.compute().unwrap_err();
    let Error::TaskFailed {
        name, key, source, ..
    } = &err
    else {
        panic!("expected TaskFailed, got {err:?}");
    };
    assert_eq!(*name, "map");
    assert_eq!(*key, parsed.key());
    assert!(source.downcast_ref::<std::num::ParseIntError>().is_some());
    assert_eq!(err.task_key(), Some(parsed.key().as_str()));
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(
        format!("{err:#}"),
        format!(
            "task `map` ({}) failed: invalid digit found in string",
            parsed.key()
        )
    );
}

#[test]
fn a_million_node_chain_builds_computes_and_drops_on_a_small_stack() {
    let run = || {
        let mut x = delayed_value(0_u64);
        for _ in 0..1_000_000 {
            x = x + 1;
        }
        let threaded = x.compute_with(Scheduler::Threads(2)).unwrap();
        let sync = x.compute_with(Scheduler::Sync).unwrap();
        drop(x);
        (threaded, sync)
    };
    let result = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result, (1_000_000, 1_000_000));
}

#[test]
fn dropping_a_deep_chain_that_is_shared_halfway_keeps_the_shared_part() {
    let mut x = delayed_value(0_u64);
    let mut kept = None;
    for i in 0..200_000 {
        x = x + 1;
        if i == 100_000 {
            kept = Some(x.clone());
        }
    }
    drop(x);
    assert_eq!(kept.unwrap().compute().unwrap(), 100_001);
}

/// A trait with a lifetime, as a user's generic code has them.
trait Cut<'a>: Sized {
    fn cut(&self, at: usize) -> Self;
}

impl<'a> Cut<'a> for &'a [u8] {
    fn cut(&self, at: usize) -> Self {
        &self[at..]
    }
}

/// `len - 2` below compiles only while the operator impls for plain numbers on the
/// left do not send rustc's trait solver down `Delayed<Delayed<..>>` (it was E0275).
fn last_two<'a, C: Cut<'a>>(len: usize, c: C) -> C {
    c.cut(len - 2)
}

#[test]
fn plain_arithmetic_in_generic_code_is_not_taken_for_delayed_arithmetic() {
    assert_eq!(last_two(5, &[1_u8, 2, 3, 4, 5][..]), [4, 5]);
    let d = delayed_value(6_u32);
    assert_eq!(
        compute((2 * &d, 1 << &d, 100 - d.clone())).unwrap(),
        (12, 64, 94)
    );
    let f = delayed_value(0.5_f64);
    assert_eq!((1.0 - &f).compute().unwrap(), 0.5);
}

#[test]
fn an_argument_takes_no_more_room_than_its_value_or_handle() {
    // The handle's niche tells a plain value from a node: 16 bytes, not 24, so a
    // one-argument node fits the allocator's 64-byte size.
    assert_eq!(size_of::<Arg<u64>>(), 16);
    assert_eq!(size_of::<Arg<f64>>(), size_of::<crate::graph::NodeRef>());
    // A node whose dependencies were unhooked while it was dropped prints so, and
    // the dependencies themselves outlive it when others still hold them.
    let shared = delayed_value(3_u64);
    let mut args = (Arg::node(shared.clone()), ());
    let mut taken = Vec::new();
    crate::graph::Args::take_deps(&mut args, &mut taken);
    assert_eq!(taken.len(), 1);
    assert_eq!(format!("{:?}", args.0), "Arg::Node(<dropped>)");
    let mut again = Vec::new();
    crate::graph::Args::take_deps(&mut args, &mut again);
    assert!(again.is_empty(), "unhooked once");
    drop((args, taken));
    assert_eq!(shared.compute().unwrap(), 3);
}

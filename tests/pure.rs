//! `#[delayed(pure)]`: the same call built twice is one task (Dask's `pure=True`).

use dask::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

static LOADS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn load(path: String, scale: i64) -> i64 {
    LOADS.fetch_add(1, Ordering::SeqCst);
    path.len() as i64 * scale
}

#[delayed(pure)]
fn double(x: i64) -> i64 {
    x * 2
}

mod other {
    use dask::prelude::*;
    /// The same name and signature as the outer `double`, another function.
    #[delayed(pure)]
    pub fn double(x: i64) -> i64 {
        x * 20
    }
}

#[test]
fn equal_calls_are_one_task_and_different_ones_are_not() {
    let a = load("a.csv".to_owned(), 2);
    let b = load("a.csv".to_owned(), 2);
    let c = load("b.csv".to_owned(), 3);
    assert_eq!(a.key(), b.key());
    assert_ne!(a.key(), c.key());
    assert!(a.key().starts_with("load-"), "{}", a.key());
    let before = LOADS.load(Ordering::SeqCst);
    assert_eq!(dask::compute((a, b, c)).unwrap(), (10, 10, 15));
    assert_eq!(LOADS.load(Ordering::SeqCst) - before, 2, "a and b ran once");
}

#[test]
fn lazy_arguments_are_known_by_their_task() {
    let x = double(21);
    assert_eq!(double(x.clone()).key(), double(x.clone()).key());
    // `double(21)` built again is `x` while `x` lives: the outer calls are equal too.
    assert_eq!(double(x.clone()).key(), double(double(21)).key());
    assert_ne!(double(x.clone()).key(), double(x.clone() + 1).key());
    // Another function of the same name and signature is another task.
    assert_ne!(double(4).key(), other::double(4).key());
    assert_eq!(
        (
            double(4).compute().unwrap(),
            other::double(4).compute().unwrap()
        ),
        (8, 80)
    );
}

//! Attributes, docs, visibility and generics survive `#[delayed]`, and the expansion is
//! clean under strict lints in the user's crate.
#![deny(missing_docs, unused, unused_qualifications, rust_2018_idioms, unreachable_pub)]

use dask::prelude::*;

/// A public task, documented: `missing_docs` would fail if the docs were dropped.
pub mod tasks {
    use dask::prelude::*;

    /// Doubles.
    #[delayed]
    #[must_use]
    pub fn double(x: i64) -> i64 {
        x * 2
    }

    /// Generic, with a where clause and a lifetime.
    #[delayed]
    pub fn longest<'a, T>(xs: &'a [T]) -> usize
    where
        T: Clone + Send + Sync + 'static,
    {
        xs.len()
    }

    #[delayed]
    pub(crate) fn hidden(x: u8) -> u8 {
        x
    }

    /// Fails on odd numbers.
    #[delayed]
    pub fn even(x: u32) -> Result<u32, String> {
        if x % 2 == 0 { Ok(x) } else { Err(format!("{x} is odd")) }
    }

    /// No return value, a cfg'd twin.
    #[cfg(not(any()))]
    #[delayed]
    pub fn touch() {}

    #[cfg(any())]
    #[delayed]
    pub fn touch() -> DoesNotExist {}
}

fn main() {
    let d: Delayed<i64> = tasks::double(21);
    let n: Delayed<usize> = tasks::longest(vec![1_u8, 2]);
    let h: Delayed<u8> = tasks::hidden(1);
    let e: Delayed<u32> = tasks::even(2);
    let t: Delayed<()> = tasks::touch();
    assert_eq!(compute((d, n, h, e, t)).unwrap(), (42, 2, 1, 2, ()));
    assert_eq!(tasks::double::eager(2), 4);
    assert!(tasks::even(3).compute().is_err());
}

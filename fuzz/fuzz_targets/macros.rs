//! `cargo fuzz run macros`: both macros' expansion on arbitrary text. A panic is a bug
//! (every rejection must be a `compile_error!`); `dask-macros/src/fuzz_test.rs` runs the
//! same check, with span checks, as a proptest in `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../dask-macros/src/ctxt.rs"]
mod ctxt;
#[path = "../../dask-macros/src/delayed/mod.rs"]
mod delayed;
#[path = "../../dask-macros/src/graph/mod.rs"]
mod graph;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tokens) = text.parse::<proc_macro2::TokenStream>() else {
        return;
    };
    let _ = graph::expand(tokens.clone());
    let _ = delayed::expand(proc_macro2::TokenStream::new(), tokens);
});

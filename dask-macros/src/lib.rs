//! Procedural macros of the `dask` crate: an implementation detail. Depend on `dask` and
//! use `dask::delayed` (documented there); this crate only declares the entry points.

use proc_macro::TokenStream;

mod ctxt;
mod delayed;
#[cfg(test)]
mod fuzz_test;
mod graph;

/// Turns a function into a lazy task constructor. See `dask::delayed` for the docs.
#[proc_macro_attribute]
pub fn delayed(args: TokenStream, item: TokenStream) -> TokenStream {
    delayed::expand(args.into(), item.into()).into()
}

/// Builds a plan analysed at compile time. See `dask::graph` for the docs.
#[proc_macro]
pub fn graph(input: TokenStream) -> TokenStream {
    graph::expand(input.into()).into()
}

//! `#[delayed]`, `#[delayed(pure)]` and `#[delayed(distributed)]`: parse the function,
//! check it, write the lazy constructor.

mod ast;
mod expand;

use crate::ctxt::{at_end, with_errors};
use proc_macro2::TokenStream;
use quote::ToTokens;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(e) => {
            let e = at_end(e, &item);
            let message = format!("`#[delayed]` goes on a free function: {e}");
            return with_errors(item, &syn::Error::new(e.span(), message));
        }
    };
    let mut options = Options::default();
    let parsed = syn::parse::Parser::parse2(
        syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated,
        args.clone(),
    );
    let words = match parsed {
        Ok(words) => words,
        Err(e) => return with_errors(function.into_token_stream(), &unknown_option(e.span())),
    };
    for word in words {
        match word.to_string().as_str() {
            "pure" => options.pure = true,
            "distributed" => options.distributed = true,
            _ => return with_errors(function.into_token_stream(), &unknown_option(word.span())),
        }
    }
    match ast::DelayedFn::from_syn(&function) {
        Ok(parsed) => expand::expand(&parsed, options),
        Err(error) => with_errors(function.into_token_stream(), &error),
    }
}

/// What `#[delayed(...)]` asks for.
#[derive(Clone, Copy, Default)]
pub(crate) struct Options {
    /// Equal calls are one task.
    pub(crate) pure: bool,
    /// The output may cross to another process (serde), so MPI may run it on any rank.
    pub(crate) distributed: bool,
}

fn unknown_option(span: proc_macro2::Span) -> syn::Error {
    syn::Error::new(
        span,
        "`#[delayed]` takes `pure` and `distributed`: `#[delayed(pure)]` makes equal calls \
         one task, `#[delayed(distributed)]` lets the output cross to another process",
    )
}

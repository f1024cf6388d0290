//! `#[delayed]` and `#[delayed(pure)]`: parse the function, check it, write the lazy
//! constructor.

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
    let pure = match args.to_string().as_str() {
        "" => false,
        "pure" => true,
        _ => {
            let error = syn::Error::new_spanned(
                &args,
                "`#[delayed]` takes only `pure`: write `#[delayed]`, or `#[delayed(pure)]` \
                 to make equal calls one task",
            );
            return with_errors(function.into_token_stream(), &error);
        }
    };
    match ast::DelayedFn::from_syn(&function) {
        Ok(parsed) => expand::expand(&parsed, pure),
        Err(error) => with_errors(function.into_token_stream(), &error),
    }
}

//! Collects every error a macro finds, so the user sees them all in one compile.

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// An error spanned on `tokens`, the smallest piece of the user's code at fault.
    pub(crate) fn error_spanned_by(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.errors
            .push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// All errors combined into one, or `Ok` if there were none.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for rest in errors {
            combined.combine(rest);
        }
        Err(combined)
    }
}

/// `item` unchanged followed by the errors: the user's code stays visible to the
/// compiler, so one mistake does not cascade into "cannot find function" errors.
pub(crate) fn with_errors(item: TokenStream, error: &syn::Error) -> TokenStream {
    let mut out = item;
    out.extend(error.to_compile_error());
    out
}

/// syn reports a truncated input ("unexpected end of input") at the macro's call site;
/// point it at the input's last token instead, where the missing piece should follow.
pub(crate) fn at_end(error: syn::Error, input: &TokenStream) -> syn::Error {
    let truncated = error.to_string().starts_with("unexpected end of input");
    match input.clone().into_iter().last() {
        Some(last) if truncated => syn::Error::new(
            last.span(),
            format!("{error}: something is missing after this"),
        ),
        _ => error,
    }
}

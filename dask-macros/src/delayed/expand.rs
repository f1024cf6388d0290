//! Writes the expansion of `#[delayed]`: the eager body kept as `NAME::eager`, and a lazy
//! constructor under the function's own name that builds a node.
//!
//! ```text
//! #[delayed] pub fn add(x: i64, y: &T) -> R { body }
//! ==>
//! pub struct add {}                                  // hidden; type namespace only
//! impl add { pub fn eager(x: i64, y: &T) -> R { body } }
//! pub fn add(x: impl IntoArg<i64>, y: impl IntoArg<<T as BorrowedParam>::Owned>) -> Delayed<R> {
//!     node("add", (x.into_arg(), (y.into_arg(), ())), |(x, (y, ())), inputs| {
//!         Ok(add::eager(x.take(inputs)?, Borrow::borrow(&*y.borrow(inputs)?)))
//!     })
//! }
//! ```
//! A braced struct lives in the type namespace only, so it shares the function's name
//! without a clash and `add::eager` names the body wherever `add` is in scope.

use super::ast::{DelayedFn, Output, Param, Passing};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, GenericParam};

pub(crate) fn expand(f: &DelayedFn<'_>, options: super::Options) -> TokenStream {
    let pure = options.pure;
    let item = f.original;
    let vis = &item.vis;
    let name = &item.sig.ident;
    let name_str = name.to_string();
    let generics = &item.sig.generics;
    let where_predicates = generics.where_clause.iter().flat_map(|w| &w.predicates);

    let cfg_attrs: Vec<&Attribute> = item.attrs.iter().filter(|a| is_cfg(a)).collect();
    let eager_attrs: Vec<&Attribute> = item.attrs.iter().filter(|a| belongs_on_eager(a)).collect();
    let lazy_attrs = &item.attrs;

    // The eager function: the user's signature and body, untouched.
    let eager_sig = {
        let mut sig = item.sig.clone();
        sig.ident = syn::Ident::new("eager", name.span());
        sig
    };
    let body = &item.block;
    let eager_doc =
        format!("Runs [`{name_str}`]'s body now, on this thread, without building a graph.");

    // The lazy constructor's parameters and the bounds a task needs of them, each bound
    // spanned on the user's type so a missing `Send` points there.
    let inputs = Span::mixed_site();
    let inputs = syn::Ident::new("inputs", inputs);
    let lazy_params = f.params.iter().map(|p| {
        let ident = p.ident;
        let arg_ty = arg_type(p);
        quote_spanned!(p.ty.span()=> #ident: impl ::dask::IntoArg<#arg_ty>)
    });
    let param_bounds = f.params.iter().map(|p| {
        let arg_ty = arg_type(p);
        // A pure call is known by a hash of its arguments.
        let hashed = pure.then(|| quote_spanned!(p.ty.span()=> + ::dask::__private::PureArg));
        // A task that takes a value owns a copy each run; one that borrows it does not.
        let clone = matches!(p.passing, Passing::Owned)
            .then(|| quote_spanned!(p.ty.span()=> ::core::clone::Clone +));
        quote_spanned! {p.ty.span()=>
            #arg_ty: #clone ::core::marker::Send + ::core::marker::Sync + 'static
                #hashed
        }
    });
    let (value_ty, output_bound) = match &f.output {
        Output::Plain(None) => (quote!(()), quote!()),
        Output::Plain(Some(ty)) | Output::Fallible { ok: ty } => {
            // A distributed task's output crosses processes: serde, checked here.
            let wire = options
                .distributed
                .then(|| quote_spanned!(ty.span()=> + ::dask::Distributable));
            (
                quote!(#ty),
                quote_spanned! {ty.span()=>
                    #ty: ::core::marker::Send + ::core::marker::Sync + 'static #wire,
                },
            )
        }
    };
    let constructor = if options.distributed {
        quote!(distributed_node)
    } else {
        quote!(node)
    };

    // The node: its argument list, and the task that reads it.
    let arg_list = f.params.iter().rev().fold(quote!(()), |rest, p| {
        let ident = p.ident;
        quote!((::dask::IntoArg::into_arg(#ident), #rest))
    });
    let arg_pattern = f.params.iter().rev().fold(quote!(()), |rest, p| {
        let ident = p.ident;
        quote!((#ident, #rest))
    });
    let reads = f.params.iter().map(|p| {
        let ident = p.ident;
        match p.passing {
            Passing::Owned => quote!(let #ident = #ident.take(#inputs)?;),
            Passing::Borrowed(_) => quote!(let #ident = #ident.borrow(#inputs)?;),
        }
    });
    let call_args = f.params.iter().map(|p| {
        let ident = p.ident;
        match p.passing {
            Passing::Owned => quote!(#ident),
            Passing::Borrowed(_) => quote!(::core::borrow::Borrow::borrow(&*#ident)),
        }
    });
    let turbofish = {
        let params: Vec<TokenStream> = generics
            .params
            .iter()
            .filter_map(|g| match g {
                GenericParam::Type(t) => Some(t.ident.clone()),
                GenericParam::Const(c) => Some(c.ident.clone()),
                GenericParam::Lifetime(_) => None,
            })
            .map(|ident| quote!(#ident))
            .collect();
        if params.is_empty() {
            quote!()
        } else {
            quote!(::<#(#params),*>)
        }
    };
    let call = quote!(#name::eager #turbofish (#(#call_args),*));
    let result = match f.output {
        Output::Fallible { .. } => {
            quote!(::dask::__private::IntoTaskResult::into_task_result(#call))
        }
        Output::Plain(_) => quote!(::core::result::Result::Ok(#call)),
    };

    // `NAME::__dask_task`: the body with the task's error convention, for `graph!` plans
    // (which call it with plain values, no node).
    let task_params = f.params.iter().map(|p| {
        let (ident, ty) = (p.ident, p.ty);
        quote!(#ident: #ty)
    });
    let task_args = f.params.iter().map(|p| p.ident);
    let task_call = quote!(#name::eager #turbofish (#(#task_args),*));
    let task_result = match f.output {
        Output::Fallible { .. } => {
            quote!(::dask::__private::IntoTaskResult::into_task_result(#task_call))
        }
        Output::Plain(_) => quote!(::core::result::Result::Ok(#task_call)),
    };
    let where_clause = &generics.where_clause;
    let node = quote! {
        ::dask::__private::#constructor(
            #name_str,
            __dask_args,
            |#arg_pattern, #inputs: &mut ::dask::__private::Inputs<'_>| {
                #(#reads)*
                #result
            },
        )
    };
    let build = if pure {
        // The module and the signature tell two functions (or two instances of a
        // generic one) apart.
        let arg_tys = f.params.iter().map(arg_type);
        quote! {
            ::dask::__private::pure_node(
                #name_str,
                ::core::module_path!(),
                ::core::any::type_name::<fn(#(#arg_tys),*) -> #value_ty>(),
                #arg_list,
                |__dask_args| #node,
            )
        }
    } else {
        quote! {
            let __dask_args = #arg_list;
            #node
        }
    };

    quote! {
        #(#cfg_attrs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name {}

        #(#cfg_attrs)*
        #[automatically_derived]
        impl #name {
            #[doc = #eager_doc]
            #(#eager_attrs)*
            #vis #eager_sig #body

            #[doc(hidden)]
            #(#eager_attrs)*
            #[allow(clippy::too_many_arguments)]
            #vis fn __dask_task #generics (#(#task_params),*)
                -> ::core::result::Result<#value_ty, ::dask::BoxError>
            #where_clause
            {
                #task_result
            }
        }

        #(#lazy_attrs)*
        #[allow(clippy::too_many_arguments, clippy::multiple_bound_locations)]
        #vis fn #name #generics (#(#lazy_params),*) -> ::dask::Delayed<#value_ty>
        where
            #(#where_predicates,)*
            #(#param_bounds,)*
            #output_bound
        {
            #build
        }
    }
}

/// The type a parameter accepts: `T` for `x: T`, `T::Owned` for `x: &T`.
fn arg_type(p: &Param<'_>) -> TokenStream {
    match p.passing {
        Passing::Owned => {
            let ty = p.ty;
            quote!(#ty)
        }
        Passing::Borrowed(inner) => quote!(<#inner as ::dask::__private::BorrowedParam>::Owned),
    }
}

fn is_cfg(attr: &Attribute) -> bool {
    attr.path().is_ident("cfg")
}

/// Attributes that shape how the body compiles, so they stay with the body:
/// conditional compilation, lint levels and code-generation hints. Docs and the rest
/// describe the public function and stay on the lazy constructor only.
pub(crate) fn belongs_on_eager(attr: &Attribute) -> bool {
    const KEEP: &[&str] = &[
        "cfg",
        "cfg_attr",
        "allow",
        "warn",
        "deny",
        "forbid",
        "expect",
        "inline",
        "cold",
        "track_caller",
    ];
    KEEP.iter().any(|k| attr.path().is_ident(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn body_shaping_attributes_stay_with_the_eager_body() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = "docs"]),
            parse_quote!(#[allow(unused)]),
            parse_quote!(#[cfg(test)]),
            parse_quote!(#[must_use]),
            parse_quote!(#[inline]),
            parse_quote!(#[deprecated]),
            parse_quote!(#[clippy::allow(x)]),
        ];
        let kept: Vec<bool> = attrs.iter().map(belongs_on_eager).collect();
        assert_eq!(kept, [false, true, true, false, true, false, false]);
    }
}

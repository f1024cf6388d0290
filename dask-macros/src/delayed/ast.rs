//! The function `#[delayed]` is applied to, read into what the expansion needs, with
//! every unsupported form reported on its own token.

use crate::ctxt::Ctxt;
use syn::visit::Visit;
use syn::{FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type};

/// A function accepted by `#[delayed]`, borrowing from the user's item for spans.
pub(crate) struct DelayedFn<'a> {
    pub(crate) original: &'a ItemFn,
    pub(crate) params: Vec<Param<'a>>,
    pub(crate) output: Output<'a>,
}

pub(crate) struct Param<'a> {
    pub(crate) ident: &'a Ident,
    /// The parameter's type as written.
    pub(crate) ty: &'a Type,
    pub(crate) passing: Passing<'a>,
}

pub(crate) enum Passing<'a> {
    /// `x: T`: the task gets its own `T`.
    Owned,
    /// `x: &T`: the task borrows the value; `T` is the referent.
    Borrowed(&'a Type),
}

pub(crate) enum Output<'a> {
    /// `-> T` or nothing: the task's value is the return value.
    Plain(Option<&'a Type>),
    /// `-> Result<T, E>` (or an alias `Result<T>`): `Err` fails the task.
    Fallible { ok: &'a Type },
}

impl<'a> DelayedFn<'a> {
    pub(crate) fn from_syn(item: &'a ItemFn) -> syn::Result<Self> {
        let mut cx = Ctxt::default();
        let sig = &item.sig;
        let unsupported = "`#[delayed]` works on plain synchronous functions";
        if let Some(token) = &sig.asyncness {
            cx.error_spanned_by(
                token,
                format!("{unsupported}: a task runs on a worker thread, not in an executor; remove `async`"),
            );
        }
        if let Some(token) = &sig.constness {
            cx.error_spanned_by(
                token,
                format!("{unsupported}: a task constructor cannot be `const`; remove `const`"),
            );
        }
        if let syn::Safety::Unsafe(token) = &sig.safety {
            cx.error_spanned_by(
                token,
                format!("{unsupported}: a task cannot be `unsafe`; wrap the unsafe call in a safe function"),
            );
        }
        if let Some(abi) = &sig.abi {
            cx.error_spanned_by(abi, format!("{unsupported}: remove the `extern` ABI"));
        }
        if let Some(variadic) = &sig.variadic {
            cx.error_spanned_by(
                variadic,
                format!("{unsupported}: variadic arguments are not supported"),
            );
        }

        let mut params = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(receiver) => cx.error_spanned_by(
                    receiver.self_token,
                    "`#[delayed]` works on free functions, not methods: a task cannot take `self`; \
                     write a free function that takes the value as a parameter",
                ),
                FnArg::Typed(pat_type) => {
                    if let Some(param) = Param::from_syn(&mut cx, &pat_type.pat, &pat_type.ty) {
                        params.push(param);
                    }
                }
            }
        }

        let output = match &sig.output {
            ReturnType::Default => Output::Plain(None),
            ReturnType::Type(_, ty) => {
                reject_impl_trait(
                    &mut cx,
                    ty,
                    "in the return type: name the type the task returns",
                );
                reject_unsendable_error(&mut cx, ty);
                match result_ok_type(ty) {
                    Some(ok) => Output::Fallible { ok },
                    None => Output::Plain(Some(&**ty)),
                }
            }
        };

        cx.check()?;
        Ok(DelayedFn {
            original: item,
            params,
            output,
        })
    }
}

impl<'a> Param<'a> {
    fn from_syn(cx: &mut Ctxt, pat: &'a Pat, ty: &'a Type) -> Option<Self> {
        let ident = match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(&p.ident),
            _ => {
                cx.error_spanned_by(
                    pat,
                    "`#[delayed]` needs a plain name for each parameter (`x: T`), not a pattern; \
                     destructure inside the function body",
                );
                None
            }
        };
        reject_impl_trait(
            cx,
            ty,
            "in a parameter: use a named type parameter `<T: Trait>` instead",
        );
        // Only the parameter itself may be a borrow (`x: &T`): a task keeps its inputs
        // past the call, so what it holds must be owned.
        let inner = match ty {
            Type::Reference(r) => &*r.elem,
            other => other,
        };
        reject_borrows(cx, inner);
        let passing = match ty {
            Type::Reference(r) if r.mutability.is_some() => {
                cx.error_spanned_by(
                    {
                        let (and, mutability) = (r.and_token, r.mutability);
                        quote::quote!(#and #mutability)
                    },
                    "a task cannot mutate its input through `&mut`: take the value by value \
                     and return the changed value",
                );
                return None;
            }
            Type::Reference(r) => Passing::Borrowed(&r.elem),
            _ => Passing::Owned,
        };
        Some(Param {
            ident: ident?,
            ty,
            passing,
        })
    }
}

/// Reports each borrow (`&T`, `'a`) inside `ty`: task parameters are owned, `'static`.
fn reject_borrows(cx: &mut Ctxt, ty: &Type) {
    struct Finder<'c> {
        cx: &'c mut Ctxt,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_reference(&mut self, node: &'ast syn::TypeReference) {
            if node.lifetime.as_ref().is_some_and(|l| l.ident == "static") {
                // `&'static str` lives as long as the task: fine.
                return syn::visit::visit_type_reference(self, node);
            }
            let owned = match &*node.elem {
                Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
                Type::Slice(s) => {
                    let elem = &s.elem;
                    format!("Vec<{}>", quote::quote!(#elem))
                }
                elem => quote::quote!(#elem).to_string(),
            };
            self.cx.error_spanned_by(
                node,
                format!(
                    "a task keeps its inputs after the call, so they are owned and `'static`: \
                     take `{owned}` here, not a borrow (only the whole parameter may be `&T`, \
                     which the task reads in place)"
                ),
            );
        }
        fn visit_lifetime(&mut self, node: &'ast syn::Lifetime) {
            if node.ident != "static" {
                self.cx.error_spanned_by(
                    node,
                    "a task keeps its inputs after the call, so they are owned and `'static`: \
                     use an owned type instead of one that borrows for this lifetime",
                );
            }
        }
    }
    Finder { cx }.visit_type(ty);
}

/// Reports a boxed error that cannot cross threads (`Box<dyn Error>` without `Send +
/// Sync`) in a `Result` return type.
fn reject_unsendable_error(cx: &mut Ctxt, ty: &Type) {
    let Type::Path(path) = ty else { return };
    let Some(last) = path.path.segments.last() else {
        return;
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return;
    };
    if last.ident != "Result" {
        return;
    }
    let Some(GenericArgument::Type(Type::Path(error))) = args.args.iter().nth(1) else {
        return;
    };
    let Some(boxed) = error.path.segments.last().filter(|s| s.ident == "Box") else {
        return;
    };
    let PathArguments::AngleBracketed(inner) = &boxed.arguments else {
        return;
    };
    let Some(GenericArgument::Type(Type::TraitObject(object))) = inner.args.first() else {
        return;
    };
    let has = |name: &str| {
        object.bounds.iter().any(|b| {
            matches!(b, syn::TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == name))
        })
    };
    if !(has("Send") && has("Sync")) {
        cx.error_spanned_by(
            object,
            "a task's error crosses threads, so it must be `Send + Sync`: write \
             `Box<dyn Error + Send + Sync>` (or `dask::BoxError`)",
        );
    }
}

/// Reports each `impl Trait` inside `ty`.
fn reject_impl_trait(cx: &mut Ctxt, ty: &Type, advice: &str) {
    struct Finder<'c> {
        cx: &'c mut Ctxt,
        advice: &'c str,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_impl_trait(&mut self, node: &'ast syn::TypeImplTrait) {
            self.cx.error_spanned_by(
                node,
                format!("`#[delayed]` does not support `impl Trait` {}", self.advice),
            );
        }
    }
    Finder { cx, advice }.visit_type(ty);
}

/// `T` when `ty` is written `Result<T, ..>` (any path ending in `Result`, so aliases such
/// as `io::Result<T>` count): the task fails on `Err`.
pub(crate) fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(ok) => Some(ok),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn ok_type(ty: Type) -> Option<String> {
        result_ok_type(&ty).map(|t| t.to_token_stream().to_string())
    }

    #[test]
    fn result_types_are_recognised_by_their_last_segment() {
        assert_eq!(
            ok_type(parse_quote!(Result<i64, String>)).as_deref(),
            Some("i64")
        );
        assert_eq!(
            ok_type(parse_quote!(std::io::Result<Vec<u8>>)).as_deref(),
            Some("Vec < u8 >")
        );
        assert_eq!(ok_type(parse_quote!(Option<i64>)), None);
        assert_eq!(ok_type(parse_quote!(Result)), None);
        assert_eq!(ok_type(parse_quote!(<X as Tr>::Result<i64>)), None);
    }

    #[test]
    fn every_unsupported_form_is_reported_at_once() {
        let item: ItemFn = parse_quote! {
            async unsafe fn f((a, b): (i32, i32), c: impl Fn(), d: &mut i32) -> impl Send {}
        };
        let err = DelayedFn::from_syn(&item).err().expect("must fail");
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 6, "{messages:#?}");
        assert!(messages[0].contains("remove `async`"));
        assert!(messages[1].contains("cannot be `unsafe`"));
        assert!(messages[2].contains("not a pattern"));
        assert!(messages[3].contains("`impl Trait` in a parameter"));
        assert!(messages[4].contains("`&mut`"));
        assert!(messages[5].contains("`impl Trait` in the return type"));
    }

    #[test]
    fn borrows_inside_a_parameter_and_unsendable_errors_are_reported() {
        let item: ItemFn = parse_quote! {
            fn f(a: Vec<&str>, b: &[u8], c: Vec<&'static str>, d: Cow<'a, str>)
                -> Result<u8, Box<dyn std::error::Error>> {}
        };
        let err = DelayedFn::from_syn(&item).err().expect("must fail");
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(messages[0].contains("take `String` here"));
        assert!(messages[1].contains("borrows for this lifetime"));
        assert!(messages[2].contains("`Send + Sync`"));
        let fine: ItemFn =
            parse_quote! { fn f(b: &[u8]) -> Result<u8, Box<dyn Error + Send + Sync>> {} };
        assert!(DelayedFn::from_syn(&fine).is_ok());
    }

    #[test]
    fn parameters_are_owned_or_borrowed() {
        let item: ItemFn =
            parse_quote! { fn f(mut a: i32, b: &str, c: Vec<u8>) -> Result<u8, E> {} };
        let f = DelayedFn::from_syn(&item).expect("valid");
        let kinds: Vec<_> = f
            .params
            .iter()
            .map(|p| match p.passing {
                Passing::Owned => format!("{} owned", p.ident),
                Passing::Borrowed(t) => format!("{} borrows {}", p.ident, t.to_token_stream()),
            })
            .collect();
        assert_eq!(kinds, ["a owned", "b borrows str", "c owned"]);
        assert!(matches!(f.output, Output::Fallible { .. }));
    }
}

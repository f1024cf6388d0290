//! Writes a plan: one typed local per node (`__v3`), nested `join`s for the branches of
//! the schedule, a static `PlanInfo`. User tokens keep their spans, so rustc's type
//! errors land on the user's code.

use super::analyze::{Analysis, Call, Kind, Mode, Node, Read, Site, as_task_call};
use super::schedule::{Schedule, critical_path_len, is_exact, schedule};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::BTreeSet;
use syn::spanned::Spanned;
use syn::{Expr, Ident};

/// The local that holds value `v` while the plan runs: invisible to user code.
fn local(v: usize) -> Ident {
    format_ident!("__v{}", v, span = Span::mixed_site())
}

fn runner() -> Ident {
    Ident::new("__runner", Span::mixed_site())
}

pub(crate) fn expand(a: &Analysis<'_>) -> TokenStream {
    let deps = a.node_deps();
    let plan = schedule(&deps, &a.targets(), &BTreeSet::new());
    let info = plan_info(a, &deps, &plan);
    let body = if is_exact(&deps, &plan) {
        schedule_code(a, &plan)
    } else {
        table_code(a)
    };
    let runner = runner();
    let n_inputs = a.inputs.len();

    let unused = a.unused.iter().filter_map(|&v| {
        let ident = if v < n_inputs {
            &a.inputs[v].ident
        } else {
            a.nodes[v - n_inputs].binding?
        };
        let l = local(v);
        Some(quote!(let #ident = #l;))
    });

    let outputs: Vec<TokenStream> = a
        .outputs
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let l = local(v);
            if a.outputs[i + 1..].contains(&v) {
                quote!(::core::clone::Clone::clone(&#l))
            } else {
                quote!(#l)
            }
        })
        .collect();
    let output = if a.output_is_tuple {
        quote!((#(#outputs,)*))
    } else {
        quote!(#(#outputs)*)
    };

    let stop = quote!(::dask::__private::Stop);
    let result = quote!(::core::result::Result<_, #stop>);
    let closure_body = quote! {
        #body
        #(#unused)*
        ::core::result::Result::Ok(#output)
    };
    let plan = match &a.inputs[..] {
        [] if a.inputs.is_empty() => quote! {
            ::dask::__private::BlockPlan::new(
                &__DASK_PLAN_INFO,
                move |#runner: &::dask::__private::Runner| -> #result { #closure_body },
            )
        },
        // The closure is bound first so that its parameter types, as written, make it
        // generic over their lifetimes; `new::<Input>` then fixes the output type.
        [one] => {
            let (l, ty) = (local(0), &one.ty);
            let body = Ident::new("body", Span::mixed_site());
            quote! {
                let #body = move |#l: #ty, #runner: &::dask::__private::Runner| -> #result {
                    #closure_body
                };
                ::dask::__private::FnPlan::new::<#ty>(&__DASK_PLAN_INFO, #body)
            }
        }
        many => {
            let locals = (0..many.len()).map(local);
            let types: Vec<_> = many.iter().map(|p| &p.ty).collect();
            let body = Ident::new("body", Span::mixed_site());
            quote! {
                let #body = move |(#(#locals,)*): (#(#types,)*), #runner: &::dask::__private::Runner| -> #result {
                    #closure_body
                };
                ::dask::__private::FnPlan::new::<(#(#types,)*)>(&__DASK_PLAN_INFO, #body)
            }
        }
    };
    quote! {
        {
            static __DASK_PLAN_INFO: ::dask::__private::PlanInfo = #info;
            #plan
        }
    }
}

fn schedule_code(a: &Analysis<'_>, s: &Schedule) -> TokenStream {
    match s {
        Schedule::Run(n) => node_code(a, *n, Backend::Locals),
        Schedule::Seq(steps) => steps.iter().map(|step| schedule_code(a, step)).collect(),
        Schedule::Par(branches) => {
            let n_inputs = a.inputs.len();
            let runner = runner();
            let closures: Vec<TokenStream> = branches
                .iter()
                .map(|(exports, branch)| {
                    let code = schedule_code(a, branch);
                    let exported = exports.iter().map(|&n| local(n + n_inputs));
                    quote! {
                        || -> ::core::result::Result<_, ::dask::__private::Stop> {
                            #code
                            ::core::result::Result::Ok((#(#exported,)*))
                        }
                    }
                })
                .collect();
            let results: Vec<Ident> = (0..branches.len())
                .map(|i| format_ident!("__branch{}", i, span = Span::mixed_site()))
                .collect();
            let (call, pattern) = join_tree(&runner, &closures, &results);
            let unpack = branches.iter().zip(&results).map(|((exports, _), r)| {
                let exported = exports.iter().map(|&n| local(n + n_inputs));
                let value = or_stop(quote!(#r));
                quote!(let (#(#exported,)*) = #value;)
            });
            quote! {
                let #pattern = #call;
                #(#unpack)*
            }
        }
    }
}

/// The table backend: a `OnceLock` a node, a function that runs node `i` (reading its
/// inputs from the slots), and `Runner::table` to run them all; then the values the
/// plan returns or leaves unused, taken out of their slots.
fn table_code(a: &Analysis<'_>) -> TokenStream {
    let n_inputs = a.inputs.len();
    let runner = runner();
    let slots = Ident::new("__slots", Span::mixed_site());
    let run = Ident::new("__run", Span::mixed_site());
    let index_var = Ident::new("__i", Span::mixed_site());
    let inits = a.nodes.iter().map(|_| quote!(::std::sync::OnceLock::new()));
    let arms = (0..a.nodes.len()).map(|k| {
        let index = syn::Index::from(k);
        let v = local(k + n_inputs);
        let refs = a.nodes[k].deps.iter().map(|&d| {
            let r = reference(d);
            if d < n_inputs {
                let l = local(d);
                quote!(let #r = &#l;)
            } else {
                let slot = syn::Index::from(d - n_inputs);
                quote!(let #r = #slots.#slot.get().ok_or(::dask::__private::Stop)?;)
            }
        });
        let code = node_code(a, k, Backend::Table);
        quote! {
            #k => {
                #(#refs)*
                #code
                let _ = #slots.#index.set(#v);
            }
        }
    });
    let taken: std::collections::BTreeSet<usize> = a
        .outputs
        .iter()
        .chain(&a.unused)
        .copied()
        .filter(|&v| v >= n_inputs)
        .collect();
    let takes = taken.iter().map(|&v| {
        let (l, slot) = (local(v), syn::Index::from(v - n_inputs));
        quote!(let #l = #slots.#slot.into_inner().ok_or(::dask::__private::Stop)?;)
    });
    quote! {
        let #slots = (#(#inits,)*);
        {
            let #run = |#index_var: usize| -> ::core::result::Result<(), ::dask::__private::Stop> {
                match #index_var {
                    #(#arms)*
                    _ => {}
                }
                ::core::result::Result::Ok(())
            };
            #runner.table(__DASK_PLAN_INFO.dependencies, &#run);
        }
        #(#takes)*
    }
}

/// A balanced tree of `join`s over `closures`: the call, and the nested pattern that
/// names each closure's result.
fn join_tree(
    runner: &Ident,
    closures: &[TokenStream],
    results: &[Ident],
) -> (TokenStream, TokenStream) {
    fn side(
        runner: &Ident,
        closures: &[TokenStream],
        results: &[Ident],
    ) -> (TokenStream, TokenStream) {
        if let ([closure], [result]) = (closures, results) {
            return (closure.clone(), quote!(#result));
        }
        let (call, pattern) = join_tree(runner, closures, results);
        (quote!(|| #call), pattern)
    }
    let mid = closures.len().div_ceil(2);
    let (left, left_pat) = side(runner, &closures[..mid], &results[..mid]);
    let (right, right_pat) = side(runner, &closures[mid..], &results[mid..]);
    (
        quote!(#runner.join(#left, #right)),
        quote!((#left_pat, #right_pat)),
    )
}

/// `let __vN = <run the node as one task>?;`
/// How the generated code holds node values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// Typed locals and nested joins: for series-parallel graphs.
    Locals,
    /// A `OnceLock` slot a node, nodes run by `Runner::table` as soon as their
    /// dependencies are done: for other graphs. Values are read through references
    /// (`__ref3`), so owned reads clone.
    Table,
}

fn node_code(a: &Analysis<'_>, n: usize, backend: Backend) -> TokenStream {
    let node = &a.nodes[n];
    let v = local(n + a.inputs.len());
    let runner = runner();
    let (function, key) = (&node.function, &node.key);
    let annotation = node.ty.map(|ty| quote!(: #ty));
    let check_span = node
        .binding
        .map_or_else(|| node.span_expr.span(), Spanned::span);
    // Every token of the check shares one span (the plan's hygiene, the user's place),
    // so rustc can point at the binding.
    let at = Span::mixed_site().located_at(check_span);
    let located = Ident::new(&v.to_string(), at);
    let send_check = quote_spanned!(at=> ::dask::__private::assert_send_sync(&#located););
    let boxed = quote!(::core::result::Result<_, ::dask::BoxError>);

    let run = match &node.kind {
        Kind::Call(call) => {
            let prelude = prelude(&node.reads, Site::Main, backend);
            let call = call_code(call, node, Site::Main, &[]);
            or_stop(quote! {
                #runner.task(#n, #function, #key, || -> #boxed { #prelude #call })
            })
        }
        Kind::Expr(expr) => {
            let prelude = prelude(&node.reads, Site::Main, backend);
            or_stop(quote! {
                #runner.task(#n, #function, #key, || -> #boxed {
                    #prelude
                    #[allow(unused_braces)]
                    let value = #expr;
                    ::core::result::Result::Ok(value)
                })
            })
        }
        Kind::List {
            pat,
            iter,
            body,
            call,
        } => {
            let prelude_iter = prelude(&node.reads, Site::Main, backend);
            let prelude_body = prelude(&node.reads, Site::ListBody, backend);
            let hidden = super::names::pattern_names(pat);
            let item = match call {
                Some(call) => call_code(call, node, Site::ListBody, &hidden),
                None => quote! {
                    #[allow(unused_braces)]
                    let value = #body;
                    ::core::result::Result::Ok(value)
                },
            };
            let map = or_stop(quote! {
                #runner.map(#n, #function, #key, #iter, |#pat| -> #boxed {
                    #prelude_body
                    #item
                })
            });
            quote! {
                {
                    #prelude_iter
                    #map
                }
            }
        }
    };
    quote! {
        let #v #annotation = #run;
        #send_check
    }
}

/// `expr` (a `Result<T, Stop>`) unwrapped, or the plan's body returns its `Stop`. Not
/// `?`: each `?` leaves rustc a `FromResidual` obligation on the body's not yet inferred
/// return type, and thousands of them made type checking a big plan superlinear.
fn or_stop(expr: TokenStream) -> TokenStream {
    let (value, stop) = (
        Ident::new("__value", Span::mixed_site()),
        Ident::new("__stop", Span::mixed_site()),
    );
    quote! {
        match #expr {
            ::core::result::Result::Ok(#value) => #value,
            ::core::result::Result::Err(#stop) => return ::core::result::Result::Err(#stop),
        }
    }
}

/// The reference through which the table backend reads value `v`.
fn reference(v: usize) -> Ident {
    format_ident!("__ref{}", v, span = Span::mixed_site())
}

/// Locals that give the node its inputs under the names the user wrote.
fn prelude(reads: &[Read], site: Site, backend: Backend) -> TokenStream {
    reads
        .iter()
        .filter(|r| r.site == site)
        .map(|r| {
            let ident = &r.ident;
            let value = match (backend, r.mode) {
                (Backend::Locals, Mode::Move) => {
                    let l = local(r.value);
                    quote!(#l)
                }
                (Backend::Locals, Mode::Borrow) => {
                    let l = local(r.value);
                    quote!(&#l)
                }
                (Backend::Locals, Mode::Clone) => {
                    let l = local(r.value);
                    quote_spanned!(ident.span()=> ::core::clone::Clone::clone(&#l))
                }
                (Backend::Table, Mode::Borrow) => {
                    let l = reference(r.value);
                    quote!(#l)
                }
                (Backend::Table, Mode::Move | Mode::Clone) => {
                    let l = reference(r.value);
                    quote_spanned!(ident.span()=> ::core::clone::Clone::clone(#l))
                }
            };
            quote! {
                #[allow(unused_variables)]
                let #ident = #value;
            }
        })
        .collect()
}

/// `path::__dask_task(args)`: the task body of a `#[delayed]` function, given plain
/// values. A `&name` argument of a borrowed value passes the borrow; a captured
/// variable passed whole is cloned (a plan runs many times).
fn call_code(call: &Call<'_>, node: &Node<'_>, site: Site, hidden: &[String]) -> TokenStream {
    let mut path = call.path.path.clone();
    let task_segment = match path.segments.last_mut() {
        Some(last) => syn::PathSegment {
            ident: Ident::new("__dask_task", last.ident.span()),
            arguments: std::mem::replace(&mut last.arguments, syn::PathArguments::None),
        },
        None => return quote!(),
    };
    path.segments.push(task_segment);
    let mode_of = |ident: &Ident| {
        node.reads
            .iter()
            .find(|r| r.site == site && r.ident == *ident)
            .map(|r| r.mode)
    };
    let args = call.args.iter().map(|arg| {
        // A task call nested in a `for` body's call runs inside the item's task (top-level
        // nested calls are nodes of their own, see `nested.rs`).
        let nested = match arg {
            Expr::Reference(r) if r.mutability.is_none() => {
                as_task_call(&r.expr).map(|inner| (inner, true))
            }
            other => as_task_call(other).map(|inner| (inner, false)),
        };
        if let Some((inner, borrowed)) = nested {
            let code = call_code(&inner, node, site, hidden);
            return if borrowed {
                quote!(&(#code?))
            } else {
                quote!((#code?))
            };
        }
        if let Expr::Reference(r) = arg
            && r.mutability.is_none()
            && let Expr::Path(p) = &*r.expr
            && let Some(ident) = p.path.get_ident()
            && mode_of(ident) == Some(Mode::Borrow)
        {
            return quote!(#ident);
        }
        if let Expr::Path(p) = arg
            && p.qself.is_none()
            && let Some(ident) = p.path.get_ident()
            && mode_of(ident).is_none()
            && !hidden.contains(&ident.to_string())
        {
            return quote_spanned!(ident.span()=> ::core::clone::Clone::clone(&#ident));
        }
        quote!(#arg)
    });
    quote!(#path(#(#args),*))
}

fn plan_info(a: &Analysis<'_>, deps: &[Vec<usize>], plan: &Schedule) -> TokenStream {
    let n_inputs = a.inputs.len();
    let names = a.nodes.iter().map(|n| &n.key);
    let functions = a.nodes.iter().map(|n| &n.function);
    let dependencies = deps.iter().map(|d| quote!(&[#(#d),*]));
    let inputs = a.inputs.iter().map(|p| p.ident.to_string());
    let outputs: Vec<usize> = a
        .outputs
        .iter()
        .filter(|&&v| v >= n_inputs)
        .map(|&v| v - n_inputs)
        .collect();
    let critical = critical_path_len(deps);
    let exact = is_exact(deps, plan);
    let dot = dot(a, deps);
    quote! {
        ::dask::__private::PlanInfo {
            names: &[#(#names),*],
            functions: &[#(#functions),*],
            dependencies: &[#(#dependencies),*],
            inputs: &[#(#inputs),*],
            outputs: &[#(#outputs),*],
            critical_path_len: #critical,
            exact: #exact,
            dot: #dot,
        }
    }
}

/// The plan in DOT, Dask's style: tasks as ellipses, inputs as boxes, bottom to top.
fn dot(a: &Analysis<'_>, deps: &[Vec<usize>]) -> String {
    let n_inputs = a.inputs.len();
    let mut out = String::from("digraph plan {\n  rankdir=BT;\n  node [fontname=\"Helvetica\"];\n");
    for (i, p) in a.inputs.iter().enumerate() {
        out.push_str(&format!("  i{i} [label=\"{}\", shape=box];\n", p.ident));
    }
    for (i, n) in a.nodes.iter().enumerate() {
        out.push_str(&format!(
            "  n{i} [label=\"{} = {}\", shape=ellipse];\n",
            n.key, n.function
        ));
    }
    for (i, n) in a.nodes.iter().enumerate() {
        for &d in &n.deps {
            if d < n_inputs {
                out.push_str(&format!("  i{d} -> n{i};\n"));
            }
        }
        for d in &deps[i] {
            out.push_str(&format!("  n{d} -> n{i};\n"));
        }
    }
    out.push('}');
    out.push('\n');
    out
}

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
    let stages = Stages::new(a);
    let chained = a.chained_deps(&stages.next);
    let plan = schedule(&chained, &a.targets(), &BTreeSet::new());
    let exact = is_exact(&chained, &plan);
    let info = plan_info(a, &deps, exact);
    let body = if exact {
        schedule_code(a, &stages, &plan, &mut 0)
    } else {
        table_code(a, &stages)
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
    let prepare = prepare_captured(a);
    let closure_body = quote! {
        #prepare
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

/// How the plan's `for` stages chain (see [`Analysis::next_stage`]).
struct Stages {
    /// The stage that takes node `k`'s list item by item.
    next: Vec<Option<usize>>,
    /// The stage whose list node `k` takes item by item.
    previous: Vec<Option<usize>>,
}

impl Stages {
    fn new(a: &Analysis<'_>) -> Self {
        let next = a.next_stage();
        let mut previous = vec![None; next.len()];
        for (k, after) in next.iter().enumerate() {
            if let Some(after) = after {
                previous[*after] = Some(k);
            }
        }
        Stages { next, previous }
    }

    /// The stages the node at the end of a chain runs, first first.
    fn chain(&self, last: usize) -> Vec<usize> {
        let mut chain = vec![last];
        while let Some(before) = self.previous[chain[chain.len() - 1]] {
            chain.push(before);
        }
        chain.reverse();
        chain
    }
}

/// The code that runs `s`; `forks` numbers the forks written so far, so that a fork
/// nested in a branch names its slots apart from the fork around it.
fn schedule_code(
    a: &Analysis<'_>,
    stages: &Stages,
    s: &Schedule,
    forks: &mut usize,
) -> TokenStream {
    match s {
        Schedule::Run(n) => node_code(a, stages, *n, Backend::Locals),
        Schedule::Seq(steps) => steps
            .iter()
            .map(|step| schedule_code(a, stages, step, forks))
            .collect(),
        Schedule::Par(branches) => {
            let fork = *forks;
            *forks += 1;
            let n_inputs = a.inputs.len();
            let runner = runner();
            let index = Ident::new("__i", Span::mixed_site());
            // One `let` each for the slots, the consumed values and the unpacking, not
            // one a branch: each `let` opens a scope to the end of the body, and LLVM
            // walks nested scopes recursively when it writes debug info (a 2,000-branch
            // fork overflowed its stack).
            let (mut outs, mut inputs, mut moved_values) = (Vec::new(), Vec::new(), Vec::new());
            let (mut arms, mut exported_patterns, mut unpacked) =
                (Vec::new(), Vec::new(), Vec::new());
            for (i, (exports, branch)) in branches.iter().enumerate() {
                let out = format_ident!("__out{}_{}", fork, i, span = Span::mixed_site());
                let code = schedule_code(a, stages, branch, forks);
                let exported: Vec<Ident> = exports.iter().map(|&n| local(n + n_inputs)).collect();
                let moved: Vec<Ident> = moved_into(a, stages, branch)
                    .into_iter()
                    .map(local)
                    .collect();
                let take = if moved.is_empty() {
                    quote!()
                } else {
                    let input = format_ident!("__in{}_{}", fork, i, span = Span::mixed_site());
                    inputs.push(input.clone());
                    moved_values.push(quote!(::dask::__private::Slot::full((#(#moved,)*))));
                    quote!(let (#(#moved,)*) = #input.take();)
                };
                arms.push(quote! {
                    #i => {
                        #take
                        #code
                        #out.set((#(#exported,)*));
                    }
                });
                exported_patterns.push(quote!((#(#exported,)*)));
                unpacked.push(quote! {
                    match #out.into_inner() {
                        ::core::option::Option::Some(__values) => __values,
                        ::core::option::Option::None => {
                            return ::core::result::Result::Err(::dask::__private::Stop)
                        }
                    }
                });
                outs.push(out);
            }
            let n = branches.len();
            let new_slots = outs.iter().map(|_| quote!(::dask::__private::Slot::new()));
            quote! {
                let (#(#outs,)*) = (#(#new_slots,)*);
                let (#(#inputs,)*) = (#(#moved_values,)*);
                #runner.join_each(#n, &|#index: usize| {
                    match #index {
                        #(#arms)*
                        _ => {}
                    }
                    ::core::result::Result::Ok(())
                });
                let (#(#exported_patterns,)*) = (#(#unpacked,)*);
            }
        }
    }
}

/// The values defined outside `s` that its nodes consume (read by move): a branch of a
/// fork takes them out of a `Slot`, as the fork's closure is shared by all its
/// branches.
fn moved_into(a: &Analysis<'_>, stages: &Stages, s: &Schedule) -> BTreeSet<usize> {
    fn walk(s: &Schedule, out: &mut Vec<usize>) {
        match s {
            Schedule::Run(n) => out.push(*n),
            Schedule::Seq(steps) => steps.iter().for_each(|step| walk(step, out)),
            Schedule::Par(branches) => branches.iter().for_each(|(_, b)| walk(b, out)),
        }
    }
    let n_inputs = a.inputs.len();
    let mut run = Vec::new();
    walk(s, &mut run);
    let mut inside = BTreeSet::new();
    let mut readers = Vec::new();
    for &n in &run {
        for stage in stages.chain(n) {
            inside.insert(stage + n_inputs);
            readers.push(stage);
        }
    }
    readers
        .iter()
        .flat_map(|&k| &a.nodes[k].reads)
        .filter(|r| r.mode == Mode::Move && !inside.contains(&r.value))
        .map(|r| r.value)
        .collect()
}

/// The table backend: a `OnceLock` a node, a function that runs node `i` (reading its
/// inputs from the slots), and `Runner::table` to run them all; then the values the
/// plan returns or leaves unused, taken out of their slots.
fn table_code(a: &Analysis<'_>, stages: &Stages) -> TokenStream {
    let n_inputs = a.inputs.len();
    let runner = runner();
    let slots = Ident::new("__slots", Span::mixed_site());
    let run = Ident::new("__run", Span::mixed_site());
    let index_var = Ident::new("__i", Span::mixed_site());
    let inits = a.nodes.iter().map(|_| quote!(::std::sync::OnceLock::new()));
    let arms = (0..a.nodes.len()).map(|k| {
        let index = syn::Index::from(k);
        let v = local(k + n_inputs);
        // The end of a chain of stages reads what every stage of it reads.
        let mut reads: Vec<usize> = Vec::new();
        for stage in stages.chain(k) {
            for &d in &a.nodes[stage].deps {
                if !reads.contains(&d) {
                    reads.push(d);
                }
            }
        }
        let refs = reads.iter().map(|&d| {
            let r = reference(d);
            if d < n_inputs {
                let l = local(d);
                quote!(let #r = &#l;)
            } else {
                let slot = syn::Index::from(d - n_inputs);
                quote!(let #r = #slots.#slot.get().ok_or(::dask::__private::Stop)?;)
            }
        });
        let code = node_code(a, stages, k, Backend::Table);
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

fn node_code(a: &Analysis<'_>, stages: &Stages, n: usize, backend: Backend) -> TokenStream {
    let node = &a.nodes[n];
    let v = local(n + a.inputs.len());
    let annotation = node.ty.map(|ty| quote!(: #ty));
    let check_span = node
        .binding
        .map_or_else(|| node.span_expr.span(), Spanned::span);
    // Every token of the check shares one span (the plan's hygiene, the user's place),
    // so rustc can point at the binding.
    let at = Span::mixed_site().located_at(check_span);
    let mut located = v.clone();
    located.set_span(at);
    let send_check = quote_spanned!(at=> ::dask::__private::assert_send_sync(&#located););

    let run = match &node.kind {
        Kind::Call(call) => {
            let prelude = prelude(&node.reads, Site::Main, backend);
            let call = call_code(call, node, Site::Main, &[]);
            task_code(node, n, backend, quote!(#prelude #call))
        }
        Kind::Expr(expr) => {
            let prelude = prelude(&node.reads, Site::Main, backend);
            task_code(
                node,
                n,
                backend,
                quote! {
                    #prelude
                    #[allow(unused_braces)]
                    let value = #expr;
                    ::core::result::Result::<_, ::dask::BoxError>::Ok(value)
                },
            )
        }
        // A stage whose list the next stage takes item by item: run by that stage.
        Kind::List { .. } if stages.next[n].is_some() => quote!(()),
        Kind::List { .. } => stages_code(a, &stages.chain(n), backend),
    };
    quote! {
        let #v #annotation = #run;
        #send_check
    }
}

/// Node `n` run as one task by `Runner::task_dyn`: `body` (which evaluates to a
/// `Result<_, BoxError>`) in a closure passed as `&mut dyn FnMut`, its value kept in a
/// local. Values the body consumes wait in an `Option` it takes them from, as an
/// `FnMut` closure cannot move what it captures. One closure a node and no more:
/// not a closure passed to a generic `task` (rustc would instantiate the task
/// machinery once a node, and keep an obligation a closure pending until the end of
/// the plan's body), and no closure inside it (with incremental compilation, rustc
/// 1.95 hashes the plan's whole type-check results once a closure).
fn task_code(node: &Node<'_>, n: usize, backend: Backend, body: TokenStream) -> TokenStream {
    let runner = runner();
    let (function, key) = (&node.function, &node.key);
    let [moved_slot, out, ran] =
        ["__moved", "__out", "__ran"].map(|name| Ident::new(name, Span::mixed_site()));
    let mut moved: Vec<usize> = Vec::new();
    if backend == Backend::Locals {
        for r in &node.reads {
            if r.site == Site::Main && r.mode == Mode::Move && !moved.contains(&r.value) {
                moved.push(r.value);
            }
        }
    }
    let moved: Vec<Ident> = moved.into_iter().map(local).collect();
    let (hold, take) = if moved.is_empty() {
        (quote!(), quote!())
    } else {
        (
            quote!(let mut #moved_slot = ::core::option::Option::Some((#(#moved,)*));),
            quote!(let (#(#moved,)*) = ::dask::__private::take_once(&mut #moved_slot);),
        )
    };
    quote! {
        {
            #hold
            let mut #out = ::core::option::Option::None;
            let #ran = #runner.task_dyn(#n, #function, #key, &mut || {
                #take
                #out = ::core::option::Option::Some({ #body }?);
                ::core::result::Result::Ok(())
            });
            match (#ran, #out) {
                (::core::result::Result::Ok(()), ::core::option::Option::Some(__value)) => __value,
                _ => return ::core::result::Result::Err(::dask::__private::Stop),
            }
        }
    }
}

/// A chain of `for` stages as one `Runner::map`: each item goes through every stage,
/// one task a stage (`Runner::item`), so an item's next task starts as soon as its own
/// previous one is done.
fn stages_code(a: &Analysis<'_>, chain: &[usize], backend: Backend) -> TokenStream {
    let runner = runner();
    let (index, item) = (
        Ident::new("__i", Span::mixed_site()),
        Ident::new("__item", Span::mixed_site()),
    );
    let boxed = quote!(::core::result::Result<_, ::dask::BoxError>);
    let mut steps = Vec::new();
    let mut head = None;
    for &stage in chain {
        let node = &a.nodes[stage];
        let Kind::List {
            pat,
            iter,
            body,
            call,
        } = &node.kind
        else {
            continue;
        };
        if head.is_none() {
            head = Some((prelude(&node.reads, Site::Main, backend), *iter));
        }
        let prelude_body = prelude(&node.reads, Site::ListBody, backend);
        let hidden = super::names::pattern_names(pat);
        let code = match call {
            Some(call) => call_code(call, node, Site::ListBody, &hidden),
            None => quote! {
                #[allow(unused_braces)]
                let value = #body;
                ::core::result::Result::Ok(value)
            },
        };
        let run = or_stop(quote! {
            #runner.item(#stage, #index, #item, |#pat| -> #boxed {
                #prelude_body
                #code
            })
        });
        steps.push(quote!(let #item = #run;));
    }
    let Some((prelude_iter, iter)) = head else {
        return quote!();
    };
    let map = or_stop(quote! {
        #runner.map(&[#(#chain),*], #iter, |#index: usize, #item| {
            #(#steps)*
            ::core::result::Result::<_, ::dask::__private::Stop>::Ok(#item)
        })
    });
    quote! {
        {
            #prelude_iter
            #map
        }
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
            // A clone's tokens all sit at the reader's place, with the plan's hygiene (one
            // context, so rustc does not widen the span to the macro): a missing `Clone`
            // points at the reader.
            let at = Span::mixed_site().located_at(ident.span());
            let placed = |mut l: Ident| {
                l.set_span(at);
                l
            };
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
                    let l = placed(local(r.value));
                    quote_spanned!(at=> ::dask::__private::SharedValue::clone_for_reader(&#l))
                }
                (Backend::Table, Mode::Borrow) => {
                    let l = reference(r.value);
                    quote!(#l)
                }
                (Backend::Table, Mode::Clone) => {
                    let l = placed(reference(r.value));
                    quote_spanned!(at=> ::dask::__private::SharedValue::clone_for_reader(#l))
                }
                // A table plan keeps each value in a slot: even its only reader clones it.
                (Backend::Table, Mode::Move) => {
                    let l = placed(reference(r.value));
                    quote_spanned!(at=> ::core::clone::Clone::clone(#l))
                }
            };
            quote! {
                #[allow(unused_variables)]
                let #ident = #value;
            }
        })
        .collect()
}

/// What a task call's argument is, for the code that passes it.
enum Arg<'e> {
    /// A task call nested in a `for` body's call (or `&` of one): runs inside the
    /// item's task (top-level nested calls are nodes of their own, see `nested.rs`).
    Nested(Call<'e>, bool),
    /// `&name` of a plan value the node borrows: the prelude's local is the reference.
    Borrowed(&'e Ident),
    /// A variable the plan captured, passed whole or (`true`) as `&name`.
    Captured(&'e Ident, bool),
    /// Anything else, passed as written.
    Other,
}

fn classify<'e>(arg: &'e Expr, node: &Node<'_>, site: Site, hidden: &[String]) -> Arg<'e> {
    let mode_of = |ident: &Ident| {
        node.reads
            .iter()
            .find(|r| r.site == site && r.ident == *ident)
            .map(|r| r.mode)
    };
    let plain = |expr: &'e Expr| match expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        _ => None,
    };
    let captured = |ident: &Ident| mode_of(ident).is_none() && !hidden.contains(&ident.to_string());
    match arg {
        Expr::Reference(r) if r.mutability.is_none() => {
            if let Some(inner) = as_task_call(&r.expr) {
                return Arg::Nested(inner, true);
            }
            match plain(&r.expr) {
                Some(ident) if mode_of(ident) == Some(Mode::Borrow) => Arg::Borrowed(ident),
                Some(ident) if captured(ident) => Arg::Captured(ident, true),
                _ => Arg::Other,
            }
        }
        other => {
            if let Some(inner) = as_task_call(other) {
                return Arg::Nested(inner, false);
            }
            match plain(other) {
                Some(ident) if captured(ident) => Arg::Captured(ident, false),
                _ => Arg::Other,
            }
        }
    }
}

/// The local holding captured variable `ident`, prepared for the run.
fn prepared(ident: &Ident) -> Ident {
    let name = ident.to_string();
    format_ident!(
        "__cap_{}",
        name.trim_start_matches("r#"),
        span = Span::mixed_site()
    )
}

/// The variables the plan captured and passes to task calls, each once, in order.
fn captured_args<'e>(a: &'e Analysis<'_>) -> Vec<&'e Ident> {
    fn walk<'e>(
        call: &Call<'e>,
        node: &Node<'_>,
        site: Site,
        hidden: &[String],
        out: &mut Vec<&'e Ident>,
    ) {
        for arg in &call.args {
            match classify(arg, node, site, hidden) {
                Arg::Nested(inner, _) => walk(&inner, node, site, hidden, out),
                Arg::Captured(ident, _) if !out.contains(&ident) => out.push(ident),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for node in &a.nodes {
        match &node.kind {
            Kind::Call(call) => walk(call, node, Site::Main, &[], &mut out),
            Kind::List {
                pat,
                call: Some(call),
                ..
            } => {
                let hidden = super::names::pattern_names(pat);
                walk(call, node, Site::ListBody, &hidden, &mut out);
            }
            _ => {}
        }
    }
    out
}

/// Before the plan's first task: each captured variable its task calls read, lent, or
/// computed when it is a `Delayed` (a dynamic input of the plan).
fn prepare_captured(a: &Analysis<'_>) -> TokenStream {
    let runner = runner();
    captured_args(a)
        .into_iter()
        .map(|ident| {
            let local = prepared(ident);
            let value = or_stop(quote_spanned! {ident.span()=>
                {
                    #[allow(unused_imports)]
                    use ::dask::__private::{PrepareLazy as _, PrepareValue as _};
                    (&::dask::__private::Captured(&#ident)).__dask_prepare(#runner)
                }
            });
            quote!(let #local = #value;)
        })
        .collect()
}

/// `path::__dask_task(args)`: the task body of a `#[delayed]` function, given plain
/// values. A `&name` argument of a borrowed value passes the borrow; a captured
/// variable passed whole is cloned (a plan runs many times), a captured `Delayed`
/// passes its value (see `prepare_captured`).
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
    let args = call
        .args
        .iter()
        .map(|arg| match classify(arg, node, site, hidden) {
            Arg::Nested(inner, borrowed) => {
                let code = call_code(&inner, node, site, hidden);
                if borrowed {
                    quote!(&(#code?))
                } else {
                    quote!((#code?))
                }
            }
            Arg::Borrowed(ident) => quote!(#ident),
            Arg::Captured(ident, true) => {
                let local = prepared(ident);
                quote_spanned!(ident.span()=> &*#local)
            }
            Arg::Captured(ident, false) => {
                let local = prepared(ident);
                quote_spanned!(ident.span()=> ::core::clone::Clone::clone(&*#local))
            }
            Arg::Other => quote!(#arg),
        });
    quote!(#path(#(#args),*))
}

fn plan_info(a: &Analysis<'_>, deps: &[Vec<usize>], exact: bool) -> TokenStream {
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

//! Nested task calls as bindings of their own, before the analysis: `let y = f(g(x), 2);`
//! is read as `let y_g = g(x); let y = f(y_g, 2);`, so each call is one node, as in
//! Dask's `delayed` (`f(g(x))` there is two tasks). The same holds for the output
//! (`f(g(x))` as the block's last line, or inside an output tuple), for `&g(x)`
//! arguments, which the outer call then borrows, and for task calls among the operands
//! of any other expression (`inc(a) + 1`). Calls are recognised as everywhere in
//! `graph!`: a call of a lowercase path is a task; an ordinary function goes in a block
//! (`f({ max(a, b) })`). `for` bodies are not rewritten: there a nested call runs inside
//! the item's task (`expand::call_code`).

use super::analyze::as_task_call;
use super::ast::GraphInput;
use proc_macro2::{Ident, TokenStream, TokenTree};
use std::collections::HashSet;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt};

pub(crate) fn flatten(input: &mut GraphInput) {
    let mut taken = HashSet::new();
    for stmt in &input.stmts {
        idents(quote::quote!(#stmt), &mut taken);
    }
    for p in input.params.iter().flatten() {
        taken.insert(p.ident.unraw().to_string());
    }
    let last = input.stmts.len().saturating_sub(1);
    let mut out = Vec::with_capacity(input.stmts.len());
    for (i, mut stmt) in std::mem::take(&mut input.stmts).into_iter().enumerate() {
        match &mut stmt {
            Stmt::Local(local) => {
                let base = match &local.pat {
                    Pat::Ident(p) => Some(p.ident.unraw().to_string()),
                    Pat::Type(t) => match &*t.pat {
                        Pat::Ident(p) => Some(p.ident.unraw().to_string()),
                        _ => None,
                    },
                    _ => None,
                };
                if let (Some(base), Some(init)) = (base, local.init.as_mut()) {
                    lift_within(&mut init.expr, &base, &mut taken, &mut out);
                }
            }
            Stmt::Expr(expr, None) if i == last => match expr {
                Expr::Tuple(t) => {
                    for (k, element) in t.elems.iter_mut().enumerate() {
                        lift_within(element, &format!("output{k}"), &mut taken, &mut out);
                    }
                }
                other => lift_within(other, "output", &mut taken, &mut out),
            },
            _ => {}
        }
        out.push(stmt);
    }
    input.stmts = out;
}

/// The task calls of a binding's expression, each bound first to a fresh name: the
/// arguments of a task call (see [`lift_args`]), or the calls inside any other
/// expression (`inc(a) + 1`, `x.max(inc(y))`, `Some(inc(a))`) as in Dask's `delayed`.
/// Blocks, closures, loops, `if`/`match` and macros are not entered: what they hold
/// runs as written, and may use names bound inside them.
fn lift_within(expr: &mut Expr, base: &str, taken: &mut HashSet<String>, out: &mut Vec<Stmt>) {
    if as_task_call(expr).is_some() {
        lift_args(expr, base, taken, out);
    } else {
        lift_inside(expr, base, taken, out);
    }
}

/// Binds every task call among the operands of `expr` (not `expr` itself).
fn lift_inside(expr: &mut Expr, base: &str, taken: &mut HashSet<String>, out: &mut Vec<Stmt>) {
    let mut lift = |e: &mut Expr| lift_operand(e, base, taken, out);
    match expr {
        Expr::Binary(b) => {
            lift(&mut b.left);
            lift(&mut b.right);
        }
        Expr::Unary(u) => lift(&mut u.expr),
        Expr::MethodCall(m) => {
            lift(&mut m.receiver);
            m.args.iter_mut().for_each(lift);
        }
        Expr::Call(c) => c.args.iter_mut().for_each(lift),
        Expr::Paren(p) => lift(&mut p.expr),
        Expr::Tuple(t) => t.elems.iter_mut().for_each(lift),
        Expr::Array(a) => a.elems.iter_mut().for_each(lift),
        Expr::Cast(c) => lift(&mut c.expr),
        Expr::Field(f) => lift(&mut f.base),
        Expr::Index(i) => {
            lift(&mut i.expr);
            lift(&mut i.index);
        }
        Expr::Reference(r) => lift(&mut r.expr),
        Expr::Struct(s) => s.fields.iter_mut().for_each(|f| lift(&mut f.expr)),
        Expr::Range(r) => {
            if let Some(start) = &mut r.start {
                lift(start);
            }
            if let Some(end) = &mut r.end {
                lift(end);
            }
        }
        _ => {}
    }
}

/// An operand: a task call there becomes a binding of its own (its own nested calls
/// first); anything else is searched for task calls in turn.
fn lift_operand(slot: &mut Expr, base: &str, taken: &mut HashSet<String>, out: &mut Vec<Stmt>) {
    if as_task_call(slot).is_some() {
        bind_call(slot, base, taken, out);
    } else {
        lift_inside(slot, base, taken, out);
    }
}

/// If `expr` is a task call, binds each argument that is itself a task call (or `&` of
/// one) to a fresh name, innermost first, and passes the name instead.
fn lift_args(expr: &mut Expr, base: &str, taken: &mut HashSet<String>, out: &mut Vec<Stmt>) {
    if as_task_call(expr).is_none() {
        return;
    }
    let Expr::Call(call) = expr else { return };
    for arg in call.args.iter_mut() {
        let slot = match arg {
            Expr::Reference(r) if r.mutability.is_none() => &mut *r.expr,
            other => other,
        };
        if as_task_call(slot).is_some() {
            bind_call(slot, base, taken, out);
        }
    }
}

/// Binds the task call in `slot` (its nested calls first) to a fresh name made from
/// `base` and its function, and leaves the name in its place.
fn bind_call(slot: &mut Expr, base: &str, taken: &mut HashSet<String>, out: &mut Vec<Stmt>) {
    let function = as_task_call(slot)
        .and_then(|call| {
            call.path
                .path
                .segments
                .last()
                .map(|s| s.ident.unraw().to_string())
        })
        .unwrap_or_else(|| "call".to_owned());
    lift_args(slot, base, taken, out);
    let ident = fresh(&format!("{base}_{function}"), taken, slot.span());
    let nested = std::mem::replace(slot, syn::parse_quote!(#ident));
    out.push(syn::parse_quote!(let #ident = #nested;));
}

/// `name`, or `name_2`, `name_3`, ...: the first not written anywhere in the block.
/// Names are compared without `r#` (`r#y_inc` is `y_inc`).
fn fresh(name: &str, taken: &mut HashSet<String>, span: proc_macro2::Span) -> Ident {
    let mut candidate = name.to_owned();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{name}_{n}");
    }
    taken.insert(candidate.clone());
    Ident::new(&candidate, span)
}

/// Every identifier in `tokens`, at any depth.
fn idents(tokens: TokenStream, into: &mut HashSet<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(i) => {
                into.insert(i.unraw().to_string());
            }
            TokenTree::Group(g) => idents(g.stream(), into),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn flattened(block: &str) -> String {
        let mut input = super::super::ast::parse(TokenStream::from_str(block).unwrap()).unwrap();
        flatten(&mut input);
        let stmts = &input.stmts;
        quote::quote!(#(#stmts)*).to_string()
    }

    #[test]
    fn nested_calls_become_bindings_innermost_first() {
        assert_eq!(
            flattened("let y = add(inc(x), inc(double(z))); y"),
            flattened(
                "let y_inc = inc(x); let y_double = double(z); let y_inc_2 = inc(y_double); \
                 let y = add(y_inc, y_inc_2); y"
            )
        );
    }

    #[test]
    fn outputs_borrows_and_taken_names() {
        // `y_inc` is the user's: the fresh name steps past it.
        assert_eq!(
            flattened("let y_inc = inc(1); let y = add(inc(y_inc), 2); y"),
            flattened("let y_inc = inc(1); let y_inc_2 = inc(y_inc); let y = add(y_inc_2, 2); y")
        );
        assert_eq!(
            flattened("let a = inc(1); (f(&inc(a)), g(2))"),
            flattened("let a = inc(1); let output0_inc = inc(a); (f(&output0_inc), g(2))")
        );
        assert_eq!(
            flattened("let a = inc(1); add(inc(a), 1)"),
            flattened("let a = inc(1); let output_inc = inc(a); add(output_inc, 1)")
        );
    }

    #[test]
    fn task_calls_inside_expressions_become_bindings() {
        assert_eq!(
            flattened("let z = inc(a) + 1; z"),
            flattened("let z_inc = inc(a); let z = z_inc + 1; z")
        );
        assert_eq!(
            flattened("let s = x.max(inc(add(y, double(y)))); s"),
            flattened(
                "let s_double = double(y); let s_add = add(y, s_double); let s_inc = inc(s_add); \
                 let s = x.max(s_inc); s"
            )
        );
        assert_eq!(
            flattened("let a = inc(1); (Some(inc(a)), -inc(a) as f64)"),
            flattened(
                "let a = inc(1); let output0_inc = inc(a); let output1_inc = inc(a); \
                 (Some(output0_inc), -output1_inc as f64)"
            )
        );
    }

    #[test]
    fn raw_identifiers_make_plain_names() {
        // `r#type` and `r#match` give `type_match`; a user's `r#type_match` is taken.
        assert_eq!(
            flattened("let r#type = add(r#match(1), 2); r#type"),
            flattened("let type_match = r#match(1); let r#type = add(type_match, 2); r#type")
        );
        assert_eq!(
            flattened("let r#y_inc = inc(1); let y = add(inc(r#y_inc), 2); y"),
            flattened(
                "let r#y_inc = inc(1); let y_inc_2 = inc(r#y_inc); let y = add(y_inc_2, 2); y"
            )
        );
    }

    #[test]
    fn plain_calls_blocks_and_for_bodies_stay() {
        for block in [
            "let y = add(Some(1), { max(a, b) }); y",
            "let v = Vec::new(); v",
            "let zs = for i in xs { inc(inc(i)) }; zs",
            "let s = { x.max(inc(y)) }; s",
            "let s = if a > 0 { inc(a) } else { 0 }; s",
            "let s = match a { Some(v) => inc(v), None => 0 }; s",
            "let s = xs.iter().map(|v| inc(*v)).count(); s",
            "let s = format!(\"{}\", inc(a)); s",
        ] {
            let input = super::super::ast::parse(TokenStream::from_str(block).unwrap()).unwrap();
            let stmts = &input.stmts;
            assert_eq!(
                flattened(block),
                quote::quote!(#(#stmts)*).to_string(),
                "{block}"
            );
        }
    }
}

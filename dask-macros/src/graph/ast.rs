//! The block `graph!` is given, read into bindings and an output, with every form a
//! plan cannot hold reported on its own token.

use crate::ctxt::Ctxt;
use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Pat, Stmt, Token, Type};

/// `graph! { let x = ...; ...; output }` or `graph!(|a: A, b: B| { ... })`.
pub(crate) struct GraphInput {
    /// `Some` for the form with inputs (`graph!(|a: A| { ... })`).
    pub(crate) params: Option<Vec<Param>>,
    pub(crate) stmts: Vec<Stmt>,
    /// Where to point errors about the block as a whole.
    pub(crate) span: Span,
}

pub(crate) struct Param {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
}

impl Parse for GraphInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let span = input.span();
        if input.peek(Token![||]) {
            input.parse::<Token![||]>()?;
            let content;
            syn::braced!(content in input);
            return Ok(GraphInput {
                params: Some(Vec::new()),
                stmts: content.call(syn::Block::parse_within)?,
                span,
            });
        }
        if input.peek(Token![|]) {
            input.parse::<Token![|]>()?;
            let mut params = Vec::new();
            while !input.peek(Token![|]) {
                let pat = Pat::parse_single(input)?;
                let ident = match pat {
                    Pat::Ident(p)
                        if p.by_ref.is_none() && p.subpat.is_none() && p.mutability.is_none() =>
                    {
                        p.ident
                    }
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "a plan input is a plain name (`|a: A|`), not a pattern; \
                             destructure it in a binding",
                        ));
                    }
                };
                if !input.peek(Token![:]) {
                    return Err(input.error("a plan input needs its type: `|name: Type|`"));
                }
                input.parse::<Token![:]>()?;
                params.push(Param {
                    ident,
                    ty: input.parse()?,
                });
                if !input.peek(Token![|]) {
                    input.parse::<Token![,]>()?;
                }
            }
            input.parse::<Token![|]>()?;
            let content;
            syn::braced!(content in input);
            return Ok(GraphInput {
                params: Some(params),
                stmts: content.call(syn::Block::parse_within)?,
                span,
            });
        }
        Ok(GraphInput {
            params: None,
            stmts: syn::Block::parse_within(input)?,
            span,
        })
    }
}

/// One `let NAME = EXPR;`.
pub(crate) struct Binding<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: Option<&'a Type>,
    pub(crate) expr: &'a Expr,
}

/// The block split into its bindings and its final expression.
pub(crate) struct Block<'a> {
    pub(crate) bindings: Vec<Binding<'a>>,
    pub(crate) output: &'a Expr,
}

impl GraphInput {
    pub(crate) fn block(&self) -> syn::Result<Block<'_>> {
        let mut cx = Ctxt::default();
        let mut bindings = Vec::new();
        let mut output = None;
        let last = self.stmts.len().saturating_sub(1);
        for (i, stmt) in self.stmts.iter().enumerate() {
            match stmt {
                Stmt::Local(local) => {
                    if let Some(b) = binding(&mut cx, local) {
                        bindings.push(b);
                    }
                    if i == last {
                        cx.error_spanned_by(
                            local.semi_token,
                            "a graph! block ends with its output: the name (or a tuple of \
                             names, or an expression) the plan computes, without `;`",
                        );
                    }
                }
                Stmt::Expr(expr, None) if i == last => output = Some(expr),
                // With its `;`: a lone `;` is an empty expression with no token of its own.
                Stmt::Expr(expr, semi) => cx.error_spanned_by(
                    quote::quote!(#expr #semi),
                    "a graph! block holds `let` bindings and a final output expression; \
                     bind this to a name: `let name = ...;`",
                ),
                Stmt::Item(item) => cx.error_spanned_by(
                    item,
                    "items cannot be declared inside graph!; declare them outside the plan",
                ),
                Stmt::Macro(mac) => cx.error_spanned_by(
                    &mac.mac,
                    "a graph! block holds `let` bindings and a final output expression; \
                     bind this to a name: `let name = ...;`",
                ),
            }
        }
        if self.stmts.is_empty() {
            cx.push(syn::Error::new(
                self.span,
                "an empty graph! block: write bindings `let x = f(..);` and end with the output, \
                 e.g. `graph! { let x = inc(1); x }`",
            ));
        }
        cx.check()?;
        match output {
            Some(output) => Ok(Block { bindings, output }),
            None => Err(syn::Error::new(self.span, "a graph! block needs an output")),
        }
    }
}

fn binding<'a>(cx: &mut Ctxt, local: &'a syn::Local) -> Option<Binding<'a>> {
    let (pat, ty) = match &local.pat {
        Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
        other => (other, None),
    };
    let ident = match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() && p.mutability.is_none() => {
            Some(&p.ident)
        }
        Pat::Ident(p) if p.mutability.is_some() => {
            cx.error_spanned_by(
                p.mutability,
                "a plan's bindings are values passed between tasks: remove `mut`",
            );
            None
        }
        other => {
            cx.error_spanned_by(
                other,
                "a plan binding is a plain name (`let x = ...;`); to split a tuple, bind it \
                 and take its fields in later bindings (`let a = pair.0;`)",
            );
            None
        }
    };
    let init = match &local.init {
        Some(init) => {
            if let Some((else_token, _)) = &init.diverge {
                cx.error_spanned_by(else_token, "`let ... else` has no place in a plan");
            }
            Some(&*init.expr)
        }
        None => {
            cx.error_spanned_by(&local.pat, "a plan binding needs a value: `let x = f(..);`");
            None
        }
    };
    Some(Binding {
        ident: ident?,
        ty,
        expr: init?,
    })
}

/// Parses the macro input; a parse error keeps syn's message and span.
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<GraphInput> {
    syn::parse2(tokens)
}

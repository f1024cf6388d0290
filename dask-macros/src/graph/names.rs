//! The free names of an expression: identifiers that refer to something outside it,
//! with Rust's scoping (closure parameters, `let`s in blocks, loop and match patterns
//! hide outer names). Macro arguments are scanned token by token, format strings for
//! inline `{name}` arguments, since a macro's input is not an expression syn can walk.

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Expr, Ident, Pat};

/// Every identifier in `expr` that is not bound inside it, in order of appearance.
pub(crate) fn free_names(expr: &Expr) -> Vec<Ident> {
    let mut v = FreeNames::default();
    v.visit_expr(expr);
    v.found
}

/// Free names of a block body (the body of a list binding), with `hidden` (the loop
/// pattern's names) bound around it.
pub(crate) fn free_names_in_block(block: &syn::Block, hidden: Vec<String>) -> Vec<Ident> {
    let mut v = FreeNames {
        scopes: vec![hidden],
        found: Vec::new(),
    };
    v.visit_block(block);
    v.found
}

/// The names a pattern binds.
pub(crate) fn pattern_names(pat: &Pat) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            visit::visit_pat_ident(self, p);
        }
        // A guard is an expression, not part of what the pattern binds.
        fn visit_pat_guard(&mut self, g: &'ast syn::PatGuard) {
            self.visit_pat(&g.pat);
        }
    }
    let mut names = Names(Vec::new());
    names.visit_pat(pat);
    names.0
}

#[derive(Default)]
struct FreeNames {
    scopes: Vec<Vec<String>>,
    found: Vec<Ident>,
}

impl FreeNames {
    fn is_bound(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.iter().any(|n| n == name))
    }

    fn note(&mut self, ident: &Ident) {
        if !self.is_bound(&ident.to_string()) {
            self.found.push(ident.clone());
        }
    }

    fn bind(&mut self, names: Vec<String>) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.extend(names);
        } else {
            self.scopes.push(names);
        }
    }

    fn scan_tokens(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) => self.note(&ident),
                TokenTree::Group(group) => self.scan_tokens(group.stream()),
                TokenTree::Literal(lit) => {
                    for ident in format_arguments(&lit.to_string()) {
                        self.note(&Ident::new(&ident, lit.span()));
                    }
                }
                TokenTree::Punct(_) => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for FreeNames {
    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        let path = &e.path;
        if e.qself.is_none()
            && path.leading_colon.is_none()
            && path.segments.len() == 1
            && path.segments[0].arguments.is_none()
        {
            self.note(&path.segments[0].ident);
        }
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let names = c.inputs.iter().flat_map(pattern_names).collect();
        self.scopes.push(names);
        self.visit_expr(&c.body);
        self.scopes.pop();
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.scopes.push(Vec::new());
        for stmt in &b.stmts {
            match stmt {
                syn::Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        self.visit_expr(&init.expr);
                        if let Some((_, diverge)) = &init.diverge {
                            self.visit_expr(diverge);
                        }
                    }
                    self.bind(pattern_names(&local.pat));
                }
                syn::Stmt::Item(_) => {}
                other => self.visit_stmt(other),
            }
        }
        self.scopes.pop();
    }

    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
        self.scopes.push(pattern_names(&f.pat));
        self.visit_block(&f.body);
        self.scopes.pop();
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.scopes.push(pattern_names(&arm.pat));
        if let Pat::Guard(guarded) = &arm.pat {
            self.visit_expr(&guarded.guard);
        }
        self.visit_expr(&arm.body);
        self.scopes.pop();
    }

    fn visit_expr_let(&mut self, e: &'ast syn::ExprLet) {
        self.visit_expr(&e.expr);
        self.bind(pattern_names(&e.pat));
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
    }
}

/// The names a format string captures inline: `"{x} and {y:?}"` gives `x`, `y`.
fn format_arguments(literal: &str) -> Vec<String> {
    if !literal.starts_with('"') && !literal.starts_with('r') {
        return Vec::new();
    }
    let mut names = Vec::new();
    let mut rest = literal;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if rest.starts_with('{') {
            rest = &rest[1..];
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn names(expr: Expr) -> Vec<String> {
        free_names(&expr).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn inner_bindings_hide_outer_names() {
        assert_eq!(names(parse_quote!(f(x, y + 1))), ["f", "x", "y"]);
        assert_eq!(names(parse_quote!(xs.iter().map(|x| x + k))), ["xs", "k"]);
        assert_eq!(
            names(parse_quote!({
                let a = x;
                let x = 2;
                a + x
            })),
            ["x"]
        );
        assert_eq!(
            names(parse_quote!(for i in 0..n {
                s += i;
            })),
            ["n", "s"]
        );
        assert_eq!(
            names(parse_quote!(match v {
                Some(w) => w + z,
                None => 0,
            })),
            ["v", "z"]
        );
        assert_eq!(names(parse_quote!(p.x + q.0)), ["p", "q"]);
        assert_eq!(names(parse_quote!(Point { x, y: 2 })), ["x"]);
    }

    #[test]
    fn macros_and_format_strings_count() {
        assert_eq!(
            names(parse_quote!(format!("{a} {b:?} {{c}}", d))),
            ["a", "b", "d"]
        );
        assert_eq!(names(parse_quote!(vec![0; n])), ["n"]);
    }

    #[test]
    fn paths_and_items_are_not_local_names() {
        assert_eq!(names(parse_quote!(std::f64::consts::PI * r)), ["r"]);
        assert_eq!(
            names(parse_quote!({
                fn g() -> i32 {
                    hidden
                }
                g()
            })),
            ["g"]
        );
    }
}

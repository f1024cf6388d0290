//! Both macros under random token streams (a proptest, run by `cargo test`): whatever
//! the input, expansion never panics, and every rejection is a `compile_error!` spanned
//! on the user's tokens. `fuzz/` has the same check as a `cargo fuzz` target.

use proc_macro2::{Span, TokenStream, TokenTree};
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

/// Tokens that users write in plans and task functions, right and wrong.
const PIECES: &[&str] = &[
    "let", "x", "y", "z", "=", ";", "inc", "(", ")", "{", "}", "[", "]", ",", "|", "||", ":",
    "i64", "&", "&mut", "for", "in", "1", "\"s\"", "+", "?", "::", "<", ">", "mut", "_", "else",
    "fn", "pub", "async", "const", "unsafe", "self", "impl", "Trait", "->", "Result", "Vec", "T",
    "where", "Send", "'a", "#", "!", ".", "move", "match", "=>", "dyn", "Box", "...", "extern",
    "\"C\"", "struct", "(x, y)", "return", "loop", "break",
];

const VALID_PLAN: &str =
    "let x = inc(1); let y = inc(x); let zs = for i in xs { inc(i) }; (x, y, zs)";
const VALID_FN: &str = "pub fn add<T: Clone>(x: i64, y: &str, zs: Vec<T>) -> Result<i64, E> \
                        where T: Send { Ok(x + y.len() as i64) }";

/// A valid input with a few tokens removed, inserted or replaced, or pure noise.
fn mutated(valid: &'static str) -> impl Strategy<Value = String> {
    let tokens: Vec<&'static str> = valid.split(' ').collect();
    let edit = (
        0_usize..3,
        any::<prop::sample::Index>(),
        prop::sample::select(PIECES),
    );
    let noise = prop::collection::vec(prop::sample::select(PIECES), 0..24)
        .prop_map(|pieces| pieces.join(" "));
    let edits = prop::collection::vec(edit, 1..4).prop_map(move |edits| {
        let mut tokens: Vec<&str> = tokens.clone();
        for (kind, at, piece) in edits {
            let at = at.index(tokens.len() + 1);
            match kind {
                0 if at < tokens.len() => {
                    tokens.remove(at);
                }
                1 => tokens.insert(at, piece),
                _ if at < tokens.len() => tokens[at] = piece,
                _ => {}
            }
        }
        tokens.join(" ")
    });
    prop_oneof![noise, edits]
}

/// Every `compile_error!` in `out` points at some of the user's tokens (a non-empty
/// source range) when there were any.
fn errors_are_spanned(input: &str, out: &TokenStream) -> Result<usize, TestCaseError> {
    let mut errors = 0;
    let mut stack: Vec<TokenStream> = vec![out.clone()];
    while let Some(tokens) = stack.pop() {
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) if ident == "compile_error" => {
                    errors += 1;
                    let span: Span = ident.span();
                    let range = span.byte_range();
                    // syn's own parse errors at the end of the input ("expected `|`")
                    // stand at the macro's call site, which rustc shows as the whole
                    // invocation: the one place an error may have no token of its own.
                    let at_call_site = out.to_string().contains("expected");
                    prop_assert!(
                        input.trim().is_empty() || range.start < range.end || at_call_site,
                        "an error without a span for input {:?}: {}",
                        input,
                        out
                    );
                }
                TokenTree::Group(group) => stack.push(group.stream()),
                _ => {}
            }
        }
    }
    Ok(errors)
}

/// Expands `input` with `expand`, checking that it neither panics nor gives an unspanned
/// error. Inputs that do not lex (unbalanced delimiters) never reach a macro.
fn check(
    input: &str,
    expand: impl FnOnce(TokenStream) -> TokenStream,
) -> Result<(), TestCaseError> {
    let Ok(tokens) = TokenStream::from_str(input) else {
        return Ok(());
    };
    let out = catch_unwind(AssertUnwindSafe(|| expand(tokens)));
    prop_assert!(out.is_ok(), "the macro panicked on {:?}", input);
    if let Ok(out) = out {
        errors_are_spanned(input, &out)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn graph_never_panics_and_spans_its_errors(input in mutated(VALID_PLAN)) {
        check(&input, crate::graph::expand)?;
        // The same block as a plan with inputs.
        check(&format!("|xs: Vec<i64>| {{ {input} }}"), crate::graph::expand)?;
    }

    #[test]
    fn delayed_never_panics_and_spans_its_errors(
        item in mutated(VALID_FN),
        args in prop::collection::vec(prop::sample::select(PIECES), 0..3),
    ) {
        let args = TokenStream::from_str(&args.join(" ")).unwrap_or_default();
        check(&item, |item| crate::delayed::expand(args, item))?;
    }
}

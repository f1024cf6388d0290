//! `graph!`: parse the block, analyse its dependencies, write a fixed-shape plan.

mod analyze;
mod ast;
mod expand;
mod names;
mod nested;
mod schedule;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match try_expand(input.clone()) {
        Ok(tokens) => tokens,
        // graph! is an expression: the errors go in a block whose type is `!`, so no
        // type error about the missing plan follows them.
        Err(error) => {
            let errors = crate::ctxt::at_end(error, &input).to_compile_error();
            quote::quote!({ #errors ::core::unreachable!() })
        }
    }
}

fn try_expand(input: TokenStream) -> syn::Result<TokenStream> {
    let mut parsed = ast::parse(input)?;
    nested::flatten(&mut parsed);
    let block = parsed.block()?;
    let inputs = parsed.params.iter().flatten().collect();
    let analysis = analyze::analyze(inputs, &block);
    Ok(expand::expand(&analysis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// xorshift64*: a small deterministic generator, enough to vary the inputs.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }
    }

    const PIECES: &[&str] = &[
        "let", "x", "y", "z", "=", ";", "inc", "(", ")", "{", "}", "[", "]", ",", "|", "||", ":",
        "i64", "&", "for", "in", "1", "\"s\"", "+", "?", "::", "<", ">", "mut", "_", "else", "fn",
        "a", "b", "(x, y)", "move", "match", "=>", "'a", "#", "!", ".",
    ];

    /// Every input either expands or yields `compile_error!`s: never a panic.
    #[test]
    fn malformed_blocks_give_errors_not_panics() {
        let valid = "let x = inc(1); let y = inc(x); let zs = for i in xs { inc(i) }; (x, y, zs)";
        let valid_tokens: Vec<String> = valid.split(' ').map(str::to_owned).collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut expanded = 0;
        for case in 0..3_000 {
            let text: String = if case % 2 == 0 {
                (0..rng.below(24))
                    .map(|_| PIECES[rng.below(PIECES.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                let mut tokens = valid_tokens.clone();
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(tokens.len() + 1);
                    match rng.below(3) {
                        0 if at < tokens.len() => {
                            tokens.remove(at);
                        }
                        1 => tokens.insert(at, PIECES[rng.below(PIECES.len())].to_owned()),
                        _ if at < tokens.len() => {
                            tokens[at] = PIECES[rng.below(PIECES.len())].to_owned()
                        }
                        _ => {}
                    }
                }
                tokens.join(" ")
            };
            let Ok(tokens) = TokenStream::from_str(&text) else {
                continue; // unbalanced delimiters never reach a macro
            };
            let out = expand(tokens).to_string();
            if !out.contains("compile_error") {
                expanded += 1;
            }
        }
        assert!(expanded > 10, "some mutations stay valid: {expanded}");
    }

    #[test]
    fn block_level_mistakes_are_all_reported() {
        let out = expand(
            TokenStream::from_str("let mut a = inc(1); println!(); let (b, c) = f(); a").unwrap(),
        )
        .to_string();
        assert_eq!(out.matches("compile_error").count(), 3, "{out}");
        assert!(out.contains("remove `mut`"));
        assert!(out.contains("bind this to a name"));
        assert!(out.contains("a plan binding is a plain name"));
        let empty = expand(TokenStream::new()).to_string();
        assert!(empty.contains("an empty graph! block"), "{empty}");
        let no_output = expand(TokenStream::from_str("let a = inc(1);").unwrap()).to_string();
        assert!(no_output.contains("ends with its output"), "{no_output}");
    }
}

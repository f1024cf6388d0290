//! Compile-time checks of the macros: every error they raise, and that what they
//! forward (docs, attributes, visibility, generics) compiles cleanly under strict lints.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/delayed/*.rs");
    t.compile_fail("tests/ui/graph/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

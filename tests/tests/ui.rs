//! Compile-fail tests: misuse of `#[amplifiable]` is a compile error at the offending item,
//! with the message recorded next to each case in `tests/ui/*.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}

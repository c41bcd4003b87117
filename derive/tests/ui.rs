//! Misuse of `#[derive(Entity)]` fails to compile with a message at the faulty field.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}

//! Every compile error `#[derive(Instruct)]` can give, one small case per file, and a set
//! of tricky inputs it must accept. Regenerate `.stderr` files with `TRYBUILD=overwrite`
//! (on the toolchain `rust-toolchain.toml` pins) and review them.

#[test]
#[cfg_attr(
    feature = "local",
    ignore = "trybuild would build llama.cpp again for its cases; scripts/test.sh runs this without `local`"
)]
fn ui() {
    let t = trybuild::TestCases::new();
    for topic in [
        "unknown-attribute",
        "duplicate-attribute",
        "malformed",
        "unsupported-type",
        "validate",
        "strict",
    ] {
        t.compile_fail(format!("tests/ui/{topic}/*.rs"));
    }
    t.pass("tests/ui/pass/*.rs");
}

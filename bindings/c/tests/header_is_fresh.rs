//! CI fails when the committed header differs from what cbindgen generates from the sources.

#[test]
fn committed_header_matches_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/fencelock.h");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == fencelock_c::GENERATED_HEADER,
        "include/fencelock.h is stale; run `cargo run -p fencelock-c --bin gen-header` and \
         commit it"
    );
}

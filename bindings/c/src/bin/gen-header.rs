//! Writes the header generated at build time to `include/fencelock.h`; with `--check`,
//! exits 1 when the committed header differs (for CI).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .and_then(|p| p.parent())
        .unwrap_or(&manifest);
    let target = root.join("include").join("fencelock.h");
    let fresh = fencelock_c::GENERATED_HEADER;
    let check = std::env::args().any(|a| a == "--check");
    let current = std::fs::read_to_string(&target).unwrap_or_default();
    if check {
        if current != fresh {
            eprintln!(
                "{} is stale; run `cargo run -p fencelock-c --bin gen-header` and commit it",
                target.display()
            );
            std::process::exit(1);
        }
        println!("{} is up to date", target.display());
    } else if current != fresh {
        if let Err(e) = std::fs::write(&target, fresh) {
            eprintln!("cannot write {}: {e}", target.display());
            std::process::exit(1);
        }
        println!("wrote {}", target.display());
    } else {
        println!("{} already up to date", target.display());
    }
}

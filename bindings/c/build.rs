//! Generates the C header into OUT_DIR (a test compares it with the committed
//! `include/fencelock.h`; `gen-header` rewrites that), and fails the build when an exported
//! function's body is not a single call to one of the panic guards of `src/ffi.rs`.

use std::path::{Path, PathBuf};

const GUARDS: [&str; 3] = ["guard", "guard_void", "guard_value"];

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    // The installed name is libfencelock.so.0 (Makefile `layout`), whatever the crate's. The
    // number is the C ABI's major version, not the package version: raise it when a change
    // breaks programs linked against an older library (a removed or retyped export).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libfencelock.so.0");

    let mut unguarded = Vec::new();
    for file in rust_files(&dir.join("src")) {
        let text = std::fs::read_to_string(&file).expect("read source");
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("cannot parse {}: {e}", file.display()));
        for item in ast.items {
            if let syn::Item::Fn(f) = item {
                if f.sig.abi.is_some() && !is_guarded(&f.block) {
                    unguarded.push(format!("{}: {}", file.display(), f.sig.ident));
                }
            }
        }
    }
    if !unguarded.is_empty() {
        panic!(
            "exported functions whose body is not one call to guard/guard_void/guard_value \
             (a panic would unwind into C):\n  {}",
            unguarded.join("\n  ")
        );
    }

    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("fencelock.h");
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed: {e}"))
        .write_to_file(out);
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// True when the body is exactly `guard*(...)`, possibly without a trailing semicolon.
fn is_guarded(block: &syn::Block) -> bool {
    let [stmt] = block.stmts.as_slice() else {
        return false;
    };
    let expr = match stmt {
        syn::Stmt::Expr(e, _) => e,
        _ => return false,
    };
    let syn::Expr::Call(call) = expr else {
        return false;
    };
    let syn::Expr::Path(p) = call.func.as_ref() else {
        return false;
    };
    p.path
        .segments
        .last()
        .is_some_and(|s| GUARDS.iter().any(|g| s.ident == g))
}

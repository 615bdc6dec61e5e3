//! Node.js binding of fencelock: a thin class wrapper over the Rust core (napi-rs v3).
//!
//! One file per exported type. Everything here converts types and errors and nothing more; the
//! Johnny Locke shape (JSON values, `TimeoutError`, `AbortSignal`) lives in the JS layer
//! (`index.js`), the lock protocol in the core crate.

// Under cfg(test) (e.g. `cargo clippy --all-targets`) napi-derive registers no exports, so
// everything they reach looks unused.
#![cfg_attr(test, allow(dead_code))]

mod bench_core;
mod cancel;
mod client;
mod connect;
mod convert;
mod error;
mod guard;
mod internals;
mod leadership;
mod log;
mod promise;
mod version;

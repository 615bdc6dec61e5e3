//! C ABI of fencelock, exported by `libfencelock` and declared in `include/fencelock.h`
//! (generated from this crate by cbindgen; `cargo run -p fencelock-c --bin gen-header`).
//!
//! Conventions: handles are opaque and thread-safe; every fallible export
//! returns an `fl_status` and takes an optional `fl_error **` last; frees take `T **`, null
//! the caller's pointer and accept NULL; bytes go as pointer + length; every export runs
//! inside `catch_unwind` (checked by `build.rs`). Blocking calls run on the core's runtime.
//! The binding converts types and errors only: all lock logic is in the core.

#![allow(non_camel_case_types)]
// Exports check their pointers themselves (NULL is reported as FL_INVALID_ARGUMENT); the
// remaining obligations are stated in the header's documentation.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod bytes;
mod cancel;
mod client;
mod error;
mod ffi;
mod holder;
mod leader;
mod lock;
mod lost;
mod observer;
mod options;
mod stats;
mod status;
mod version;
mod with_lock;

pub use bytes::{fl_bytes, fl_state_out};
pub use cancel::fl_cancel;
pub use client::fl_client;
pub use error::fl_error;
pub use ffi::FL_WAIT_FOREVER;
pub use holder::fl_holder;
pub use leader::fl_leadership;
pub use lock::{fl_guard_status, fl_lock};
pub use lost::fl_lost_fn;
pub use observer::{fl_leader_fn, fl_observer};
pub use options::*;
pub use stats::{fl_stats, fl_timing};
pub use status::fl_status;
pub use with_lock::fl_with_lock_fn;

/// The header generated from this crate at build time (compared with `include/fencelock.h`).
pub const GENERATED_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/fencelock.h"));

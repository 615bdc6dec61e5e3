//! fencelock for the JVM: the core's API exported through uniffi, for the generated Kotlin in
//! `src/main/kotlin/dev/fencelock/ffi` and the Kotlin/Java facade beside it.
//!
//! Thin by design: every export converts types and errors and calls the core; futures run in
//! the core runtime's context ([`runtime::in_core`]). No lock logic lives here.

mod bench;
mod callbacks;
mod client;
mod error;
mod fast;
mod guard;
mod leader;
mod options;
mod records;
mod runtime;
mod stats;

pub use callbacks::{FreeAction, StateUpdate};
pub use client::{connect, Client};
pub use error::FencelockError;
pub use fast::fast_take_error;
pub use guard::{GuardStatus, LockGuard, LostSignal};
pub use leader::{LeaderObserver, Leadership};
pub use options::{AcquireOptions, ConnectOptions};
pub use records::{Holder, KeyInfo, LeaderChange};
pub use stats::{version, Stats, Timing};

uniffi::setup_scaffolding!();

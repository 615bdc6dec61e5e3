//! # fencelock
//!
//! Distributed locks with fencing tokens and attached state, over NATS JetStream Key-Value,
//! Redis 6.2+ / Valkey, or an in-process memory store for tests. The URL's scheme picks the
//! backend; [`ConnectOptions`] lists every connection option and which backends use it.
//!
//! ```no_run
//! # async fn demo() -> fencelock::Result<()> {
//! use std::time::Duration;
//! let client = fencelock::Client::nats("nats://127.0.0.1:4222")
//!     .namespace("locks")
//!     .connect()
//!     .await?;
//! let guard = client.acquire("nightly-import", Some(Duration::from_secs(5))).await?;
//! println!("token {} state {:?}", guard.token(), guard.initial_state());
//! guard.release(Some(bytes::Bytes::from_static(b"done"))).await?;
//! client.close().await;
//! # Ok(()) }
//! ```
//!
//! Every acquisition gets a fencing token that strictly increases per key; every write is a
//! compare-and-set, so a holder whose lease lapsed cannot overwrite anything. Waiters are woken
//! by the store's change feed, never by polling. See `docs/PROTOCOL-nats.md`,
//! `docs/PROTOCOL-redis.md` and `docs/ARCHITECTURE.md`.

#![deny(missing_docs)]

// The README's example is compiled as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

mod acquire;
// The core's W1-W4 rounds, for the bindings' benchmarks (not user API).
#[doc(hidden)]
pub mod bench_loops;
// Binding support, not user API: the backend trait (not implementable outside the crate) and
// the runtime hooks bindings drive the core with. Public for the bindings in this repository
// only; the types users need are re-exported below.
#[doc(hidden)]
pub mod backend;
mod builder;
mod client;
mod connect_options;
mod error;
mod events;
mod guard;
mod inspect;
mod key;
mod leader;
mod lease_keeper;
mod options;
#[doc(hidden)]
pub mod runtime;
mod stats;
mod wait;
mod waiters;
mod with_lock;

pub use backend::nats::{NatsOptions, Storage};
pub use backend::{Holder, LockId};
pub use builder::ClientBuilder;
pub use bytes::Bytes;
pub use client::{Client, InternalSizes, KeyInfo};
pub use connect_options::ConnectOptions;
pub use error::{BoxError, Error, ErrorKind, Result};
pub use events::{LockEvent, LockEventKind};
pub use guard::{GuardStatus, LockGuard};
pub use key::{IntoKey, Key, MAX_KEY_LEN};
pub use leader::Leadership;
pub use options::{LockOptions, DEFAULT_LEASE, MAX_LEASE, MIN_LEASE};
pub use stats::{Stats, Timing};

/// The version of this crate, e.g. "0.1.0": the one version every fencelock package carries
/// (the workspace's `[workspace.package] version`). Bindings report it at run time.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

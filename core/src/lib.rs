//! # fencelock
//!
//! Distributed locks with fencing tokens and attached state, over NATS JetStream Key-Value.
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
//! by the store's change feed, never by polling. See `docs/PROTOCOL-nats.md`.

#![deny(missing_docs)]

// The README's example is compiled as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

mod acquire;
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
pub mod runtime;
mod stats;
mod wait;
mod waiters;

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

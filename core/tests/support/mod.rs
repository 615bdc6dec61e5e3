//! Shared helpers of the integration tests. Scenario tests take a [`Fixture`] and are
//! instantiated once per backend by [`conformance!`], so every backend passes the same tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use fencelock_testkit::{NatsServer, RedisServer};

/// A backend under test: a real server started for the test, or the in-process store.
pub enum Fixture {
    Nats(NatsServer),
    Redis(RedisServer),
    /// The memory store is process-wide, so each fixture gets its own namespace suffix.
    Memory(String),
}

impl Fixture {
    pub fn nats() -> Fixture {
        Fixture::Nats(NatsServer::start())
    }

    pub fn redis() -> Fixture {
        Fixture::Redis(RedisServer::start())
    }

    pub fn memory() -> Fixture {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        Fixture::Memory(format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed)))
    }

    pub fn builder(&self, ns: &str) -> fencelock::ClientBuilder {
        match self {
            Fixture::Nats(srv) => fencelock::Client::nats(&srv.url()).namespace(ns),
            Fixture::Redis(srv) => fencelock::Client::redis(&srv.url()).namespace(ns),
            Fixture::Memory(id) => fencelock::Client::memory().namespace(format!("{ns}-{id}")),
        }
    }
}

/// Instantiates each listed `async fn name(fx: Fixture)` scenario for every backend.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod nats {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Fixture::nats()).await
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Fixture::redis()).await
                }
            )*
        }
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Fixture::memory()).await
                }
            )*
        }
    };
}

pub async fn client(fx: &Fixture, ns: &str) -> fencelock::Client {
    fx.builder(ns).connect().await.expect("connect")
}

pub fn builder(fx: &Fixture, ns: &str) -> fencelock::ClientBuilder {
    fx.builder(ns)
}

pub async fn nats_client(srv: &NatsServer, ns: &str) -> fencelock::Client {
    nats_builder(srv, ns).connect().await.expect("connect")
}

pub fn nats_builder(srv: &NatsServer, ns: &str) -> fencelock::ClientBuilder {
    fencelock::Client::nats(&srv.url()).namespace(ns)
}

pub fn b(s: &str) -> fencelock::Bytes {
    fencelock::Bytes::copy_from_slice(s.as_bytes())
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

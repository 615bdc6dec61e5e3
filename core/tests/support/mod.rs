//! Shared helpers of the integration tests. Scenario tests take a [`Fixture`] and are
//! instantiated once per backend by [`conformance!`], so every backend passes the same tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub use fencelock_testkit::{NatsCluster, NatsServer, RedisCluster, RedisServer};

/// A backend under test: a real server started for the test, or the in-process store.
pub enum Fixture {
    Nats(NatsServer),
    Redis(RedisServer),
    /// A Redis Cluster shared by the tests running at the same time (starting one per test
    /// would double the suite's time), each with a namespace of its own.
    RedisCluster(Arc<RedisCluster>, String),
    /// A three-node NATS cluster shared like the Redis Cluster; each test's bucket (its own
    /// namespace) has three replicas, so writes go through the stream leader's consensus.
    NatsR3(Arc<NatsCluster>, String),
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
        Fixture::Memory(unique("t"))
    }

    pub fn redis_cluster() -> Fixture {
        static SHARED: Mutex<Weak<RedisCluster>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        let cluster = shared.upgrade().unwrap_or_else(|| {
            let c = Arc::new(RedisCluster::start());
            *shared = Arc::downgrade(&c);
            c
        });
        Fixture::RedisCluster(cluster, unique("c"))
    }

    pub fn nats_r3() -> Fixture {
        Fixture::NatsR3(shared_nats_cluster(), unique("r"))
    }

    pub fn builder(&self, ns: &str) -> fencelock::ClientBuilder {
        match self {
            Fixture::Nats(srv) => fencelock::Client::nats(&srv.url()).namespace(ns),
            Fixture::Redis(srv) => fencelock::Client::redis(&srv.url()).namespace(ns),
            Fixture::RedisCluster(c, id) => {
                fencelock::Client::redis(&c.url()).namespace(format!("{ns}-{id}"))
            }
            Fixture::NatsR3(c, id) => fencelock::Client::nats(&c.url())
                .namespace(format!("{ns}-{id}"))
                .replication(3),
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
        mod redis_cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Fixture::redis_cluster()).await
                }
            )*
        }
        mod nats_r3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Fixture::nats_r3()).await
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

/// The NATS cluster of the tests running at the same time: started by the first, stopped when
/// the last one drops it.
pub fn shared_nats_cluster() -> Arc<NatsCluster> {
    static SHARED: Mutex<Weak<NatsCluster>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    shared.upgrade().unwrap_or_else(|| {
        let c = Arc::new(NatsCluster::start());
        *shared = Arc::downgrade(&c);
        c
    })
}

/// A process-wide unique suffix.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
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

/// A plain redis-rs connection to `srv`, for tests that look at or change the keys directly.
pub async fn raw_redis(srv: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(srv.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

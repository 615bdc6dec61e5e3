//! Configuration of a [`Client`]: which backend (from the URL's scheme), how to reach and
//! authenticate to it, the namespace and the defaults of every acquisition.

use crate::backend::memory::MemoryBackend;
use crate::backend::nats::{BucketOptions, NatsBackend, NatsOptions, Storage};
use crate::backend::redis::{RedisBackend, RedisOptions};
use crate::backend::Backend;
use crate::client::Client;
use crate::connect_options::{BackendKind, ConnectOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::options::{Defaults, DEFAULT_LEASE};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Client`]; start with [`Client::builder`], [`Client::nats`] or [`Client::memory`].
/// It fills a [`ConnectOptions`]; [`connect`](ClientBuilder::connect) refuses options the URL's
/// backend does not use.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    opts: ConnectOptions,
    /// NATS connection name (from [`ClientBuilder::nats_options`]), shown by server monitoring.
    nats_name: Option<String>,
}

impl From<ConnectOptions> for ClientBuilder {
    fn from(opts: ConnectOptions) -> ClientBuilder {
        ClientBuilder {
            opts,
            nats_name: None,
        }
    }
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> ClientBuilder {
        ClientBuilder::from(ConnectOptions::new(url.trim()))
    }

    /// The options built so far.
    pub fn options(&self) -> &ConnectOptions {
        &self.opts
    }

    /// Server URLs (replacing those given to [`Client::nats`]).
    pub fn servers<I, S>(mut self, servers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let servers: Vec<String> = servers.into_iter().map(Into::into).collect();
        self.opts.url = servers.join(",");
        self
    }

    /// Token authentication.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.opts.token = Some(token.into());
        self
    }

    /// User and password authentication.
    pub fn user_password(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.opts.user = Some(user.into());
        self.opts.password = Some(password.into());
        self
    }

    /// A NATS `.creds` file.
    pub fn creds_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.opts.creds_file = Some(path.into());
        self
    }

    /// An extra root certificate (PEM) to trust: NATS TLS, or Redis `rediss` URLs.
    pub fn tls_root_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.opts.tls_root_cert = Some(path.into());
        self
    }

    /// A client certificate and key (PEM) for mutual TLS (NATS, or Redis `rediss` URLs).
    pub fn tls_client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.opts.tls_client_cert = Some(cert.into());
        self.opts.tls_client_key = Some(key.into());
        self
    }

    /// Refuse connections without TLS (for Redis: URLs other than `rediss…`).
    pub fn require_tls(mut self, yes: bool) -> Self {
        self.opts.require_tls = Some(yes);
        self
    }

    /// How long to try connecting (default 5 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.opts.connect_timeout = Some(t);
        self
    }

    /// All NATS connection options at once (the URL becomes `opts.servers`).
    pub fn nats_options(mut self, opts: NatsOptions) -> Self {
        let o = &mut self.opts;
        o.url = opts.servers.join(",");
        o.token = opts.token;
        o.user = opts.user;
        o.password = opts.password;
        o.creds_file = opts.creds_file;
        o.tls_root_cert = opts.tls_root_cert;
        o.tls_client_cert = opts.tls_client_cert;
        o.tls_client_key = opts.tls_client_key;
        o.require_tls = Some(opts.require_tls);
        o.connect_timeout = Some(opts.connect_timeout);
        o.clock_free = Some(opts.clock_free);
        self.nats_name = opts.name;
        self
    }

    /// The namespace: the KV bucket holding this client's locks (default `fencelock`).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.opts.namespace = Some(ns.into());
        self
    }

    /// Default lease of acquisitions (default 30 s).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.opts.lease = Some(lease);
        self
    }

    /// Entries expire this long after their last write (default: never).
    pub fn object_expiry(mut self, expiry: Duration) -> Self {
        self.opts.object_expiry = Some(expiry);
        self
    }

    /// Copies of every write, counting the primary (default 1). NATS: the replicas of a new
    /// bucket's stream (1 to 5). Redis: each write waits (`WAIT`) until `n - 1` replicas
    /// acknowledged it; a write that fewer replicas acknowledge in time is reported as a
    /// `Backend` error. Not used by the memory backend.
    pub fn replication(mut self, n: usize) -> Self {
        self.opts.replication = Some(n);
        self
    }

    /// Redis: how long `WAIT` may take (default 1 s).
    pub fn replication_timeout(mut self, t: Duration) -> Self {
        self.opts.replication_timeout = Some(t);
        self
    }

    /// File (default) or memory storage for a new bucket.
    pub fn storage(mut self, storage: Storage) -> Self {
        self.opts.storage = Some(storage);
        self
    }

    /// NATS: judge lease expiry clock-free, by observation alone, also on nats-server 2.11 and
    /// later (default off: there the server's clock decides, so every client sees a lapsed
    /// lock as free at once). Clock-free, a client takes over a lock only after seeing it
    /// unchanged for a whole lease on its own clock; servers before 2.11 always work this way.
    /// Clients of both modes can share a bucket. Redis and memory stores always expire leases
    /// by their own clock, so they refuse this option.
    pub fn clock_free(mut self, yes: bool) -> Self {
        self.opts.clock_free = Some(yes);
        self
    }

    /// Renew leases automatically (default on).
    pub fn renew(mut self, yes: bool) -> Self {
        self.opts.renew = Some(yes);
        self
    }

    /// Renew when this fraction of the lease has passed (default 1/3).
    pub fn renew_fraction(mut self, fraction: f64) -> Self {
        self.opts.renew_fraction = Some(fraction);
        self
    }

    /// Stop renewing a lock this long after it was acquired, so it lapses (default: no cap).
    pub fn max_hold(mut self, cap: Duration) -> Self {
        self.opts.max_hold = Some(cap);
        self
    }

    /// Holder label recorded with every lock (default `pid <n>`).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.opts.label = Some(label.into());
        self
    }

    /// Connects (creating or binding the namespace) and returns the client.
    ///
    /// The connection and the client's background tasks (lease keeper, change feeds) run on the
    /// tokio runtime this is called from, so that every round trip stays on one runtime; called
    /// from outside tokio (bindings, other executors), they run on the core's own runtime.
    /// Keep that runtime alive as long as the client is used.
    ///
    /// # Errors
    /// `InvalidArgument` for an unknown URL scheme, an option the URL's backend does not use,
    /// an unpaired option (`user` without `password`, a client certificate without its key) or
    /// a value out of range; `Backend` when the store cannot be reached, refuses the
    /// credentials, or has a namespace with an incompatible configuration.
    pub async fn connect(self) -> Result<Client> {
        let kind = self.opts.validate()?;
        let defaults = self.defaults()?;
        let rt = tokio::runtime::Handle::try_current().unwrap_or_else(|_| crate::runtime::handle());
        let backend = rt
            .spawn(self.open_backend(kind))
            .await
            .map_err(|e| Error::new(ErrorKind::Backend, format!("connect task failed: {e}")))??;
        Ok(Client::from_backend(backend, defaults, rt))
    }

    fn defaults(&self) -> Result<Defaults> {
        let o = &self.opts;
        let defaults = Defaults {
            lease: o.lease.unwrap_or(DEFAULT_LEASE),
            renew: o.renew.unwrap_or(true),
            renew_fraction: o.renew_fraction.unwrap_or(1.0 / 3.0),
            max_hold: o.max_hold,
            label: o
                .label
                .clone()
                .unwrap_or_else(|| format!("pid {}", std::process::id())),
        };
        defaults.validate()?;
        if let Some(exp) = o.object_expiry {
            if exp < defaults.lease {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "object_expiry {exp:?} is shorter than the lease {:?}; held locks would \
                         vanish, so make it longer than any lease",
                        defaults.lease
                    ),
                ));
            }
        }
        Ok(defaults)
    }

    async fn open_backend(self, kind: BackendKind) -> Result<Arc<dyn Backend>> {
        let o = self.opts;
        let namespace = o.namespace.unwrap_or_else(|| "fencelock".into());
        Ok(match kind {
            BackendKind::Memory => Arc::new(MemoryBackend::open(&namespace, o.object_expiry)?),
            BackendKind::Redis => {
                let opts = RedisOptions {
                    url: o.url.trim().to_owned(),
                    namespace,
                    object_expiry: o.object_expiry,
                    // Copies counting the primary: WAIT for the others.
                    replication: o.replication.map(|n| n - 1).filter(|&n| n > 0),
                    replication_timeout: o.replication_timeout.unwrap_or(Duration::from_secs(1)),
                    connect_timeout: o.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                    tls_root_cert: o.tls_root_cert,
                    tls_client_cert: o.tls_client_cert.zip(o.tls_client_key),
                    require_tls: o.require_tls.unwrap_or(false),
                };
                Arc::new(RedisBackend::connect(&opts).await?)
            }
            BackendKind::Nats => {
                let nats = NatsOptions {
                    servers: o
                        .url
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                    token: o.token,
                    user: o.user,
                    password: o.password,
                    creds_file: o.creds_file,
                    tls_root_cert: o.tls_root_cert,
                    tls_client_cert: o.tls_client_cert,
                    tls_client_key: o.tls_client_key,
                    require_tls: o.require_tls.unwrap_or(false),
                    connect_timeout: o.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                    name: self.nats_name,
                    clock_free: o.clock_free.unwrap_or(false),
                };
                let bucket = BucketOptions {
                    namespace,
                    object_expiry: o.object_expiry,
                    replicas: o.replication,
                    storage: o.storage,
                };
                Arc::new(NatsBackend::connect(&nats, &bucket).await?)
            }
        })
    }
}

/// How long to try connecting when `connect_timeout` is not set.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

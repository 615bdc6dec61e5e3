//! Configuration of a [`Client`]: which backend (from the URL's scheme), how to reach and
//! authenticate to it, the namespace and the defaults of every acquisition.

use crate::backend::memory::MemoryBackend;
use crate::backend::nats::{BucketOptions, NatsBackend, NatsOptions, Storage};
use crate::backend::redis::{is_redis_scheme, RedisBackend, RedisOptions};
use crate::backend::Backend;
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::options::{Defaults, DEFAULT_LEASE};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
enum BackendKind {
    Nats,
    Redis,
    Memory,
    Unsupported(String),
}

/// Builds a [`Client`]; start with [`Client::builder`], [`Client::nats`] or [`Client::memory`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    kind: BackendKind,
    url: String,
    nats: NatsOptions,
    replication: Option<usize>,
    replication_timeout: Duration,
    bucket: BucketOptions,
    defaults: Defaults,
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> ClientBuilder {
        let url = url.trim();
        let kind = match url.split_once("://").map(|(s, _)| s.to_ascii_lowercase()) {
            None => BackendKind::Nats,
            Some(s) if matches!(s.as_str(), "nats" | "tls" | "ws" | "wss") => BackendKind::Nats,
            Some(s) if s == "memory" => BackendKind::Memory,
            Some(s) if is_redis_scheme(&s) => BackendKind::Redis,
            Some(s) => BackendKind::Unsupported(s),
        };
        ClientBuilder {
            kind,
            url: url.to_owned(),
            replication: None,
            replication_timeout: Duration::from_secs(1),
            nats: NatsOptions {
                servers: url
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
                ..NatsOptions::default()
            },
            bucket: BucketOptions {
                namespace: "fencelock".into(),
                ..BucketOptions::default()
            },
            defaults: Defaults {
                lease: DEFAULT_LEASE,
                renew: true,
                renew_fraction: 1.0 / 3.0,
                max_hold: None,
                label: format!("pid {}", std::process::id()),
            },
        }
    }

    /// Server URLs (replacing those given to [`Client::nats`]).
    pub fn servers<I, S>(mut self, servers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.nats.servers = servers.into_iter().map(Into::into).collect();
        self
    }

    /// Token authentication.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.nats.token = Some(token.into());
        self
    }

    /// User and password authentication.
    pub fn user_password(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.nats.user = Some(user.into());
        self.nats.password = Some(password.into());
        self
    }

    /// A NATS `.creds` file.
    pub fn creds_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.nats.creds_file = Some(path.into());
        self
    }

    /// An extra root certificate (PEM) to trust: NATS TLS, or Redis `rediss` URLs.
    pub fn tls_root_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.nats.tls_root_cert = Some(path.into());
        self
    }

    /// A client certificate and key (PEM) for mutual TLS (NATS, or Redis `rediss` URLs).
    pub fn tls_client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.nats.tls_client_cert = Some(cert.into());
        self.nats.tls_client_key = Some(key.into());
        self
    }

    /// Refuse connections without TLS (for Redis: URLs other than `rediss…`).
    pub fn require_tls(mut self, yes: bool) -> Self {
        self.nats.require_tls = yes;
        self
    }

    /// How long to try connecting (default 5 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.nats.connect_timeout = t;
        self
    }

    /// All NATS connection options at once.
    pub fn nats_options(mut self, opts: NatsOptions) -> Self {
        self.nats = opts;
        self
    }

    /// The namespace: the KV bucket holding this client's locks (default `fencelock`).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.bucket.namespace = ns.into();
        self
    }

    /// Default lease of acquisitions (default 30 s).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.defaults.lease = lease;
        self
    }

    /// Entries expire this long after their last write (default: never).
    pub fn object_expiry(mut self, expiry: Duration) -> Self {
        self.bucket.object_expiry = Some(expiry);
        self
    }

    /// Replicas of the bucket's stream (default 1).
    pub fn replicas(mut self, n: usize) -> Self {
        self.bucket.replicas = Some(n);
        self
    }

    /// Redis: after each write, wait until `n` replicas acknowledged it (`WAIT`); a write
    /// that fewer replicas acknowledge in time is reported as a `Backend` error.
    pub fn replication(mut self, n: usize) -> Self {
        self.replication = Some(n);
        self
    }

    /// Redis: how long `WAIT` may take (default 1 s).
    pub fn replication_timeout(mut self, t: Duration) -> Self {
        self.replication_timeout = t;
        self
    }

    /// File (default) or memory storage for a new bucket.
    pub fn storage(mut self, storage: Storage) -> Self {
        self.bucket.storage = Some(storage);
        self
    }

    /// NATS: judge lease expiry clock-free, by observation alone, also on nats-server 2.11 and
    /// later (default off: there the server's clock decides, so every client sees a lapsed
    /// lock as free at once). Clock-free, a client takes over a lock only after seeing it
    /// unchanged for a whole lease on its own clock; servers before 2.11 always work this way.
    /// Clients of both modes can share a bucket. Redis and memory stores always expire leases
    /// by their own clock.
    pub fn clock_free(mut self, yes: bool) -> Self {
        self.nats.clock_free = yes;
        self
    }

    /// Renew leases automatically (default on).
    pub fn renew(mut self, yes: bool) -> Self {
        self.defaults.renew = yes;
        self
    }

    /// Renew when this fraction of the lease has passed (default 1/3).
    pub fn renew_fraction(mut self, fraction: f64) -> Self {
        self.defaults.renew_fraction = fraction;
        self
    }

    /// Stop renewing a lock this long after it was acquired, so it lapses (default: no cap).
    pub fn max_hold(mut self, cap: Duration) -> Self {
        self.defaults.max_hold = Some(cap);
        self
    }

    /// Holder label recorded with every lock (default `pid <n>`).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.defaults.label = label.into();
        self
    }

    /// Connects (creating or binding the namespace) and returns the client.
    ///
    /// The connection and the client's background tasks (lease keeper, change feeds) run on the
    /// tokio runtime this is called from, so that every round trip stays on one runtime; called
    /// from outside tokio (bindings, other executors), they run on the core's own runtime.
    /// Keep that runtime alive as long as the client is used.
    pub async fn connect(self) -> Result<Client> {
        self.validate()?;
        let rt = tokio::runtime::Handle::try_current().unwrap_or_else(|_| crate::runtime::handle());
        let defaults = self.defaults.clone();
        let backend = rt
            .spawn(self.open_backend())
            .await
            .map_err(|e| Error::new(ErrorKind::Backend, format!("connect task failed: {e}")))??;
        Ok(Client::from_backend(backend, defaults, rt))
    }

    async fn open_backend(self) -> Result<Arc<dyn Backend>> {
        Ok(match self.kind {
            BackendKind::Memory => Arc::new(MemoryBackend::open(
                &self.bucket.namespace,
                self.bucket.object_expiry,
            )?),
            BackendKind::Unsupported(scheme) => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "unsupported URL scheme {scheme:?}; use nats://host:port, \
                         redis://host:port (rediss://, redis+sentinel://, redis+cluster://) \
                         or memory://"
                    ),
                ))
            }
            BackendKind::Redis => {
                let opts = RedisOptions {
                    url: self.url.clone(),
                    namespace: self.bucket.namespace.clone(),
                    object_expiry: self.bucket.object_expiry,
                    replication: self.replication,
                    replication_timeout: self.replication_timeout,
                    connect_timeout: self.nats.connect_timeout,
                    tls_root_cert: self.nats.tls_root_cert.clone(),
                    tls_client_cert: self
                        .nats
                        .tls_client_cert
                        .clone()
                        .zip(self.nats.tls_client_key.clone()),
                    require_tls: self.nats.require_tls,
                };
                Arc::new(RedisBackend::connect(&opts).await?)
            }
            BackendKind::Nats => Arc::new(NatsBackend::connect(&self.nats, &self.bucket).await?),
        })
    }

    fn validate(&self) -> Result<()> {
        self.defaults.validate()?;
        if let Some(exp) = self.bucket.object_expiry {
            if exp < self.defaults.lease {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "object_expiry {exp:?} is shorter than the lease {:?}; held locks would \
                         vanish, so make it longer than any lease",
                        self.defaults.lease
                    ),
                ));
            }
        }
        if let Some(r) = self.bucket.replicas {
            if !(1..=5).contains(&r) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("replicas must be between 1 and 5, not {r}"),
                ));
            }
        }
        Ok(())
    }
}

//! [`ConnectOptions`]: every connection option as one plain value, and the one validation all
//! ways of connecting share (the Rust builder and every binding). An option the chosen backend
//! does not use is refused rather than dropped, so a setting never silently does nothing.

use crate::backend::nats::Storage;
use crate::backend::redis::is_redis_scheme;
use crate::error::{Error, ErrorKind, Result};
use std::path::PathBuf;
use std::time::Duration;

/// Which store a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackendKind {
    Nats,
    Redis,
    Memory,
}

impl BackendKind {
    fn name(self) -> &'static str {
        match self {
            BackendKind::Nats => "NATS",
            BackendKind::Redis => "Redis",
            BackendKind::Memory => "memory",
        }
    }
}

/// How to connect a client: the backend URL, how to reach and authenticate to the store, the
/// namespace and the defaults of every acquisition. `None` takes the default. Every binding
/// fills one of these and connects with [`Client::connect_with`](crate::Client::connect_with);
/// [`ClientBuilder`](crate::ClientBuilder) fills one too.
///
/// Each option has one meaning on every backend that uses it; setting an option the URL's
/// backend does not use is an `InvalidArgument` error naming the option and the backend.
///
/// | option | NATS | Redis | memory |
/// |---|---|---|---|
/// | `namespace`, `lease`, `object_expiry`, `renew`, `renew_fraction`, `max_hold`, `label`, `connect_timeout` | yes | yes | yes (connecting is instant) |
/// | `replication` | stream replicas | `WAIT` for `replication - 1` replicas | no |
/// | `tls_root_cert`, `tls_client_cert` + `tls_client_key`, `require_tls` | yes | yes | no |
/// | `replication_timeout` | no | yes | no |
/// | `token`, `user` + `password`, `creds_file`, `storage`, `clock_free` | yes | no (credentials go in the URL) | no |
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Backend URL; its scheme picks the backend: `nats://host:port` (several separated by
    /// commas), `redis://…` (`rediss://`, `redis+sentinel://`, `redis+cluster://`) or
    /// `memory://`. A URL without a scheme is a NATS server.
    pub url: String,
    /// The NATS KV bucket, or the Redis key prefix, holding the locks (default `fencelock`).
    pub namespace: Option<String>,
    /// Default lease of acquisitions (default 30 s).
    pub lease: Option<Duration>,
    /// Entries expire this long after their last write (default: never).
    pub object_expiry: Option<Duration>,
    /// Copies of every write, counting the primary (default 1). NATS: the replicas of a new
    /// bucket's stream (1 to 5). Redis: each write waits (`WAIT`) until `replication - 1`
    /// replicas acknowledged it, and is reported as a `Backend` error if fewer do in time.
    pub replication: Option<usize>,
    /// Redis: how long `WAIT` may take (default 1 s).
    pub replication_timeout: Option<Duration>,
    /// NATS: file (default) or memory storage of a new bucket.
    pub storage: Option<Storage>,
    /// NATS: judge lease expiry by observation alone, also on nats-server 2.11+ (default off).
    pub clock_free: Option<bool>,
    /// Renew leases automatically while held (default on).
    pub renew: Option<bool>,
    /// Renew when this fraction of the lease has passed, strictly between 0 and 1 (default 1/3).
    pub renew_fraction: Option<f64>,
    /// Stop renewing a lock this long after it was acquired, so it lapses (default: no cap).
    pub max_hold: Option<Duration>,
    /// Holder label recorded with every lock (default `pid <n>`).
    pub label: Option<String>,
    /// NATS: token authentication.
    pub token: Option<String>,
    /// NATS: user for user/password authentication (with `password`).
    pub user: Option<String>,
    /// NATS: password (with `user`).
    pub password: Option<String>,
    /// NATS: a `.creds` file (JWT + NKey seed).
    pub creds_file: Option<PathBuf>,
    /// An extra root certificate (PEM) to trust: NATS TLS, or Redis `rediss` URLs.
    pub tls_root_cert: Option<PathBuf>,
    /// A client certificate (PEM) for mutual TLS (with `tls_client_key`).
    pub tls_client_cert: Option<PathBuf>,
    /// The client certificate's key (PEM).
    pub tls_client_key: Option<PathBuf>,
    /// Refuse connections without TLS (Redis: URLs other than `rediss…`).
    pub require_tls: Option<bool>,
    /// How long to try connecting (default 5 s). Accepted by every backend (a deadline the
    /// caller has anyway, e.g. Go's context); the memory backend connects at once.
    pub connect_timeout: Option<Duration>,
}

impl ConnectOptions {
    /// Options with a URL and every other option at its default.
    pub fn new(url: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            url: url.into(),
            ..ConnectOptions::default()
        }
    }

    /// The backend the URL names, or `InvalidArgument` for an unknown scheme.
    pub(crate) fn backend(&self) -> Result<BackendKind> {
        let url = self.url.trim();
        match url.split_once("://").map(|(s, _)| s.to_ascii_lowercase()) {
            None => Ok(BackendKind::Nats),
            Some(s) if matches!(s.as_str(), "nats" | "tls" | "ws" | "wss") => Ok(BackendKind::Nats),
            Some(s) if s == "memory" => Ok(BackendKind::Memory),
            Some(s) if is_redis_scheme(&s) => Ok(BackendKind::Redis),
            Some(scheme) => Err(invalid(format!(
                "unsupported URL scheme {scheme:?}; use nats://host:port, redis://host:port \
                 (rediss://, redis+sentinel://, redis+cluster://) or memory://"
            ))),
        }
    }

    /// Checks the options against each other and against the URL's backend; returns the
    /// backend. Range checks of the lease defaults happen when the client's defaults are built.
    pub(crate) fn validate(&self) -> Result<BackendKind> {
        let kind = self.backend()?;
        self.refuse_unused(kind)?;
        if self.user.is_some() != self.password.is_some() {
            return Err(invalid(
                "user and password go together for user/password authentication; set both or \
                 neither",
            ));
        }
        if self.tls_client_cert.is_some() != self.tls_client_key.is_some() {
            return Err(invalid(
                "tls_client_cert and tls_client_key go together for a client certificate; set \
                 both or neither",
            ));
        }
        if let Some(r) = self.replication {
            let max = if kind == BackendKind::Nats {
                5
            } else {
                usize::MAX
            };
            if !(1..=max).contains(&r) {
                let range = if kind == BackendKind::Nats {
                    "between 1 and 5"
                } else {
                    "at least 1"
                };
                return Err(invalid(format!(
                    "replication must be {range} on {} (copies of every write, counting the \
                     primary), not {r}",
                    kind.name()
                )));
            }
        }
        for (name, d) in [
            ("lease", self.lease),
            ("object_expiry", self.object_expiry),
            ("replication_timeout", self.replication_timeout),
            ("max_hold", self.max_hold),
            ("connect_timeout", self.connect_timeout),
        ] {
            if d.is_some_and(|d| d.is_zero()) {
                return Err(invalid(format!(
                    "{name} must be positive; leave it unset for the default"
                )));
            }
        }
        Ok(kind)
    }

    /// Refuses every option set that `kind` does not use, naming the option and the backend.
    fn refuse_unused(&self, kind: BackendKind) -> Result<()> {
        let nats_only = [
            ("token", self.token.is_some()),
            ("user", self.user.is_some()),
            ("password", self.password.is_some()),
            ("creds_file", self.creds_file.is_some()),
            ("storage", self.storage.is_some()),
            ("clock_free", self.clock_free.is_some()),
        ];
        let redis_only = [("replication_timeout", self.replication_timeout.is_some())];
        let network = [
            ("replication", self.replication.is_some()),
            ("tls_root_cert", self.tls_root_cert.is_some()),
            ("tls_client_cert", self.tls_client_cert.is_some()),
            ("tls_client_key", self.tls_client_key.is_some()),
            ("require_tls", self.require_tls.is_some()),
        ];
        let unused: Vec<(&str, bool)> = match kind {
            BackendKind::Nats => redis_only.to_vec(),
            BackendKind::Redis => nats_only.to_vec(),
            BackendKind::Memory => [&nats_only[..], &redis_only[..], &network[..]].concat(),
        };
        if let Some((name, _)) = unused.into_iter().find(|(_, set)| *set) {
            let hint = match (kind, name) {
                (BackendKind::Redis, "token" | "user" | "password") => {
                    "; Redis credentials go in the URL: redis://user:password@host:port"
                }
                (BackendKind::Memory, _) => "; the memory backend has no server",
                _ => "",
            };
            return Err(invalid(format!(
                "option {name} is not used by the {} backend ({}); remove it{hint}",
                kind.name(),
                self.url.trim()
            )));
        }
        Ok(())
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(o: &ConnectOptions) -> String {
        let e = o.validate().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        e.to_string()
    }

    #[test]
    fn an_option_the_backend_does_not_use_is_refused_by_name() {
        let mut o = ConnectOptions::new("redis://127.0.0.1:6379");
        o.token = Some("t".into());
        let msg = refused(&o);
        assert!(msg.contains("token") && msg.contains("Redis"), "{msg}");

        let mut o = ConnectOptions::new("redis://127.0.0.1:6379");
        o.storage = Some(Storage::Memory);
        assert!(refused(&o).contains("storage"));

        let mut o = ConnectOptions::new("nats://127.0.0.1:4222");
        o.replication_timeout = Some(Duration::from_secs(1));
        let msg = refused(&o);
        assert!(
            msg.contains("replication_timeout") && msg.contains("NATS"),
            "{msg}"
        );

        let mut o = ConnectOptions::new("memory://");
        o.replication = Some(2);
        let msg = refused(&o);
        assert!(
            msg.contains("replication") && msg.contains("memory"),
            "{msg}"
        );
    }

    #[test]
    fn options_the_backend_uses_pass() {
        let mut o = ConnectOptions::new("nats://a:4222,nats://b:4222");
        o.token = Some("t".into());
        o.storage = Some(Storage::File);
        o.replication = Some(3);
        o.clock_free = Some(true);
        assert_eq!(o.validate().unwrap(), BackendKind::Nats);

        let mut o = ConnectOptions::new("rediss://h:6380");
        o.replication = Some(2);
        o.replication_timeout = Some(Duration::from_millis(500));
        o.tls_root_cert = Some("ca.pem".into());
        assert_eq!(o.validate().unwrap(), BackendKind::Redis);

        let mut o = ConnectOptions::new("memory://");
        o.namespace = Some("n".into());
        o.lease = Some(Duration::from_secs(1));
        assert_eq!(o.validate().unwrap(), BackendKind::Memory);
    }

    #[test]
    fn pairs_and_ranges_are_checked() {
        let mut o = ConnectOptions::new("nats://h:4222");
        o.user = Some("u".into());
        assert!(refused(&o).contains("password"));

        let mut o = ConnectOptions::new("nats://h:4222");
        o.tls_client_key = Some("k.pem".into());
        assert!(refused(&o).contains("tls_client_cert"));

        let mut o = ConnectOptions::new("nats://h:4222");
        o.replication = Some(6);
        assert!(refused(&o).contains("between 1 and 5"));
        o.replication = Some(0);
        assert!(refused(&o).contains("between 1 and 5"));

        let mut o = ConnectOptions::new("ftp://h");
        assert!(refused(&o).contains("unsupported URL scheme"));
        o.url = "memory://".into();
        o.connect_timeout = Some(Duration::ZERO);
        assert!(refused(&o).contains("connect_timeout"));
    }
}

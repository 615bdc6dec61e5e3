//! Connection and per-call options, translated to today's `Client::builder(url)` and
//! `LockOptions`. Kept in this one file so the translation can move to a core
//! `ConnectOptions` without touching the rest of the binding.

use crate::error::{FencelockError, Result};
use fencelock::{ClientBuilder, LockOptions, Storage};
use std::time::Duration;

/// Options of `connect`; every field is optional and defaults to the core's default.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ConnectOptions {
    /// The namespace: NATS KV bucket or Redis key prefix (default `fencelock`).
    #[uniffi(default)]
    pub namespace: Option<String>,
    /// Default lease of acquisitions (default 30 s).
    #[uniffi(default)]
    pub lease: Option<Duration>,
    /// Entries expire this long after their last write (default: never).
    #[uniffi(default)]
    pub object_expiry: Option<Duration>,
    /// NATS: replicas of a new bucket's stream (1 to 5).
    #[uniffi(default)]
    pub replicas: Option<u32>,
    /// NATS: storage of a new bucket, `"file"` (default) or `"memory"`.
    #[uniffi(default)]
    pub storage: Option<String>,
    /// Renew leases automatically (default true).
    #[uniffi(default)]
    pub renew: Option<bool>,
    /// Renew when this fraction of the lease has passed (default 1/3).
    #[uniffi(default)]
    pub renew_fraction: Option<f64>,
    /// Stop renewing a lock this long after it was acquired (default: no cap).
    #[uniffi(default)]
    pub max_hold: Option<Duration>,
    /// Holder label recorded with every lock (default `pid <n>`).
    #[uniffi(default)]
    pub label: Option<String>,
    /// NATS token authentication.
    #[uniffi(default)]
    pub token: Option<String>,
    /// NATS user (with `password`).
    #[uniffi(default)]
    pub user: Option<String>,
    /// NATS password (with `user`).
    #[uniffi(default)]
    pub password: Option<String>,
    /// NATS `.creds` file.
    #[uniffi(default)]
    pub creds_file: Option<String>,
    /// Extra root certificate (PEM) to trust.
    #[uniffi(default)]
    pub tls_root_cert: Option<String>,
    /// Client certificate (PEM) for mutual TLS, with `tls_client_key`.
    #[uniffi(default)]
    pub tls_client_cert: Option<String>,
    /// Client key (PEM) for mutual TLS, with `tls_client_cert`.
    #[uniffi(default)]
    pub tls_client_key: Option<String>,
    /// Refuse connections without TLS.
    #[uniffi(default)]
    pub require_tls: bool,
    /// How long to try connecting (default 5 s).
    #[uniffi(default)]
    pub connect_timeout: Option<Duration>,
    /// NATS: judge lease expiry by observation only, also on nats-server 2.11+.
    #[uniffi(default)]
    pub clock_free: bool,
    /// Redis: replicas that must acknowledge each write (`WAIT`).
    #[uniffi(default)]
    pub replication: Option<u32>,
    /// Redis: how long `WAIT` may take (default 1 s).
    #[uniffi(default)]
    pub replication_timeout: Option<Duration>,
}

/// Per-call options of acquire / try_acquire / with_lock; unset fields take the client's defaults.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct AcquireOptions {
    /// Lease of this acquisition.
    #[uniffi(default)]
    pub lease: Option<Duration>,
    /// Renew the lease automatically while the guard lives (with_lock never renews).
    #[uniffi(default)]
    pub renew: Option<bool>,
    /// Holder label recorded with the lock.
    #[uniffi(default)]
    pub label: Option<String>,
}

/// The builder for `url` with `o` applied.
pub(crate) fn builder(url: &str, o: ConnectOptions) -> Result<ClientBuilder> {
    let mut b = fencelock::Client::builder(url);
    if let Some(v) = o.namespace {
        b = b.namespace(v);
    }
    if let Some(v) = o.lease {
        b = b.lease(v);
    }
    if let Some(v) = o.object_expiry {
        b = b.object_expiry(v);
    }
    if let Some(v) = o.replicas {
        b = b.replicas(v as usize);
    }
    if let Some(v) = o.storage {
        b = b.storage(match v.to_ascii_lowercase().as_str() {
            "file" => Storage::File,
            "memory" => Storage::Memory,
            _ => {
                return Err(FencelockError::invalid_argument(format!(
                    "storage {v:?} is not known; use \"file\" or \"memory\""
                )))
            }
        });
    }
    if let Some(v) = o.renew {
        b = b.renew(v);
    }
    if let Some(v) = o.renew_fraction {
        b = b.renew_fraction(v);
    }
    if let Some(v) = o.max_hold {
        b = b.max_hold(v);
    }
    if let Some(v) = o.label {
        b = b.label(v);
    }
    if let Some(v) = o.token {
        b = b.token(v);
    }
    match (o.user, o.password) {
        (Some(u), Some(p)) => b = b.user_password(u, p),
        (None, None) => {}
        _ => {
            return Err(FencelockError::invalid_argument(
                "user and password go together; set both or neither".into(),
            ))
        }
    }
    if let Some(v) = o.creds_file {
        b = b.creds_file(v);
    }
    if let Some(v) = o.tls_root_cert {
        b = b.tls_root_cert(v);
    }
    match (o.tls_client_cert, o.tls_client_key) {
        (Some(c), Some(k)) => b = b.tls_client_cert(c, k),
        (None, None) => {}
        _ => {
            return Err(FencelockError::invalid_argument(
                "tlsClientCert and tlsClientKey go together; set both or neither".into(),
            ))
        }
    }
    if o.require_tls {
        b = b.require_tls(true);
    }
    if let Some(v) = o.connect_timeout {
        b = b.connect_timeout(v);
    }
    if o.clock_free {
        b = b.clock_free(true);
    }
    if let Some(v) = o.replication {
        b = b.replication(v as usize);
    }
    if let Some(v) = o.replication_timeout {
        b = b.replication_timeout(v);
    }
    Ok(b)
}

/// The core's per-call options.
pub(crate) fn lock_options(timeout: Option<Duration>, o: Option<AcquireOptions>) -> LockOptions {
    let o = o.unwrap_or_default();
    LockOptions {
        timeout,
        lease: o.lease,
        renew: o.renew,
        label: o.label,
    }
}

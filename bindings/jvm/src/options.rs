//! Connection and per-call options, converted to the core's `ConnectOptions` (which checks
//! them all, and refuses an option the URL's backend does not use) and `LockOptions`. Only
//! types are converted here; every option means what the root README's table says.

use crate::error::{FencelockError, Result};
use fencelock::{LockOptions, Storage};
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
    /// Copies of every write, counting the primary: NATS stream replicas of a new bucket (1 to
    /// 5); Redis writes wait (`WAIT`) for `replication - 1` replicas.
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

/// The core's options for `url` with `o` applied (validated when connecting).
pub(crate) fn connect_options(url: &str, o: ConnectOptions) -> Result<fencelock::ConnectOptions> {
    let mut c = fencelock::ConnectOptions::new(url);
    c.namespace = o.namespace;
    c.lease = o.lease;
    c.object_expiry = o.object_expiry;
    c.replication = o.replication.map(|v| v as usize);
    c.replication_timeout = o.replication_timeout;
    c.storage = match o.storage.map(|v| v.to_ascii_lowercase()) {
        None => None,
        Some(v) if v == "file" => Some(Storage::File),
        Some(v) if v == "memory" => Some(Storage::Memory),
        Some(v) => {
            return Err(FencelockError::invalid_argument(format!(
                "storage {v:?} is not known; use \"file\" or \"memory\""
            )))
        }
    };
    c.clock_free = o.clock_free.then_some(true);
    c.renew = o.renew;
    c.renew_fraction = o.renew_fraction;
    c.max_hold = o.max_hold;
    c.label = o.label;
    c.token = o.token;
    c.user = o.user;
    c.password = o.password;
    c.creds_file = o.creds_file.map(Into::into);
    c.tls_root_cert = o.tls_root_cert.map(Into::into);
    c.tls_client_cert = o.tls_client_cert.map(Into::into);
    c.tls_client_key = o.tls_client_key.map(Into::into);
    c.require_tls = o.require_tls.then_some(true);
    c.connect_timeout = o.connect_timeout;
    Ok(c)
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

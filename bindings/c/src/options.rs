//! Plain C structs for client and per-call options, turned into the core's `ConnectOptions`
//! and `LockOptions`. A zero-initialised struct means "all defaults". Only types are converted
//! here: the core refuses options the backend does not use, and unpaired ones.

use crate::error::FlError;
use crate::ffi::{opt_millis, opt_string, string};
use fencelock::{ConnectOptions, LockOptions, Storage};
use std::ffi::c_char;
use std::time::Duration;

/// Storage of a new NATS bucket (`fl_client_options.storage`).
pub type fl_storage = i32;
/// Keep the bucket's storage, file when creating one.
pub const FL_STORAGE_DEFAULT: fl_storage = 0;
/// File storage: state and tokens survive server restarts.
pub const FL_STORAGE_FILE: fl_storage = 1;
/// Memory storage: faster, lost on server restart.
pub const FL_STORAGE_MEMORY: fl_storage = 2;

/// Automatic lease renewal (`renew` fields).
pub type fl_renew = i32;
/// Take the default (client: on; call: the client's setting).
pub const FL_RENEW_DEFAULT: fl_renew = 0;
/// Renew the lease automatically while the lock is held.
pub const FL_RENEW_ON: fl_renew = 1;
/// Do not renew: the lock lapses after its lease unless `fl_lock_refresh` is called.
pub const FL_RENEW_OFF: fl_renew = 2;

/// How to connect a client. Zero-initialise it (`fl_client_options o = {0};`) and set what
/// you need; NULL strings and 0 numbers take the defaults. Only borrowed during the call.
#[repr(C)]
pub struct fl_client_options {
    /// Required. The backend is picked by the scheme: `nats://host:port` (several separated by
    /// commas for a cluster), Redis (`redis://`, `rediss://`, `redis+sentinel://…/<master>`,
    /// `redis+cluster://…`) or `memory://` (in-process, for tests).
    pub url: *const c_char,
    /// Namespace: the NATS KV bucket, or the Redis key prefix, holding the locks (default
    /// "fencelock").
    pub namespace_name: *const c_char,
    /// Token authentication.
    pub token: *const c_char,
    /// User name (with `password`).
    pub user: *const c_char,
    /// Password (with `user`).
    pub password: *const c_char,
    /// Path of a NATS `.creds` file.
    pub creds_file: *const c_char,
    /// Path of an extra root certificate (PEM) to trust.
    pub tls_root_cert: *const c_char,
    /// Path of a client certificate (PEM) for mutual TLS (with `tls_client_key`).
    pub tls_client_cert: *const c_char,
    /// Path of the client certificate's key (PEM).
    pub tls_client_key: *const c_char,
    /// Refuse connections without TLS (NATS, Redis).
    pub require_tls: bool,
    /// How long to try connecting, in ms (default 5000).
    pub connect_timeout_ms: i64,
    /// Default lease of acquisitions, in ms (default 30000; 10 ms to 7 days).
    pub lease_ms: i64,
    /// Entries expire this long after their last write, in ms (default: never).
    pub object_expiry_ms: i64,
    /// Copies of every write, counting the primary (0: the default, 1). NATS: the replicas of
    /// a new bucket's stream, 1 to 5. Redis: each write waits (`WAIT`) until
    /// `replication - 1` replicas acknowledged it. Not for memory://.
    pub replication: i32,
    /// Redis: how long `WAIT` may take, in ms (default 1000).
    pub replication_timeout_ms: i64,
    /// One of the FL_STORAGE_* values (NATS only).
    pub storage: fl_storage,
    /// One of the FL_RENEW_* values (default on).
    pub renew: fl_renew,
    /// Renew when this fraction of the lease has passed, strictly between 0 and 1 (0: 1/3).
    pub renew_fraction: f64,
    /// Stop renewing a lock this long after it was acquired, in ms (default: no cap).
    pub max_hold_ms: i64,
    /// Holder label recorded with every lock (default "pid <n>").
    pub label: *const c_char,
    /// NATS: judge lease expiry clock-free (a client takes over a lock only after seeing it
    /// unchanged for a whole lease) also on nats-server 2.11+, where the server's clock decides
    /// by default. Servers before 2.11 always work this way.
    pub clock_free: bool,
}

/// Per-call options of acquire, try_acquire and with_lock. Zero-initialise; pass NULL for
/// all defaults. Only borrowed during the call.
#[repr(C)]
pub struct fl_lock_options {
    /// Lease of this acquisition in ms (0: the client's default).
    pub lease_ms: i64,
    /// One of the FL_RENEW_* values (with_lock never renews).
    pub renew: fl_renew,
    /// Holder label of this acquisition (NULL: the client's).
    pub label: *const c_char,
}

fn renew_flag(v: fl_renew) -> Result<Option<bool>, FlError> {
    match v {
        FL_RENEW_DEFAULT => Ok(None),
        FL_RENEW_ON => Ok(Some(true)),
        FL_RENEW_OFF => Ok(Some(false)),
        other => Err(FlError::invalid(format!(
            "renew is {other}; use FL_RENEW_DEFAULT, FL_RENEW_ON or FL_RENEW_OFF"
        ))),
    }
}

impl fl_client_options {
    /// The core's connection options these describe. An unset (zero, NULL, false) field
    /// stays unset, so the core can tell an option given from one left out.
    pub(crate) fn core_options(&self) -> Result<ConnectOptions, FlError> {
        let path = |p: *const c_char, what: &str| -> Result<_, FlError> {
            Ok(opt_string(p, what)?.map(std::path::PathBuf::from))
        };
        let text = |p: *const c_char, what: &str| -> Result<_, FlError> {
            Ok(opt_string(p, what)?.map(String::from))
        };
        let mut o = ConnectOptions::new(string(self.url, "options.url")?);
        o.namespace = text(self.namespace_name, "options.namespace_name")?;
        o.token = text(self.token, "options.token")?;
        o.user = text(self.user, "options.user")?;
        o.password = text(self.password, "options.password")?;
        o.creds_file = path(self.creds_file, "options.creds_file")?;
        o.tls_root_cert = path(self.tls_root_cert, "options.tls_root_cert")?;
        o.tls_client_cert = path(self.tls_client_cert, "options.tls_client_cert")?;
        o.tls_client_key = path(self.tls_client_key, "options.tls_client_key")?;
        o.require_tls = self.require_tls.then_some(true);
        o.connect_timeout = opt_millis(self.connect_timeout_ms, "options.connect_timeout_ms")?;
        o.lease = opt_millis(self.lease_ms, "options.lease_ms")?;
        o.object_expiry = opt_millis(self.object_expiry_ms, "options.object_expiry_ms")?;
        o.replication = match self.replication {
            0 => None,
            n if n < 0 => {
                return Err(FlError::invalid(format!(
                    "options.replication is {n}; use the copies of every write counting the \
                     primary, 1 or more (0 takes the default)"
                )))
            }
            n => Some(n as usize),
        };
        o.replication_timeout = opt_millis(
            self.replication_timeout_ms,
            "options.replication_timeout_ms",
        )?;
        o.storage = match self.storage {
            FL_STORAGE_DEFAULT => None,
            FL_STORAGE_FILE => Some(Storage::File),
            FL_STORAGE_MEMORY => Some(Storage::Memory),
            other => {
                return Err(FlError::invalid(format!(
                    "options.storage is {other}; use one of the FL_STORAGE_* values"
                )))
            }
        };
        o.renew = renew_flag(self.renew)?;
        // 0 means unset; the core checks the range and names it.
        o.renew_fraction = (self.renew_fraction != 0.0).then_some(self.renew_fraction);
        o.max_hold = opt_millis(self.max_hold_ms, "options.max_hold_ms")?;
        o.label = text(self.label, "options.label")?;
        o.clock_free = self.clock_free.then_some(true);
        Ok(o)
    }
}

/// The core's per-call options for optional `opts` and a timeout.
pub(crate) fn lock_options(
    opts: *const fl_lock_options,
    timeout: Option<Duration>,
) -> Result<LockOptions, FlError> {
    let mut o = LockOptions {
        timeout,
        ..LockOptions::default()
    };
    // SAFETY: NULL or a readable fl_lock_options by contract.
    if let Some(opts) = unsafe { opts.as_ref() } {
        o.lease = opt_millis(opts.lease_ms, "opts.lease_ms")?;
        o.renew = renew_flag(opts.renew)?;
        o.label = opt_string(opts.label, "opts.label")?.map(String::from);
    }
    Ok(o)
}

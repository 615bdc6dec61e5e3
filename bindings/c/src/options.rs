//! Plain C structs for client and per-call options, turned into the core's builder and
//! `LockOptions`. A zero-initialised struct means "all defaults".

use crate::error::FlError;
use crate::ffi::{opt_millis, opt_string, string};
use fencelock::{ClientBuilder, LockOptions, Storage};
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
    /// Refuse connections without TLS.
    pub require_tls: bool,
    /// How long to try connecting, in ms (default 5000).
    pub connect_timeout_ms: i64,
    /// Default lease of acquisitions, in ms (default 30000; 10 ms to 7 days).
    pub lease_ms: i64,
    /// Entries expire this long after their last write, in ms (default: never).
    pub object_expiry_ms: i64,
    /// Replicas of the bucket's stream, 1 to 5 (default 1).
    pub replicas: i32,
    /// One of the FL_STORAGE_* values.
    pub storage: fl_storage,
    /// One of the FL_RENEW_* values (default on).
    pub renew: fl_renew,
    /// Renew when this fraction of the lease has passed, strictly between 0 and 1 (0: 1/3).
    pub renew_fraction: f64,
    /// Stop renewing a lock this long after it was acquired, in ms (default: no cap).
    pub max_hold_ms: i64,
    /// Holder label recorded with every lock (default "pid <n>").
    pub label: *const c_char,
    /// Redis: each write waits until this many replicas acknowledged it (`WAIT`; 0: none).
    pub replication: i32,
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

fn positive(ms: i64, what: &str) -> Result<Option<Duration>, FlError> {
    opt_millis(ms, what)
}

impl fl_client_options {
    /// The core builder these options describe.
    pub(crate) fn builder(&self) -> Result<ClientBuilder, FlError> {
        let url = string(self.url, "options.url")?;
        let mut b = fencelock::Client::builder(url);
        if let Some(ns) = opt_string(self.namespace_name, "options.namespace_name")? {
            b = b.namespace(ns);
        }
        if let Some(t) = opt_string(self.token, "options.token")? {
            b = b.token(t);
        }
        match (
            opt_string(self.user, "options.user")?,
            opt_string(self.password, "options.password")?,
        ) {
            (Some(u), Some(p)) => b = b.user_password(u, p),
            (None, None) => {}
            _ => {
                return Err(FlError::invalid(
                    "options.user and options.password go together; set both or neither",
                ))
            }
        }
        if let Some(f) = opt_string(self.creds_file, "options.creds_file")? {
            b = b.creds_file(f);
        }
        if let Some(f) = opt_string(self.tls_root_cert, "options.tls_root_cert")? {
            b = b.tls_root_cert(f);
        }
        match (
            opt_string(self.tls_client_cert, "options.tls_client_cert")?,
            opt_string(self.tls_client_key, "options.tls_client_key")?,
        ) {
            (Some(c), Some(k)) => b = b.tls_client_cert(c, k),
            (None, None) => {}
            _ => {
                return Err(FlError::invalid(
                    "options.tls_client_cert and options.tls_client_key go together; set both \
                     or neither",
                ))
            }
        }
        b = b.require_tls(self.require_tls);
        if let Some(d) = positive(self.connect_timeout_ms, "options.connect_timeout_ms")? {
            b = b.connect_timeout(d);
        }
        if let Some(d) = positive(self.lease_ms, "options.lease_ms")? {
            b = b.lease(d);
        }
        if let Some(d) = positive(self.object_expiry_ms, "options.object_expiry_ms")? {
            b = b.object_expiry(d);
        }
        match self.replicas {
            0 => {}
            n if n < 0 => {
                return Err(FlError::invalid(format!(
                    "options.replicas is {n}; use 1 to 5 (0 takes the default)"
                )))
            }
            n => b = b.replicas(n as usize),
        }
        match self.storage {
            FL_STORAGE_DEFAULT => {}
            FL_STORAGE_FILE => b = b.storage(Storage::File),
            FL_STORAGE_MEMORY => b = b.storage(Storage::Memory),
            other => {
                return Err(FlError::invalid(format!(
                    "options.storage is {other}; use one of the FL_STORAGE_* values"
                )))
            }
        }
        if let Some(r) = renew_flag(self.renew)? {
            b = b.renew(r);
        }
        if self.renew_fraction != 0.0 {
            // The core checks the range and names it.
            b = b.renew_fraction(self.renew_fraction);
        }
        if let Some(d) = positive(self.max_hold_ms, "options.max_hold_ms")? {
            b = b.max_hold(d);
        }
        if let Some(l) = opt_string(self.label, "options.label")? {
            b = b.label(l);
        }
        match self.replication {
            0 => {}
            n if n < 0 => {
                return Err(FlError::invalid(format!(
                    "options.replication is {n}; use the number of replicas writes wait for \
                     (0: none)"
                )))
            }
            n => b = b.replication(n as usize),
        }
        if self.clock_free {
            b = b.clock_free(true);
        }
        Ok(b)
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

//! `connect(options)`: builds a core client from plain options. The JS layer turns nats.js
//! style `connectOptions` and Johnny Locke's `LockConfiguration` into this one object.

use crate::client::Client;
use crate::convert::{duration, opt_duration};
use crate::error::{invalid_argument, to_js};
use crate::promise;
use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;

/// Everything needed to open a client. Durations in milliseconds.
#[napi(object)]
pub struct ConnectOptions {
    /// Backend URL: `nats://host:port` (several comma-separated), `memory://`, `redis://...`.
    pub url: String,
    /// Namespace: the KV bucket (NATS) or key prefix (Redis) holding the locks.
    pub namespace: Option<String>,
    /// Default lease of every acquisition.
    pub lease_ms: Option<f64>,
    /// Entries expire this long after their last write (default never).
    pub object_expiry_ms: Option<f64>,
    /// Replicas of the namespace's stream (NATS).
    pub replicas: Option<u32>,
    /// Replicas each write waits for with `WAIT` (Redis).
    pub replication: Option<u32>,
    /// Storage of a new NATS bucket: `file` (default) or `memory`.
    pub storage: Option<String>,
    /// NATS: judge lease expiry clock-free (by observation) also on nats-server 2.11+.
    pub clock_free: Option<bool>,
    /// Renew leases automatically while held (the core defaults to on).
    pub renew: Option<bool>,
    /// Holder label recorded with every lock.
    pub label: Option<String>,
    /// Token authentication.
    pub token: Option<String>,
    /// User name (with `password`).
    pub user: Option<String>,
    /// Password (with `user`).
    pub password: Option<String>,
    /// A NATS `.creds` file.
    pub creds_file: Option<String>,
    /// How long to try connecting.
    pub connect_timeout_ms: Option<f64>,
    /// PEM file of the CA that signed the server's certificate (TLS, both backends).
    pub tls_ca_file: Option<String>,
    /// PEM files of this client's certificate and key (mutual TLS; give both).
    pub tls_cert_file: Option<String>,
    pub tls_key_file: Option<String>,
    /// Refuse to connect without TLS.
    pub require_tls: Option<bool>,
}

/// Connects to the backend named by `options.url` (creating the namespace if missing).
#[napi(ts_return_type = "Promise<Client>")]
pub fn connect(env: &Env, options: ConnectOptions) -> napi::Result<Object<'_>> {
    let builder = builder(options)?;
    promise::spawn(env, async move {
        let client = builder.connect().await.map_err(to_js)?;
        Ok(Client::wrap(client))
    })
}

fn builder(options: ConnectOptions) -> napi::Result<fencelock::ClientBuilder> {
    let mut b = fencelock::Client::builder(&options.url);
    if let Some(ns) = options.namespace {
        b = b.namespace(ns);
    }
    if let Some(lease) = opt_duration("defaultLockDurationMs", options.lease_ms)? {
        b = b.lease(lease);
    }
    if let Some(exp) = opt_duration("objectExpiryMs", options.object_expiry_ms)? {
        b = b.object_expiry(exp);
    }
    if let Some(r) = options.replicas {
        b = b.replicas(r as usize);
    }
    if let Some(n) = options.replication {
        b = b.replication(n as usize);
    }
    match options.storage.as_deref() {
        None => {}
        Some("file") => b = b.storage(fencelock::Storage::File),
        Some("memory") => b = b.storage(fencelock::Storage::Memory),
        Some(other) => {
            return Err(invalid_argument(format!(
                "storage {other:?} is not a NATS bucket storage; use 'file' or 'memory'"
            )))
        }
    }
    if let Some(yes) = options.clock_free {
        b = b.clock_free(yes);
    }
    if let Some(renew) = options.renew {
        b = b.renew(renew);
    }
    if let Some(label) = options.label {
        b = b.label(label);
    }
    if let Some(token) = options.token {
        b = b.token(token);
    }
    match (options.user, options.password) {
        (Some(u), Some(p)) => b = b.user_password(u, p),
        (None, None) => {}
        _ => {
            return Err(invalid_argument(
                "user and pass must be given together for user/password authentication",
            ))
        }
    }
    if let Some(creds) = options.creds_file {
        b = b.creds_file(creds);
    }
    if let Some(ca) = options.tls_ca_file {
        b = b.tls_root_cert(ca);
    }
    match (options.tls_cert_file, options.tls_key_file) {
        (Some(cert), Some(key)) => b = b.tls_client_cert(cert, key),
        (None, None) => {}
        _ => {
            return Err(invalid_argument(
                "tls.certFile and tls.keyFile must be given together for a client certificate",
            ))
        }
    }
    if let Some(yes) = options.require_tls {
        b = b.require_tls(yes);
    }
    if let Some(t) = options.connect_timeout_ms {
        b = b.connect_timeout(duration("timeout", t)?);
    }
    Ok(b)
}

//! `connect(options)`: the core's `ConnectOptions` from plain JS options. The JS layer turns
//! nats.js style `connectOptions` and Johnny Locke's `LockConfiguration` into this one object.
//! Only types are converted here; the core refuses options the backend does not use.

use crate::client::Client;
use crate::convert::opt_duration;
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
    /// Copies of every write, counting the primary: NATS stream replicas (1 to 5); Redis
    /// writes `WAIT` for `replication - 1` replicas.
    pub replication: Option<u32>,
    /// Redis: how long `WAIT` may take (default 1000).
    pub replication_timeout_ms: Option<f64>,
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
    let options = core_options(options)?;
    promise::spawn(env, async move {
        let client = fencelock::Client::connect_with(options)
            .await
            .map_err(to_js)?;
        Ok(Client::wrap(client))
    })
}

fn core_options(o: ConnectOptions) -> napi::Result<fencelock::ConnectOptions> {
    let mut c = fencelock::ConnectOptions::new(o.url);
    c.namespace = o.namespace;
    c.lease = opt_duration("defaultLockDurationMs", o.lease_ms)?;
    c.object_expiry = opt_duration("objectExpiryMs", o.object_expiry_ms)?;
    c.replication = o.replication.map(|n| n as usize);
    c.replication_timeout = opt_duration("replicationTimeoutMs", o.replication_timeout_ms)?;
    c.storage = match o.storage.as_deref() {
        None => None,
        Some("file") => Some(fencelock::Storage::File),
        Some("memory") => Some(fencelock::Storage::Memory),
        Some(other) => {
            return Err(invalid_argument(format!(
                "storage {other:?} is not a NATS bucket storage; use 'file' or 'memory'"
            )))
        }
    };
    c.clock_free = o.clock_free;
    c.renew = o.renew;
    c.label = o.label;
    c.token = o.token;
    c.user = o.user;
    c.password = o.password;
    c.creds_file = o.creds_file.map(Into::into);
    c.tls_root_cert = o.tls_ca_file.map(Into::into);
    c.tls_client_cert = o.tls_cert_file.map(Into::into);
    c.tls_client_key = o.tls_key_file.map(Into::into);
    c.require_tls = o.require_tls;
    c.connect_timeout = opt_duration("timeout", o.connect_timeout_ms)?;
    Ok(c)
}

//! NATS JetStream Key-Value backend. The protocol is specified in `docs/PROTOCOL-nats.md`:
//! one KV entry per key holds lock and state, every write is a compare-and-set on the key's
//! last revision, and the fencing token is the stream sequence of the acquiring write.

mod bucket_restore;
mod cas_error;
mod entry;
mod key_codec;
mod leader_read;
mod no_responders;
mod server_clock;
mod store_epoch;

use crate::backend::{
    Acquired, Backend, Cas, Held, HoldRequest, Holder, NamespaceChange, Snapshot,
};
use crate::error::{Error, ErrorKind, Result};
use crate::key::Key;
use async_nats::jetstream::{self, kv};
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use server_clock::ServerClock;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use store_epoch::StoreEpoch;

pub use key_codec::{decode as decode_key, encode as encode_key};

/// Where the bucket's data lives on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// On disk: survives server restarts (the default).
    #[default]
    File,
    /// In memory: faster, lost on restart (fencing tokens restart too).
    Memory,
}

/// How to reach the NATS servers: addresses and the authentication async-nats supports.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// Server URLs, e.g. `nats://127.0.0.1:4222`; several for a cluster.
    pub servers: Vec<String>,
    /// Token authentication.
    pub token: Option<String>,
    /// User for user/password authentication.
    pub user: Option<String>,
    /// Password for user/password authentication.
    pub password: Option<String>,
    /// A `.creds` file (JWT + NKey seed).
    pub creds_file: Option<PathBuf>,
    /// Extra root certificate (PEM) to trust for TLS.
    pub tls_root_cert: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with `tls_client_key`.
    pub tls_client_cert: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS.
    pub tls_client_key: Option<PathBuf>,
    /// Refuse to connect without TLS.
    pub require_tls: bool,
    /// How long to try connecting before giving up.
    pub connect_timeout: Duration,
    /// Connection name shown by the server's monitoring.
    pub name: Option<String>,
    /// Judge lease expiry by observation alone (a waiter takes over a lock only after seeing it
    /// unchanged for a whole lease on its own clock), also on nats-server 2.11 and later, where
    /// the server's clock decides by default. Servers before 2.11 always work this way.
    pub clock_free: bool,
}

impl Default for NatsOptions {
    fn default() -> Self {
        NatsOptions {
            servers: vec!["nats://127.0.0.1:4222".into()],
            token: None,
            user: None,
            password: None,
            creds_file: None,
            tls_root_cert: None,
            tls_client_cert: None,
            tls_client_key: None,
            require_tls: false,
            connect_timeout: Duration::from_secs(5),
            name: None,
            clock_free: false,
        }
    }
}

/// The KV bucket a namespace maps to. `None` fields accept whatever an existing bucket has and
/// use the default when creating one.
#[derive(Debug, Clone, Default)]
pub struct BucketOptions {
    /// Bucket name: `[A-Za-z0-9_-]+`.
    pub namespace: String,
    /// Entries expire this long after their last write (bucket `max_age`).
    pub object_expiry: Option<Duration>,
    /// Stream replicas (1 to 5).
    pub replicas: Option<usize>,
    /// File (default) or memory storage.
    pub storage: Option<Storage>,
}

/// Headers the server counts against `max_payload` besides our value (expected-sequence header).
const HEADER_MARGIN: usize = 256;

/// The NATS JetStream KV backend.
pub struct NatsBackend {
    client: async_nats::Client,
    kv: kv::Store,
    server: String,
    max_state_len: usize,
    /// The bucket's `max_age` in milliseconds (0: none), kept current by the stream advisories
    /// (an operator may edit the bucket while clients run).
    max_age_ms: Arc<AtomicU64>,
    /// Moves on reconnects and on resets of the bucket's stream.
    epoch: Arc<StoreEpoch>,
    /// Present when the server's clock judges lease expiry (nats-server 2.11+, not clock-free).
    clock: Option<ServerClock>,
}

impl NatsBackend {
    /// Connects and creates or binds the namespace's bucket.
    pub async fn connect(opts: &NatsOptions, bucket: &BucketOptions) -> Result<NatsBackend> {
        validate_bucket_name(&bucket.namespace)?;
        if opts.servers.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "no NATS server given; pass at least one URL such as nats://127.0.0.1:4222",
            ));
        }
        let server = opts.servers.join(",");
        let mut addrs = Vec::with_capacity(opts.servers.len());
        for s in &opts.servers {
            let addr: async_nats::ServerAddr = s.parse().map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{s:?} is not a NATS server URL ({e}); use nats://host:port"),
                )
            })?;
            addrs.push(addr);
        }
        let epoch = Arc::new(StoreEpoch::new());
        let on_event = epoch.clone();
        let options = connect_options(opts).await?.event_callback(move |event| {
            let on_event = on_event.clone();
            async move {
                if matches!(event, async_nats::Event::Connected) {
                    // The server may have restarted without its data.
                    on_event.advance("reconnected");
                    tokio::spawn(async move { on_event.restore_if_missing().await });
                }
            }
        });
        let client = async_nats::connect_with_options(addrs, options)
            .await
            .map_err(|e| Error::backend(&server, "connecting", None, e))?;
        let js = jetstream::new(client.clone());
        let kv = bind_or_create_bucket(&js, bucket, &server).await?;
        let status = kv
            .status()
            .await
            .map_err(|e| Error::backend(&server, "reading the bucket status", None, e))?;
        let mut limit = client.server_info().max_payload;
        let max_value = status.info.config.max_message_size;
        if max_value > 0 {
            limit = limit.min(max_value as usize);
        }
        // Room for the longest label any call may record, not just this client's default.
        let max_state_len =
            limit.saturating_sub(entry::FIXED_HEADER_LEN + entry::MAX_LABEL_LEN + HEADER_MARGIN);
        let max_age_ms = Arc::new(AtomicU64::new(store_epoch::millis(
            status.info.config.max_age,
        )));
        epoch.set_created(status.info.created);
        epoch.bind(client.clone(), kv.clone());
        epoch.saw(status.info.state.last_sequence);
        tokio::spawn(epoch.clone().follow_advisories(
            client.clone(),
            kv.clone(),
            format!("KV_{}", bucket.namespace),
            max_age_ms.clone(),
        ));
        let clock = (!opts.clock_free && server_clock::supported(&client.server_info().version))
            .then(|| ServerClock::new(client.clone(), &bucket.namespace));
        Ok(NatsBackend {
            client,
            kv,
            server,
            max_state_len,
            max_age_ms,
            epoch,
            clock,
        })
    }

    fn err(&self, op: &str, key: &Key, e: impl Into<crate::error::BoxError>) -> Error {
        Error::backend(&self.server, op, Some(key.as_str()), e)
    }

    fn ns_err(&self, op: &str, e: impl Into<crate::error::BoxError>) -> Error {
        Error::backend(&self.server, op, None, e)
    }

    /// One compare-and-set write of a whole entry.
    async fn write(&self, op: &str, key: &Key, expect: u64, value: Bytes) -> Result<Cas<u64>> {
        let subject = key_codec::encode(key.as_str());
        let before = self.epoch.high();
        let update =
            || no_responders::retrying(|| self.kv.update(subject.as_str(), value.clone(), expect));
        let first = update().await;
        let out = cas_error::settle(first, update)
            .await
            .map_err(|e| self.err(op, key, e))?;
        if let Cas::Done(seq) = out {
            self.epoch.wrote(seq, before);
        }
        Ok(out)
    }
}

fn held_value(held: &Held, state: Option<&Bytes>) -> Bytes {
    let holder = Holder {
        lock_id: held.lock_id,
        token: held.token,
        lease: held.lease,
        label: held.label.clone(),
    };
    entry::encode(Some(&holder), held.token, state)
}

#[async_trait]
impl Backend for NatsBackend {
    fn server(&self) -> &str {
        &self.server
    }

    fn max_state_len(&self) -> usize {
        self.max_state_len
    }

    fn max_lease(&self) -> Option<Duration> {
        match self.max_age_ms.load(Ordering::Acquire) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    fn epoch(&self) -> u64 {
        self.epoch.current()
    }

    fn epoch_changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.epoch.changes())
    }

    async fn suspect_reset(&self) {
        self.epoch.check(&self.kv).await
    }

    fn store_judges_expiry(&self) -> bool {
        self.clock.is_some()
    }

    async fn load(&self, key: &Key) -> Result<Snapshot> {
        let encoded = key_codec::encode(key.as_str());
        match no_responders::retrying(|| self.kv.entry(encoded.as_str())).await {
            Ok(None) => Ok(Snapshot::empty(0)),
            Ok(Some(e)) => {
                self.epoch.saw(e.revision);
                let stored = e.created;
                let snap = to_snapshot(&self.server, key, e)?;
                Ok(match &self.clock {
                    Some(clock) if snap.holder.is_some() => clock.judge(snap, stored).await,
                    _ => snap,
                })
            }
            Err(e) => Err(self.err("reading", key, e)),
        }
    }

    async fn load_authoritative(&self, key: &Key) -> Result<Snapshot> {
        let encoded = key_codec::encode(key.as_str());
        match no_responders::retrying(|| leader_read::last_entry(&self.kv, &encoded)).await {
            Ok(None) => Ok(Snapshot::empty(0)),
            Ok(Some(e)) => {
                self.epoch.saw(e.revision);
                to_snapshot(&self.server, key, e)
            }
            Err(e) => Err(self.err("reading from the stream leader", key, e)),
        }
    }

    async fn acquire(
        &self,
        key: &Key,
        seen: &Snapshot,
        hold: &HoldRequest,
    ) -> Result<Cas<Acquired>> {
        let holder = Holder {
            lock_id: hold.lock_id,
            token: 0,
            lease: hold.lease,
            label: hold.label.clone(),
        };
        // Token 0: the token is the revision this write gets, which only the ack tells.
        let value = entry::encode(Some(&holder), 0, seen.state.as_ref());
        Ok(
            match self.write("acquiring", key, seen.revision, value).await? {
                // The compare-and-set proves the state is still the one carried over.
                Cas::Done(revision) => Cas::Done(Acquired {
                    revision,
                    token: revision,
                    state: seen.state.clone(),
                }),
                Cas::Conflict => Cas::Conflict,
            },
        )
    }

    async fn refresh(&self, key: &Key, held: &Held) -> Result<Cas<u64>> {
        let value = held_value(held, held.state.as_ref());
        self.write("renewing the lease", key, held.revision, value)
            .await
    }

    async fn put(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Result<Cas<u64>> {
        let value = held_value(held, state.as_ref());
        self.write("writing state", key, held.revision, value).await
    }

    async fn release(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Result<Cas<Snapshot>> {
        let value = entry::encode(None, held.token, state.as_ref());
        Ok(
            match self.write("releasing", key, held.revision, value).await? {
                Cas::Done(revision) => Cas::Done(Snapshot {
                    revision,
                    holder: None,
                    state,
                    store_ttl: None,
                }),
                Cas::Conflict => Cas::Conflict,
            },
        )
    }

    /// A free entry carrying our token is ours: every later acquisition writes a held entry
    /// with its own (higher) token, and so does every release after it. Its state must be the
    /// one we meant to write. (A `break_lock` of our hold also writes our token with the state
    /// as stored; when that equals the state we meant, the store holds exactly what our release
    /// would have left, and reporting it released is true to the caller.) Read from the stream
    /// leader, which has applied every write it acknowledged.
    async fn released_as(
        &self,
        key: &Key,
        held: &Held,
        state: Option<&Bytes>,
    ) -> Result<Option<Snapshot>> {
        let encoded = key_codec::encode(key.as_str());
        let found = no_responders::retrying(|| leader_read::last_entry(&self.kv, &encoded))
            .await
            .map_err(|e| self.err("reading from the stream leader", key, e))?;
        let Some(e) = found.filter(|e| e.operation == kv::Operation::Put) else {
            return Ok(None);
        };
        let Ok(d) = entry::decode(&e.value, e.revision) else {
            return Ok(None);
        };
        let ours = d.holder.is_none() && d.token == held.token && d.state.as_ref() == state;
        Ok(ours.then(|| Snapshot {
            revision: e.revision,
            holder: None,
            state: d.state,
            store_ttl: None,
        }))
    }

    async fn delete(&self, key: &Key) -> Result<()> {
        let encoded = key_codec::encode(key.as_str());
        no_responders::retrying(|| self.kv.purge(encoded.as_str()))
            .await
            .map_err(|e| self.err("deleting", key, e))
    }

    async fn watch(&self, key: &Key) -> Result<BoxStream<'static, Result<Snapshot>>> {
        let watch = self
            .kv
            .watch_with_history(key_codec::encode(key.as_str()))
            .await
            .map_err(|e| self.err("watching", key, e))?;
        let key = key.clone();
        let server = self.server.clone();
        let epoch = self.epoch.clone();
        Ok(watch
            .map(move |item| match item {
                Ok(e) => {
                    epoch.saw(e.revision);
                    to_snapshot(&server, &key, e)
                }
                Err(e) => Err(Error::backend(&server, "watching", Some(key.as_str()), e)),
            })
            .boxed())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Key>> {
        let op = "listing keys";
        let keys = self.kv.keys().await.map_err(|e| self.ns_err(op, e))?;
        let names: Vec<String> = keys.try_collect().await.map_err(|e| self.ns_err(op, e))?;
        // Keys in the bucket that fencelock did not encode are someone else's: skip them.
        Ok(names
            .iter()
            .filter_map(|n| key_codec::decode(n))
            .filter(|k| k.starts_with(prefix))
            .filter_map(|k| Key::new(&k).ok())
            .collect())
    }

    async fn watch_all(&self) -> Result<BoxStream<'static, Result<NamespaceChange>>> {
        let watch = self
            .kv
            .watch_all()
            .await
            .map_err(|e| self.ns_err("watching the namespace", e))?;
        let server = self.server.clone();
        Ok(watch
            .filter_map(move |item| {
                let out = match item {
                    Ok(e) => key_codec::decode(&e.key)
                        .and_then(|k| Key::new(&k).ok())
                        .map(|key| {
                            to_snapshot(&server, &key, e).map(|s| NamespaceChange::Changed(key, s))
                        }),
                    Err(e) => Some(Err(Error::backend(
                        &server,
                        "watching the namespace",
                        None,
                        e,
                    ))),
                };
                futures::future::ready(out)
            })
            .boxed())
    }

    async fn close(&self) {
        // Flushes pending publishes, then closes; errors mean it is already gone.
        let _ = self.client.drain().await;
    }
}

/// Turns a KV entry into a snapshot; deletes, purges and expiries read as an empty key.
fn to_snapshot(server: &str, key: &Key, e: kv::Entry) -> Result<Snapshot> {
    match e.operation {
        kv::Operation::Delete | kv::Operation::Purge => Ok(Snapshot::empty(e.revision)),
        kv::Operation::Put => {
            let d = entry::decode(&e.value, e.revision).map_err(|d| {
                Error::new(
                    ErrorKind::Backend,
                    format!(
                        "key {:?} in bucket {:?} on {server} holds an unreadable entry: {d}",
                        key.as_str(),
                        e.bucket
                    ),
                )
                .with_key(key.as_str())
            })?;
            Ok(Snapshot {
                revision: e.revision,
                holder: d.holder,
                state: d.state,
                store_ttl: None,
            })
        }
    }
}

async fn connect_options(opts: &NatsOptions) -> Result<async_nats::ConnectOptions> {
    let mut o = match &opts.creds_file {
        Some(path) => async_nats::ConnectOptions::with_credentials_file(path.clone())
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "cannot read the NATS credentials file {}: {e}",
                        path.display()
                    ),
                )
            })?,
        None => async_nats::ConnectOptions::new(),
    };
    if let Some(t) = &opts.token {
        o = o.token(t.clone());
    }
    match (&opts.user, &opts.password) {
        (Some(u), Some(p)) => o = o.user_and_password(u.clone(), p.clone()),
        (None, None) => {}
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "NATS user and password must be given together",
            ))
        }
    }
    if let Some(ca) = &opts.tls_root_cert {
        o = o.add_root_certificates(ca.clone());
    }
    match (&opts.tls_client_cert, &opts.tls_client_key) {
        (Some(c), Some(k)) => o = o.add_client_certificate(c.clone(), k.clone()),
        (None, None) => {}
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a TLS client certificate and its key must be given together",
            ))
        }
    }
    if opts.require_tls {
        o = o.require_tls(true);
    }
    if let Some(n) = &opts.name {
        o = o.name(n.clone());
    }
    if opts.connect_timeout.is_zero() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "the NATS connect timeout must be positive",
        ));
    }
    // A random inbox prefix per connection: async-nats names reply inboxes from a process-wide
    // generator, which a forked child inherits, so parent and child would share reply subjects.
    let mut nonce = [0u8; 8];
    let _ = getrandom::fill(&mut nonce);
    let prefix = format!(
        "_INBOX.fl{:016x}",
        u64::from_be_bytes(nonce) ^ u64::from(std::process::id())
    );
    Ok(o.connection_timeout(opts.connect_timeout)
        .custom_inbox_prefix(prefix))
}

fn validate_bucket_name(ns: &str) -> Result<()> {
    let ok = !ns.is_empty()
        && ns.len() <= 200
        && ns
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "namespace {ns:?} cannot name a NATS KV bucket; use 1 to 200 characters of \
                 letters, digits, '-' and '_'"
            ),
        ))
    }
}

async fn bind_or_create_bucket(
    js: &jetstream::Context,
    want: &BucketOptions,
    server: &str,
) -> Result<kv::Store> {
    let ns = &want.namespace;
    match js.get_key_value(ns.as_str()).await {
        Ok(store) => {
            let status = store
                .status()
                .await
                .map_err(|e| Error::backend(server, &format!("reading bucket {ns:?}"), None, e))?;
            check_compatible(&status.info.config, want, server)?;
            Ok(store)
        }
        Err(e) if e.kind() == jetstream::context::KeyValueErrorKind::GetBucket => {
            let config = kv::Config {
                bucket: ns.clone(),
                description: "fencelock locks and state".into(),
                history: 1,
                max_age: want.object_expiry.unwrap_or_default(),
                storage: match want.storage.unwrap_or_default() {
                    Storage::File => jetstream::stream::StorageType::File,
                    Storage::Memory => jetstream::stream::StorageType::Memory,
                },
                num_replicas: want.replicas.unwrap_or(1),
                ..Default::default()
            };
            match js.create_key_value(config).await {
                Ok(store) => Ok(store),
                Err(e) => {
                    // Someone created it between our look and our create (another client
                    // connecting, or a running one restoring a lost stream with its own
                    // first sequence): bind theirs.
                    if let Ok(store) = js.get_key_value(ns.as_str()).await {
                        let status = store.status().await.map_err(|e| {
                            Error::backend(server, &format!("reading bucket {ns:?}"), None, e)
                        })?;
                        check_compatible(&status.info.config, want, server)?;
                        return Ok(store);
                    }
                    Err(Error::backend(
                        server,
                        &format!(
                            "creating bucket {ns:?} (is JetStream enabled, e.g. nats-server -js?)"
                        ),
                        None,
                        e,
                    ))
                }
            }
        }
        Err(e) => Err(Error::backend(
            server,
            &format!("binding bucket {ns:?} (is JetStream enabled, e.g. nats-server -js?)"),
            None,
            e,
        )),
    }
}

fn check_compatible(
    have: &jetstream::stream::Config,
    want: &BucketOptions,
    server: &str,
) -> Result<()> {
    let ns = &want.namespace;
    let mismatch = |what: String| {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "bucket {ns:?} on {server} exists with {what}; use the existing setting or another \
                 namespace (deleting a bucket in use restarts its fencing tokens)"
            ),
        ))
    };
    if let Some(exp) = want.object_expiry {
        if have.max_age != exp {
            return mismatch(format!(
                "max_age {:?} but object_expiry {exp:?} was asked for",
                have.max_age
            ));
        }
    }
    if let Some(r) = want.replicas {
        if have.num_replicas != r {
            return mismatch(format!(
                "{} replicas but {r} were asked for",
                have.num_replicas
            ));
        }
    }
    if let Some(s) = want.storage {
        let have_s = match have.storage {
            jetstream::stream::StorageType::File => Storage::File,
            jetstream::stream::StorageType::Memory => Storage::Memory,
        };
        if have_s != s {
            return mismatch(format!("{have_s:?} storage but {s:?} was asked for"));
        }
    }
    Ok(())
}

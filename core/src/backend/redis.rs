//! Redis (6.2+) and Valkey backend, specified in `docs/PROTOCOL-redis.md`. Each multi-step
//! operation is one Lua script over three keys sharing a hash slot: the lock (with a `PX`
//! lease the server expires), a hash with the fencing counter and a change revision, and the
//! state. Releases and deletes publish a notice on the namespace's channel; waiters fall back
//! to the lock's own TTL because pub/sub may drop messages.

mod cluster;
mod connection;
mod eviction;
mod list;
#[cfg(test)]
mod repeat_tests;
mod scripts;
mod sentinel;
mod target;
mod tls;
mod watch;

use crate::backend::{
    Acquired, Backend, Cas, Held, HoldRequest, Holder, LockId, NamespaceChange, Snapshot,
};
use crate::error::{Error, ErrorKind, Result};
use crate::key::Key;
use async_trait::async_trait;
use bytes::Bytes;
use connection::Conn;
use futures::stream::BoxStream;
use redis::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Whether `scheme` (lower case) names a Redis deployment: `redis`, `rediss`, `redis+unix`,
/// `unix`, and the Sentinel and Cluster schemes.
pub(crate) fn is_redis_scheme(scheme: &str) -> bool {
    target::scheme_kind(scheme).is_some()
}

/// Largest state accepted: Redis strings may hold 512 MiB, but a lock's state travels in every
/// acquisition, so fencelock keeps the same 1 MiB ceiling as a default NATS server.
pub const MAX_STATE_LEN: usize = 1024 * 1024;

/// How to reach Redis and how durable writes must be.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS),
    /// `redis+sentinel://[user:password@]host:26379[,host…]/<master>[/db]` or
    /// `redis+cluster://[user:password@]host:port[,host…]`; see `docs/PROTOCOL-redis.md`.
    pub url: String,
    /// Key prefix and notice channel of this client's locks.
    pub namespace: String,
    /// State keys expire this long after their last write; `None` keeps them.
    pub object_expiry: Option<Duration>,
    /// After each write, wait until this many replicas acknowledged it (`WAIT`).
    pub replication: Option<usize>,
    /// How long `WAIT` may take before the write is reported as under-replicated.
    pub replication_timeout: Duration,
    /// How long to try connecting.
    pub connect_timeout: Duration,
    /// A root certificate (PEM) to trust for `rediss` URLs, e.g. a private CA.
    pub tls_root_cert: Option<PathBuf>,
    /// A client certificate and key (PEM) for mutual TLS.
    pub tls_client_cert: Option<(PathBuf, PathBuf)>,
    /// Refuse URLs without TLS.
    pub require_tls: bool,
}

/// The Redis backend.
pub struct RedisBackend {
    conn: Conn,
    server: String,
    prefix: String,
    channel: String,
    object_expiry_ms: u64,
    replication: Option<usize>,
    replication_timeout_ms: u64,
    feeds: watch::Feeds,
    /// Numbers this client's put and release calls, so that the scripts tell a repeat of a call
    /// (same number) from a later call (higher) and from a delayed duplicate (lower).
    calls: AtomicU64,
}

/// The three keys of one resource; `{…}` makes Redis Cluster place them in one slot.
struct Keys {
    lock: Vec<u8>,
    meta: Vec<u8>,
    state: Vec<u8>,
}

/// Put before a user key inside the hash tag when the key begins with `}`: Redis Cluster
/// hashes the text between the first `{` and the next `}`, and `{}` (an empty tag) would make
/// it hash the whole name, sending the lock, meta and state keys to different slots. The byte
/// 0xFF never occurs in UTF-8, so the guarded name cannot be any other key's.
const TAG_GUARD: u8 = 0xFF;

/// Appends `key` as the content of a hash tag: non-empty up to its first `}`.
fn push_tagged(out: &mut Vec<u8>, key: &str) {
    if key.starts_with('}') {
        out.push(TAG_GUARD);
    }
    out.extend_from_slice(key.as_bytes());
}

impl RedisBackend {
    /// Connects and checks the server answers.
    pub async fn connect(opts: &RedisOptions) -> Result<RedisBackend> {
        validate_namespace(&opts.namespace)?;
        let server = redact(&opts.url);
        let (conn, notices) = connection::open(opts, &server).await?;
        eviction::check(&conn, &server).await?;
        let prefix = format!("fencelock:{}:", opts.namespace);
        let channel = format!("fencelock:{}:notices", opts.namespace);
        Ok(RedisBackend {
            feeds: watch::Feeds::new(notices, channel.clone(), server.clone()),
            conn,
            server,
            prefix,
            channel,
            object_expiry_ms: opts
                .object_expiry
                .map(|d| d.as_millis().max(1) as u64)
                .unwrap_or(0),
            replication: opts.replication.filter(|n| *n > 0),
            replication_timeout_ms: opts.replication_timeout.as_millis().max(1) as u64,
            calls: AtomicU64::new(1),
        })
    }

    fn keys(&self, key: &Key) -> Keys {
        let base = |suffix: &str| {
            let mut k = Vec::with_capacity(self.prefix.len() + key.as_str().len() + 9);
            k.extend_from_slice(self.prefix.as_bytes());
            k.push(b'{');
            push_tagged(&mut k, key.as_str());
            k.push(b'}');
            k.extend_from_slice(suffix.as_bytes());
            k
        };
        Keys {
            lock: base(":lock"),
            meta: base(":meta"),
            state: base(":state"),
        }
    }

    /// The user key of a lock or state key of this namespace (`<prefix>{<key>}:lock`).
    fn user_key(&self, raw: &[u8]) -> Option<String> {
        let inner = raw
            .strip_prefix(self.prefix.as_bytes())?
            .strip_prefix(b"{")?;
        let inner = inner
            .strip_suffix(b"}:lock")
            .or_else(|| inner.strip_suffix(b"}:state"))?;
        let inner = inner.strip_prefix(&[TAG_GUARD]).unwrap_or(inner);
        String::from_utf8(inner.to_vec()).ok()
    }

    /// The next call number (see `calls`).
    fn next_call(&self) -> String {
        self.calls.fetch_add(1, Ordering::Relaxed).to_string()
    }

    /// The state's expiry while held: long enough to outlive the lease between renewals.
    fn hold_arg(&self, lease: Duration) -> Vec<u8> {
        match self.object_expiry_ms {
            0 => b"0".to_vec(),
            e => e.max(lease.as_millis() as u64).to_string().into_bytes(),
        }
    }

    fn err(&self, op: &str, key: &Key, e: impl Into<crate::error::BoxError>) -> Error {
        Error::backend(&self.server, op, Some(key.as_str()), e)
    }

    /// The `EVALSHA` of `script` over `keys`, with the channel and user key before `args`.
    /// Built straight into one command buffer: redis-rs's `ScriptInvocation` copies every
    /// argument into a vector of its own first, an allocation per argument on the hot path.
    fn eval_cmd(
        &self,
        key: &Key,
        script: &redis::Script,
        keys: &Keys,
        args: &[&[u8]],
    ) -> redis::Cmd {
        let len = keys.lock.len() * 3 + self.channel.len() + key.as_str().len() + 64;
        let len = args.iter().fold(len, |n, a| n + a.len() + 16);
        let mut cmd = redis::Cmd::with_capacity(10 + args.len(), len);
        cmd.arg("EVALSHA")
            .arg(script.get_hash())
            .arg(3)
            .arg(&keys.lock)
            .arg(&keys.meta)
            .arg(&keys.state)
            .arg(self.channel.as_bytes())
            .arg(key.as_str().as_bytes());
        for a in args {
            cmd.arg(*a);
        }
        cmd
    }

    /// Runs a script, then `WAIT`s for replicas in the same round trip when configured.
    async fn run(
        &self,
        op: &str,
        key: &Key,
        script: &redis::Script,
        keys: &Keys,
        args: &[&[u8]],
    ) -> Result<Value> {
        let cmd = self.eval_cmd(key, script, keys, args);
        let mut conn = self.conn.clone();
        let Some(n) = self.replication else {
            let first: RedisResult<Value> = cmd.query_async(&mut conn).await;
            return match first {
                Err(e) if is_no_script(&e) => {
                    // A restarted or failed-over server forgot its scripts: load, then ask again.
                    script
                        .prepare_invoke()
                        .load_async(&mut conn)
                        .await
                        .map_err(|e| self.err(op, key, e))?;
                    cmd.query_async(&mut conn)
                        .await
                        .map_err(|e| self.err(op, key, e))
                }
                other => other.map_err(|e| self.err(op, key, e)),
            };
        };
        // EVALSHA and WAIT pipelined: one round trip. Load the script first if needed.
        let mut pipe = redis::pipe();
        pipe.add_command(cmd)
            .cmd("WAIT")
            .arg(n)
            .arg(self.replication_timeout_ms);
        let res: RedisResult<(Value, usize)> = pipe.query_async(&mut conn).await;
        let (value, acked) = match res {
            Err(e) if is_no_script(&e) => {
                script
                    .prepare_invoke()
                    .load_async(&mut conn)
                    .await
                    .map_err(|e| self.err(op, key, e))?;
                pipe.query_async(&mut conn)
                    .await
                    .map_err(|e| self.err(op, key, e))?
            }
            other => other.map_err(|e| self.err(op, key, e))?,
        };
        if acked < n {
            return Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "{op} of key {:?} was applied on the primary {} but only {acked} of {n} \
                     replicas acknowledged it within {} ms; the write may be lost on failover, \
                     so check replica health or lower `replication`",
                    key.as_str(),
                    self.server,
                    self.replication_timeout_ms
                ),
            )
            .with_key(key.as_str()));
        }
        Ok(value)
    }

    /// [`run`](Self::run) for a script that answers truthfully when run twice: when the first
    /// attempt got no reply (dropped connection, timeout, failover) it may or may not have run,
    /// so ask once more rather than report a failure that may have been a success. Not with
    /// `replication(n)`, whose failure means "applied, but not replicated".
    async fn run_repeatable(
        &self,
        op: &str,
        key: &Key,
        script: &redis::Script,
        keys: &Keys,
        args: &[&[u8]],
    ) -> Result<Value> {
        match self.run(op, key, script, keys, args).await {
            Err(e) if e.kind() == ErrorKind::Backend && self.replication.is_none() => {
                tracing::debug!(key = %key, error = %e, op, "no reply; asking again");
                self.run(op, key, script, keys, args).await
            }
            other => other,
        }
    }

    /// Put as call number `call` (a repeat of a call carries the same number).
    async fn put_call(
        &self,
        key: &Key,
        held: &Held,
        state: Option<Bytes>,
        call: String,
    ) -> Result<Cas<u64>> {
        let keys = self.keys(key);
        let id = id_hex(&held.lock_id);
        let (has, bytes) = state_args(&state, held);
        let lease_ms = held.lease.as_millis().to_string();
        let v = self
            .run_repeatable(
                "writing state",
                key,
                &scripts::PUT,
                &keys,
                &[
                    &id,
                    has,
                    bytes,
                    &self.hold_arg(held.lease),
                    lease_ms.as_bytes(),
                    call.as_bytes(),
                ],
            )
            .await?;
        match v {
            Value::Int(i) if i < 0 => Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "a state write of key {:?} reached {} after a later write of the same \
                     holder, so it was dropped and the later state kept",
                    key.as_str(),
                    self.server
                ),
            )
            .with_key(key.as_str())),
            v => Ok(as_u64(&v)
                .filter(|r| *r > 0)
                .map_or(Cas::Conflict, Cas::Done)),
        }
    }

    /// Release as call number `call` (a repeat of a call carries the same number).
    async fn release_call(
        &self,
        key: &Key,
        held: &Held,
        state: Option<Bytes>,
        call: String,
    ) -> Result<Cas<Snapshot>> {
        let keys = self.keys(key);
        let id = id_hex(&held.lock_id);
        let (has, bytes) = state_args(&state, held);
        let token = held.token.to_string();
        let v = self
            .run_repeatable(
                "releasing",
                key,
                &scripts::RELEASE,
                &keys,
                &[
                    &id,
                    has,
                    bytes,
                    &self.expiry_arg(),
                    call.as_bytes(),
                    token.as_bytes(),
                ],
            )
            .await?;
        if matches!(v, Value::Int(i) if i < 0) {
            return Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "the outcome of releasing key {:?} (token {}) on {} is unknown: the lock is \
                     no longer this holder's, and the release that freed it was either this \
                     holder's earlier attempt or another's (break_lock, a later holder); read \
                     the state with get() before applying the update again",
                    key.as_str(),
                    held.token,
                    self.server
                ),
            )
            .with_key(key.as_str())
            .with_token(held.token));
        }
        Ok(match as_u64(&v).filter(|r| *r > 0) {
            Some(revision) => Cas::Done(Snapshot {
                revision,
                holder: None,
                state,
                store_ttl: None,
            }),
            None => Cas::Conflict,
        })
    }

    fn expiry_arg(&self) -> Vec<u8> {
        self.object_expiry_ms.to_string().into_bytes()
    }
}

type RedisResult<T> = redis::RedisResult<T>;

fn is_no_script(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
}

/// A lock id as the 32 lower-case hex digits the scripts compare, without the formatter
/// machinery of `Display` (one `write!` per byte) on every acquire, put and release.
fn id_hex(id: &LockId) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, b) in id.0.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    out
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn as_bytes(v: &Value) -> Option<Bytes> {
    match v {
        Value::BulkString(b) => Some(Bytes::copy_from_slice(b)),
        _ => None,
    }
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => vec![other],
    }
}

/// Lock values are `<lock id hex>:<token>:<lease ms>:<label>` (written by the acquire script).
fn decode_holder(v: &[u8]) -> Option<Holder> {
    let s = std::str::from_utf8(v).ok()?;
    let mut parts = s.splitn(4, ':');
    let id_hex = parts.next()?;
    let token = parts.next()?.parse().ok()?;
    let lease_ms = parts.next()?.parse().ok()?;
    let label = parts.next().unwrap_or("").to_owned();
    let mut id = [0u8; 16];
    if id_hex.len() != 32 {
        return None;
    }
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(id_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(Holder {
        lock_id: LockId(id),
        token,
        lease: Duration::from_millis(lease_ms),
        label,
    })
}

/// `[lock value, pttl, state, revision]` as returned by the load script.
fn snapshot_from(server: &str, key: &Key, v: Value) -> Result<Snapshot> {
    let v = array(v);
    let holder = match v.first() {
        Some(Value::BulkString(b)) => Some(decode_holder(b).ok_or_else(|| {
            Error::new(
                ErrorKind::Backend,
                format!(
                    "the lock of key {:?} on {server} holds a value fencelock did not write; \
                     give fencelock a namespace of its own",
                    key.as_str()
                ),
            )
            .with_key(key.as_str())
        })?),
        _ => None,
    };
    let ttl = v.get(1).and_then(as_u64).map(Duration::from_millis);
    Ok(Snapshot {
        revision: v.get(3).and_then(as_u64).unwrap_or(0),
        store_ttl: holder.as_ref().and(ttl),
        holder,
        state: v.get(2).and_then(as_bytes),
    })
}

#[async_trait]
impl Backend for RedisBackend {
    fn server(&self) -> &str {
        &self.server
    }

    fn max_state_len(&self) -> usize {
        MAX_STATE_LEN
    }

    fn feed_has_state(&self) -> bool {
        false
    }

    fn store_judges_expiry(&self) -> bool {
        // The server expires the lock key itself, and `load` reads the remaining `PTTL` in
        // the same script as the value.
        true
    }

    async fn load(&self, key: &Key) -> Result<Snapshot> {
        let keys = self.keys(key);
        let mut conn = self.conn.clone();
        let v: Value = scripts::LOAD
            .key(&keys.lock)
            .key(&keys.meta)
            .key(&keys.state)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.err("reading", key, e))?;
        snapshot_from(&self.server, key, v)
    }

    async fn acquire(
        &self,
        key: &Key,
        _seen: &Snapshot,
        hold: &HoldRequest,
    ) -> Result<Cas<Acquired>> {
        // Redis expires leases itself, so "still free" is checked by the script, not by revision.
        check_label(key, &hold.label)?;
        let keys = self.keys(key);
        let id = id_hex(&hold.lock_id);
        let lease_ms = hold.lease.as_millis().to_string();
        let hold_ms = self.hold_arg(hold.lease);
        let args: [&[u8]; 4] = [&id, lease_ms.as_bytes(), hold.label.as_bytes(), &hold_ms];
        // The script is idempotent per lock id, so a lost reply is asked again instead of
        // leaving an orphan lock that only its lease would free.
        let v = self
            .run_repeatable("acquiring", key, &scripts::ACQUIRE, &keys, &args)
            .await?;
        let v = array(v);
        if v.first().and_then(as_u64) != Some(1) {
            return Ok(Cas::Conflict);
        }
        let token = v.get(1).and_then(as_u64).unwrap_or(0);
        Ok(Cas::Done(Acquired {
            token,
            revision: v.get(2).and_then(as_u64).unwrap_or(0),
            state: v.get(3).and_then(as_bytes),
        }))
    }

    async fn refresh(&self, key: &Key, held: &Held) -> Result<Cas<u64>> {
        let keys = self.keys(key);
        let id = id_hex(&held.lock_id);
        let lease_ms = held.lease.as_millis().to_string();
        let v = self
            .run(
                "renewing the lease",
                key,
                &scripts::REFRESH,
                &keys,
                &[&id, lease_ms.as_bytes(), &self.hold_arg(held.lease)],
            )
            .await?;
        Ok(as_u64(&v)
            .filter(|r| *r > 0)
            .map_or(Cas::Conflict, Cas::Done))
    }

    async fn put(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Result<Cas<u64>> {
        self.put_call(key, held, state, self.next_call()).await
    }

    async fn release(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Result<Cas<Snapshot>> {
        self.release_call(key, held, state, self.next_call()).await
    }

    async fn delete(&self, key: &Key) -> Result<()> {
        let keys = self.keys(key);
        self.run("deleting", key, &scripts::DELETE, &keys, &[])
            .await
            .map(|_| ())
    }

    async fn watch(&self, key: &Key) -> Result<BoxStream<'static, Result<Snapshot>>> {
        let notices = self.feeds.subscribe(key).await?;
        let reader = Reader {
            conn: self.conn.clone(),
            keys: self.keys(key),
            server: self.server.clone(),
            key: key.clone(),
        };
        Ok(watch::snapshots(notices, reader))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Key>> {
        let fail = |e: redis::RedisError| Error::backend(&self.server, "listing keys", None, e);
        // Lock keys exist while held, state keys while there is state; the meta hash outlives
        // both (it keeps the fencing counter), so it does not say whether a key is in use.
        let mut pattern = glob_escape(&self.prefix).into_bytes();
        pattern.push(b'{');
        push_tagged(&mut pattern, &glob_escape(prefix));
        pattern.push(b'*');
        let mut found = std::collections::BTreeSet::new();
        match &self.conn {
            // SCAN covers one node; a cluster's keys are spread over its primaries.
            Conn::Cluster(c) => {
                let mut c = c.clone();
                for slot in list::one_slot_per_primary(&mut c).await.map_err(fail)? {
                    let mut node = list::Node::Slot(&mut c, slot);
                    let names = list::scan(&mut node, &pattern).await.map_err(fail)?;
                    found.extend(names.iter().filter_map(|raw| self.user_key(raw)));
                }
            }
            conn => {
                let mut conn = conn.clone();
                let mut node = list::Node::Conn(&mut conn);
                let names = list::scan(&mut node, &pattern).await.map_err(fail)?;
                found.extend(names.iter().filter_map(|raw| self.user_key(raw)));
            }
        }
        Ok(found
            .into_iter()
            .filter_map(|k| Key::new(&k).ok())
            .collect())
    }

    async fn watch_all(&self) -> Result<BoxStream<'static, Result<NamespaceChange>>> {
        Ok(watch::all_changes(self.feeds.subscribe_all()))
    }

    async fn close(&self) {
        self.feeds.close();
        self.conn.close();
    }
}

/// Reads one key's snapshot for the change feed, independently of the backend's lifetime.
pub(crate) struct Reader {
    conn: Conn,
    keys: Keys,
    server: String,
    key: Key,
}

impl Reader {
    pub(crate) async fn read(&mut self) -> Result<Snapshot> {
        let v: Value = scripts::LOAD
            .key(&self.keys.lock)
            .key(&self.keys.meta)
            .key(&self.keys.state)
            .invoke_async(&mut self.conn)
            .await
            .map_err(|e| Error::backend(&self.server, "reading", Some(self.key.as_str()), e))?;
        snapshot_from(&self.server, &self.key, v)
    }
}

/// The state arguments of put and release: unchanged state is not rewritten (`2`).
fn state_args<'a>(state: &'a Option<Bytes>, held: &Held) -> (&'static [u8], &'a [u8]) {
    match state {
        _ if *state == held.state => (b"2", b""),
        Some(s) => (b"1", s.as_ref()),
        None => (b"0", b""),
    }
}

/// Turns a notice into the snapshot it announces. Released keys come without their state
/// (the notice would have to carry it to every client); readers that need it read it.
pub(crate) fn notice_snapshot(payload: &[u8]) -> Option<(Key, Snapshot)> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.splitn(4, '\n');
    let revision = parts.next()?.parse().ok()?;
    let kind = parts.next()?;
    let value = parts.next()?;
    let key = Key::new(parts.next()?).ok()?;
    let snap = match kind {
        "A" => {
            let holder = decode_holder(value.as_bytes())?;
            Snapshot {
                revision,
                store_ttl: Some(holder.lease),
                holder: Some(holder),
                state: None,
            }
        }
        "R" | "D" => Snapshot::empty(revision),
        _ => return None,
    };
    Some((key, snap))
}

/// Escapes the glob characters of a `SCAN MATCH` pattern.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Labels travel inside the lock value, which a notice carries on a line of its own: a line
/// break in a label would shift the notice's fields.
fn check_label(key: &Key, label: &str) -> Result<()> {
    if label.contains('\n') {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "the holder label {label:?} for key {:?} contains a line break, which the Redis \
                 backend cannot store; use a label without line breaks",
                key.as_str()
            ),
        )
        .with_key(key.as_str()));
    }
    Ok(())
}

fn validate_namespace(ns: &str) -> Result<()> {
    if ns.is_empty() || ns.contains(['{', '}']) || ns.len() > 200 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "namespace {ns:?} cannot prefix Redis keys; use 1 to 200 characters without \
                 braces"
            ),
        ));
    }
    Ok(())
}

/// The URL without its passwords (user info, and a Sentinel's `sentinel_password`), for
/// messages.
fn redact(url: &str) -> String {
    let Some(s) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[s + 3..];
    // The user info ends at the last '@' before the path; a password with an unescaped '/' has
    // its '@' further on, and hiding too much is better than showing a password.
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let mut out = match authority.rfind('@').or_else(|| rest.rfind('@')) {
        Some(at) => format!("{}://***@{}", &url[..s], &rest[at + 1..]),
        None => url.to_owned(),
    };
    if let Some(i) = out.find("sentinel_password=") {
        let start = i + "sentinel_password=".len();
        let end = out[start..]
            .find(['&', '#'])
            .map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_values_round_trip_with_colons_in_the_label() {
        let id = LockId([0xab; 16]);
        let v = format!("{id}:7:1500:host:42").into_bytes();
        let h = decode_holder(&v).unwrap();
        assert_eq!(h.lock_id, id);
        assert_eq!(h.token, 7);
        assert_eq!(h.lease, Duration::from_millis(1500));
        assert_eq!(h.label, "host:42");
        assert!(decode_holder(b"garbage").is_none());
    }

    #[test]
    fn lock_ids_are_written_as_their_display_form() {
        for id in [LockId([0; 16]), LockId([0xff; 16]), LockId::random()] {
            assert_eq!(id_hex(&id).as_slice(), id.to_string().as_bytes());
        }
    }

    #[test]
    fn notices_carry_the_snapshot_they_announce() {
        let id = LockId([1; 16]);
        let (key, snap) =
            notice_snapshot(format!("9\nA\n{id}:4:1500:h:1\nmy\nkey").as_bytes()).unwrap();
        assert_eq!(key.as_str(), "my\nkey");
        assert_eq!(snap.revision, 9);
        let h = snap.holder.unwrap();
        assert_eq!((h.token, h.label.as_str()), (4, "h:1"));
        assert_eq!(snap.store_ttl, Some(Duration::from_millis(1500)));
        let (_, freed) = notice_snapshot(b"10\nR\n\nk").unwrap();
        assert_eq!(freed, Snapshot::empty(10));
        assert!(notice_snapshot(b"garbage").is_none());
        assert!(notice_snapshot(b"1\nX\n\nk").is_none());
    }

    #[test]
    fn scan_patterns_match_glob_characters_literally() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert_eq!(glob_escape("plain/key"), "plain/key");
    }

    #[test]
    fn passwords_are_redacted_from_messages() {
        assert_eq!(redact("redis://u:secret@h:1/0"), "redis://***@h:1/0");
        assert_eq!(redact("redis://h:1"), "redis://h:1");
        assert_eq!(redact("redis://:a/b#c@h:1"), "redis://***@h:1");
        assert_eq!(redact("redis://:a?b@h:1/0"), "redis://***@h:1/0");
        assert_eq!(
            redact("redis+sentinel://:pw@a:1,b:2/m?sentinel_password=x&y=1#f@g"),
            "redis+sentinel://***@a:1,b:2/m?sentinel_password=***&y=1#f@g"
        );
    }
}

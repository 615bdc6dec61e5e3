//! The client: a connection to a backend plus a namespace and defaults, and every operation.

use crate::acquire;
use crate::backend::{Backend, Holder};
use crate::builder::ClientBuilder;
use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::guard::{GuardShared, LockGuard};
use crate::key::{IntoKey, Key};
use crate::lease_keeper::LeaseKeeper;
use crate::options::{Defaults, LockOptions, Resolved};
use crate::runtime::on_core;
use crate::stats::{Counters, Stats};
use crate::wait;
use crate::waiters::KeyRegistry;
use bytes::Bytes;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::watch;

/// What `get` reports about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The stored state.
    pub state: Option<Bytes>,
    /// The holder recorded in the store, if any. A holder whose process died is still shown
    /// until someone observes its lease run out and takes over.
    pub holder: Option<Holder>,
    /// The store's revision of the key (0 when it never existed).
    pub revision: u64,
    /// Time left on the holder's lease by the store's own clock, where the store expires
    /// leases itself (Redis); `None` when free or when the store does not (NATS KV without
    /// per-message TTL, memory), where only the holder's renewals say it is alive.
    pub lease_remaining: Option<Duration>,
}

pub(crate) struct ClientInner {
    pub backend: Arc<dyn Backend>,
    pub defaults: Defaults,
    pub keys: Arc<KeyRegistry>,
    pub keeper: Arc<LeaseKeeper>,
    /// The runtime the client's connection and background tasks run on.
    pub rt: tokio::runtime::Handle,
    pub stats: Counters,
    guards: Mutex<HashMap<u64, Weak<GuardShared>>>,
    next_guard: AtomicU64,
    closed: AtomicBool,
    close_signal: watch::Sender<bool>,
    /// The process that connected the client. A child forked from it inherits the client's
    /// memory but not its connection's threads, so its requests would go unanswered.
    pid: u32,
}

impl ClientInner {
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub fn check_open(&self, key: &Key) -> Result<()> {
        if self.is_closed() {
            return Err(Error::closed(Some(key.as_str())));
        }
        // Fail at once with the fix, rather than after a request timeout with a message that
        // blames the server.
        let here = std::process::id();
        if self.pid != here {
            return Err(Error::inherited_after_fork(key.as_str(), self.pid, here));
        }
        Ok(())
    }

    /// Becomes true when the client closes (for background tasks that must stop then).
    pub fn close_receiver(&self) -> watch::Receiver<bool> {
        self.close_signal.subscribe()
    }

    pub fn next_guard_id(&self) -> u64 {
        self.next_guard.fetch_add(1, Ordering::Relaxed)
    }

    pub fn track_guard(&self, g: &Arc<GuardShared>) {
        self.guards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(g.id, Arc::downgrade(g));
    }

    /// Drops a finished guard from the client's table and from the lease keeper's queue.
    pub fn forget_guard(&self, id: u64) {
        let mut guards = self.guards.lock().unwrap_or_else(|p| p.into_inner());
        guards.remove(&id);
        // A burst of held locks leaves a large table behind; give the memory back.
        if guards.capacity() > 1024 && guards.len() < guards.capacity() / 4 {
            let len = guards.len();
            guards.shrink_to(len * 2);
        }
        drop(guards);
        self.keeper.forget(id);
    }

    fn held_count(&self) -> usize {
        self.guards.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Sizes of a client's internal tables, for tests that check nothing accumulates under churn.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InternalSizes {
    /// Guards the client tracks (held locks).
    pub guards: usize,
    /// Guards queued in the lease keeper.
    pub keeper_queue: usize,
    /// Keys with a slot in the key registry (bounded cache of recently used keys).
    pub key_slots: usize,
    /// Keys with an open change feed.
    pub feeds: usize,
}

/// A fencelock client. Cheap to clone: clones share the connection, the lease keepers and
/// the change feeds.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.backend.server())
            .field("closed", &self.inner.is_closed())
            .finish()
    }
}

impl Client {
    /// Starts building a client for `url`; its scheme picks the backend: `nats://` (also a
    /// comma-separated list for a cluster, or `host:port`), `redis://[user:password@]host:port`
    /// or `memory://` (in-process).
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// Connects with every option in one value: what each binding does. Same as
    /// `ClientBuilder::from(options).connect()`.
    ///
    /// # Errors
    /// As [`ClientBuilder::connect`]: `InvalidArgument` for an option the URL's backend does not
    /// use or a value out of range, `Backend` when the store cannot be reached.
    ///
    /// ```no_run
    /// # async fn demo() -> fencelock::Result<()> {
    /// let mut options = fencelock::ConnectOptions::new("redis://127.0.0.1:6379");
    /// options.namespace = Some("billing".into());
    /// options.replication = Some(2); // the primary and one replica acknowledge every write
    /// let client = fencelock::Client::connect_with(options).await?;
    /// # client.close().await; Ok(()) }
    /// ```
    pub async fn connect_with(options: crate::ConnectOptions) -> Result<Client> {
        ClientBuilder::from(options).connect().await
    }

    /// Starts building a client of the NATS JetStream KV backend. `servers` is one URL or
    /// several separated by commas, e.g. `nats://127.0.0.1:4222`.
    pub fn nats(servers: &str) -> ClientBuilder {
        ClientBuilder::new(servers)
    }

    /// Starts building a client of the Redis backend, e.g. `redis://127.0.0.1:6379`,
    /// `rediss://…`, `redis+sentinel://h1:26379,h2:26379/mymaster` or
    /// `redis+cluster://h1:7000,h2:7001`.
    pub fn redis(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// Starts building a client of the in-process memory backend (for unit tests): clients of
    /// one process with the same namespace share locks and state.
    pub fn memory() -> ClientBuilder {
        ClientBuilder::new("memory://")
    }

    /// Wraps an already connected backend (for backends built outside the builder).
    pub(crate) fn from_backend(
        backend: Arc<dyn Backend>,
        defaults: Defaults,
        rt: tokio::runtime::Handle,
    ) -> Client {
        let (close_signal, closed) = watch::channel(false);
        let keys = KeyRegistry::new(backend.clone(), closed.clone(), rt.clone());
        let keeper = LeaseKeeper::new(closed, rt.clone());
        Client {
            inner: Arc::new(ClientInner {
                backend,
                defaults,
                keys,
                keeper,
                rt,
                stats: Counters::default(),
                guards: Mutex::new(HashMap::new()),
                next_guard: AtomicU64::new(1),
                closed: AtomicBool::new(false),
                close_signal,
                pid: std::process::id(),
            }),
        }
    }

    fn resolve(&self, key: &Key, opts: &LockOptions, wait: bool) -> Result<Resolved> {
        let max_lease = self.inner.backend.max_lease();
        Resolved::new(key.as_str(), &self.inner.defaults, opts, wait, max_lease)
    }

    /// The servers this client talks to.
    pub fn server(&self) -> &str {
        self.inner.backend.server()
    }

    /// The client's default lease.
    pub fn default_lease(&self) -> Duration {
        self.inner.defaults.lease
    }

    /// Largest state accepted, in bytes.
    pub fn max_state_len(&self) -> usize {
        self.inner.backend.max_state_len()
    }

    /// Number of locks this client currently holds.
    pub fn held_count(&self) -> usize {
        self.inner.held_count()
    }

    /// Acquires `key`, waiting up to `timeout` (`None`: forever). Fails with `Timeout`.
    ///
    /// # Errors
    /// `Timeout` when `key` stays held past `timeout`; `InvalidKey` for an empty or over-long
    /// key; `InvalidArgument` for a lease out of range; `Closed` after [`close`](Self::close);
    /// `Backend` when the store fails.
    ///
    /// ```no_run
    /// # async fn demo(client: fencelock::Client) -> fencelock::Result<()> {
    /// let guard = client.acquire("nightly-import", Some(std::time::Duration::from_secs(5))).await?;
    /// println!("token {}", guard.token());
    /// guard.release(None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn acquire(&self, key: impl IntoKey, timeout: Option<Duration>) -> Result<LockGuard> {
        let opts = LockOptions {
            timeout,
            ..LockOptions::default()
        };
        self.acquire_with(key, &opts).await
    }

    /// Acquires `key` with per-call options (timeout, lease, renewal, label).
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire).
    pub async fn acquire_with(&self, key: impl IntoKey, opts: &LockOptions) -> Result<LockGuard> {
        let key = key.into_key()?;
        let resolved = self.resolve(&key, opts, true)?;
        let inner = self.inner.clone();
        let got = on_core(async move { acquire::acquire(&inner, key, resolved).await }).await;
        self.inner.stats.outcome(got)
    }

    /// Acquires `key` if it is free now; `Ok(None)` when someone holds it.
    ///
    /// # Errors
    /// `InvalidKey`, `Closed` or `Backend` as [`acquire`](Self::acquire); never `Timeout` or
    /// `Held` (a held key is `Ok(None)`).
    pub async fn try_acquire(&self, key: impl IntoKey) -> Result<Option<LockGuard>> {
        self.try_acquire_with(key, &LockOptions::default()).await
    }

    /// [`try_acquire`](Self::try_acquire) with per-call options (the timeout is ignored).
    ///
    /// # Errors
    /// As [`try_acquire`](Self::try_acquire), plus `InvalidArgument` for a lease out of range.
    pub async fn try_acquire_with(
        &self,
        key: impl IntoKey,
        opts: &LockOptions,
    ) -> Result<Option<LockGuard>> {
        let key = key.into_key()?;
        let resolved = self.resolve(&key, opts, false)?;
        let inner = self.inner.clone();
        let attempt = on_core(async move { acquire::acquire(&inner, key, resolved).await });
        match attempt.await {
            Ok(g) => Ok(Some(g)),
            Err(e) if e.kind() == ErrorKind::Held => {
                self.inner.stats.try_missed();
                Ok(None)
            }
            Err(e) => self.inner.stats.outcome(Err(e)),
        }
    }

    /// Releases `guard`, writing `state` if given (see [`LockGuard::release`]).
    ///
    /// # Errors
    /// `InvalidArgument` for a guard of another client; `StateTooLarge` for a state over
    /// [`max_state_len`](Self::max_state_len); `Backend` when the store fails. A lapsed lease
    /// is not an error: the answer is `false`.
    pub async fn release(&self, guard: &LockGuard, state: Option<Bytes>) -> Result<bool> {
        if !Arc::ptr_eq(&guard.shared.client, &self.inner) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "the guard for key {:?} belongs to another client; release it through the \
                     client that acquired it (or call guard.release())",
                    guard.key()
                ),
            )
            .with_key(guard.key()));
        }
        guard.release(state).await
    }

    /// nlock's `Do`: runs `f` with the state only if `key` is free right now, then releases
    /// (keeping the state). `Ok(None)` when the key was held and `f` did not run.
    ///
    /// # Errors
    /// As [`try_acquire`](Self::try_acquire), and `Backend` when the release fails.
    pub async fn do_if_free<F, Fut, T>(&self, key: impl IntoKey, f: F) -> Result<Option<T>>
    where
        F: FnOnce(Option<Bytes>) -> Fut,
        Fut: Future<Output = T>,
    {
        let Some(guard) = self.try_acquire(key).await? else {
            return Ok(None);
        };
        let out = f(guard.initial_state().cloned()).await;
        guard.release(None).await?;
        Ok(Some(out))
    }

    /// Runs `f(state)` under the lock of `key` and stores the state it returns (`None` keeps
    /// the old one), then releases. The lease is not renewed: a callback that outlives it fails
    /// with `Timeout` and writes nothing. Errors of `f` release the lock unchanged and come
    /// back as `Callback` errors.
    ///
    /// # Errors
    /// As [`acquire`](Self::acquire); `Callback` when `f` fails (its error is the source);
    /// `Timeout` when `f` outlives the lease; `Expired` when the lock was lost meanwhile;
    /// `StateTooLarge` for a new state over [`max_state_len`](Self::max_state_len).
    ///
    /// ```no_run
    /// # async fn demo(client: fencelock::Client) -> fencelock::Result<()> {
    /// use fencelock::Bytes;
    /// client
    ///     .with_lock("counter", Some(std::time::Duration::from_secs(5)), |state| async move {
    ///         let n: u64 = state.map(|s| String::from_utf8_lossy(&s).parse().unwrap_or(0)).unwrap_or(0);
    ///         Ok::<_, std::io::Error>(Some(Bytes::from((n + 1).to_string())))
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn with_lock<F, Fut, E>(
        &self,
        key: impl IntoKey,
        timeout: Option<Duration>,
        f: F,
    ) -> Result<Option<Bytes>>
    where
        F: FnOnce(Option<Bytes>) -> Fut,
        Fut: Future<Output = std::result::Result<Option<Bytes>, E>>,
        E: Into<BoxError>,
    {
        let opts = LockOptions {
            timeout,
            ..LockOptions::default()
        };
        self.with_lock_opts(key, &opts, f).await
    }

    /// [`with_lock`](Self::with_lock) with per-call options (lease, label; renewal is off).
    ///
    /// # Errors
    /// As [`with_lock`](Self::with_lock), plus `InvalidArgument` for a lease out of range.
    pub async fn with_lock_opts<F, Fut, E>(
        &self,
        key: impl IntoKey,
        opts: &LockOptions,
        f: F,
    ) -> Result<Option<Bytes>>
    where
        F: FnOnce(Option<Bytes>) -> Fut,
        Fut: Future<Output = std::result::Result<Option<Bytes>, E>>,
        E: Into<BoxError>,
    {
        let opts = LockOptions {
            renew: Some(false),
            ..opts.clone()
        };
        let guard = self.acquire_with(key, &opts).await?;
        let before = guard.initial_state().cloned();
        let outcome = tokio::time::timeout(guard.remaining(), f(before))
            .await
            .ok()
            .map(|r| r.map_err(Into::into));
        guard.finish_with_lock(outcome).await
    }

    /// Waits until `key` is free (released, never held, or its holder's lease ran out) and
    /// returns its state. Takes no lock.
    ///
    /// # Errors
    /// `Timeout` when `key` stays held past `timeout`; `InvalidKey`, `Closed` or `Backend` as
    /// [`acquire`](Self::acquire).
    pub async fn wait(
        &self,
        key: impl IntoKey,
        timeout: Option<Duration>,
    ) -> Result<Option<Bytes>> {
        let key = key.into_key()?;
        let inner = self.inner.clone();
        let freed = on_core(async move { wait::until_free(&inner, key, timeout).await }).await;
        self.inner.stats.outcome(freed)
    }

    /// Reads the state and holder of `key` without locking.
    ///
    /// # Errors
    /// `InvalidKey` for an empty or over-long key; `Closed` after [`close`](Self::close);
    /// `Backend` when the store fails.
    pub async fn get(&self, key: impl IntoKey) -> Result<KeyInfo> {
        let key = key.into_key()?;
        self.inner.check_open(&key)?;
        let inner = self.inner.clone();
        let s = on_core(async move { inner.backend.load(&key).await }).await;
        let s = self.inner.stats.outcome(s)?;
        Ok(KeyInfo {
            state: s.state,
            lease_remaining: s.holder.as_ref().and(s.store_ttl),
            holder: s.holder,
            revision: s.revision,
        })
    }

    /// Deletes the lock and state of `key` unconditionally. A current holder loses the lock:
    /// its next write or renewal is refused and its `lost` signal fires.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn delete(&self, key: impl IntoKey) -> Result<()> {
        let key = key.into_key()?;
        self.inner.check_open(&key)?;
        self.inner.keys.forget(&key);
        let inner = self.inner.clone();
        let done = on_core(async move { inner.backend.delete(&key).await }).await;
        self.inner.stats.outcome(done)
    }

    /// Closes the client: stops renewals and watches, releases every lock it holds (keeping
    /// their state), and closes the connection. Later calls fail with `Closed`.
    pub async fn close(&self) {
        let inner = self.inner.clone();
        on_core(async move { close(&inner).await }).await
    }

    /// This client's lock statistics since it connected (see [`Stats`]): cheap to read, and
    /// counters only grow.
    pub fn stats(&self) -> Stats {
        self.inner.stats.read()
    }

    /// True after [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Sizes of the client's internal tables (test support; not a stable API).
    #[doc(hidden)]
    pub fn internal_sizes(&self) -> InternalSizes {
        let (key_slots, feeds) = self.inner.keys.sizes();
        InternalSizes {
            guards: self.inner.held_count(),
            keeper_queue: self.inner.keeper.queued(),
            key_slots,
            feeds,
        }
    }

    pub(crate) fn inner(&self) -> &Arc<ClientInner> {
        &self.inner
    }
}

async fn close(inner: &Arc<ClientInner>) {
    {
        if inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let held: Vec<Arc<GuardShared>> = {
            let guards = inner.guards.lock().unwrap_or_else(|p| p.into_inner());
            guards.values().filter_map(Weak::upgrade).collect()
        };
        let releases = held.iter().map(|g| async move {
            if let Err(e) = g.release(None, true).await {
                tracing::debug!(key = %g.key, error = %e, "release while closing failed");
            }
        });
        futures::future::join_all(releases).await;
        let _ = inner.close_signal.send(true);
        inner.keys.clear();
        inner.backend.close().await;
    }
}

//! The narrow interface every store implements. Everything above it (waiting, lease keeping,
//! guards, errors) is backend-independent, so a new backend is one more file here.

pub mod memory;
pub mod nats;
pub mod redis;

use crate::error::Result;
use crate::key::Key;
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use std::time::Duration;

/// A unique id of one acquisition, chosen by the acquirer (random 128 bits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LockId(pub [u8; 16]);

impl LockId {
    /// 128 bits from the operating system. Not from a user-space generator: a forked child
    /// inherits such a generator's state and would repeat its parent's ids.
    pub(crate) fn random() -> LockId {
        let mut id = [0u8; 16];
        if getrandom::fill(&mut id).is_err() {
            // No OS entropy (should not happen on supported systems): fall back, still unique
            // per process thanks to the pid and the clock.
            let salt = (u128::from(std::process::id()) << 96)
                ^ std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
            id = (rand::random::<u128>() ^ salt).to_be_bytes();
        }
        LockId(id)
    }
}

impl std::fmt::Display for LockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for LockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Who holds a lock, as recorded in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The acquisition's unique id.
    pub lock_id: LockId,
    /// The acquisition's fencing token.
    pub token: u64,
    /// The lease the holder asked for; it renews within it or loses the lock.
    pub lease: Duration,
    /// A free-form label naming the holder process (for operators).
    pub label: String,
}

/// What a backend read (or wrote) for one key at one revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The revision to compare-and-set against; 0 when the key never existed.
    pub revision: u64,
    /// The current holder, `None` when the lock is free.
    pub holder: Option<Holder>,
    /// The state stored with the key.
    pub state: Option<Bytes>,
    /// Time the store says remains on the holder's lease, when the store expires leases itself.
    pub store_ttl: Option<Duration>,
}

impl Snapshot {
    /// A key that holds nothing at `revision` (never written, deleted, purged or expired).
    pub fn empty(revision: u64) -> Snapshot {
        Snapshot {
            revision,
            holder: None,
            state: None,
            store_ttl: None,
        }
    }
}

/// What the acquirer asks the store to record.
#[derive(Clone, Debug)]
pub struct HoldRequest {
    /// The new acquisition's id.
    pub lock_id: LockId,
    /// The lease to record.
    pub lease: Duration,
    /// Label naming the holder process.
    pub label: String,
}

/// A lock as its holder knows it: enough to write again with compare-and-set.
#[derive(Clone, Debug)]
pub struct Held {
    /// The revision of the holder's last successful write.
    pub revision: u64,
    /// The acquisition's fencing token.
    pub token: u64,
    /// The acquisition's id.
    pub lock_id: LockId,
    /// The lease recorded for the acquisition.
    pub lease: Duration,
    /// Label naming the holder process.
    pub label: String,
    /// The state as last written (or read at acquisition).
    pub state: Option<Bytes>,
}

/// The outcome of a compare-and-set: applied, or the store moved on since the expected revision.
#[derive(Debug)]
pub enum Cas<T> {
    /// The write was applied.
    Done(T),
    /// The store's revision differs from the expected one: someone else wrote.
    Conflict,
}

/// A successful acquisition.
#[derive(Debug, Clone)]
pub struct Acquired {
    /// Revision of the acquiring write.
    pub revision: u64,
    /// The fencing token, strictly increasing per key.
    pub token: u64,
    /// The state at the moment of acquisition.
    pub state: Option<Bytes>,
}

/// The operations a store provides. Every write is a compare-and-set, so a holder that lost the
/// lock can never overwrite a newer holder's data.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// A short description of the servers, for error messages (e.g. `nats://127.0.0.1:4222`).
    fn server(&self) -> &str;

    /// Largest state in bytes the store accepts with this backend's overhead.
    fn max_state_len(&self) -> usize;

    /// Longest lease the store can honour: a held entry must not expire under its holder
    /// (NATS bucket `max_age`). `None`: no limit.
    fn max_lease(&self) -> Option<std::time::Duration> {
        None
    }

    /// Whether snapshots from [`watch`](Backend::watch) carry the state. When not, a reader
    /// that needs the state of a freed key reads it.
    fn feed_has_state(&self) -> bool {
        true
    }

    /// Whether [`load`](Backend::load) reports a lapsed lease itself, by the store's clock: as a
    /// free snapshot, and a running one with its `store_ttl`. Snapshots from elsewhere (the
    /// change feed) may lack that judgement, so a waiter re-reads before relying on its own
    /// observation of a held key.
    fn store_judges_expiry(&self) -> bool {
        false
    }

    /// Changes whenever the connection was re-established or the store was found reset (its
    /// revisions went back: a server restarted without its data, a namespace deleted and
    /// created again). Revisions and observations learned in an earlier epoch are not trusted:
    /// the same revision may now name someone else's entry.
    fn epoch(&self) -> u64 {
        0
    }

    /// Follows [`epoch`](Backend::epoch), for tasks that must react at once (change feeds open
    /// their watch again, waiters re-read). `None`: the epoch never changes.
    fn epoch_changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }

    /// A key's revision went back (a read or the change feed returned a lower revision than one
    /// seen before in this epoch). A lagging replica does that too, so the store checks whether
    /// it was reset, and moves the epoch if so.
    async fn suspect_reset(&self) {}

    /// Reads the current snapshot of `key`.
    async fn load(&self, key: &Key) -> Result<Snapshot>;

    /// Reads `key` from the copy that decides compare-and-sets (a replicated store's leader),
    /// for when [`load`](Backend::load) served a revision a compare-and-set just found stale.
    async fn load_authoritative(&self, key: &Key) -> Result<Snapshot> {
        self.load(key).await
    }

    /// Takes the lock if `seen` is still the key's current revision, carrying `seen.state` over.
    /// `seen` may be free, or held by a holder the caller has seen unchanged for a full lease.
    async fn acquire(
        &self,
        key: &Key,
        seen: &Snapshot,
        hold: &HoldRequest,
    ) -> Result<Cas<Acquired>>;

    /// Rewrites the holder's entry to restart its lease, returning the new revision.
    async fn refresh(&self, key: &Key, held: &Held) -> Result<Cas<u64>>;

    /// Writes `state` while keeping the lock, returning the new revision.
    async fn put(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Result<Cas<u64>>;

    /// Frees the lock and stores `state`, returning the snapshot written.
    async fn release(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Result<Cas<Snapshot>>;

    /// Whether the key's last entry is exactly what [`release`](Backend::release) of `held` with
    /// `state` writes, for when a release's compare-and-set conflicts: an earlier attempt whose
    /// answer was lost may have been applied. `Some(snapshot)` of that entry when it is;
    /// `None` when it is not, or when this store cannot tell.
    async fn released_as(
        &self,
        _key: &Key,
        _held: &Held,
        _state: Option<&Bytes>,
    ) -> Result<Option<Snapshot>> {
        Ok(None)
    }

    /// Removes the key's lock and state unconditionally.
    async fn delete(&self, key: &Key) -> Result<()>;

    /// A change feed for `key`: its current snapshot first, then every change. Feeds are hints:
    /// they may miss changes, so callers re-read and keep a fallback timer.
    async fn watch(&self, key: &Key) -> Result<BoxStream<'static, Result<Snapshot>>>;

    /// Keys of the namespace whose name starts with `prefix` and that hold a lock or state
    /// (for operators: `fencelock ls`). Deleted keys are left out. Not a snapshot: keys written
    /// while the listing runs may or may not appear.
    async fn list(&self, prefix: &str) -> Result<Vec<Key>>;

    /// A change feed over the whole namespace (for operators: `fencelock watch`). Like
    /// [`watch`](Backend::watch) it is a hint: it may skip changes, and says
    /// [`NamespaceChange::Resync`] when it may have, so that readers list and read again.
    async fn watch_all(&self) -> Result<BoxStream<'static, Result<NamespaceChange>>>;

    /// Stops background work and closes the connection.
    async fn close(&self);
}

/// One item of a namespace-wide change feed.
#[derive(Clone, Debug)]
pub enum NamespaceChange {
    /// `key` changed to this snapshot (its state may be left out, see
    /// [`Backend::feed_has_state`]).
    Changed(Key, Snapshot),
    /// Changes may have been missed (a reconnect): list and read again.
    Resync,
}

//! Per-key bookkeeping of one client: a local gate so that only one task per key contends at
//! the store, the snapshot learned from this client's own last write (so a hot key costs no
//! extra read), and one shared change feed per key for everyone waiting on it.

use crate::backend::{Backend, Snapshot};
use crate::error::{Error, ErrorKind, Result};
use crate::key::Key;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

/// How long an unused feed stays open, so back-to-back waits on a hot key reuse it.
const FEED_LINGER: Duration = Duration::from_secs(5);
/// Retry pacing for a feed whose watch failed (server restart, network loss).
const FEED_RETRY_MIN: Duration = Duration::from_millis(50);
const FEED_RETRY_MAX: Duration = Duration::from_secs(2);
/// Slots kept before idle ones are swept: the cache of a client that touches ever new keys
/// stays this size (with up to twice as many keys in active use), instead of growing with
/// every key it ever locked.
const SWEEP_AT: usize = 1024;

/// What a feed last delivered, with the store epoch it was read in: a snapshot of an earlier
/// epoch is never compared by revision with one of a later (the store may have been reset).
pub(crate) type Fed = Option<(u64, Snapshot)>;
type Feed = watch::Sender<Fed>;

#[derive(Default)]
struct Slot {
    gate: Option<Arc<Semaphore>>,
    /// This client's last write, with the connection epoch it was learned in.
    cached: Option<(u64, Snapshot)>,
    feed: Option<Feed>,
    /// The held entry this client last observed (epoch, revision, holder), and since when (its
    /// own clock), so that a later `try_acquire` can take over a holder whose lease ran out
    /// meanwhile. The holder's id is part of it: after a store reset the same revision can
    /// name another acquisition, whose lease must not count from the old one's first sighting.
    observed: Option<(Sighting, Instant)>,
    /// The highest revision seen of the key, with its epoch: a lower one later in the same
    /// epoch means a lagging replica or a reset store.
    high: (u64, u64),
}

/// What identifies an observed entry.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Sighting {
    epoch: u64,
    revision: u64,
    holder: Option<crate::backend::LockId>,
}

impl Slot {
    fn idle(&self) -> bool {
        self.feed.is_none()
            && self
                .gate
                .as_ref()
                .is_none_or(|g| Arc::strong_count(g) == 1 && g.available_permits() == 1)
    }
}

struct Slots {
    map: HashMap<Key, Slot>,
    sweep_at: usize,
}

/// The key registry of one client.
pub(crate) struct KeyRegistry {
    slots: Mutex<Slots>,
    backend: Arc<dyn Backend>,
    closed: watch::Receiver<bool>,
    rt: tokio::runtime::Handle,
}

impl KeyRegistry {
    pub fn new(
        backend: Arc<dyn Backend>,
        closed: watch::Receiver<bool>,
        rt: tokio::runtime::Handle,
    ) -> Arc<KeyRegistry> {
        Arc::new(KeyRegistry {
            slots: Mutex::new(Slots {
                map: HashMap::new(),
                sweep_at: SWEEP_AT,
            }),
            backend,
            closed,
            rt,
        })
    }

    fn with_slot<T>(&self, key: &Key, f: impl FnOnce(&mut Slot) -> T) -> T {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        // Found: no clone of the key (an allocation, several times per acquire and release).
        if let Some(slot) = slots.map.get_mut(key) {
            return f(slot);
        }
        if slots.map.len() >= slots.sweep_at {
            slots.map.retain(|_, s| !s.idle());
            slots.sweep_at = (slots.map.len() * 2).max(SWEEP_AT);
            let keep = slots.sweep_at;
            if slots.map.capacity() > keep * 2 {
                slots.map.shrink_to(keep);
            }
        }
        f(slots.map.entry(key.clone()).or_default())
    }

    /// The gate that admits one local task at a time to contend for `key`.
    pub fn gate(&self, key: &Key) -> Arc<Semaphore> {
        self.with_slot(key, |s| {
            s.gate
                .get_or_insert_with(|| Arc::new(Semaphore::new(1)))
                .clone()
        })
    }

    /// The newest snapshot this client knows without asking the store: its own last write or
    /// the key's change feed, whichever is newer (both of the current epoch).
    pub fn latest(&self, key: &Key) -> Option<Snapshot> {
        let epoch = self.backend.epoch();
        self.with_slot(key, |s| {
            let cached = match &s.cached {
                Some((e, snap)) if *e == epoch => Some(snap.clone()),
                _ => None,
            };
            let fed = s.feed.as_ref().and_then(|f| match &*f.borrow() {
                Some((e, snap)) if *e == epoch => Some(snap.clone()),
                _ => None,
            });
            match (cached, fed) {
                (Some(c), Some(f)) => Some(if f.revision > c.revision { f } else { c }),
                (c, f) => c.or(f),
            }
        })
    }

    /// Since when this client has seen `key` as `snap` (read in `epoch`): the first
    /// observation is kept, so the lease of a silent holder counts from the first time anyone
    /// here saw it.
    pub fn observed_since(&self, key: &Key, epoch: u64, snap: &Snapshot) -> Instant {
        let seen = Sighting {
            epoch,
            revision: snap.revision,
            holder: snap.holder.as_ref().map(|h| h.lock_id),
        };
        self.with_slot(key, |s| match s.observed {
            Some((was, since)) if was == seen => since,
            _ => {
                let now = Instant::now();
                s.observed = Some((seen, now));
                now
            }
        })
    }

    /// Notes that `key` was seen at `revision` in `epoch`; true when that is below a revision
    /// seen before in the same epoch (a lagging replica, or a store that was reset).
    pub fn went_back(&self, key: &Key, epoch: u64, revision: u64) -> bool {
        self.with_slot(key, |s| {
            let (e, high) = s.high;
            if e == epoch && revision != 0 && revision < high {
                return true;
            }
            if e != epoch || revision > high {
                s.high = (epoch, revision);
            }
            false
        })
    }

    /// Records a snapshot this client wrote, and tells local waiters.
    pub fn remember(&self, key: &Key, snap: Snapshot) {
        let epoch = self.backend.epoch();
        self.with_slot(key, |s| {
            if let Some(feed) = &s.feed {
                publish(feed, epoch, &snap);
            }
            s.cached = Some((epoch, snap));
        })
    }

    /// Forgets what this client knew of `key` (after a delete or a conflict).
    pub fn forget(&self, key: &Key) {
        self.with_slot(key, |s| s.cached = None)
    }

    /// Drops every slot (the client closed: its feeds end with it).
    pub fn clear(&self) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.map = HashMap::new();
        slots.sweep_at = SWEEP_AT;
    }

    /// Number of keys with a slot, and of those with an open change feed.
    pub fn sizes(&self) -> (usize, usize) {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let feeds = slots.map.values().filter(|s| s.feed.is_some()).count();
        (slots.map.len(), feeds)
    }

    /// Subscribes to the shared change feed of `key`, starting it if needed.
    pub fn subscribe(self: &Arc<Self>, key: &Key) -> watch::Receiver<Fed> {
        self.with_slot(key, |s| {
            if let Some(feed) = &s.feed {
                return feed.subscribe();
            }
            let (tx, rx) = watch::channel(None);
            s.feed = Some(tx.clone());
            self.rt
                .spawn(run_feed(Arc::downgrade(self), key.clone(), tx));
            rx
        })
    }

    /// Drops the feed of `key` if nobody listens; true when it was dropped.
    fn retire_feed(&self, key: &Key, tx: &Feed) -> bool {
        self.with_slot(key, |s| {
            if tx.receiver_count() > 0 {
                return false;
            }
            if s.feed.as_ref().is_some_and(|f| f.same_channel(tx)) {
                s.feed = None;
            }
            true
        })
    }
}

/// Replaces the feed's value when `snap` (read in `epoch`) is newer: of a later epoch, or of
/// the same with a higher revision.
fn publish(feed: &Feed, epoch: u64, snap: &Snapshot) {
    feed.send_if_modified(|cur| match cur {
        Some((e, c)) if *e > epoch || (*e == epoch && c.revision >= snap.revision) => false,
        _ => {
            *cur = Some((epoch, snap.clone()));
            true
        }
    });
}

/// The feed's value (with its epoch) when it is newer than revision `seen` read in `epoch`.
pub(crate) fn newer(fed: &Fed, epoch: u64, seen: u64) -> Option<(u64, Snapshot)> {
    match fed {
        Some((e, snap)) if *e > epoch || (*e == epoch && snap.revision > seen) => {
            Some((*e, snap.clone()))
        }
        _ => None,
    }
}

/// Keeps one backend watch open for `key` while anyone listens, re-opening it when it fails.
async fn run_feed(registry: Weak<KeyRegistry>, key: Key, tx: Feed) {
    let Some(reg) = registry.upgrade() else {
        return;
    };
    let backend = reg.backend.clone();
    let mut closed = reg.closed.clone();
    drop(reg);
    let mut epochs = backend.epoch_changes();
    let mut retry = FEED_RETRY_MIN;
    loop {
        if *closed.borrow() {
            return;
        }
        if let Some(rx) = epochs.as_mut() {
            rx.borrow_and_update();
        }
        // Read before opening: entries are tagged with the epoch the watch was opened in, and a
        // change of epoch opens it again (a watch of a reset stream would resume after the
        // sequence it last delivered and miss every entry below it).
        let epoch = backend.epoch();
        let stream = tokio::select! {
            s = backend.watch(&key) => s,
            _ = closed.changed() => return,
        };
        let mut reopen_now = false;
        match stream {
            Ok(mut stream) => {
                // Keep reading while idle, so a listener that returns during the linger sees
                // every change.
                let mut idle_since: Option<Instant> = None;
                loop {
                    let linger_end = idle_since.map(|t| t + FEED_LINGER);
                    tokio::select! {
                        item = stream.next() => match item {
                            Some(Ok(snap)) => {
                                retry = FEED_RETRY_MIN;
                                let back = tx.borrow().as_ref().is_some_and(|(e, c)| {
                                    *e == epoch && snap.revision != 0 && snap.revision < c.revision
                                });
                                if back {
                                    let b = backend.clone();
                                    tokio::spawn(async move { b.suspect_reset().await });
                                }
                                publish(&tx, epoch, &snap)
                            }
                            Some(Err(e)) => {
                                tracing::debug!(key = %key, error = %e, "watch failed; re-opening");
                                break;
                            }
                            None => break,
                        },
                        _ = tx.closed(), if idle_since.is_none() => idle_since = Some(Instant::now()),
                        _ = sleep_until_opt(linger_end), if linger_end.is_some() => {
                            let Some(reg) = registry.upgrade() else { return };
                            if reg.retire_feed(&key, &tx) {
                                return;
                            }
                            idle_since = None;
                        }
                        _ = changed(&mut epochs) => {
                            tracing::debug!(key = %key, "store epoch moved; re-opening the watch");
                            retry = FEED_RETRY_MIN;
                            reopen_now = true;
                            break;
                        }
                        _ = closed.changed() => return,
                    }
                }
            }
            Err(e) => {
                tracing::debug!(key = %key, error = %e, "cannot open watch; retrying");
            }
        }
        if reopen_now {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = changed(&mut epochs) => {}
            _ = closed.changed() => return,
        }
        retry = (retry * 2).min(FEED_RETRY_MAX);
    }
}

/// Resolves when the store epoch moves; never when the store has no epochs (or is gone).
async fn changed(epochs: &mut Option<watch::Receiver<u64>>) {
    match epochs {
        Some(rx) => {
            if rx.changed().await.is_err() {
                futures::future::pending::<()>().await
            }
        }
        None => futures::future::pending().await,
    }
}

/// What a waiter knows of a key: the snapshot it last saw and since when, on its own clock.
///
/// Where the store judged the lease (its snapshot carries the time its clock says remains),
/// that remainder counts from when the snapshot was taken in; otherwise a lock counts as
/// expired only once the same revision has been seen for a whole lease on the waiter's
/// monotonic clock. Either way no decision compares clocks of different clients.
pub(crate) struct Observer {
    key: Key,
    registry: Arc<KeyRegistry>,
    pub seen: Snapshot,
    /// The store epoch `seen` was read in.
    epoch: u64,
    since: Instant,
    /// When `seen` was taken in, for its `store_ttl` (read before, so counting from here is late,
    /// never early).
    ttl_from: Instant,
    feed: Option<watch::Receiver<Fed>>,
}

/// Why [`Observer::wait_change`] returned without a change.
pub(crate) enum Woke {
    /// Something changed, or the holder's lease ran out on our clock.
    Recheck,
    /// The caller's deadline passed.
    Deadline,
}

impl Observer {
    /// An observer of `seen`, a snapshot of the current epoch this client already knew.
    pub fn new(registry: Arc<KeyRegistry>, key: Key, seen: Snapshot) -> Observer {
        let epoch = registry.backend.epoch();
        Self::with_epoch(registry, key, seen, epoch)
    }

    /// An observer of the key as read from the store now.
    pub async fn read(registry: Arc<KeyRegistry>, key: Key) -> Result<Observer> {
        let (epoch, seen) = read_checked(&registry, &key, false).await?;
        Ok(Self::with_epoch(registry, key, seen, epoch))
    }

    fn with_epoch(registry: Arc<KeyRegistry>, key: Key, seen: Snapshot, epoch: u64) -> Observer {
        let since = registry.observed_since(&key, epoch, &seen);
        Observer {
            key,
            registry,
            seen,
            epoch,
            since,
            ttl_from: Instant::now(),
            feed: None,
        }
    }

    /// Adopts a snapshot of the current epoch; the lease clock restarts when the entry changed.
    pub fn saw(&mut self, snap: Snapshot) {
        let epoch = self.registry.backend.epoch();
        self.saw_in(epoch, snap)
    }

    /// Adopts a snapshot read in `epoch`.
    fn saw_in(&mut self, epoch: u64, snap: Snapshot) {
        if epoch != self.epoch
            || snap.revision != self.seen.revision
            || snap.holder != self.seen.holder
        {
            self.since = self.registry.observed_since(&self.key, epoch, &snap);
        }
        if snap.store_ttl.is_some() {
            self.ttl_from = Instant::now();
        }
        self.epoch = epoch;
        self.seen = snap;
    }

    /// True when the store epoch moved since `seen` was read: it says nothing any more.
    fn outdated(&self) -> bool {
        self.registry.backend.epoch() != self.epoch
    }

    /// When the current holder's lease runs out on our clock; `None` when the lock is free.
    pub fn expires_at(&self) -> Option<Instant> {
        let h = self.seen.holder.as_ref()?;
        let end = match self.seen.store_ttl {
            Some(ttl) => self.ttl_from.checked_add(ttl),
            None => self.since.checked_add(h.lease),
        };
        Some(end.unwrap_or_else(far_future))
    }

    /// True when the held snapshot was judged by this waiter's own clock although the store can
    /// judge it (it came from the change feed or the cache): a read then gives the store's view.
    pub fn unjudged(&self) -> bool {
        self.seen.holder.is_some()
            && self.seen.store_ttl.is_none()
            && self.registry.backend.store_judges_expiry()
    }

    /// True when the lock is free or its holder's lease ran out on our clock.
    pub fn takeable(&self) -> bool {
        self.expires_at().is_none_or(|t| Instant::now() >= t)
    }

    /// Waits for a change of the key, the holder's lease to run out, or `deadline`.
    pub async fn wait_change(&mut self, deadline: Option<Instant>) -> Result<Woke> {
        let mut closed = self.registry.closed.clone();
        if *closed.borrow() {
            return Err(Error::closed(Some(self.key.as_str())));
        }
        let mut epochs = self.registry.backend.epoch_changes();
        if self.outdated() {
            self.catch_up().await;
            return Ok(Woke::Recheck);
        }
        let expires = self.expires_at();
        let mut feed = match self.feed.take() {
            Some(f) => f,
            None => self.registry.subscribe(&self.key),
        };
        // A value the feed already holds may be newer than what we read.
        let current = newer(&feed.borrow_and_update(), self.epoch, self.seen.revision);
        if let Some((e, snap)) = current {
            self.saw_in(e, snap);
            self.feed = Some(feed);
            return Ok(Woke::Recheck);
        }
        let woke = tokio::select! {
            changed = feed.changed() => {
                if changed.is_err() {
                    // The feed task ended (retired or client closing): subscribe afresh.
                    return Ok(Woke::Recheck);
                }
                Woke::Recheck
            }
            _ = changed(&mut epochs) => {
                self.feed = Some(feed);
                self.catch_up().await;
                return Ok(Woke::Recheck);
            }
            _ = sleep_until_opt(expires) => Woke::Recheck,
            _ = sleep_until_opt(deadline) => Woke::Deadline,
            _ = closed.changed() => return Err(Error::closed(Some(self.key.as_str()))),
        };
        let current = newer(&feed.borrow_and_update(), self.epoch, self.seen.revision);
        if let Some((e, snap)) = current {
            self.saw_in(e, snap);
        }
        self.feed = Some(feed);
        Ok(woke)
    }

    /// The store was reset or reconnected since our read, so what we saw may be void: read
    /// again. If the store cannot answer now (a bucket being created again, a server coming
    /// back), keep waiting on what we know, re-observed from now and at revision 0 of the new
    /// epoch, so that the first entry the re-opened change feed delivers counts as news.
    async fn catch_up(&mut self) {
        if let Err(e) = self.reload().await {
            tracing::debug!(key = %self.key, error = %e, "cannot re-read after a store reset");
            let epoch = self.registry.backend.epoch();
            let mut seen = self.seen.clone();
            seen.revision = 0;
            seen.store_ttl = None;
            self.saw_in(epoch, seen);
        }
    }

    /// Re-reads the key from the store (after a conflict or a lease running out).
    pub async fn reload(&mut self) -> Result<()> {
        let (epoch, snap) = read_checked(&self.registry, &self.key, false).await?;
        self.saw_in(epoch, snap);
        Ok(())
    }

    /// Re-reads the key from the copy that decides compare-and-sets (after a plain read served
    /// a revision that a compare-and-set had just found stale).
    pub async fn reload_authoritative(&mut self) -> Result<()> {
        let (epoch, snap) = read_checked(&self.registry, &self.key, true).await?;
        self.saw_in(epoch, snap);
        Ok(())
    }
}

/// Reads `key` and the epoch the read belongs to. A revision below one seen before in the
/// same epoch makes the store check whether it was reset; if it was, the read (which already
/// shows the reset store) belongs to the new epoch.
pub(crate) async fn read_checked(
    registry: &KeyRegistry,
    key: &Key,
    authoritative: bool,
) -> Result<(u64, Snapshot)> {
    let backend = &registry.backend;
    let epoch = backend.epoch();
    let snap = if authoritative {
        backend.load_authoritative(key).await?
    } else {
        backend.load(key).await?
    };
    if !registry.went_back(key, epoch, snap.revision) {
        return Ok((epoch, snap));
    }
    backend.suspect_reset().await;
    let now = backend.epoch();
    if now != epoch {
        registry.went_back(key, now, snap.revision);
    }
    Ok((now, snap))
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => futures::future::pending().await,
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}

/// The error for a deadline that passed while waiting for `key`.
pub(crate) fn timeout_error(key: &Key, what: &str, waited: Option<Duration>) -> Error {
    let waited = waited.map(|w| format!(" within {w:?}")).unwrap_or_default();
    Error::new(
        ErrorKind::Timeout,
        format!(
            "{what} key {:?} timed out{waited}: another holder kept it; wait longer, or check who \
             holds it with get()",
            key.as_str()
        ),
    )
    .with_key(key.as_str())
}

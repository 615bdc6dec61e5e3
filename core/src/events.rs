//! Lock events of a namespace for operators (`fencelock watch`): who acquired, released, lost
//! to lease expiry, or took over which key. Built from the backend's namespace-wide change
//! feed plus re-reads, because feeds are hints: a missed notice or a lease that simply runs out
//! (no write happens when a holder dies) is found by re-reading the key once its lease should
//! have ended, on this process's clock, as waiters do.

use crate::backend::{Backend, Holder, NamespaceChange, Snapshot};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::key::Key;
use futures::stream::{BoxStream, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Events buffered for a slow reader before the watcher waits for it.
const BUFFER: usize = 256;
/// Re-read a silent holder's key this long after its lease should have ended, so a store that
/// expires leases itself (Redis `PX`) has done so.
const EXPIRY_GRACE: Duration = Duration::from_millis(50);
/// First and longest pause between attempts to subscribe again after the feed failed.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// What happened to a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockEventKind {
    /// The key was already held when watching started.
    Held,
    /// A free key was acquired.
    Acquired,
    /// The holder released the lock (or it was broken or deleted).
    Released,
    /// The holder's lease ran out without renewal: by the store's clock where the store expires
    /// leases, else after this process saw the entry unchanged for a full lease.
    Expired,
    /// Another holder took the lock over from one whose lease had run out.
    TakenOver,
}

impl LockEventKind {
    /// A stable lower-case name (`held`, `acquired`, `released`, `expired`, `taken-over`).
    pub fn as_str(self) -> &'static str {
        match self {
            LockEventKind::Held => "held",
            LockEventKind::Acquired => "acquired",
            LockEventKind::Released => "released",
            LockEventKind::Expired => "expired",
            LockEventKind::TakenOver => "taken-over",
        }
    }
}

impl std::fmt::Display for LockEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change of one lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEvent {
    /// What happened.
    pub kind: LockEventKind,
    /// The key.
    pub key: String,
    /// The holder after the event (`Held`, `Acquired`, `TakenOver`) or the one whose lock ended
    /// (`Released`, `Expired`).
    pub holder: Option<Holder>,
    /// For `TakenOver`: the holder that lost the lock.
    pub previous: Option<Holder>,
    /// The store's revision of the key after the event.
    pub revision: u64,
}

/// A held key as last seen.
struct Tracked {
    revision: u64,
    holder: Holder,
    /// When the holder's lease ends unless it renews, on this process's clock.
    deadline: Instant,
    /// Already reported as expired.
    expired: bool,
}

struct Watcher {
    backend: Arc<dyn Backend>,
    prefix: String,
    /// Held keys only: freed keys leave the map, so it stays as small as the set of held locks.
    held: HashMap<Key, Tracked>,
    /// Revisions of keys seen free, so a replayed older snapshot is not taken for news. Emptied
    /// at every resync.
    freed: HashMap<Key, u64>,
    out: VecDeque<LockEvent>,
}

impl Client {
    /// Lock events of every key starting with `prefix` (`""`: the whole namespace): first a
    /// `Held` event per lock held now, then each acquisition, release, expiry and takeover as
    /// it happens, until the stream is dropped or the client closed. Renewals and state
    /// writes are not events. When the server goes away the watcher subscribes again (backing
    /// off up to 2 s) and then reports what changed meanwhile; only a failure of the first
    /// listing is yielded as an error (and ends the stream).
    ///
    /// # Errors
    /// `Closed` after [`Client::close`]; `Backend` when the change feed cannot be opened.
    pub async fn lock_events(&self, prefix: &str) -> Result<BoxStream<'static, Result<LockEvent>>> {
        let inner = self.inner().clone();
        if inner.is_closed() {
            return Err(Error::closed(None));
        }
        let backend = inner.backend.clone();
        let prefix = prefix.to_owned();
        let (tx, rx) = mpsc::channel(BUFFER);
        // Subscribe before listing, so nothing between the two is missed.
        let feed = {
            let backend = backend.clone();
            inner
                .rt
                .spawn(async move { backend.watch_all().await })
                .await
                .map_err(|e| Error::new(crate::ErrorKind::Backend, format!("watch task: {e}")))??
        };
        let mut w = Watcher {
            backend,
            prefix,
            held: HashMap::new(),
            freed: HashMap::new(),
            out: VecDeque::new(),
        };
        let mut closed = inner.close_receiver();
        inner.rt.spawn(async move {
            let first = w.resync(true).await;
            if !w.flush(&tx, first).await {
                return;
            }
            let mut feed = feed;
            loop {
                let next_deadline = w
                    .held
                    .values()
                    .filter(|t| !t.expired)
                    .map(|t| t.deadline)
                    .min();
                let step = tokio::select! {
                    item = feed.next() => match item {
                        None => Err(Error::new(
                            crate::ErrorKind::Backend,
                            format!("the change feed of {} ended", w.backend.server()),
                        )),
                        Some(Err(e)) => Err(e),
                        Some(Ok(NamespaceChange::Changed(k, s))) => {
                            w.apply(k, s, false);
                            Ok(())
                        }
                        Some(Ok(NamespaceChange::Resync)) => w.resync(false).await,
                    },
                    () = sleep_until(next_deadline) => w.check_deadlines().await,
                    () = tx.closed() => return,
                    () = async { let _ = closed.wait_for(|c| *c).await; } => return,
                };
                if let Err(e) = step {
                    // A server restart or a network cut: subscribe again and report what
                    // changed meanwhile, rather than end an operator's watch.
                    tracing::warn!(server = %w.backend.server(), error = %e,
                        "lock events interrupted; subscribing again");
                    let resumed = tokio::select! {
                        r = w.resubscribe() => r,
                        () = tx.closed() => return,
                        () = async { let _ = closed.wait_for(|c| *c).await; } => return,
                    };
                    feed = resumed;
                }
                if !w.flush(&tx, Ok(())).await {
                    return;
                }
            }
        });
        Ok(
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) })
                .boxed(),
        )
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => futures::future::pending().await,
    }
}

impl Watcher {
    /// Sends queued events, then the error if any. False when the stream is over.
    async fn flush(&mut self, tx: &mpsc::Sender<Result<LockEvent>>, step: Result<()>) -> bool {
        while let Some(ev) = self.out.pop_front() {
            if tx.send(Ok(ev)).await.is_err() {
                return false;
            }
        }
        match step {
            Ok(()) => true,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                false
            }
        }
    }

    fn event(&mut self, kind: LockEventKind, key: &Key, holder: Holder, revision: u64) {
        self.out.push_back(LockEvent {
            kind,
            key: key.as_str().to_owned(),
            holder: Some(holder),
            previous: None,
            revision,
        });
    }

    /// Subscribes to the change feed again and re-reads every key, backing off between
    /// failed attempts, until it works (the caller stops waiting when the watch ends).
    async fn resubscribe(&mut self) -> BoxStream<'static, Result<NamespaceChange>> {
        let mut pause = RETRY_FIRST;
        loop {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RETRY_MAX);
            let feed = match self.backend.watch_all().await {
                Ok(feed) => feed,
                Err(e) => {
                    tracing::debug!(error = %e, "subscribing to lock events failed");
                    continue;
                }
            };
            match self.resync(false).await {
                Ok(()) => return feed,
                Err(e) => tracing::debug!(error = %e, "re-reading keys for lock events failed"),
            }
        }
    }

    /// Lists and reads every key again (at start, and when the feed may have skipped changes).
    async fn resync(&mut self, initial: bool) -> Result<()> {
        let keys = self.backend.list(&self.prefix).await?;
        self.freed.clear();
        let mut listed = std::collections::HashSet::with_capacity(keys.len());
        for key in keys {
            let snap = self.backend.load(&key).await?;
            listed.insert(key.clone());
            if initial {
                if let Some(h) = snap.holder.clone() {
                    self.event(LockEventKind::Held, &key, h, snap.revision);
                }
                self.track(key, &snap);
            } else {
                self.apply(key, snap, true);
            }
        }
        // Held keys that are no longer listed were deleted meanwhile.
        let gone: Vec<Key> = self
            .held
            .keys()
            .filter(|k| !listed.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            let snap = self.backend.load(&key).await?;
            self.apply(key, snap, true);
        }
        Ok(())
    }

    /// Records what `snap` says about `key`, without reporting anything.
    fn track(&mut self, key: Key, snap: &Snapshot) {
        match &snap.holder {
            Some(h) => {
                let lease = snap.store_ttl.unwrap_or(h.lease);
                self.freed.remove(&key);
                self.held.insert(
                    key,
                    Tracked {
                        revision: snap.revision,
                        holder: h.clone(),
                        deadline: Instant::now() + lease + EXPIRY_GRACE,
                        expired: false,
                    },
                );
            }
            None => {
                self.held.remove(&key);
                self.freed.insert(key, snap.revision);
            }
        }
    }

    /// Reports the change from what was known of `key` to `snap`. A feed may replay older
    /// snapshots, so only a higher revision is news; a fresh read (`current`) is the store's
    /// present state, so any other revision is news — a lower one means the store lost data
    /// (restarted without persistence, bucket recreated) and numbers its writes anew.
    fn apply(&mut self, key: Key, snap: Snapshot, current: bool) {
        if !key.as_str().starts_with(&self.prefix) {
            return;
        }
        let known = self
            .held
            .get(&key)
            .map(|t| t.revision)
            .or_else(|| self.freed.get(&key).copied());
        let stale = if current {
            known == Some(snap.revision)
        } else {
            known.is_some_and(|r| snap.revision <= r)
        };
        if stale {
            return;
        }
        let before = self.held.get(&key).map(|t| (t.holder.clone(), t.expired));
        match (before, snap.holder.clone()) {
            (None, Some(h)) => self.event(LockEventKind::Acquired, &key, h, snap.revision),
            (Some((old, _)), Some(new)) if old.lock_id != new.lock_id => {
                self.out.push_back(LockEvent {
                    kind: LockEventKind::TakenOver,
                    key: key.as_str().to_owned(),
                    holder: Some(new),
                    previous: Some(old),
                    revision: snap.revision,
                });
            }
            (Some((old, false)), None) => {
                self.event(LockEventKind::Released, &key, old, snap.revision)
            }
            // A renewal or state write, an expired lock now freed (already reported), or a
            // free key written.
            _ => {}
        }
        self.track(key, &snap);
    }

    /// Re-reads keys whose holder's lease should have ended.
    async fn check_deadlines(&mut self) -> Result<()> {
        let now = Instant::now();
        let due: Vec<Key> = self
            .held
            .iter()
            .filter(|(_, t)| !t.expired && t.deadline <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let snap = self.backend.load(&key).await?;
            let Some(t) = self.held.get_mut(&key) else {
                continue;
            };
            let silent = snap.revision == t.revision;
            let same_holder = snap.holder.as_ref().map(|h| h.lock_id) == Some(t.holder.lock_id);
            if silent {
                // Nothing was written for a full lease (or the store dropped the lock itself).
                t.expired = true;
                let holder = t.holder.clone();
                self.event(LockEventKind::Expired, &key, holder, snap.revision);
                if snap.holder.is_none() {
                    self.held.remove(&key);
                    self.freed.insert(key, snap.revision);
                }
            } else if same_holder {
                // Renewed without a notice (Redis renewals publish none): the store says how
                // long the new lease has left.
                self.track(key, &snap);
            } else {
                self.apply(key, snap, true);
            }
        }
        Ok(())
    }
}

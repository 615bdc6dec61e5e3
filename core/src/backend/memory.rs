//! In-process backend with the same semantics as the servers: compare-and-set on a per-store
//! sequence (the fencing token), tombstones on delete, leases that the store's clock ends (as
//! Redis and nats-server 2.11+ do: a lapsed lock reads as free for everyone at once), and a
//! change feed. For users' unit tests and the demo when no server is given.
//!
//! Every client of one process that opens the same namespace shares one store.

use crate::backend::{
    Acquired, Backend, Cas, Held, HoldRequest, Holder, NamespaceChange, Snapshot,
};
use crate::error::{Error, ErrorKind, Result};
use crate::key::Key;
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Largest state accepted, as with a default NATS server (1 MiB payload).
pub const MAX_STATE_LEN: usize = 1024 * 1024;
/// Changes buffered per watcher before it has to re-read.
const FEED_BUFFER: usize = 64;

struct Stored {
    snap: Snapshot,
    written_at: Instant,
}

#[derive(Default)]
struct State {
    seq: u64,
    keys: HashMap<Key, Stored>,
    feeds: HashMap<Key, broadcast::Sender<Snapshot>>,
    /// The namespace-wide feed, while someone watches it.
    all: Option<broadcast::Sender<(Key, Snapshot)>>,
}

struct Store {
    name: String,
    object_expiry: Option<Duration>,
    state: Mutex<State>,
}

impl Store {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn current(&self, key: &Key, expiry: Option<Duration>) -> Snapshot {
        match self.keys.get(key) {
            None => Snapshot::empty(0),
            Some(s) if expiry.is_some_and(|e| s.written_at.elapsed() >= e) => {
                Snapshot::empty(s.snap.revision)
            }
            Some(s) => {
                let mut snap = s.snap.clone();
                if let Some(h) = &snap.holder {
                    // The store's clock decides: a lapsed lease reads as free at the same
                    // revision (the state stays), a running one with the time that remains.
                    match h.lease.checked_sub(s.written_at.elapsed()) {
                        Some(left) if !left.is_zero() => snap.store_ttl = Some(left),
                        _ => snap.holder = None,
                    }
                }
                snap
            }
        }
    }

    /// Writes `f(new revision)` if `key` is still at `expect`.
    fn cas(
        &mut self,
        key: &Key,
        expect: u64,
        expiry: Option<Duration>,
        f: impl FnOnce(u64, &Snapshot) -> Snapshot,
    ) -> Cas<Snapshot> {
        let cur = self.current(key, expiry);
        if cur.revision != expect {
            return Cas::Conflict;
        }
        self.seq += 1;
        let mut snap = f(self.seq, &cur);
        // Watchers learn of a new holder as it is written: its whole lease remains.
        snap.store_ttl = snap.holder.as_ref().map(|h| h.lease);
        self.keys.insert(
            key.clone(),
            Stored {
                snap: snap.clone(),
                written_at: Instant::now(),
            },
        );
        if let Some(feed) = self.feeds.get(key) {
            if feed.send(snap.clone()).is_err() {
                self.feeds.remove(key);
            }
        }
        if let Some(all) = &self.all {
            if all.send((key.clone(), snap.clone())).is_err() {
                self.all = None;
            }
        }
        Cas::Done(snap)
    }
}

static STORES: Mutex<Option<HashMap<String, Arc<Store>>>> = Mutex::new(None);

/// A client's handle on the in-process store of its namespace.
pub struct MemoryBackend {
    store: Arc<Store>,
    server: String,
}

impl MemoryBackend {
    /// Opens (or creates) the store of `namespace` in this process.
    pub fn open(namespace: &str, object_expiry: Option<Duration>) -> Result<MemoryBackend> {
        if namespace.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "the namespace is empty; name the in-memory store, e.g. \"tests\"",
            ));
        }
        let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
        let store = stores
            .get_or_insert_with(HashMap::new)
            .entry(namespace.to_owned())
            .or_insert_with(|| {
                Arc::new(Store {
                    name: namespace.to_owned(),
                    object_expiry,
                    state: Mutex::new(State::default()),
                })
            })
            .clone();
        if let Some(want) = object_expiry {
            if store.object_expiry != Some(want) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "the in-memory namespace {namespace:?} exists with object expiry {:?} but \
                         {want:?} was asked for; use the same setting or another namespace",
                        store.object_expiry
                    ),
                ));
            }
        }
        Ok(MemoryBackend {
            server: format!("memory://{}", store.name),
            store,
        })
    }

    fn held_snapshot(held: &Held, revision: u64, state: Option<Bytes>) -> Snapshot {
        Snapshot {
            revision,
            holder: Some(Holder {
                lock_id: held.lock_id,
                token: held.token,
                lease: held.lease,
                label: held.label.clone(),
            }),
            state,
            store_ttl: None,
        }
    }

    fn write(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Cas<u64> {
        let expiry = self.store.object_expiry;
        match self.store.lock().cas(key, held.revision, expiry, |rev, _| {
            Self::held_snapshot(held, rev, state)
        }) {
            Cas::Done(s) => Cas::Done(s.revision),
            Cas::Conflict => Cas::Conflict,
        }
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn server(&self) -> &str {
        &self.server
    }

    fn max_state_len(&self) -> usize {
        MAX_STATE_LEN
    }

    fn max_lease(&self) -> Option<Duration> {
        self.store.object_expiry
    }

    fn store_judges_expiry(&self) -> bool {
        true
    }

    async fn load(&self, key: &Key) -> Result<Snapshot> {
        Ok(self.store.lock().current(key, self.store.object_expiry))
    }

    async fn acquire(
        &self,
        key: &Key,
        seen: &Snapshot,
        hold: &HoldRequest,
    ) -> Result<Cas<Acquired>> {
        let expiry = self.store.object_expiry;
        let out = self
            .store
            .lock()
            .cas(key, seen.revision, expiry, |rev, cur| Snapshot {
                revision: rev,
                holder: Some(Holder {
                    lock_id: hold.lock_id,
                    token: rev,
                    lease: hold.lease,
                    label: hold.label.clone(),
                }),
                state: cur.state.clone(),
                store_ttl: None,
            });
        Ok(match out {
            Cas::Done(s) => Cas::Done(Acquired {
                revision: s.revision,
                token: s.revision,
                state: s.state,
            }),
            Cas::Conflict => Cas::Conflict,
        })
    }

    async fn refresh(&self, key: &Key, held: &Held) -> Result<Cas<u64>> {
        Ok(self.write(key, held, held.state.clone()))
    }

    async fn put(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Result<Cas<u64>> {
        Ok(self.write(key, held, state))
    }

    async fn release(&self, key: &Key, held: &Held, state: Option<Bytes>) -> Result<Cas<Snapshot>> {
        let expiry = self.store.object_expiry;
        Ok(self
            .store
            .lock()
            .cas(key, held.revision, expiry, |rev, _| Snapshot {
                revision: rev,
                holder: None,
                state,
                store_ttl: None,
            }))
    }

    async fn delete(&self, key: &Key) -> Result<()> {
        let mut st = self.store.lock();
        let cur = st.current(key, self.store.object_expiry).revision;
        let _ = st.cas(key, cur, None, |rev, _| Snapshot::empty(rev));
        Ok(())
    }

    async fn watch(&self, key: &Key) -> Result<BoxStream<'static, Result<Snapshot>>> {
        let (first, rx) = {
            let mut st = self.store.lock();
            let rx = st
                .feeds
                .entry(key.clone())
                .or_insert_with(|| broadcast::channel(FEED_BUFFER).0)
                .subscribe();
            (st.current(key, self.store.object_expiry), rx)
        };
        let store = self.store.clone();
        let key = key.clone();
        let changes = futures::stream::unfold(rx, move |mut rx| {
            let (store, key) = (store.clone(), key.clone());
            async move {
                match rx.recv().await {
                    Ok(s) => Some((Ok(s), rx)),
                    // Fell behind: the latest state is what matters.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let cur = store.lock().current(&key, store.object_expiry);
                        Some((Ok(cur), rx))
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            }
        });
        Ok(futures::stream::once(async move { Ok(first) })
            .chain(changes)
            .boxed())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Key>> {
        let st = self.store.lock();
        let expiry = self.store.object_expiry;
        Ok(st
            .keys
            .keys()
            .filter(|k| k.as_str().starts_with(prefix))
            .filter(|k| {
                let s = st.current(k, expiry);
                s.holder.is_some() || s.state.is_some()
            })
            .cloned()
            .collect())
    }

    async fn watch_all(&self) -> Result<BoxStream<'static, Result<NamespaceChange>>> {
        let rx = self
            .store
            .lock()
            .all
            .get_or_insert_with(|| broadcast::channel(FEED_BUFFER).0)
            .subscribe();
        Ok(futures::stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok((k, s)) => Some((Ok(NamespaceChange::Changed(k, s)), rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    Some((Ok(NamespaceChange::Resync), rx))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
        .boxed())
    }

    async fn close(&self) {}
}

//! Notices: one pub/sub subscription per client to the namespace's channel, fanned out to
//! per-key listeners. Each notice carries the snapshot it announces (new holder, or freed), so
//! a waiter acts on it without a read. Notices are hints (pub/sub drops messages on
//! reconnects): a reconnect re-reads every watched key, and waiters also wake when the lock's
//! own TTL runs out. Where the subscription connects depends on the deployment
//! ([`Notices`]); with Sentinel it moves whenever the connection resolves another master.

use super::connection::Notices;
use super::{notice_snapshot, Reader};
use crate::backend::{NamespaceChange, Snapshot};
use crate::error::Result;
use crate::key::Key;
use futures::stream::{BoxStream, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

const BUFFER: usize = 16;
const RETRY_MIN: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// What a listener hears.
#[derive(Clone)]
pub(crate) enum Notice {
    /// The key changed to this.
    Changed(Snapshot),
    /// Notices may have been missed: read the key.
    Resync,
}

#[derive(Default)]
struct Inner {
    listeners: HashMap<Key, broadcast::Sender<Notice>>,
    /// Listeners to every key's notices (namespace watches), while there are any.
    all: Option<broadcast::Sender<NamespaceChange>>,
    task: Option<tokio::task::JoinHandle<()>>,
    closed: bool,
}

/// The shared subscription of one client and its per-key listeners.
pub(crate) struct Feeds {
    source: Notices,
    channel: String,
    server: String,
    inner: Arc<Mutex<Inner>>,
}

impl Feeds {
    pub fn new(source: Notices, channel: String, server: String) -> Feeds {
        Feeds {
            source,
            channel,
            server,
            inner: Arc::default(),
        }
    }

    /// Listens for notices about `key`, starting the shared subscription if needed.
    pub async fn subscribe(&self, key: &Key) -> Result<broadcast::Receiver<Notice>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.listeners.retain(|_, tx| tx.receiver_count() > 0);
        let rx = inner
            .listeners
            .entry(key.clone())
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe();
        self.start(&mut inner);
        Ok(rx)
    }

    /// Listens for notices about every key of the namespace.
    pub fn subscribe_all(&self) -> broadcast::Receiver<NamespaceChange> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let rx = inner
            .all
            .get_or_insert_with(|| broadcast::channel(BUFFER * 16).0)
            .subscribe();
        self.start(&mut inner);
        rx
    }

    fn start(&self, inner: &mut Inner) {
        if inner.task.is_none() && !inner.closed {
            inner.task = Some(tokio::spawn(listen(
                self.source.clone(),
                self.channel.clone(),
                self.server.clone(),
                self.inner.clone(),
            )));
        }
    }

    pub fn close(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.closed = true;
        if let Some(t) = inner.task.take() {
            t.abort();
        }
        inner.listeners.clear();
        inner.all = None;
    }
}

fn notify_all(inner: &Mutex<Inner>) {
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    for tx in inner.listeners.values() {
        let _ = tx.send(Notice::Resync);
    }
    if inner
        .all
        .as_ref()
        .is_some_and(|all| all.send(NamespaceChange::Resync).is_err())
    {
        inner.all = None;
    }
}

async fn listen(source: Notices, channel: String, server: String, inner: Arc<Mutex<Inner>>) {
    let mut retry = RETRY_MIN;
    loop {
        match source.open().await {
            Ok((mut pubsub, mut moved)) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    retry = RETRY_MIN;
                    // Notices sent while we were away are lost: have everyone re-read.
                    notify_all(&inner);
                    let mut messages = pubsub.into_on_message();
                    loop {
                        let msg = tokio::select! {
                            msg = messages.next() => msg,
                            () = &mut moved => {
                                tracing::debug!(server = %server, "the master moved; resubscribing");
                                break;
                            }
                        };
                        let Some(msg) = msg else {
                            tracing::debug!(server = %server, "notice subscription ended; reconnecting");
                            break;
                        };
                        let Some((key, snap)) = notice_snapshot(msg.get_payload_bytes()) else {
                            tracing::debug!(server = %server, "ignoring a malformed notice");
                            continue;
                        };
                        let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
                        if let Some(tx) = inner.listeners.get(&key) {
                            let _ = tx.send(Notice::Changed(snap.clone()));
                        }
                        let gone = inner.all.as_ref().is_some_and(|all| {
                            all.send(NamespaceChange::Changed(key, snap)).is_err()
                        });
                        if gone {
                            inner.all = None;
                        }
                    }
                }
                Err(e) => tracing::debug!(server = %server, error = %e, "cannot subscribe"),
            },
            Err(e) => tracing::debug!(server = %server, error = %e, "cannot open pub/sub"),
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(RETRY_MAX);
    }
}

/// The key's current snapshot (read), then the snapshot of every notice; a read again
/// whenever notices may have been missed.
pub(crate) fn snapshots(
    notices: broadcast::Receiver<Notice>,
    reader: Reader,
) -> BoxStream<'static, Result<Snapshot>> {
    futures::stream::unfold(
        (notices, reader, true),
        |(mut notices, mut reader, first)| async move {
            if !first {
                match notices.recv().await {
                    Ok(Notice::Changed(snap)) => return Some((Ok(snap), (notices, reader, false))),
                    Ok(Notice::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
            let snap = reader.read().await;
            Some((snap, (notices, reader, false)))
        },
    )
    .boxed()
}

/// The namespace's notices as a stream; `Resync` when some may have been missed.
pub(crate) fn all_changes(
    rx: broadcast::Receiver<NamespaceChange>,
) -> BoxStream<'static, Result<NamespaceChange>> {
    futures::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(c) => Some((Ok(c), rx)),
            Err(broadcast::error::RecvError::Lagged(_)) => Some((Ok(NamespaceChange::Resync), rx)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    })
    .boxed()
}

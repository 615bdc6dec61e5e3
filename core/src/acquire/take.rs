//! The acquiring write, safe against the caller giving up.
//!
//! The write runs inside the caller's own future, so the request leaves from the caller's
//! thread with no task hop (a spawned task costs a worker wake-up per acquire, and an
//! in-process store could answer without any thread switch). If the caller's future is dropped
//! while the write is in flight, the write moves into a task of its own that completes it and
//! undoes it at once, instead of leaving a lock in the store that nobody holds or renews.

use crate::backend::{Acquired, Cas, Held, HoldRequest, Snapshot};
use crate::client::ClientInner;
use crate::error::Result;
use crate::key::Key;
use futures::FutureExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

type Write = Pin<Box<dyn Future<Output = Result<Cas<Acquired>>> + Send>>;

pub(super) async fn take(
    client: &Arc<ClientInner>,
    key: &Key,
    seen: &Snapshot,
    hold: &HoldRequest,
) -> Result<Cas<Acquired>> {
    let (c, k, s, h) = (client.clone(), key.clone(), seen.clone(), hold.clone());
    InFlight {
        write: Some(Box::pin(async move { c.backend.acquire(&k, &s, &h).await })),
        started: false,
        client: client.clone(),
        key: key.clone(),
        hold: hold.clone(),
    }
    .await
}

struct InFlight {
    /// `None` once the write answered.
    write: Option<Write>,
    /// Whether the write was polled, so its request may be on its way.
    started: bool,
    client: Arc<ClientInner>,
    key: Key,
    hold: HoldRequest,
}

impl Future for InFlight {
    type Output = Result<Cas<Acquired>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(write) = this.write.as_mut() else {
            panic!("the acquiring write was polled after it answered");
        };
        this.started = true;
        let out = std::task::ready!(write.as_mut().poll(cx));
        this.write = None;
        Poll::Ready(out)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let Some(write) = self.write.take() else {
            return;
        };
        if !self.started {
            return; // nothing was sent
        }
        let (c, k, h) = (self.client.clone(), self.key.clone(), self.hold.clone());
        let finish = async move {
            // The write may have armed timers on the caller's runtime; if that runtime is gone
            // (the future was dropped because it shut down), polling them panics, and the
            // outcome is unknown like after a timeout.
            let outcome = std::panic::AssertUnwindSafe(write).catch_unwind().await;
            let held = match outcome {
                Ok(Ok(Cas::Done(acq))) => Held {
                    revision: acq.revision,
                    token: acq.token,
                    lock_id: h.lock_id,
                    lease: h.lease,
                    label: h.label,
                    state: acq.state,
                },
                Ok(Ok(Cas::Conflict)) => return, // refused: no lock was taken
                Ok(Err(_)) | Err(_) => match ours_in_store(&c, &k, &h).await {
                    Some(held) => held,
                    None => return,
                },
            };
            let state = held.state.clone();
            if let Ok(Cas::Done(snap)) = c.backend.release(&k, &held, state).await {
                c.keys.remember(&k, snap);
            }
        };
        // On the core runtime, which lives as long as the process: the caller's runtime may be
        // the one shutting down (its tasks are dropped, and one spawned there would never run,
        // leaving the lock held for a whole lease).
        drop(crate::runtime::spawn(finish));
    }
}

/// After a write whose answer is unknown: the key's entry as the store's deciding copy has it,
/// if it is this acquisition's (its id is in the entry).
async fn ours_in_store(c: &Arc<ClientInner>, k: &Key, h: &HoldRequest) -> Option<Held> {
    let snap = c.backend.load_authoritative(k).await.ok()?;
    let holder = snap.holder.filter(|x| x.lock_id == h.lock_id)?;
    Some(Held {
        revision: snap.revision,
        token: holder.token,
        lock_id: h.lock_id,
        lease: h.lease,
        label: holder.label,
        state: snap.state,
    })
}

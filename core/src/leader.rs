//! Leader election on top of locks (natslock's `AcquireLead` / `ReleaseLead`): the leader is
//! whoever holds the election key; its lease is renewed for as long as it leads.

use crate::backend::Holder;
use crate::client::Client;
use crate::error::Result;
use crate::guard::{GuardStatus, LockGuard};
use crate::key::IntoKey;
use crate::options::LockOptions;
use futures::stream::{BoxStream, StreamExt};
use std::time::Duration;

/// Leadership of one election, held until [`resign`](Leadership::resign) or loss.
#[derive(Debug)]
pub struct Leadership {
    guard: LockGuard,
}

impl Leadership {
    /// True while this process still leads.
    pub fn is_leader(&self) -> bool {
        self.guard.status() == GuardStatus::Held
    }

    /// The fencing token of this term: strictly greater than every earlier term's.
    pub fn term(&self) -> u64 {
        self.guard.token()
    }

    /// The election key.
    pub fn key(&self) -> &str {
        self.guard.key()
    }

    /// Resolves when leadership is lost (lease lapsed or broken); stop leading then.
    pub async fn lost(&self) {
        self.guard.lost().await
    }

    /// The underlying lock guard.
    pub fn guard(&self) -> &LockGuard {
        &self.guard
    }

    /// Steps down so another candidate can lead. `false` if leadership was already lost.
    ///
    /// # Errors
    /// `Backend` when the store fails; a leadership already lost is `Ok(false)`.
    pub async fn resign(&self) -> Result<bool> {
        self.guard.release(None).await
    }
}

impl Client {
    /// Campaigns for leadership of `election`, waiting up to `timeout` (`None`: until elected).
    /// `candidate` is recorded as the leader's label (e.g. a host name). Renewal is always on.
    ///
    /// # Errors
    /// `Timeout` when no leadership comes within `timeout`; `InvalidKey`, `Closed` or
    /// `Backend` as [`Client::acquire`].
    pub async fn campaign(
        &self,
        election: impl IntoKey,
        candidate: &str,
        timeout: Option<Duration>,
    ) -> Result<Leadership> {
        let opts = LockOptions {
            timeout,
            renew: Some(true),
            label: Some(candidate.to_owned()),
            ..LockOptions::default()
        };
        let guard = self.acquire_with(election, &opts).await?;
        Ok(Leadership { guard })
    }

    /// Becomes leader only if nobody leads now.
    ///
    /// # Errors
    /// `InvalidKey`, `Closed` or `Backend` as [`Client::acquire`]; a held election is
    /// `Ok(None)`.
    pub async fn try_campaign(
        &self,
        election: impl IntoKey,
        candidate: &str,
    ) -> Result<Option<Leadership>> {
        let opts = LockOptions {
            renew: Some(true),
            label: Some(candidate.to_owned()),
            ..LockOptions::default()
        };
        Ok(self
            .try_acquire_with(election, &opts)
            .await?
            .map(|guard| Leadership { guard }))
    }

    /// The current leader as recorded in the store, if any.
    ///
    /// # Errors
    /// `InvalidKey`, `Closed` or `Backend` as [`Client::get`].
    pub async fn leader(&self, election: impl IntoKey) -> Result<Option<Holder>> {
        Ok(self.get(election).await?.holder)
    }

    /// A stream of leadership changes: the current leader first, then each change (`None` when
    /// nobody leads). Driven by the key's change feed, which is re-opened after server restarts.
    ///
    /// # Errors
    /// `InvalidKey`, `Closed` or `Backend` as [`Client::get`], when the observation starts.
    pub async fn observe_leader(
        &self,
        election: impl IntoKey,
    ) -> Result<BoxStream<'static, Option<Holder>>> {
        let key = election.into_key()?;
        let inner = self.inner().clone();
        inner.check_open(&key)?;
        // Subscribe before reading, so no change between the two is missed.
        let rx = inner.keys.subscribe(&key);
        let (epoch, first) = crate::waiters::read_checked(&inner.keys, &key, false).await?;
        let current = first.holder.clone();
        let seen = Seen {
            epoch,
            revision: first.revision,
            term: term_of(&first.holder),
        };
        let changes = futures::stream::unfold((rx, seen), |(mut rx, mut seen)| async move {
            loop {
                rx.changed().await.ok()?;
                // A snapshot of a later store epoch (a reset store, whose revisions restarted)
                // counts even with a lower revision.
                let fed = crate::waiters::newer(&rx.borrow_and_update(), seen.epoch, seen.revision);
                let Some((epoch, snap)) = fed else {
                    continue;
                };
                seen.epoch = epoch;
                seen.revision = snap.revision;
                let term = term_of(&snap.holder);
                if term != seen.term {
                    seen.term = term;
                    return Some((snap.holder, (rx, seen)));
                }
            }
        });
        Ok(futures::stream::once(async move { current })
            .chain(changes)
            .boxed())
    }
}

/// A leader's term: its token, and its acquisition id (after a store reset a new leader can
/// get an old leader's token).
fn term_of(holder: &Option<Holder>) -> Option<(u64, crate::backend::LockId)> {
    holder.as_ref().map(|h| (h.token, h.lock_id))
}

/// What an observer last reported.
struct Seen {
    epoch: u64,
    revision: u64,
    term: Option<(u64, crate::backend::LockId)>,
}

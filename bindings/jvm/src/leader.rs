//! Leader election: leadership of one election, and an observer of leadership changes.

use crate::error::Result;
use crate::guard::{lost_signal_of, LostSignal};
use crate::records::{Holder, LeaderChange};
use crate::runtime::in_core;
use futures::stream::{BoxStream, StreamExt};
use std::sync::Arc;

/// Leadership of one election, held until `resign` or loss. Freeing it resigns.
#[derive(uniffi::Object)]
pub struct Leadership {
    inner: fencelock::Leadership,
}

impl Leadership {
    pub(crate) fn new(inner: fencelock::Leadership) -> Self {
        Leadership { inner }
    }
}

#[uniffi::export]
impl Leadership {
    /// True while this process still leads.
    pub fn is_leader(&self) -> bool {
        self.inner.is_leader()
    }

    /// The fencing token of this term.
    pub fn term(&self) -> u64 {
        self.inner.term()
    }

    /// The election key.
    pub fn key(&self) -> String {
        self.inner.key().to_owned()
    }

    /// Steps down; false if leadership was already lost.
    pub async fn resign(&self) -> Result<bool> {
        Ok(in_core(self.inner.resign()).await?)
    }

    /// Tells when leadership ends (true: lost, false: resigned).
    pub fn lost_signal(&self) -> Arc<LostSignal> {
        lost_signal_of(self.inner.guard())
    }
}

/// Leadership changes of one election, read one at a time.
#[derive(uniffi::Object)]
pub struct LeaderObserver {
    changes: tokio::sync::Mutex<BoxStream<'static, Option<fencelock::Holder>>>,
}

impl LeaderObserver {
    pub(crate) fn new(changes: BoxStream<'static, Option<fencelock::Holder>>) -> Self {
        LeaderObserver {
            changes: tokio::sync::Mutex::new(changes),
        }
    }
}

#[uniffi::export]
impl LeaderObserver {
    /// The next change (the current leader first); `null` when the client closed.
    pub async fn next(&self) -> Option<LeaderChange> {
        let mut changes = self.changes.lock().await;
        let next = in_core(changes.next()).await?;
        Some(LeaderChange {
            leader: next.map(Holder::from),
        })
    }
}

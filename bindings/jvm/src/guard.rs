//! A held lock: token, state, compare-and-set writes, release, and the lost signal.

use crate::error::Result;
use crate::runtime::in_core;
use fencelock::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Where a guard stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GuardStatus {
    /// Held, lease running.
    Held,
    /// The lease lapsed or someone else took the lock: writes are refused.
    Lost,
    /// Released by its holder (or by closing the client).
    Released,
}

impl From<fencelock::GuardStatus> for GuardStatus {
    fn from(s: fencelock::GuardStatus) -> Self {
        match s {
            fencelock::GuardStatus::Held => GuardStatus::Held,
            fencelock::GuardStatus::Lost => GuardStatus::Lost,
            fencelock::GuardStatus::Released => GuardStatus::Released,
        }
    }
}

/// A held lock. Freeing it without `release` releases it in the background, keeping the state.
#[derive(uniffi::Object)]
pub struct LockGuard {
    pub(crate) inner: fencelock::LockGuard,
}

impl LockGuard {
    pub(crate) fn new(inner: fencelock::LockGuard) -> Self {
        LockGuard { inner }
    }
}

#[uniffi::export]
impl LockGuard {
    /// The key as the caller named it.
    pub fn key(&self) -> String {
        self.inner.key().to_owned()
    }

    /// The fencing token: greater than every earlier acquisition's token of this key.
    pub fn token(&self) -> u64 {
        self.inner.token()
    }

    /// This acquisition's unique id (32 hex digits).
    pub fn lock_id(&self) -> String {
        self.inner.lock_id().to_string()
    }

    /// The lease of this acquisition.
    pub fn lease(&self) -> Duration {
        self.inner.lease()
    }

    /// The state read when the lock was acquired (`null` for a new key).
    pub fn initial_state(&self) -> Option<Vec<u8>> {
        self.inner.initial_state().map(|b| b.to_vec())
    }

    /// The state as last written through this guard (or read at acquisition).
    pub fn state(&self) -> Option<Vec<u8>> {
        self.inner.state().map(|b| b.to_vec())
    }

    /// Time left on the lease by this process's clock.
    pub fn remaining(&self) -> Duration {
        self.inner.remaining()
    }

    /// Held, lost or released.
    pub fn status(&self) -> GuardStatus {
        self.inner.status().into()
    }

    /// True once the lock was lost.
    pub fn is_lost(&self) -> bool {
        self.inner.is_lost()
    }

    /// Writes `state` (`null` clears it) while keeping the lock; `Expired` if no longer held.
    pub async fn put(&self, state: Option<Vec<u8>>) -> Result<()> {
        Ok(in_core(self.inner.put(state.map(Bytes::from))).await?)
    }

    /// Renews the lease now.
    pub async fn refresh(&self) -> Result<()> {
        Ok(in_core(self.inner.refresh()).await?)
    }

    /// Releases, writing `state` if given (`null` keeps the current state). False when the lock
    /// had already been lost: then nothing was written.
    pub async fn release(&self, state: Option<Vec<u8>>) -> Result<bool> {
        Ok(in_core(self.inner.release(state.map(Bytes::from))).await?)
    }

    /// `release` keeping the current state (no argument buffer to allocate on the JVM side).
    pub async fn release_keeping_state(&self) -> Result<bool> {
        Ok(in_core(self.inner.release(None)).await?)
    }

    /// `release`, blocking the calling thread on the core runtime: one native call for Java's
    /// blocking API instead of an async call's several. `InvalidArgument` on a thread that runs
    /// async tasks.
    pub fn release_blocking(&self, state: Option<Vec<u8>>) -> Result<bool> {
        Ok(fencelock::runtime::try_block_on(
            self.inner.release(state.map(Bytes::from)),
        )??)
    }

    /// [`release_blocking`](Self::release_blocking) keeping the current state.
    pub fn release_keeping_state_blocking(&self) -> Result<bool> {
        Ok(fencelock::runtime::try_block_on(self.inner.release(None))??)
    }

    /// Releases and clears the state.
    pub async fn release_clearing_state(&self) -> Result<bool> {
        Ok(in_core(self.inner.release_clearing_state()).await?)
    }

    /// The lost signal of this guard (it does not keep the guard alive).
    pub fn lost_signal(&self) -> Arc<LostSignal> {
        lost_signal_of(&self.inner)
    }
}

/// Tells when a guard stops being held, and why. Holds no reference to the guard, so a waiter
/// never keeps a lock alive.
#[derive(uniffi::Object)]
pub struct LostSignal {
    status: watch::Receiver<fencelock::GuardStatus>,
}

#[uniffi::export]
impl LostSignal {
    /// Waits until the guard is no longer held: true when it was lost, false when released.
    pub async fn until_ended(&self) -> bool {
        let mut rx = self.status.clone();
        let end = rx
            .wait_for(|s| *s != fencelock::GuardStatus::Held)
            .await
            .map(|s| *s);
        // A closed channel means the guard is gone, which only happens after it finished.
        matches!(end, Ok(fencelock::GuardStatus::Lost))
    }
}

pub(crate) fn lost_signal_of(g: &fencelock::LockGuard) -> Arc<LostSignal> {
    Arc::new(LostSignal {
        status: g.status_receiver(),
    })
}

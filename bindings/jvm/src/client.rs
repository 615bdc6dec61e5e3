//! `connect` and the client object.

use crate::callbacks::{FreeAction, StateUpdate};
use crate::error::Result;
use crate::guard::LockGuard;
use crate::leader::{LeaderObserver, Leadership};
use crate::options::{connect_options, lock_options, AcquireOptions, ConnectOptions};
use crate::records::{Holder, KeyInfo};
use crate::runtime::in_core;
use crate::stats::Stats;
use fencelock::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// Connects to `url` (`nats://…`, `redis://…` and its variants, or `memory://`).
#[uniffi::export]
pub async fn connect(url: String, options: ConnectOptions) -> Result<Arc<Client>> {
    let options = connect_options(&url, options)?;
    let inner = in_core(fencelock::Client::connect_with(options)).await?;
    Ok(Arc::new(Client { inner }))
}

/// A connection plus a namespace and defaults; shared by every guard made from it.
#[derive(uniffi::Object)]
pub struct Client {
    pub(crate) inner: fencelock::Client,
}

#[uniffi::export]
impl Client {
    /// The servers this client talks to.
    pub fn server(&self) -> String {
        self.inner.server().to_owned()
    }

    /// The client's default lease.
    pub fn default_lease(&self) -> Duration {
        self.inner.default_lease()
    }

    /// Largest state accepted, in bytes.
    pub fn max_state_len(&self) -> u64 {
        self.inner.max_state_len() as u64
    }

    /// Locks this client holds now.
    pub fn held_count(&self) -> u64 {
        self.inner.held_count() as u64
    }

    /// This client's lock statistics since it connected (counters only grow).
    pub fn stats(&self) -> Stats {
        self.inner.stats().into()
    }

    /// True after `shutdown`.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Acquires `key`, waiting up to `timeout` (`null`: forever).
    pub async fn acquire(
        &self,
        key: String,
        timeout: Option<Duration>,
        options: Option<AcquireOptions>,
    ) -> Result<Arc<LockGuard>> {
        let o = lock_options(timeout, options);
        let g = in_core(self.inner.acquire_with(key, &o)).await?;
        Ok(Arc::new(LockGuard::new(g)))
    }

    /// Acquires `key` if it is free now; `null` when someone holds it.
    pub async fn try_acquire(
        &self,
        key: String,
        options: Option<AcquireOptions>,
    ) -> Result<Option<Arc<LockGuard>>> {
        let o = lock_options(None, options);
        let g = in_core(self.inner.try_acquire_with(key, &o)).await?;
        Ok(g.map(|g| Arc::new(LockGuard::new(g))))
    }

    /// Runs `update` under the lock of `key` and stores the state it returns (`null` keeps the
    /// old one); returns the stored state.
    pub async fn with_lock(
        &self,
        key: String,
        timeout: Option<Duration>,
        options: Option<AcquireOptions>,
        update: Arc<dyn StateUpdate>,
    ) -> Result<Option<Vec<u8>>> {
        let o = lock_options(timeout, options);
        let run = |state: Option<Bytes>| async move {
            let next = update.update(state.map(|b| b.to_vec())).await?;
            Ok::<_, crate::error::FencelockError>(next.map(Bytes::from))
        };
        let stored = in_core(self.inner.with_lock_opts(key, &o, run)).await?;
        Ok(stored.map(|b| b.to_vec()))
    }

    /// nlock's `Do`: runs `action` with the state only if `key` is free now, then releases
    /// (keeping the state). False when the key was held and `action` did not run.
    pub async fn do_if_free(&self, key: String, action: Arc<dyn FreeAction>) -> Result<bool> {
        let run = |state: Option<Bytes>| async move { action.run(state.map(|b| b.to_vec())).await };
        match in_core(self.inner.do_if_free(key, run)).await? {
            None => Ok(false),
            Some(outcome) => outcome.map(|()| true),
        }
    }

    /// Waits until `key` is free and returns its state; takes no lock.
    pub async fn wait(&self, key: String, timeout: Option<Duration>) -> Result<Option<Vec<u8>>> {
        let s = in_core(self.inner.wait(key, timeout)).await?;
        Ok(s.map(|b| b.to_vec()))
    }

    /// Reads the state and holder of `key` without locking.
    pub async fn get(&self, key: String) -> Result<KeyInfo> {
        Ok(in_core(self.inner.get(key)).await?.into())
    }

    /// Deletes the lock and state of `key`; a current holder loses the lock.
    pub async fn delete(&self, key: String) -> Result<()> {
        Ok(in_core(self.inner.delete(key)).await?)
    }

    /// Campaigns for leadership of `election` as `candidate`, waiting up to `timeout`.
    pub async fn campaign(
        &self,
        election: String,
        candidate: String,
        timeout: Option<Duration>,
    ) -> Result<Arc<Leadership>> {
        let l = in_core(self.inner.campaign(election, &candidate, timeout)).await?;
        Ok(Arc::new(Leadership::new(l)))
    }

    /// Becomes leader only if nobody leads now; `null` otherwise.
    pub async fn try_campaign(
        &self,
        election: String,
        candidate: String,
    ) -> Result<Option<Arc<Leadership>>> {
        let l = in_core(self.inner.try_campaign(election, &candidate)).await?;
        Ok(l.map(|l| Arc::new(Leadership::new(l))))
    }

    /// The current leader of `election`, if any.
    pub async fn leader(&self, election: String) -> Result<Option<Holder>> {
        Ok(in_core(self.inner.leader(election))
            .await?
            .map(Holder::from))
    }

    /// Leadership changes of `election`: the current leader first, then each change.
    pub async fn observe_leader(&self, election: String) -> Result<Arc<LeaderObserver>> {
        let s = in_core(self.inner.observe_leader(election)).await?;
        Ok(Arc::new(LeaderObserver::new(s)))
    }

    /// Closes the client: releases what it holds (keeping the state), stops renewals and
    /// watches. Later calls fail with `Closed`. (Named `shutdown` because Kotlin's generated
    /// `close()` frees the native handle.)
    pub async fn shutdown(&self) {
        in_core(self.inner.close()).await
    }
}

//! `Guard`: a held lock (`fencelock::LockGuard`) as a JS class.

use crate::convert::{millis, state_in, state_out};
use crate::error::to_js;
use crate::promise;
use fencelock::{GuardStatus, LockGuard};
use napi::bindgen_prelude::{BigInt, Buffer, Object, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// Guards alive in this process (test support: churn must not accumulate them).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A JS callback taking no arguments, held weakly (unref'd) so that a pending `lost`
/// subscription never keeps the process alive.
pub type LostCallback = ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>;

/// A held lock. Dropped (garbage collected) without release, the core releases it in the
/// background.
#[napi]
pub struct Guard {
    pub(crate) inner: Arc<LockGuard>,
}

impl Guard {
    pub(crate) fn new(g: LockGuard) -> Guard {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Guard { inner: Arc::new(g) }
    }

    /// Guards alive in this process.
    pub(crate) fn live() -> usize {
        LIVE.load(Ordering::Relaxed)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) fn status_name(s: GuardStatus) -> &'static str {
    match s {
        GuardStatus::Held => "held",
        GuardStatus::Lost => "lost",
        GuardStatus::Released => "released",
    }
}

/// Calls `callback` once if the status turns `Lost`; stops quietly on release or drop.
/// Runs on the core runtime, which outlives any caller's executor.
pub(crate) fn notify_lost(mut rx: watch::Receiver<GuardStatus>, callback: LostCallback) {
    fencelock::runtime::handle().spawn(async move {
        if let Ok(s) = rx.wait_for(|s| *s != GuardStatus::Held).await {
            if *s == GuardStatus::Lost {
                callback.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
        }
    });
}

#[napi]
impl Guard {
    /// The key as the caller named it.
    #[napi(getter)]
    pub fn key(&self) -> String {
        self.inner.key().to_owned()
    }

    /// The fencing token: strictly greater than every earlier acquisition's token of the key.
    #[napi(getter)]
    pub fn token(&self) -> BigInt {
        BigInt::from(self.inner.token())
    }

    /// This acquisition's unique id (32 hex characters).
    #[napi(getter)]
    pub fn lock_id(&self) -> String {
        self.inner.lock_id().to_string()
    }

    /// The lease of this acquisition, in ms.
    #[napi(getter)]
    pub fn lease_ms(&self) -> f64 {
        millis(self.inner.lease())
    }

    /// Time left on the lease by this process's clock, in ms.
    #[napi(getter)]
    pub fn remaining_ms(&self) -> f64 {
        millis(self.inner.remaining())
    }

    /// The state read when the lock was acquired (`null` for a new key).
    #[napi(getter)]
    pub fn initial_state(&self) -> Option<Buffer> {
        state_out(self.inner.initial_state().cloned())
    }

    /// `"held"`, `"lost"` or `"released"`.
    #[napi(getter, ts_return_type = "'held' | 'lost' | 'released'")]
    pub fn status(&self) -> &'static str {
        status_name(self.inner.status())
    }

    /// Calls `callback` once when the lock is lost (lease lapsed, refused write, broken by
    /// someone else). Never called after a release. Does not keep the process alive.
    #[napi(ts_args_type = "callback: () => void")]
    pub fn on_lost(&self, callback: LostCallback) {
        notify_lost(self.inner.status_receiver(), callback);
    }

    /// Releases, writing `state` if given, keeping the stored state otherwise. Resolves
    /// `false` when the lease had lapsed or another holder took over: nothing was written.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn release<'env>(
        &self,
        env: &'env Env,
        state: Option<Buffer>,
    ) -> napi::Result<Object<'env>> {
        let g = self.inner.clone();
        let state = state.map(state_in);
        promise::spawn(env, async move { g.release(state).await.map_err(to_js) })
    }

    /// Releases and clears the stored state; `false` as for `release`.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn release_clearing_state<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let g = self.inner.clone();
        promise::spawn(env, async move {
            g.release_clearing_state().await.map_err(to_js)
        })
    }

    /// Writes `state` (`null` clears it) while keeping the lock.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn put<'env>(&self, env: &'env Env, state: Option<Buffer>) -> napi::Result<Object<'env>> {
        let g = self.inner.clone();
        let state = state.map(state_in);
        promise::spawn(env, async move { g.put(state).await.map_err(to_js) })
    }

    /// Renews the lease now.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn refresh<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let g = self.inner.clone();
        promise::spawn(env, async move { g.refresh().await.map_err(to_js) })
    }
}

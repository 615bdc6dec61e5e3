//! `Client`: a connection to a backend plus a namespace and defaults (`fencelock::Client`),
//! with every operation as a promise-returning method. Arguments are converted before the
//! operation goes async, so bad ones fail fast with the core's or the converter's message.

use crate::cancel::{self, CancelToken};
use crate::convert::{millis, opt_duration, state_in, state_out, timeout};
use crate::error::to_js;
use crate::guard::Guard;
use crate::leadership::Leadership;
use crate::promise;
use fencelock::{Holder, LockOptions};
use napi::bindgen_prelude::{BigInt, Buffer, Object, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, Status};
use napi_derive::napi;

/// The `withLock` callback: old state in, new state (or `null` to keep it) out, as a promise.
pub type StateCallback =
    ThreadsafeFunction<Option<Buffer>, Promise<Option<Buffer>>, Option<Buffer>, Status, false>;

/// A lock holder as recorded in the store.
#[napi(object)]
pub struct HolderInfo {
    pub lock_id: String,
    pub token: BigInt,
    pub lease_ms: f64,
    pub label: String,
}

/// What `get` reports about a key.
#[napi(object)]
pub struct KeyInfo {
    pub state: Option<Buffer>,
    pub holder: Option<HolderInfo>,
    /// The store's revision of the key (0 when it never existed).
    pub revision: BigInt,
}

/// Count, total and maximum of one kind of duration, in ms.
#[napi(object)]
pub struct TimingStats {
    pub count: f64,
    pub total_ms: f64,
    pub max_ms: f64,
}

/// One client's lock statistics since it connected; counters only grow.
#[napi(object)]
pub struct LockStats {
    /// Locks acquired.
    pub acquisitions: f64,
    /// `tryAcquire` calls that found the lock held.
    pub try_misses: f64,
    /// Acquisitions (and waits) that gave up at their timeout.
    pub timeouts: f64,
    /// Time from calling acquire to holding the lock, for successful acquisitions.
    pub wait: TimingStats,
    /// Time from acquiring to releasing or losing, per lock.
    pub hold: TimingStats,
    /// Leases renewed.
    pub renewals: f64,
    /// Renewals that failed.
    pub renewal_failures: f64,
    /// Locks lost: lease lapsed, renewal refused, or broken by someone else.
    pub locks_lost: f64,
    /// Operations that failed with a backend (server, network) error.
    pub backend_errors: f64,
}

fn timing_stats(t: &fencelock::Timing) -> TimingStats {
    TimingStats {
        count: t.count as f64,
        total_ms: millis(t.total),
        max_ms: millis(t.max),
    }
}

fn holder_info(h: Holder) -> HolderInfo {
    HolderInfo {
        lock_id: h.lock_id.to_string(),
        token: BigInt::from(h.token),
        lease_ms: millis(h.lease),
        label: h.label,
    }
}

fn lock_options(
    timeout_ms: Option<f64>,
    lease_ms: Option<f64>,
    renew: Option<bool>,
) -> napi::Result<LockOptions> {
    Ok(LockOptions {
        timeout: match timeout_ms {
            Some(ms) => timeout("timeoutMs", ms)?,
            None => None,
        },
        lease: opt_duration("lockDuration", lease_ms)?,
        renew,
        label: None,
    })
}

/// A fencelock client. Cheap to share; `close()` releases what it holds.
#[napi]
pub struct Client {
    inner: fencelock::Client,
}

impl Client {
    pub(crate) fn wrap(inner: fencelock::Client) -> Client {
        Client { inner }
    }
}

#[napi]
impl Client {
    /// True after `close()`.
    #[napi(getter)]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Largest state accepted, in bytes.
    #[napi(getter)]
    pub fn max_state_len(&self) -> u32 {
        u32::try_from(self.inner.max_state_len()).unwrap_or(u32::MAX)
    }

    /// This client's lock statistics (counts, and wait/hold timings in ms).
    #[napi]
    pub fn stats(&self) -> LockStats {
        let s = self.inner.stats();
        LockStats {
            acquisitions: s.acquisitions as f64,
            try_misses: s.try_misses as f64,
            timeouts: s.timeouts as f64,
            wait: timing_stats(&s.wait),
            hold: timing_stats(&s.hold),
            renewals: s.renewals as f64,
            renewal_failures: s.renewal_failures as f64,
            locks_lost: s.locks_lost as f64,
            backend_errors: s.backend_errors as f64,
        }
    }

    /// The client's default lease, in ms.
    #[napi(getter)]
    pub fn default_lease_ms(&self) -> f64 {
        millis(self.inner.default_lease())
    }

    /// Acquires `key`, waiting up to `timeoutMs` (`null`/`Infinity`: forever). `leaseMs` and
    /// `renew` default to the client's. Rejects with `ERR_FENCELOCK_TIMEOUT`.
    #[napi(ts_return_type = "Promise<Guard>")]
    pub fn acquire<'env>(
        &self,
        env: &'env Env,
        key: String,
        timeout_ms: Option<f64>,
        lease_ms: Option<f64>,
        renew: Option<bool>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let opts = lock_options(timeout_ms, lease_ms, renew)?;
        let c = self.inner.clone();
        let cancel = cancel::watch(cancel);
        promise::spawn(
            env,
            cancel::run(cancel, "acquire", async move {
                let g = c.acquire_with(key, &opts).await.map_err(to_js)?;
                Ok(Guard::new(g))
            }),
        )
    }

    /// Acquires `key` only if it is free now; `null` when someone holds it.
    #[napi(ts_return_type = "Promise<Guard | null>")]
    pub fn try_acquire<'env>(
        &self,
        env: &'env Env,
        key: String,
        lease_ms: Option<f64>,
        renew: Option<bool>,
    ) -> napi::Result<Object<'env>> {
        let opts = lock_options(None, lease_ms, renew)?;
        let c = self.inner.clone();
        promise::spawn(env, async move {
            let g = c.try_acquire_with(key, &opts).await.map_err(to_js)?;
            Ok(g.map(Guard::new))
        })
    }

    /// Releases `guard` (which must come from this client), writing `state` if given and
    /// keeping the stored state otherwise. `false` when the lease had lapsed: nothing was
    /// written.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn release<'env>(
        &self,
        env: &'env Env,
        guard: &Guard,
        state: Option<Buffer>,
    ) -> napi::Result<Object<'env>> {
        let c = self.inner.clone();
        let g = guard.inner.clone();
        let state = state.map(state_in);
        promise::spawn(
            env,
            async move { c.release(&g, state).await.map_err(to_js) },
        )
    }

    /// Runs `callback(state)` under the lock of `key` and stores what it resolves to
    /// (`null`: keep the old state), then releases. The lease is not renewed: a callback that
    /// outlives it rejects with `ERR_FENCELOCK_TIMEOUT` and nothing is written.
    #[napi(
        ts_args_type = "key: string, timeoutMs: number | undefined | null, leaseMs: number | undefined | null, callback: (state: Buffer | null) => Promise<Buffer | null | undefined>, cancel?: CancelToken | undefined | null",
        ts_return_type = "Promise<Buffer | null>"
    )]
    pub fn with_lock<'env>(
        &self,
        env: &'env Env,
        key: String,
        timeout_ms: Option<f64>,
        lease_ms: Option<f64>,
        callback: StateCallback,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let opts = lock_options(timeout_ms, lease_ms, None)?;
        let c = self.inner.clone();
        let cancel = cancel::watch(cancel);
        promise::spawn(
            env,
            cancel::run(cancel, "withLock", async move {
                let out = c
                    .with_lock_opts(key, &opts, |state| async move {
                        let promise = callback.call_async(state_out(state)).await?;
                        let new = promise.await?;
                        Ok::<_, napi::Error>(new.map(state_in))
                    })
                    .await
                    .map_err(to_js)?;
                Ok(state_out(out))
            }),
        )
    }

    /// Waits until `key` is free and resolves its state. Takes no lock.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn wait<'env>(
        &self,
        env: &'env Env,
        key: String,
        timeout_ms: Option<f64>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let t = match timeout_ms {
            Some(ms) => timeout("timeoutMs", ms)?,
            None => None,
        };
        let c = self.inner.clone();
        let cancel = cancel::watch(cancel);
        promise::spawn(
            env,
            cancel::run(cancel, "wait", async move {
                Ok(state_out(c.wait(key, t).await.map_err(to_js)?))
            }),
        )
    }

    /// Reads the state and holder of `key` without locking.
    #[napi(ts_return_type = "Promise<KeyInfo>")]
    pub fn get<'env>(&self, env: &'env Env, key: String) -> napi::Result<Object<'env>> {
        let c = self.inner.clone();
        promise::spawn(env, async move {
            let info = c.get(key).await.map_err(to_js)?;
            Ok(KeyInfo {
                state: state_out(info.state),
                holder: info.holder.map(holder_info),
                revision: BigInt::from(info.revision),
            })
        })
    }

    /// Deletes the lock and state of `key`; a current holder loses the lock.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, key: String) -> napi::Result<Object<'env>> {
        let c = self.inner.clone();
        promise::spawn(env, async move { c.delete(key).await.map_err(to_js) })
    }

    /// Campaigns for leadership of `election` (renewed while held), waiting up to `timeoutMs`.
    #[napi(ts_return_type = "Promise<Leadership>")]
    pub fn campaign<'env>(
        &self,
        env: &'env Env,
        election: String,
        candidate: String,
        timeout_ms: Option<f64>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let t = match timeout_ms {
            Some(ms) => timeout("timeoutMs", ms)?,
            None => None,
        };
        let c = self.inner.clone();
        let cancel = cancel::watch(cancel);
        promise::spawn(
            env,
            cancel::run(cancel, "campaign", async move {
                let l = c.campaign(election, &candidate, t).await.map_err(to_js)?;
                Ok(Leadership::wrap(l))
            }),
        )
    }

    /// Becomes leader only if nobody leads now; `null` otherwise.
    #[napi(ts_return_type = "Promise<Leadership | null>")]
    pub fn try_campaign<'env>(
        &self,
        env: &'env Env,
        election: String,
        candidate: String,
    ) -> napi::Result<Object<'env>> {
        let c = self.inner.clone();
        promise::spawn(env, async move {
            let l = c.try_campaign(election, &candidate).await.map_err(to_js)?;
            Ok(l.map(Leadership::wrap))
        })
    }

    /// The current leader of `election` as recorded in the store, if any.
    #[napi(ts_return_type = "Promise<HolderInfo | null>")]
    pub fn leader<'env>(&self, env: &'env Env, election: String) -> napi::Result<Object<'env>> {
        let c = self.inner.clone();
        promise::spawn(env, async move {
            Ok(c.leader(election).await.map_err(to_js)?.map(holder_info))
        })
    }

    /// Closes the client: releases what it holds (keeping state), stops renewals and watches.
    /// Later calls reject with `ERR_FENCELOCK_CLOSED`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let c = self.inner.clone();
        promise::spawn(env, async move {
            c.close().await;
            Ok(())
        })
    }
}

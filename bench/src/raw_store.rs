//! The raw baseline of one backend (async-nats KV or redis-rs) behind one interface, so every
//! workload is measured against the store's own client the same way.

use crate::nats_target;
use crate::raw::{Raw, RawHandoff, RawKey};
use crate::raw_redis::{RedisHandoff, RedisRaw};
use crate::Res;
use std::sync::Arc;
use std::time::Duration;

/// The raw baseline of one backend, with its sequential and parallel keys.
pub(crate) enum RawStore {
    Nats {
        raw: Arc<Raw>,
        seq: Vec<RawKey>,
        par: Vec<RawKey>,
    },
    Redis {
        raw: Arc<RedisRaw>,
        seq: Vec<String>,
        par: Vec<String>,
    },
}

impl RawStore {
    pub(crate) async fn sequential(&mut self, d: Duration) -> Res<(u64, Duration)> {
        match self {
            RawStore::Nats { raw, seq, .. } => raw.sequential(seq, d).await,
            RawStore::Redis { raw, seq, .. } => raw.sequential(seq, d).await,
        }
    }

    pub(crate) async fn parallel(&mut self, d: Duration) -> Res<(u64, Duration)> {
        match self {
            RawStore::Nats { raw, par, .. } => {
                let keys = std::mem::take(par);
                let (n, e, keys) = raw.parallel(keys, d).await?;
                *par = keys;
                Ok((n, e))
            }
            RawStore::Redis { raw, par, .. } => raw.parallel(par, d).await,
        }
    }

    /// The raw W3 handoff over a second connection of the same store.
    pub(crate) async fn handoff(&self, url: &str, settle: Duration) -> Res<AnyHandoff> {
        Ok(match self {
            RawStore::Nats { raw, .. } => {
                let other = Raw::bind(nats_target::connect_raw(url).await?, raw.bucket()).await?;
                AnyHandoff::Nats(Box::new(
                    RawHandoff::new([raw.clone(), other], "w3", settle).await?,
                ))
            }
            RawStore::Redis { raw, .. } => {
                let other = raw.other().await?;
                AnyHandoff::Redis(RedisHandoff::new([raw.clone(), other], "w3-", settle).await?)
            }
        })
    }

    /// CPU the store's server has used so far, in microseconds (Redis only).
    pub(crate) async fn server_cpu_us(&self) -> Option<f64> {
        match self {
            RawStore::Nats { .. } => None,
            RawStore::Redis { raw, .. } => raw.server_cpu_us().await,
        }
    }

    /// Script calls served so far (Redis only; see `RedisRaw::script_calls`).
    pub(crate) async fn script_calls(&self) -> Option<u64> {
        match self {
            RawStore::Nats { .. } => None,
            RawStore::Redis { raw, .. } => raw.script_calls().await,
        }
    }
}

impl RawStore {
    /// The raw W2 over two connections of the same store.
    pub(crate) async fn contended(&self, url: &str) -> Res<RawContended> {
        Ok(match self {
            RawStore::Nats { raw, .. } => {
                let other = Raw::bind(nats_target::connect_raw(url).await?, raw.bucket()).await?;
                RawContended::Nats([raw.clone(), other])
            }
            RawStore::Redis { raw, .. } => RawContended::Redis([raw.clone(), raw.other().await?]),
        })
    }
}

/// The raw W2's two connections (see `raw_w2`).
pub(crate) enum RawContended {
    Nats([Arc<Raw>; 2]),
    Redis([Arc<RedisRaw>; 2]),
}

impl RawContended {
    pub(crate) async fn run(&self, tasks: usize, d: Duration) -> Res<crate::fairness::Round> {
        match self {
            RawContended::Nats(s) => crate::raw_w2::nats_contended(s, tasks, d).await,
            RawContended::Redis(s) => crate::raw_w2::redis_contended(s, tasks, d).await,
        }
    }

    /// The raw counter's value.
    pub(crate) async fn counter(&self) -> Res<u64> {
        match self {
            RawContended::Nats(s) => crate::raw_w2::nats_counter(&s[0]).await,
            RawContended::Redis(s) => crate::raw_w2::redis_counter(&s[0]).await,
        }
    }
}

pub(crate) enum AnyHandoff {
    Nats(Box<RawHandoff>),
    Redis(RedisHandoff),
}

impl AnyHandoff {
    pub(crate) async fn run(&mut self, reps: usize) -> Res<(Vec<Duration>, Vec<Duration>)> {
        match self {
            AnyHandoff::Nats(h) => h.run(reps).await,
            AnyHandoff::Redis(h) => h.run(reps).await,
        }
    }

    pub(crate) async fn finish(&mut self) -> Res<()> {
        match self {
            AnyHandoff::Nats(h) => h.finish().await,
            AnyHandoff::Redis(h) => h.finish().await,
        }
    }
}

//! The raw baseline: async-nats's own KV client doing the cheapest honest "create, then
//! compare-and-delete" a lock needs, with no fencelock code in between.
//!
//! Why not `kv.create` + `kv.delete_expect_revision` literally: on a key whose last entry is a
//! delete marker, `Store::create` first publishes expecting revision 0, gets "wrong last
//! sequence", then reads the entry and publishes again expecting the tombstone's revision:
//! three round trips for the create alone from the second cycle on. That would flatter
//! fencelock. So a raw cycle here is exactly two round trips:
//!
//! 1. create = `kv.update(key, value, tombstone_revision)`: a publish carrying
//!    `Nats-Expected-Last-Subject-Sequence`, so it succeeds only if nobody wrote the key since
//!    the tombstone (revision 0 for a key never written). This is what `Store::create` ends up
//!    sending, minus its failed first try and its read.
//! 2. compare-and-delete = the very message `kv.delete_expect_revision(key, Some(rev))` sends
//!    (`KV-Operation: DEL` plus the expected-sequence header), published through the JetStream
//!    context so that the ack's sequence (the tombstone's revision, which the next create
//!    expects) is kept. `delete_expect_revision` throws that ack away and returns `()`.
//!
//! A DEL marker rather than a purge: a purge is a roll-up, which makes the server do more.
//! The bucket is configured like fencelock's (history 1, file storage, replicas as asked).
//!
//! On a replicated bucket the stream leader may refuse a write with error code 10164 ("wrong
//! last sequence", no number) for a moment after acknowledging the writer's previous write of
//! the key, whose in-flight mark it clears only after the acknowledgement. Any correct client
//! sends the same write again then, as fencelock does, so the raw baseline does too.

use crate::Res;
use async_nats::jetstream::{self, kv};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// About the size of a fencelock entry (38 bytes of header plus a `pid N` label).
const VALUE: &[u8] = b"raw-baseline-value-of-about-a-lock-entry-48bytes";

/// One key of the raw baseline and the revision its next create must expect.
pub struct RawKey {
    name: String,
    last: u64,
}

/// The raw baseline's bucket.
pub struct Raw {
    pub(crate) js: jetstream::Context,
    pub(crate) kv: kv::Store,
    bucket: String,
}

impl Raw {
    /// Creates the bucket `bucket` with `replicas` stream replicas (replacing a leftover of an
    /// earlier run).
    pub async fn create(
        client: async_nats::Client,
        bucket: &str,
        replicas: usize,
    ) -> Res<Arc<Raw>> {
        let js = jetstream::new(client);
        let _ = js.delete_key_value(bucket).await;
        let kv = js
            .create_key_value(kv::Config {
                bucket: bucket.to_owned(),
                description: "fencelock-bench raw baseline".into(),
                history: 1,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            })
            .await?;
        Ok(Arc::new(Raw {
            js,
            kv,
            bucket: bucket.to_owned(),
        }))
    }

    /// Binds the existing bucket `bucket` over another connection.
    pub async fn bind(client: async_nats::Client, bucket: &str) -> Res<Arc<Raw>> {
        let js = jetstream::new(client);
        let kv = js.get_key_value(bucket).await?;
        Ok(Arc::new(Raw {
            js,
            kv,
            bucket: bucket.to_owned(),
        }))
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Deletes the bucket (best effort).
    pub async fn destroy(&self) {
        let _ = self.js.delete_key_value(&self.bucket).await;
    }

    /// Prepares `name`: learns the revision a create must expect, deleting a live entry.
    pub async fn key(&self, name: String) -> Res<RawKey> {
        let last = match self.kv.entry(name.as_str()).await? {
            None => 0,
            Some(e) if e.operation != kv::Operation::Put => e.revision,
            Some(e) => self.delete_expect(&name, e.revision).await?,
        };
        Ok(RawKey { name, last })
    }

    /// `count` keys named `<prefix><i>`.
    pub async fn keys(&self, prefix: &str, count: usize) -> Res<Vec<RawKey>> {
        let mut keys = Vec::with_capacity(count);
        for i in 0..count {
            keys.push(self.key(format!("{prefix}{i}")).await?);
        }
        Ok(keys)
    }

    /// A raw create of `k` (expecting its tombstone), returning the new revision.
    async fn create_key(&self, k: &str, expect: u64) -> Res<u64> {
        let mut tries = 0;
        loop {
            match self.kv.update(k, Bytes::from_static(VALUE), expect).await {
                Err(e) if refused_in_flight(&e) && next_try(&mut tries).await => continue,
                r => return Ok(r.map_err(|e| format!("raw create of {k}: {e}"))?),
            }
        }
    }

    /// One raw lock cycle: create expecting the tombstone, then compare-and-delete.
    pub async fn cycle(&self, k: &mut RawKey) -> Res<()> {
        let rev = self.create_key(&k.name, k.last).await?;
        k.last = self.delete_expect(&k.name, rev).await?;
        Ok(())
    }

    /// `kv.delete_expect_revision`'s message, returning the tombstone's revision.
    async fn delete_expect(&self, name: &str, rev: u64) -> Res<u64> {
        let mut headers = HeaderMap::new();
        headers.insert("KV-Operation", "DEL");
        headers.insert(
            async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
            rev.to_string().as_str(),
        );
        let subject = format!("$KV.{}.{name}", self.bucket);
        let mut tries = 0;
        loop {
            let ack = self
                .js
                .publish_with_headers(subject.clone(), headers.clone(), Bytes::new())
                .await?
                .await;
            match ack {
                Err(e) if refused_in_flight(&e) && next_try(&mut tries).await => continue,
                r => {
                    let ack = r.map_err(|e| format!("raw compare-and-delete of {name}: {e}"))?;
                    return Ok(ack.sequence);
                }
            }
        }
    }

    /// Sequential cycles for `d`, rotating over `keys`. Returns (cycles, elapsed).
    pub async fn sequential(&self, keys: &mut [RawKey], d: Duration) -> Res<(u64, Duration)> {
        let start = Instant::now();
        let end = start + d;
        let mut n = 0u64;
        while Instant::now() < end {
            let i = (n % keys.len() as u64) as usize;
            self.cycle(&mut keys[i]).await?;
            n += 1;
        }
        Ok((n, start.elapsed()))
    }

    /// One task per key, cycling for `d`. Returns (cycles, elapsed) and the keys.
    pub async fn parallel(
        self: &Arc<Self>,
        keys: Vec<RawKey>,
        d: Duration,
    ) -> Res<(u64, Duration, Vec<RawKey>)> {
        let start = Instant::now();
        let end = start + d;
        let tasks: Vec<_> = keys
            .into_iter()
            .map(|mut k| {
                let raw = self.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < end {
                        raw.cycle(&mut k).await?;
                        n += 1;
                    }
                    Ok::<_, crate::BoxError>((n, k))
                })
            })
            .collect();
        let mut total = 0;
        let mut keys = Vec::with_capacity(tasks.len());
        for t in tasks {
            let (n, k) = t.await??;
            total += n;
            keys.push(k);
        }
        Ok((total, start.elapsed(), keys))
    }
}

/// The raw floor of W3: the same ping-pong with async-nats alone. Each side has its own
/// connection and a watch of the key open throughout (as fencelock keeps its change feed);
/// the waiter reads its watch until the holder's delete marker arrives, then creates the key
/// expecting that marker's revision. The figure is the time from the holder's
/// compare-and-delete call to the waiter's create returning. The holder's compare-and-delete
/// itself, sent after the same pause, is also timed: a "cold" round trip.
pub struct RawHandoff {
    sides: [Arc<Raw>; 2],
    watches: [Option<kv::Watch>; 2],
    key: String,
    holder: usize,
    held: u64,
    settle: Duration,
}

impl RawHandoff {
    /// `sides` are the same bucket bound over two connections.
    pub async fn new(sides: [Arc<Raw>; 2], key: &str, settle: Duration) -> Res<RawHandoff> {
        let k = sides[0].key(key.to_owned()).await?;
        let watches = [
            Some(sides[0].kv.watch(key).await?),
            Some(sides[1].kv.watch(key).await?),
        ];
        let held = sides[0].create_key(key, k.last).await?;
        Ok(RawHandoff {
            sides,
            watches,
            key: key.to_owned(),
            holder: 0,
            held,
            settle,
        })
    }

    /// Runs `reps` handoffs, returning each one's latency and the holder's delete round trip.
    pub async fn run(&mut self, reps: usize) -> Res<(Vec<Duration>, Vec<Duration>)> {
        let mut out = Vec::with_capacity(reps);
        let mut cold = Vec::with_capacity(reps);
        for _ in 0..reps {
            let waiter = 1 - self.holder;
            let mut watch = self.watches[waiter]
                .take()
                .ok_or("raw W3: the waiter's watch is gone")?;
            let (raw, key, after) = (self.sides[waiter].clone(), self.key.clone(), self.held);
            let wait = tokio::spawn(async move {
                loop {
                    let e = watch.next().await.ok_or("raw W3: the watch ended")??;
                    if e.revision > after && e.operation != kv::Operation::Put {
                        let rev = raw.create_key(&key, e.revision).await?;
                        return Ok::<_, crate::BoxError>((rev, Instant::now(), watch));
                    }
                }
            });
            tokio::time::sleep(self.settle).await;
            if wait.is_finished() {
                return Err("raw W3: the waiter created the key while it was held".into());
            }
            let released_at = Instant::now();
            self.sides[self.holder]
                .delete_expect(&self.key, self.held)
                .await?;
            cold.push(released_at.elapsed());
            let (rev, acquired_at, watch) = wait.await??;
            out.push(acquired_at.saturating_duration_since(released_at));
            self.watches[waiter] = Some(watch);
            self.holder = waiter;
            self.held = rev;
        }
        Ok((out, cold))
    }

    /// Frees the key.
    pub async fn finish(&mut self) -> Res<()> {
        self.sides[self.holder]
            .delete_expect(&self.key, self.held)
            .await?;
        Ok(())
    }
}

/// Whether the stream leader refused a write while a write of the key was in flight (10164).
fn refused_in_flight(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(api) = s.downcast_ref::<jetstream::Error>() {
            return api.error_code() == jetstream::ErrorCode::STREAM_WRONG_LAST_SEQUENCE_CONSTANT;
        }
        source = s.source();
    }
    false
}

/// Pauses before the next try of a write refused in flight (0, 1, 2 … 64 ms, as fencelock);
/// false when the tries are used up.
async fn next_try(tries: &mut u32) -> bool {
    *tries += 1;
    match *tries {
        1 => true,
        2..=8 => {
            tokio::time::sleep(Duration::from_millis(1 << (*tries - 2))).await;
            true
        }
        _ => false,
    }
}

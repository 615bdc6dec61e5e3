//! W2's raw baselines: the same contended counter (2 connections x 8 tasks, read-modify-write
//! under a lock on ONE key, final value checked) written with the store's own client the way a
//! user of that store would, so that fencelock's fairness figures have something to stand next
//! to. Waiting tasks wake on the store's own change notices, never by polling.
//!
//! NATS (async-nats KV): the lock is a KV key taken by a create (a publish expecting the key's
//! tombstone revision) and freed by a compare-and-delete; the counter is a second key. A task
//! whose create is refused reads its own watch of the lock key until a delete marker newer
//! than what it tried arrives, then creates again expecting it. Holding the lock it reads the
//! counter, then publishes the counter's compare-and-set and the lock's compare-and-delete back
//! to back on the connection (one round trip: the server applies them in order) and awaits
//! both acknowledgements. Three round trips per increment.
//!
//! Redis (redis-rs): `SET lock token NX PX 30000` pipelined with `GET counter`; the release is
//! one script (if the lock still holds our token: `SET counter`, `DEL lock`, `PUBLISH`). A task
//! whose `SET NX` fails waits for the next notice on its own pub/sub subscription (at most
//! 100 ms, a guard against a lost notice), then tries again. Two round trips per increment.

use crate::fairness::Round;
use crate::raw::Raw;
use crate::raw_redis::RedisRaw;
use crate::Res;
use async_nats::jetstream::kv;
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt;
use redis::{Script, Value};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// Bound of one wait for a notice (a lost notice costs at most this).
const NOTICE_WAIT: Duration = Duration::from_millis(100);

fn counter_of(v: &[u8]) -> Res<u64> {
    if v.is_empty() {
        return Ok(0);
    }
    Ok(std::str::from_utf8(v)?.parse()?)
}

/// The NATS raw W2: `sides` are the bench's bucket over two connections.
pub(crate) async fn nats_contended(sides: &[Arc<Raw>; 2], tasks: usize, d: Duration) -> Res<Round> {
    let (lock, count) = ("w2-lock", "w2-count");
    // Frees a lock left held by an earlier round (none is: every task releases before it
    // stops; this only makes a broken run fail at once rather than wait).
    drop(sides[0].key(lock.to_owned()).await?);
    // One watch of the lock key per connection, shared by its tasks through a channel of the
    // newest (revision, free) it delivered.
    let mut feeds = Vec::new();
    let mut readers = Vec::new();
    for side in sides {
        // With history: the lock key's current entry first, then every change.
        let mut watch = side.kv.watch_with_history(lock).await?;
        let (tx, rx) = tokio::sync::watch::channel((0u64, false));
        readers.push(tokio::spawn(async move {
            while let Some(Ok(e)) = watch.next().await {
                tx.send_if_modified(|cur| {
                    let newer = e.revision > cur.0;
                    if newer {
                        *cur = (e.revision, e.operation != kv::Operation::Put);
                    }
                    newer
                });
            }
        }));
        for _ in 0..tasks {
            feeds.push((side.clone(), rx.clone()));
        }
    }
    let start = Instant::now();
    let end = start + d;
    let handles: Vec<_> = feeds
        .into_iter()
        .map(|(raw, rx)| tokio::spawn(nats_task(raw, rx, lock, count, end)))
        .collect();
    let mut round = Round {
        ops: 0,
        elapsed: Duration::ZERO,
        per_task: Vec::with_capacity(handles.len()),
        longest_wait: Duration::ZERO,
    };
    for h in handles {
        let (n, longest) = h.await??;
        round.ops += n;
        round.per_task.push(n);
        round.longest_wait = round.longest_wait.max(longest);
    }
    round.elapsed = start.elapsed();
    for r in readers {
        r.abort();
    }
    Ok(round)
}

/// The NATS raw counter's value.
pub(crate) async fn nats_counter(raw: &Raw) -> Res<u64> {
    match raw.kv.entry("w2-count").await? {
        Some(e) if e.operation == kv::Operation::Put => counter_of(&e.value),
        _ => Ok(0),
    }
}

async fn nats_task(
    raw: Arc<Raw>,
    mut feed: tokio::sync::watch::Receiver<(u64, bool)>,
    lock: &'static str,
    count: &'static str,
    end: Instant,
) -> Res<(u64, Duration)> {
    let lock_subject = format!("$KV.{}.{lock}", raw.bucket());
    let count_subject = format!("$KV.{}.{count}", raw.bucket());
    // The newest entry of the lock key this task knows: (revision, free); a key never written
    // is free at revision 0.
    let mut known = (0u64, true);
    let (mut n, mut longest) = (0u64, Duration::ZERO);
    while Instant::now() < end {
        let called = Instant::now();
        let held = loop {
            if known.1 {
                match raw
                    .kv
                    .update(lock, Bytes::from_static(b"held"), known.0)
                    .await
                {
                    Ok(rev) => break rev,
                    // Taken (or refused while another write is in flight): wait for news.
                    Err(_) => known.1 = false,
                }
            }
            if Instant::now() >= end {
                return Ok((n, longest));
            }
            let tried = known.0;
            let news = tokio::time::timeout(
                NOTICE_WAIT,
                feed.wait_for(|(rev, free)| *free && *rev > tried),
            )
            .await
            .map(|r| r.map(|v| *v));
            match news {
                Ok(Ok(v)) => known = v,
                Ok(Err(_)) => return Err("raw W2: the watch ended".into()),
                // No news for a while: try again on the newest entry seen.
                Err(_) => known = (feed.borrow().0.max(known.0), true),
            }
        };
        longest = longest.max(called.elapsed());
        let (value, crev) = match raw.kv.entry(count).await? {
            Some(e) if e.operation == kv::Operation::Put => (counter_of(&e.value)?, e.revision),
            Some(e) => (0, e.revision),
            None => (0, 0),
        };
        let mut h = HeaderMap::new();
        h.insert(
            async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
            crev.to_string().as_str(),
        );
        let wrote = raw
            .js
            .publish_with_headers(count_subject.clone(), h, (value + 1).to_string().into())
            .await?;
        let mut h = HeaderMap::new();
        h.insert("KV-Operation", "DEL");
        h.insert(
            async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
            held.to_string().as_str(),
        );
        let freed = raw
            .js
            .publish_with_headers(lock_subject.clone(), h, Bytes::new())
            .await?;
        wrote
            .await
            .map_err(|e| format!("raw W2: the counter's compare-and-set failed: {e}"))?;
        let tomb = freed
            .await
            .map_err(|e| format!("raw W2: the lock's compare-and-delete failed: {e}"))?;
        known = (tomb.sequence, true);
        n += 1;
    }
    Ok((n, longest))
}

/// Release: if the lock still holds our token, store the counter, free the lock, publish.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET',KEYS[1])==ARGV[1] then \
           redis.call('SET',KEYS[2],ARGV[2]) \
           redis.call('DEL',KEYS[1]) \
           redis.call('PUBLISH',KEYS[3],'1') \
           return 1 \
         else return 0 end",
    )
});

/// The Redis raw W2: `sides` are two connections to the server.
pub(crate) async fn redis_contended(
    sides: &[Arc<RedisRaw>; 2],
    tasks: usize,
    d: Duration,
) -> Res<Round> {
    let lock = format!("{}w2-lock", sides[0].prefix());
    let count = format!("{}w2-count", sides[0].prefix());
    let channel = format!("{lock}:released");
    let mut subs = Vec::new();
    for side in sides {
        for _ in 0..tasks {
            let mut ps = side.client.get_async_pubsub().await?;
            ps.subscribe(&channel).await?;
            subs.push((side.clone(), ps));
        }
    }
    let start = Instant::now();
    let end = start + d;
    let handles: Vec<_> = subs
        .into_iter()
        .enumerate()
        .map(|(i, (raw, ps))| {
            let (lock, count, channel) = (lock.clone(), count.clone(), channel.clone());
            tokio::spawn(async move {
                let token = format!("task-{i}-{}", std::process::id());
                let mut notices = ps.into_on_message();
                let mut conn = raw.conn.clone();
                let (mut n, mut longest) = (0u64, Duration::ZERO);
                while Instant::now() < end {
                    let called = Instant::now();
                    let value = loop {
                        let (set, got): (Value, Option<String>) = redis::pipe()
                            .cmd("SET")
                            .arg(&lock)
                            .arg(&token)
                            .arg("NX")
                            .arg("PX")
                            .arg(30_000)
                            .cmd("GET")
                            .arg(&count)
                            .query_async(&mut conn)
                            .await?;
                        if matches!(set, Value::Okay) {
                            break counter_of(got.unwrap_or_default().as_bytes())?;
                        }
                        if Instant::now() >= end {
                            return Ok::<_, crate::BoxError>((n, longest));
                        }
                        let _ = tokio::time::timeout(NOTICE_WAIT, notices.next()).await;
                    };
                    longest = longest.max(called.elapsed());
                    let done: i64 = RELEASE
                        .key(&lock)
                        .key(&count)
                        .key(&channel)
                        .arg(&token)
                        .arg(value + 1)
                        .invoke_async(&mut conn)
                        .await?;
                    if done != 1 {
                        return Err("raw W2: the lock was lost while held".into());
                    }
                    n += 1;
                }
                Ok((n, longest))
            })
        })
        .collect();
    let mut round = Round {
        ops: 0,
        elapsed: Duration::ZERO,
        per_task: Vec::with_capacity(handles.len()),
        longest_wait: Duration::ZERO,
    };
    for h in handles {
        let (n, longest) = h.await??;
        round.ops += n;
        round.per_task.push(n);
        round.longest_wait = round.longest_wait.max(longest);
    }
    round.elapsed = start.elapsed();
    Ok(round)
}

/// The Redis raw counter's value.
pub(crate) async fn redis_counter(raw: &RedisRaw) -> Res<u64> {
    let mut conn = raw.conn.clone();
    let v: Option<String> = redis::cmd("GET")
        .arg(format!("{}w2-count", raw.prefix()))
        .query_async(&mut conn)
        .await?;
    counter_of(v.unwrap_or_default().as_bytes())
}

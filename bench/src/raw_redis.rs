//! The raw Redis baseline: the `redis` crate alone doing the textbook single-instance lock,
//! with no fencelock code in between. A raw cycle is exactly two round trips:
//!
//! 1. `SET key value NX PX 30000` (must answer `OK`);
//! 2. the compare-and-delete script
//!    `if redis.call('GET',KEYS[1])==ARGV[1] then return redis.call('DEL',KEYS[1]) else return 0 end`
//!    sent as `EVALSHA` (loaded once up front), which must answer 1.
//!
//! The connection is a `MultiplexedConnection`, not a `ConnectionManager`: the manager is a
//! multiplexed connection plus reconnect bookkeeping on every request (an `ArcSwap` load and a
//! clone of the shared future), so the bare multiplexed connection is the cheaper floor. All
//! tasks of a parallel round share one connection (cloned), as fencelock's client shares its one
//! `ConnectionManager`.

use crate::Res;
use futures::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{Script, Value};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// About the size of a fencelock lock value (32 hex digits of lock id, token, lease, label).
const VALUE: &[u8] = b"raw-baseline-value-of-about-a-lock-entry-48bytes";
const LEASE_MS: u64 = 30_000;

/// Compare-and-delete: the raw baseline's release (docs/ARCHITECTURE.md, benchmark workloads).
static CAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET',KEYS[1])==ARGV[1] then return redis.call('DEL',KEYS[1]) else return 0 end",
    )
});

/// The raw baseline's connection and key prefix.
pub struct RedisRaw {
    pub(crate) client: redis::Client,
    pub(crate) conn: MultiplexedConnection,
    prefix: String,
}

/// What the header reports about the server.
pub struct ServerInfo {
    pub version: String,
    pub persistence: String,
}

fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
    })
}

impl RedisRaw {
    /// Connects to `url`; the raw keys are named `<prefix><name>`.
    pub async fn connect(url: &str, prefix: &str) -> Res<Arc<RedisRaw>> {
        let client = redis::Client::open(url)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        // Load the script once, so that every cycle is one EVALSHA and the pipelined handoff
        // release never meets NOSCRIPT.
        CAD.prepare_invoke().load_async(&mut conn).await?;
        Ok(Arc::new(RedisRaw {
            client,
            conn,
            prefix: prefix.to_owned(),
        }))
    }

    /// A second, independent connection to the same server (for W3's other side).
    pub async fn other(&self) -> Res<Arc<RedisRaw>> {
        let conn = self.client.get_multiplexed_async_connection().await?;
        Ok(Arc::new(RedisRaw {
            client: self.client.clone(),
            conn,
            prefix: self.prefix.clone(),
        }))
    }

    /// The server's version and persistence settings (best effort: `CONFIG` may be disabled).
    pub async fn server_info(&self) -> ServerInfo {
        let mut conn = self.conn.clone();
        let server: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut conn)
            .await
            .unwrap_or_default();
        let version = info_field(&server, "redis_version")
            .unwrap_or("?")
            .to_owned();
        let config: Result<Vec<String>, _> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("append*")
            .query_async(&mut conn)
            .await;
        let persistence = match config {
            Ok(kv) => {
                let get = |k: &str| {
                    kv.chunks(2)
                        .find(|c| c[0] == k)
                        .and_then(|c| c.get(1))
                        .cloned()
                        .unwrap_or_else(|| "?".into())
                };
                format!(
                    "appendonly {}, appendfsync {}",
                    get("appendonly"),
                    get("appendfsync")
                )
            }
            Err(_) => "persistence settings unknown (CONFIG GET refused)".into(),
        };
        ServerInfo {
            version,
            persistence,
        }
    }

    /// `EVALSHA` calls the server has served so far (from `INFO commandstats`), or `None` when
    /// the server does not say. Every fencelock operation on Redis is one script, so a delta
    /// around fencelock's rounds counts its round trips.
    pub async fn script_calls(&self) -> Option<u64> {
        let mut conn = self.conn.clone();
        let stats: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut conn)
            .await
            .ok()?;
        let mut total = 0;
        for cmd in ["cmdstat_evalsha", "cmdstat_eval"] {
            if let Some(v) = info_field(&stats, cmd) {
                total += v
                    .split(',')
                    .find_map(|f| f.strip_prefix("calls="))
                    .and_then(|n| n.parse::<u64>().ok())?;
            }
        }
        Some(total)
    }

    /// CPU time the server has used so far (`INFO cpu`, user + system), in microseconds.
    pub async fn server_cpu_us(&self) -> Option<f64> {
        let mut conn = self.conn.clone();
        let info: String = redis::cmd("INFO")
            .arg("cpu")
            .query_async(&mut conn)
            .await
            .ok()?;
        let sys: f64 = info_field(&info, "used_cpu_sys")?.parse().ok()?;
        let user: f64 = info_field(&info, "used_cpu_user")?.parse().ok()?;
        Some((sys + user) * 1e6)
    }

    /// `count` key names `<prefix><name-prefix><i>`, freed of leftovers.
    pub async fn keys(&self, name: &str, count: usize) -> Res<Vec<String>> {
        let keys: Vec<String> = (0..count)
            .map(|i| format!("{}{name}{i}", self.prefix))
            .collect();
        let mut conn = self.conn.clone();
        let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await?;
        Ok(keys)
    }

    /// Deletes every key under `pattern` (best effort, for servers we did not start).
    pub async fn delete_matching(&self, pattern: &str) {
        let mut conn = self.conn.clone();
        let mut cursor = 0u64;
        loop {
            let page: redis::RedisResult<(u64, Vec<String>)> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await;
            let Ok((next, keys)) = page else { return };
            if !keys.is_empty() {
                let _: redis::RedisResult<()> =
                    redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }

    /// The prefix of the raw keys.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The raw baseline's own keys, for cleanup.
    pub fn pattern(&self) -> String {
        format!("{}*", self.prefix)
    }

    /// `SET key VALUE NX PX 30000`: true when it took the key.
    async fn set_nx(conn: &mut MultiplexedConnection, key: &str) -> Res<bool> {
        let v: Value = redis::cmd("SET")
            .arg(key)
            .arg(VALUE)
            .arg("NX")
            .arg("PX")
            .arg(LEASE_MS)
            .query_async(conn)
            .await
            .map_err(|e| format!("raw SET NX of {key}: {e}"))?;
        Ok(matches!(v, Value::Okay))
    }

    /// The compare-and-delete script: true when it deleted the key.
    async fn cad(conn: &mut MultiplexedConnection, key: &str) -> Res<bool> {
        let n: i64 = CAD
            .key(key)
            .arg(VALUE)
            .invoke_async(conn)
            .await
            .map_err(|e| format!("raw compare-and-delete of {key}: {e}"))?;
        Ok(n == 1)
    }

    /// One raw lock cycle on `key`.
    async fn cycle(conn: &mut MultiplexedConnection, key: &str) -> Res<()> {
        if !Self::set_nx(conn, key).await? {
            return Err(format!("raw SET NX of {key}: the key is taken").into());
        }
        if !Self::cad(conn, key).await? {
            return Err(format!("raw compare-and-delete of {key}: the value changed").into());
        }
        Ok(())
    }

    /// Sequential cycles for `d`, rotating over `keys`. Returns (cycles, elapsed).
    pub async fn sequential(&self, keys: &[String], d: Duration) -> Res<(u64, Duration)> {
        let mut conn = self.conn.clone();
        let start = Instant::now();
        let end = start + d;
        let mut n = 0u64;
        while Instant::now() < end {
            Self::cycle(&mut conn, &keys[(n % keys.len() as u64) as usize]).await?;
            n += 1;
        }
        Ok((n, start.elapsed()))
    }

    /// One task per key over the one connection, cycling for `d`. Returns (cycles, elapsed).
    pub async fn parallel(&self, keys: &[String], d: Duration) -> Res<(u64, Duration)> {
        let start = Instant::now();
        let end = start + d;
        let tasks: Vec<_> = keys
            .iter()
            .map(|k| {
                let (mut conn, key) = (self.conn.clone(), k.clone());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < end {
                        Self::cycle(&mut conn, &key).await?;
                        n += 1;
                    }
                    Ok::<_, crate::BoxError>(n)
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await??;
        }
        Ok((total, start.elapsed()))
    }
}

type Notices = redis::aio::PubSubStream;

/// The raw floor of W3 on Redis. Redis has no per-key change feed without server configuration
/// (keyspace notifications), so the raw handoff uses the same mechanism fencelock's Redis
/// backend does: pub/sub. Each side has its own connection and its own subscription to one
/// channel, open throughout. The holder releases with ONE round trip: the compare-and-delete
/// script and `PUBLISH channel <handoff number>` pipelined (the publish is queued right behind
/// the delete, so the notice leaves the server just after the key is gone). The waiter reads
/// notices until the one numbered for this handoff arrives (its own earlier notices are
/// ignored), then sends `SET NX PX`, retrying on the next notice if the key was still taken.
/// The figure is the time from the holder's release call to the waiter's `SET` returning `OK`:
/// about 1.5 round trips plus pub/sub delivery. The holder's release round trip, sent after
/// the same pause, is also timed: a "cold" round trip.
pub struct RedisHandoff {
    sides: [Arc<RedisRaw>; 2],
    notices: [Option<Notices>; 2],
    key: String,
    channel: String,
    holder: usize,
    count: u64,
    settle: Duration,
}

impl RedisHandoff {
    /// `sides` are two connections to the same server.
    pub async fn new(sides: [Arc<RedisRaw>; 2], name: &str, settle: Duration) -> Res<Self> {
        let key = sides[0].keys(name, 1).await?.remove(0);
        let channel = format!("{key}:released");
        let mut notices = [None, None];
        for (n, side) in notices.iter_mut().zip(&sides) {
            let mut ps = side.client.get_async_pubsub().await?;
            ps.subscribe(&channel).await?;
            *n = Some(ps.into_on_message());
        }
        let mut conn = sides[0].conn.clone();
        if !RedisRaw::set_nx(&mut conn, &key).await? {
            return Err(format!("raw W3: {key} is taken").into());
        }
        Ok(RedisHandoff {
            sides,
            notices,
            key,
            channel,
            holder: 0,
            count: 0,
            settle,
        })
    }

    /// The holder's release: compare-and-delete and the notice in one pipeline.
    async fn release(&self) -> Res<()> {
        let mut conn = self.sides[self.holder].conn.clone();
        let mut inv = CAD.prepare_invoke();
        inv.key(&self.key).arg(VALUE);
        let (deleted, _receivers): (i64, i64) = redis::pipe()
            .invoke_script(&inv)
            .cmd("PUBLISH")
            .arg(&self.channel)
            .arg(self.count)
            .query_async(&mut conn)
            .await
            .map_err(|e| format!("raw W3 release: {e}"))?;
        if deleted != 1 {
            return Err("raw W3: the holder's compare-and-delete found the key changed".into());
        }
        Ok(())
    }

    /// Runs `reps` handoffs, returning each one's latency and the holder's release round trip.
    pub async fn run(&mut self, reps: usize) -> Res<(Vec<Duration>, Vec<Duration>)> {
        let mut out = Vec::with_capacity(reps);
        let mut cold = Vec::with_capacity(reps);
        for _ in 0..reps {
            self.count += 1;
            let waiter = 1 - self.holder;
            let mut notices = self.notices[waiter]
                .take()
                .ok_or("raw W3: the waiter's subscription is gone")?;
            let (mut conn, key, expect) = (
                self.sides[waiter].conn.clone(),
                self.key.clone(),
                self.count,
            );
            let wait = tokio::spawn(async move {
                loop {
                    let msg = notices
                        .next()
                        .await
                        .ok_or("raw W3: the subscription ended")?;
                    let n: u64 = msg.get_payload().unwrap_or(0);
                    if n >= expect && RedisRaw::set_nx(&mut conn, &key).await? {
                        return Ok::<_, crate::BoxError>((Instant::now(), notices));
                    }
                }
            });
            tokio::time::sleep(self.settle).await;
            if wait.is_finished() {
                return Err("raw W3: the waiter took the key while it was held".into());
            }
            let released_at = Instant::now();
            self.release().await?;
            cold.push(released_at.elapsed());
            let (acquired_at, notices) = wait.await??;
            out.push(acquired_at.saturating_duration_since(released_at));
            self.notices[waiter] = Some(notices);
            self.holder = waiter;
        }
        Ok((out, cold))
    }

    /// Frees the key.
    pub async fn finish(&mut self) -> Res<()> {
        let mut conn = self.sides[self.holder].conn.clone();
        RedisRaw::cad(&mut conn, &self.key).await?;
        Ok(())
    }
}

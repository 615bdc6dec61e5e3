//! A connection to the master of a Sentinel-managed group that follows failovers.
//!
//! The master is resolved through the sentinels (redis-rs asks them in order and checks with
//! `ROLE` that the named node really is a master). The resolved master is kept until it fails
//! us: a dropped connection, an I/O error or a timeout makes the next call resolve again, and a
//! `READONLY` reply (the node was demoted to a replica) resolves again at once and repeats the
//! command there. Repeating is safe only for `READONLY`: the node refused to write, so nothing
//! was applied. After a dropped connection a write may or may not have been applied, so that
//! call fails and the caller decides.
//!
//! To move before the old master starts failing, a background task also listens on a
//! sentinel for `+switch-master` (as Jedis, Lettuce and go-redis do) and resolves at once when
//! the group's master changes. Sentinel normally demotes the old master and disconnects its
//! clients only after announcing the switch, so most calls never see the old master fail.
//!
//! Each new master gets a new epoch, published on a watch channel: the notice subscription
//! (`watch.rs`) moves to the new master when it changes.

use futures::StreamExt;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::sentinel::SentinelClient;
use redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Clones share the resolved master.
#[derive(Clone)]
pub(crate) struct Failover(Arc<Shared>);

struct Shared {
    sentinel: tokio::sync::Mutex<SentinelClient>,
    master_name: String,
    switches: Mutex<Option<tokio::task::JoinHandle<()>>>,
    current: Mutex<Option<Master>>,
    epoch: tokio::sync::watch::Sender<u64>,
    config: AsyncConnectionConfig,
    db: i64,
}

/// One resolved master.
#[derive(Clone)]
pub(crate) struct Master {
    epoch: u64,
    /// Opens further connections to it (the pub/sub subscription).
    pub client: redis::Client,
    conn: MultiplexedConnection,
}

impl Master {
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl Failover {
    /// Resolves the master once, so that a wrong master name or unreachable sentinels fail
    /// `connect` instead of the first operation.
    pub async fn connect(
        sentinel: SentinelClient,
        master_name: String,
        config: AsyncConnectionConfig,
        db: i64,
    ) -> RedisResult<Failover> {
        let f = Failover(Arc::new(Shared {
            sentinel: tokio::sync::Mutex::new(sentinel),
            master_name,
            switches: Mutex::new(None),
            current: Mutex::new(None),
            epoch: tokio::sync::watch::channel(0).0,
            config,
            db,
        }));
        f.resolve(None).await?;
        let task = tokio::spawn(follow_switches(Arc::downgrade(&f.0)));
        *f.0.switches.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        Ok(f)
    }

    /// The current master, resolving it if the last one failed.
    pub async fn master(&self) -> RedisResult<Master> {
        if let Some(m) = self.current() {
            return Ok(m);
        }
        self.resolve(None).await
    }

    /// Stops following `+switch-master` (the client is closing).
    pub fn close(&self) {
        self.0.stop_following();
    }

    /// Changes whenever a different master (or the same one again) is resolved.
    pub fn epochs(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.epoch.subscribe()
    }

    fn current(&self) -> Option<Master> {
        self.0
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forgets `epoch`'s master (if still current) so that the next call resolves again.
    pub fn forget(&self, epoch: u64) {
        let mut cur = self.0.current.lock().unwrap_or_else(|p| p.into_inner());
        if cur.as_ref().is_some_and(|m| m.epoch == epoch) {
            *cur = None;
        }
    }

    /// Asks the sentinels for the master, unless another caller already replaced `stale`.
    async fn resolve(&self, stale: Option<u64>) -> RedisResult<Master> {
        // One resolution at a time; callers that waited reuse its result.
        let mut sentinel = self.0.sentinel.lock().await;
        if let Some(m) = self.current() {
            if Some(m.epoch) != stale {
                return Ok(m);
            }
        }
        let client = sentinel.async_get_client().await?;
        let conn = client
            .get_multiplexed_async_connection_with_config(&self.0.config)
            .await?;
        let epoch = *self.0.epoch.borrow() + 1;
        let master = Master {
            epoch,
            client,
            conn,
        };
        *self.0.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(master.clone());
        self.0.epoch.send_replace(epoch);
        tracing::debug!(epoch, "resolved the Redis master through Sentinel");
        Ok(master)
    }

    /// What to do after `result` came back from `master`: `true` to repeat on a new master.
    fn after<T>(&self, master: &Master, result: &RedisResult<T>) -> bool {
        match result {
            Err(e) if is_readonly(e) => true,
            Err(e) if is_lost(e) => {
                self.forget(master.epoch);
                false
            }
            _ => false,
        }
    }
}

impl Shared {
    fn stop_following(&self) {
        if let Some(t) = self
            .switches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            t.abort();
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop_following();
    }
}

/// Resolves the master again whenever a sentinel announces `+switch-master` for our group.
/// Holds the connection only weakly, so that dropping the backend ends the task.
async fn follow_switches(shared: Weak<Shared>) {
    const RETRY: Duration = Duration::from_secs(1);
    loop {
        let pubsub = async {
            let shared = shared.upgrade()?;
            let client = shared
                .sentinel
                .lock()
                .await
                .async_get_sentinel_client()
                .await;
            let mut pubsub = client.ok()?.get_async_pubsub().await.ok()?;
            pubsub.subscribe("+switch-master").await.ok()?;
            Some(pubsub)
        };
        let Some(pubsub) = pubsub.await else {
            if shared.strong_count() == 0 {
                return;
            }
            tokio::time::sleep(RETRY).await;
            continue;
        };
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            // `<master name> <old ip> <old port> <new ip> <new port>`
            let payload = String::from_utf8_lossy(msg.get_payload_bytes()).into_owned();
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if payload.split(' ').next() != Some(shared.master_name.as_str()) {
                continue;
            }
            let f = Failover(shared);
            let stale = f.current().map(|m| m.epoch);
            if let Err(e) = f.resolve(stale).await {
                tracing::debug!(error = %e, "resolving the new master after +switch-master");
                if let Some(epoch) = stale {
                    f.forget(epoch);
                }
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

fn is_readonly(e: &RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
        || e.code() == Some("READONLY")
}

fn is_lost(e: &RedisError) -> bool {
    e.is_connection_dropped() || e.is_io_error() || e.is_timeout() || e.is_connection_refusal()
}

/// A pipeline's replies carry server errors as values; `READONLY` in any means nothing was
/// written (the scripts write only after their checks, and a replica refuses the first write).
fn pipeline_readonly(values: &RedisResult<Vec<Value>>) -> bool {
    match values {
        Ok(vs) => vs.iter().any(|v| {
            matches!(v, Value::ServerError(e)
                if e.kind() == Some(redis::ServerErrorKind::ReadOnly) || e.code() == "READONLY")
        }),
        Err(e) => is_readonly(e),
    }
}

impl ConnectionLike for Failover {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let master = self.master().await?;
            let result = master.conn.clone().req_packed_command(cmd).await;
            if !self.after(&master, &result) {
                return result;
            }
            let master = self.resolve(Some(master.epoch)).await?;
            master.conn.clone().req_packed_command(cmd).await
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let master = self.master().await?;
            let result = master
                .conn
                .clone()
                .req_packed_commands(pipeline, offset, count)
                .await;
            if !(pipeline_readonly(&result) || self.after(&master, &result)) {
                return result;
            }
            let master = self.resolve(Some(master.epoch)).await?;
            master
                .conn
                .clone()
                .req_packed_commands(pipeline, offset, count)
                .await
        })
    }

    fn get_db(&self) -> i64 {
        self.0.db
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::redis::scripts;
    use fencelock_testkit::RedisServer;

    /// The retry after a demotion rests on recognising a replica's refusal, both as a plain
    /// reply and inside the script + `WAIT` pipeline, from a real replica.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_replica_refusing_a_write_script_is_recognised_as_readonly() {
        let primary = RedisServer::start();
        let replica =
            RedisServer::start_with(&["--replicaof", "127.0.0.1", &primary.port.to_string()]);
        let mut conn = redis::Client::open(replica.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let mut inv = scripts::ACQUIRE.prepare_invoke();
        inv.key("l").key("m").key("s");
        inv.arg("ch")
            .arg("k")
            .arg("0".repeat(32))
            .arg("1000")
            .arg("x");
        let err = inv.invoke_async::<Value>(&mut conn).await.unwrap_err();
        assert!(is_readonly(&err), "{err:?}");
        assert!(!is_lost(&err));
        let mut pipe = redis::pipe();
        pipe.invoke_script(&inv).cmd("WAIT").arg(1).arg(10);
        let values = conn.req_packed_commands(&pipe, 0, 2).await;
        assert!(pipeline_readonly(&values), "{values:?}");
        // A read-only script runs fine there: not every error is a demotion.
        let ok: RedisResult<Value> = scripts::LOAD
            .key("l")
            .key("m")
            .key("s")
            .invoke_async(&mut conn)
            .await;
        assert!(ok.is_ok(), "{ok:?}");
    }
}

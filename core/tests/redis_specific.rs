//! Redis-only behaviour: replication with WAIT, a server restart, the Cluster key layout,
//! object expiry of state keys, and pub/sub notices being only hints.

mod support;

use fencelock::{Client, ErrorKind};
use redis::AsyncCommands;
use std::time::{Duration, Instant};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resources_keys_share_one_cluster_hash_slot() {
    let srv = RedisServer::start();
    let c = Client::redis(&srv.url())
        .namespace("slots")
        .connect()
        .await
        .unwrap();
    let key = "orders/{eu}:42";
    let g = c.acquire(key, None).await.unwrap();
    g.put(b("s")).await.unwrap();
    let mut r = raw_redis(&srv).await;
    let keys: Vec<Vec<u8>> = r.keys("fencelock:slots:*").await.unwrap();
    assert_eq!(keys.len(), 3, "lock, meta and state keys: {keys:?}");
    let slots: Vec<u16> = keys.iter().map(|k| cluster_slot(k)).collect();
    assert!(slots.windows(2).all(|w| w[0] == w[1]), "{slots:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_state_and_token_order() {
    let mut srv = RedisServer::start();
    let c = Client::redis(&srv.url())
        .namespace("restart")
        .connect()
        .await
        .unwrap();
    let g = c.acquire("k", None).await.unwrap();
    let before = g.token();
    g.release(Some(b("kept"))).await.unwrap();
    srv.restart();
    let until = Instant::now() + Duration::from_secs(15);
    let g = loop {
        match c.acquire("k", Some(ms(2000))).await {
            Ok(g) => break g,
            Err(e) if e.kind() == ErrorKind::Backend && Instant::now() < until => {
                tokio::time::sleep(ms(100)).await
            }
            Err(e) => panic!("after restart: {e}"),
        }
    };
    assert!(g.token() > before);
    assert_eq!(g.initial_state(), Some(&b("kept")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_waits_for_a_real_replica_and_reports_a_missing_one() {
    let primary = RedisServer::start();
    let replica = RedisServer::start_with(&["--replicaof", "127.0.0.1", &primary.port.to_string()]);
    let mut r = raw_redis(&replica).await;
    // Wait for the replica to finish its initial sync.
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut r)
            .await
            .unwrap();
        if info.contains("master_link_status:up") {
            break;
        }
        assert!(Instant::now() < until, "replica did not sync: {info}");
        tokio::time::sleep(ms(50)).await;
    }
    let c = Client::redis(&primary.url())
        .namespace("repl")
        .replication(2) // the primary and its one replica
        .connect()
        .await
        .unwrap();
    let g = c.acquire("k", None).await.unwrap();
    assert!(g.release(Some(b("replicated"))).await.unwrap());
    let v: Option<Vec<u8>> = r.get("fencelock:repl:{k}:state").await.unwrap();
    assert_eq!(
        v.as_deref(),
        Some(&b"replicated"[..]),
        "the replica has it when release returns"
    );

    let demanding = Client::redis(&primary.url())
        .namespace("repl")
        .replication(3) // two replicas; there is one
        .replication_timeout(ms(200))
        .connect()
        .await
        .unwrap();
    let e = demanding.acquire("k2", None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(e.to_string().contains("only 1 of 2 replicas"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_keys_expire_after_object_expiry_but_tokens_do_not_restart() {
    let srv = RedisServer::start();
    let c = Client::redis(&srv.url())
        .namespace("exp")
        .lease(ms(500))
        .object_expiry(ms(800))
        .connect()
        .await
        .unwrap();
    let g = c.acquire("k", None).await.unwrap();
    g.release(Some(b("short-lived"))).await.unwrap();
    tokio::time::sleep(ms(1200)).await;
    assert_eq!(c.get("k").await.unwrap().state, None);
    let g2 = c.acquire("k", None).await.unwrap();
    assert!(g2.token() > g.token());
    // Without object expiry, state persists.
    let keep = Client::redis(&srv.url())
        .namespace("keep")
        .connect()
        .await
        .unwrap();
    keep.acquire("k", None)
        .await
        .unwrap()
        .release(Some(b("v")))
        .await
        .unwrap();
    let mut r = raw_redis(&srv).await;
    let ttl: i64 = r.pttl("fencelock:keep:{k}:state").await.unwrap();
    assert_eq!(ttl, -1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_whose_notice_is_lost_wakes_when_the_lock_ttl_runs_out() {
    let srv = RedisServer::start();
    let holder = Client::redis(&srv.url())
        .namespace("ttl")
        .lease(ms(400))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let waiter = Client::redis(&srv.url())
        .namespace("ttl")
        .connect()
        .await
        .unwrap();
    let g = holder.acquire("k", None).await.unwrap();
    // The holder crashes: no release, no notice. The server expires the lock itself.
    std::mem::forget(g);
    let t = Instant::now();
    let g2 = waiter
        .acquire("k", Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "woken by the TTL, took {:?}",
        t.elapsed()
    );
    g2.release(None).await.unwrap();
}

/// Redis Cluster's slot of a key: CRC16-XMODEM of its hash tag (or whole key) mod 16384.
fn cluster_slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&c| c == b'{').and_then(|open| {
        let close = key[open + 1..].iter().position(|&c| c == b'}')?;
        (close > 0).then(|| &key[open + 1..open + 1 + close])
    });
    let mut crc: u16 = 0;
    for &byte in tagged.unwrap_or(key) {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

#[test]
fn cluster_slot_matches_redis_reference_values() {
    // From the Redis Cluster specification: "123456789" hashes to 0x31C3.
    assert_eq!(cluster_slot(b"123456789"), 0x31C3);
    assert_eq!(
        cluster_slot(b"{user1000}.following"),
        cluster_slot(b"user1000")
    );
}

/// A repeated acquire script (a retry after a lost reply, or redis-rs repeating a command after
/// a dropped connection) answers as the first run did instead of reporting the lock as held by
/// someone else, which would leave an orphan lock until its lease ran out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_acquire_of_one_lock_id_gets_the_same_answer() {
    use fencelock::backend::redis::{RedisBackend, RedisOptions};
    use fencelock::backend::{Backend, Cas, HoldRequest, LockId, Snapshot};
    use fencelock::Key;
    let srv = RedisServer::start();
    let backend = RedisBackend::connect(&RedisOptions {
        url: srv.url(),
        namespace: "repeat".into(),
        object_expiry: None,
        replication: None,
        replication_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        tls_root_cert: None,
        tls_client_cert: None,
        require_tls: false,
    })
    .await
    .unwrap();
    let key = Key::new("job").unwrap();
    let seen = Snapshot::empty(0);
    let hold = |id: u8, lease_ms: u64| HoldRequest {
        lock_id: LockId([id; 16]),
        lease: Duration::from_millis(lease_ms),
        label: "test".into(),
    };
    let Cas::Done(first) = backend.acquire(&key, &seen, &hold(1, 300)).await.unwrap() else {
        panic!("a free key was not acquired");
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let Cas::Done(again) = backend.acquire(&key, &seen, &hold(1, 300)).await.unwrap() else {
        panic!("the repeat of an acquisition was refused as if someone else held the lock");
    };
    assert_eq!(again.token, first.token, "a repeat is the same acquisition");
    assert_eq!(again.revision, first.revision);
    assert!(
        matches!(
            backend.acquire(&key, &seen, &hold(2, 300)).await.unwrap(),
            Cas::Conflict
        ),
        "another lock id must still be refused"
    );
    // The repeat restarted the lease: 200 ms after it (400 ms after the first run, past the
    // first run's 300 ms lease) the lock is still held.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let snap = backend.load(&key).await.unwrap();
    assert!(
        snap.holder.is_some(),
        "the repeat did not restart the lease"
    );
}

//! The protocol traps (docs/PROTOCOL-nats.md, PROTOCOL-redis.md): tombstones, server restarts, stale holders, lost watches.

mod support;

use async_nats::jetstream;
use fencelock::backend::nats::encode_key;
use fencelock::{ErrorKind, LockOptions};
use std::time::{Duration, Instant};
use support::*;

conformance!(
    a_paused_holder_has_its_write_refused_while_the_new_holders_succeeds,
    repeated_try_acquire_takes_over_a_silent_holder_after_its_lease,
);

async fn raw_kv(srv: &NatsServer, bucket: &str) -> jetstream::kv::Store {
    let nc = async_nats::connect(srv.url()).await.unwrap();
    jetstream::new(nc).get_key_value(bucket).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_whose_last_entry_is_a_delete_or_purge_marker_are_acquirable() {
    let srv = NatsServer::start();
    let c = nats_client(&srv, "tomb").await;
    let kv = raw_kv(&srv, "tomb").await;
    for (key, purge) in [("deleted key", false), ("purged.key", true)] {
        let g = c.acquire(key, None).await.unwrap();
        g.release(Some(b("v"))).await.unwrap();
        if purge {
            kv.purge(encode_key(key)).await.unwrap();
        } else {
            kv.delete(encode_key(key)).await.unwrap();
        }
        // A fresh client (no cached revision) and the old one (stale cache) both succeed.
        let fresh = nats_client(&srv, "tomb").await;
        let g2 = fresh.acquire(key, Some(ms(2000))).await.unwrap();
        assert_eq!(g2.initial_state(), None);
        assert!(g2.token() > g.token());
        g2.release(None).await.unwrap();
        let g3 = c.acquire(key, Some(ms(2000))).await.unwrap();
        assert!(g3.token() > g2.token());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_whose_entry_expired_by_object_expiry_are_acquirable() {
    let srv = NatsServer::start();
    let c = nats_builder(&srv, "expiring")
        .lease(ms(500))
        .object_expiry(Duration::from_secs(1))
        .connect()
        .await
        .unwrap();
    let g = c.acquire("k", None).await.unwrap();
    g.release(Some(b("short-lived"))).await.unwrap();
    tokio::time::sleep(ms(2500)).await;
    assert_eq!(c.get("k").await.unwrap().state, None, "the state expired");
    let g2 = c.acquire("k", Some(ms(2000))).await.unwrap();
    assert_eq!(g2.initial_state(), None);
    assert!(g2.token() > g.token());
}

async fn retry_acquire(c: &fencelock::Client, key: &str) -> fencelock::LockGuard {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        match c.acquire(key, Some(ms(2000))).await {
            Ok(g) => return g,
            Err(e) if Instant::now() < until && e.kind() == ErrorKind::Backend => {
                tokio::time::sleep(ms(100)).await
            }
            Err(e) => panic!("acquire after restart: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_keeps_state_and_token_order() {
    let mut srv = NatsServer::start();
    let c = nats_client(&srv, "durable").await;
    let mut last = 0;
    for i in 0..3 {
        let g = c.acquire("k", None).await.unwrap();
        assert!(g.token() > last);
        last = g.token();
        g.release(Some(b(&format!("v{i}")))).await.unwrap();
    }
    srv.restart();
    let g = retry_acquire(&c, "k").await;
    assert!(
        g.token() > last,
        "token {} after restart, {last} before",
        g.token()
    );
    assert_eq!(g.initial_state(), Some(&b("v2")));
    g.release(None).await.unwrap();
    // A client connecting after the restart sees the same.
    let fresh = nats_client(&srv, "durable").await;
    let g = fresh.acquire("k", Some(ms(2000))).await.unwrap();
    assert!(g.token() > last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_is_woken_after_a_server_restart_by_a_re_established_watch() {
    let mut srv = NatsServer::start();
    let a = nats_client(&srv, "rewatch").await; // 30 s lease: only the watch can wake the waiter soon
    let bc = nats_client(&srv, "rewatch").await;
    let g = a.acquire("k", None).await.unwrap();
    let waiter = tokio::spawn(async move { bc.acquire("k", Some(Duration::from_secs(20))).await });
    tokio::time::sleep(ms(300)).await;
    srv.restart();
    // Release once the holder's connection is back.
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        match g.release(Some(b("after restart"))).await {
            Ok(released) => {
                assert!(released);
                break;
            }
            Err(e) if e.kind() == ErrorKind::Backend && Instant::now() < until => {
                tokio::time::sleep(ms(100)).await
            }
            Err(e) => panic!("release after restart: {e}"),
        }
    }
    let released_at = Instant::now();
    let g2 = waiter.await.unwrap().expect("waiter acquires");
    assert!(
        released_at.elapsed() < Duration::from_secs(10),
        "woken by the watch, not the lease"
    );
    assert_eq!(g2.initial_state(), Some(&b("after restart")));
}

async fn a_paused_holder_has_its_write_refused_while_the_new_holders_succeeds(fx: Fixture) {
    let slow = builder(&fx, "paused")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let fast = client(&fx, "paused").await;
    let g_old = slow.acquire("k", None).await.unwrap();
    // The old holder "pauses"; the new one takes over after observing the lease run out.
    let g_new = fast
        .acquire_with("k", &LockOptions::timeout(ms(3000)))
        .await
        .unwrap();
    assert!(g_new.token() > g_old.token());
    let e = g_old.put(b("stale write")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Expired);
    assert_eq!(e.key(), Some("k"));
    g_new.put(b("fresh write")).await.unwrap();
    assert!(!g_old.release(Some(b("stale release"))).await.unwrap());
    assert!(g_new.release(None).await.unwrap());
    assert_eq!(fast.get("k").await.unwrap().state, Some(b("fresh write")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_values_in_the_bucket_are_reported_not_overwritten() {
    let srv = NatsServer::start();
    let c = nats_client(&srv, "foreign").await;
    let kv = raw_kv(&srv, "foreign").await;
    kv.put(encode_key("k"), "not fencelock".into())
        .await
        .unwrap();
    let e = c.acquire("k", Some(ms(500))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(e.to_string().contains("not written by fencelock"), "{e}");
    let v = kv.get(encode_key("k")).await.unwrap().unwrap();
    assert_eq!(&v[..], b"not fencelock");
}

async fn repeated_try_acquire_takes_over_a_silent_holder_after_its_lease(fx: Fixture) {
    let dead = builder(&fx, "silent")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let g = dead.acquire("k", None).await.unwrap();
    std::mem::forget(g); // the holder "crashes": no release, no renewal
    let c = client(&fx, "silent").await;
    // Each backend learns of the expiry its own way (store TTL or observed lease), but a
    // try_acquire loop must get the lock within a couple of leases, never Held forever.
    let started = std::time::Instant::now();
    loop {
        if let Some(g2) = c.try_acquire("k").await.unwrap() {
            g2.release(None).await.unwrap();
            break;
        }
        assert!(
            started.elapsed() < ms(3000),
            "still held after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(ms(50)).await;
    }
}

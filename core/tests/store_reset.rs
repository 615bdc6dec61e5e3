//! A NATS store whose revisions go back (issue 13, bug 1): a server restarted with its storage
//! wiped, a bucket deleted and created again. What a client observed before (revision R held
//! since T, a change feed that accepts only revisions above the last) must not count after:
//! the same revision now names another acquisition. Before the fix, a client that had watched
//! revision 1 held since before the reset took a lock that a new holder had just acquired at
//! revision 1 (two holders), and a leader observer ignored the new store's entries.

mod support;

use fencelock::GuardStatus;
use futures::StreamExt;
use std::time::Duration;
use support::*;

const LEASE: Duration = Duration::from_millis(1000);

/// The reproduction of the issue: one server, lease 1 s, storage wiped under running clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_taken_after_a_wipe_is_not_taken_over_on_pre_wipe_observations() {
    let mut srv = NatsServer::start();
    let connect = |label: &'static str| {
        nats_builder(&srv, "reset")
            .lease(LEASE)
            .label(label)
            .connect()
    };
    let b = connect("b").await.unwrap();
    let w = connect("w").await.unwrap();
    let gb = b.acquire("k", None).await.unwrap();
    assert!(w.try_acquire("k").await.unwrap().is_none());
    srv.wipe_and_restart();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let c = nats_builder(&srv, "reset")
        .lease(LEASE)
        .label("c")
        .connect()
        .await
        .unwrap();
    let gc = c.acquire("k", Some(LEASE * 3)).await.unwrap();
    // B and W reconnected before C came and created the stream again above every token they
    // had seen, so tokens did not restart at 1.
    assert!(
        gc.token() > gb.token(),
        "token {} after {}",
        gc.token(),
        gb.token()
    );
    // W first watched "k" at B's revision more than a lease ago; C's entry is new to it.
    let taken = w.try_acquire("k").await.unwrap();
    assert!(
        taken.is_none(),
        "two holders: w took token {:?} while c holds token {}",
        taken.as_ref().map(|g| g.token()),
        gc.token()
    );
    // Neither B (its lease lapsed while the server was down) nor W disturbs C.
    tokio::time::sleep(LEASE * 2).await;
    assert_eq!(gc.status(), GuardStatus::Held, "c must keep its lock");
    assert!(gb.is_lost());
    assert!(w.try_acquire("k").await.unwrap().is_none());
    assert!(gc.release(None).await.unwrap());
    for cl in [b, w, c] {
        cl.close().await;
    }
}

/// Deletes the namespace's bucket, as an operator would with `nats kv del <ns>`.
async fn delete_bucket(srv: &NatsServer, ns: &str) {
    let nc = async_nats::connect(srv.url()).await.unwrap();
    async_nats::jetstream::new(nc)
        .delete_key_value(ns)
        .await
        .unwrap();
}

/// A bucket deleted and created again while every client stays connected (no reconnect tells
/// them): a leader observer reports the new store's leader, whose revisions are below the old.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_leader_follows_a_bucket_deleted_and_created_again() {
    let srv = NatsServer::start();
    let old = nats_builder(&srv, "again")
        .lease(LEASE)
        .connect()
        .await
        .unwrap();
    let watcher = nats_client(&srv, "again").await;
    let lead = old.try_campaign("e", "old").await.unwrap().unwrap();
    // Push the election key's revision well above what the new store reaches in the test.
    for i in 0..30 {
        lead.guard().put(Some(b(&i.to_string()))).await.unwrap();
    }
    let mut leaders = watcher.observe_leader("e").await.unwrap();
    let first = leaders.next().await.unwrap().unwrap();
    assert_eq!(first.label, "old");
    delete_bucket(&srv, "again").await;
    let new = nats_builder(&srv, "again")
        .lease(LEASE)
        .connect()
        .await
        .unwrap();
    let lead2 = new.campaign("e", "new", Some(LEASE * 3)).await.unwrap();
    let seen = tokio::time::timeout(LEASE * 3, async {
        loop {
            match leaders.next().await {
                Some(Some(h)) if h.label == "new" => return h,
                Some(_) => continue,
                None => panic!("the observer ended"),
            }
        }
    })
    .await
    .expect("the observer must report the new store's leader");
    assert_eq!(seen.token, lead2.term());
    // The old leader cannot write into the new store on its remembered revision.
    assert!(lead.guard().put(Some(b("stale"))).await.is_err());
    assert!(lead2.is_leader());
    for cl in [old, watcher, new] {
        cl.close().await;
    }
}

/// `wait` on a key held before the bucket was deleted and created again returns once the key
/// is free in the new store, without waiting out the 20 s lease it observed in the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_sees_a_release_in_a_bucket_created_again() {
    let srv = NatsServer::start();
    let old = nats_builder(&srv, "waitagain")
        .lease(Duration::from_secs(20))
        .connect()
        .await
        .unwrap();
    let waiter = nats_client(&srv, "waitagain").await;
    let g = old.acquire("k", None).await.unwrap();
    for i in 0..30 {
        g.put(Some(b(&i.to_string()))).await.unwrap();
    }
    let w = waiter.clone();
    let waiting = tokio::spawn(async move { w.wait("k", Some(Duration::from_secs(15))).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    delete_bucket(&srv, "waitagain").await;
    let new = nats_client(&srv, "waitagain").await;
    let g2 = new
        .acquire("k", Some(Duration::from_secs(3)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(g2.release(Some(b("new"))).await.unwrap());
    let state = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("wait must see the release in the new store, not wait out the old lease")
        .unwrap()
        .unwrap();
    // Free in the new store: before the new holder took it (no state) or after its release.
    assert!(state.is_none() || state == Some(b("new")), "{state:?}");
    for cl in [old, waiter, new] {
        cl.close().await;
    }
}

/// A server restart loses a memory-storage bucket entirely. A client that stays up creates it
/// again above the tokens it handed out, so a later acquisition (by any client) gets a higher
/// token instead of restarting at 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bucket_lost_in_a_restart_comes_back_above_the_tokens_seen() {
    let mut srv = NatsServer::start();
    let c = nats_builder(&srv, "mem")
        .storage(fencelock::Storage::Memory)
        .lease(LEASE)
        .connect()
        .await
        .unwrap();
    let g = c.acquire("k", None).await.unwrap();
    for i in 0..5 {
        g.put(Some(b(&i.to_string()))).await.unwrap();
    }
    srv.restart();
    // Long enough for the client to reconnect and find the stream missing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = nats_client(&srv, "mem").await;
    let g2 = later.acquire("k", Some(LEASE * 3)).await.unwrap();
    assert!(
        g2.token() > g.token() + 5,
        "token {} after {} and five writes",
        g2.token(),
        g.token()
    );
    assert!(g.is_lost());
    c.close().await;
    later.close().await;
}

/// After a reset, an `acquire` of a key held by a new holder waits; it used to spin: the change
/// feed still held the old store's higher revision of the key (free), so every round wrote on
/// it, met a conflict, read the new holder, and took the feed's stale value again, without a
/// pause. Every write attempt is a publish on the key's subject, which a plain subscriber sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acquire_does_not_spin_on_a_change_feed_from_before_a_reset() {
    let mut srv = NatsServer::start();
    let long = Duration::from_secs(30);
    let b_client = nats_builder(&srv, "spin")
        .lease(long)
        .connect()
        .await
        .unwrap();
    let w = nats_builder(&srv, "spin")
        .lease(long)
        .connect()
        .await
        .unwrap();
    let g = b_client.acquire("k", None).await.unwrap();
    let w2 = w.clone();
    let waited = tokio::spawn(async move { w2.wait("k", Some(Duration::from_secs(10))).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(g.release(None).await.unwrap());
    waited.await.unwrap().unwrap(); // W's change feed now holds the free entry
    srv.wipe_and_restart();
    let c = nats_builder(&srv, "spin")
        .lease(long)
        .connect()
        .await
        .unwrap();
    let gc = c.acquire("k", Some(Duration::from_secs(10))).await.unwrap();
    let nc = async_nats::connect(srv.url()).await.unwrap();
    let mut writes = nc.subscribe("$KV.spin.k").await.unwrap();
    nc.flush().await.unwrap();
    let e = w
        .acquire("k", Some(Duration::from_secs(2)))
        .await
        .expect_err("c holds the lock");
    assert_eq!(e.kind(), fencelock::ErrorKind::Timeout, "{e}");
    let mut count = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), writes.next()).await {
        count += 1;
    }
    assert!(
        count < 20,
        "{count} write attempts in 2 s while the key was held"
    );
    assert!(gc.release(None).await.unwrap());
    for cl in [b_client, w, c] {
        cl.close().await;
    }
}

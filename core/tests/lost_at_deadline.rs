//! A holder stops believing at its own local deadline at the latest (issue 13, bug 3): `lost`,
//! `is_leader` and `status` flip then, also while a renewal is in flight and its answer is
//! late (a paused server answers nothing; the NATS request timeout is 5 s). Before the fix they
//! lagged until the renewal's answer or timeout, so an old leader still said it led after a
//! new one could be elected.

mod support;

use fencelock::GuardStatus;
use std::time::{Duration, Instant};
use support::*;

/// Lease 1 s renewed at 1/3: the renewal sent at ~333 ms meets a frozen store.
const LEASE: Duration = Duration::from_millis(1000);
/// Slack for scheduling on a loaded machine; far below the 5 s a late answer would take.
const SLACK: Duration = Duration::from_millis(400);

/// Runs `freeze` right after acquiring, then checks the guard flips at its deadline.
async fn flips_at_deadline(c: &fencelock::Client, freeze: impl FnOnce()) {
    let sent = Instant::now();
    let g = c.acquire("k", None).await.unwrap();
    let l = c
        .try_campaign("election", "old-leader")
        .await
        .unwrap()
        .unwrap();
    freeze();
    // The renewal goes out at a third of the lease and hangs.
    tokio::time::sleep(LEASE / 2).await;
    assert_eq!(g.status(), GuardStatus::Held, "still inside the lease");
    assert!(l.is_leader());
    tokio::time::timeout(LEASE + SLACK, g.lost())
        .await
        .expect("lost must fire at the local deadline, not when the renewal times out");
    assert!(sent.elapsed() >= LEASE, "lost before the deadline");
    assert!(g.is_lost());
    assert_eq!(g.status(), GuardStatus::Lost);
    let deadline = sent + LEASE + SLACK;
    tokio::time::sleep_until(deadline.into()).await;
    assert!(
        !l.is_leader(),
        "an old leader must not say it leads after its deadline"
    );
    tokio::time::timeout(SLACK, l.lost())
        .await
        .expect("the leadership's lost signal fires too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_guard_and_leader_flip_at_the_deadline_while_a_renewal_hangs() {
    let srv = NatsServer::start();
    let c = nats_builder(&srv, "lad")
        .lease(LEASE)
        .connect()
        .await
        .unwrap();
    flips_at_deadline(&c, || srv.pause()).await;
    srv.resume();
    c.close().await;
}

/// The same contract on Redis (its client gives up on a silent server sooner than NATS, so
/// this one held before the fix too; it keeps the contract for every backend).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_guard_and_leader_flip_at_the_deadline_while_a_renewal_hangs() {
    let srv = RedisServer::start();
    let c = fencelock::Client::redis(&srv.url())
        .namespace("lad")
        .lease(LEASE)
        .connect()
        .await
        .unwrap();
    flips_at_deadline(&c, || {
        // Every command (the renewal script too) waits 3 s, beyond the 1 s lease.
        fencelock_testkit::redis_cli(srv.port, &["CLIENT", "PAUSE", "3000", "ALL"]).unwrap();
    })
    .await;
    c.close().await;
}

/// A renewal whose answer came after the guard reported the loss does not leave the lock
/// blocked for a lease: the guard frees the entry it renewed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_a_renewal_answered_after_the_deadline_frees_the_lock() {
    let srv = NatsServer::start();
    let c = nats_builder(&srv, "lad")
        .lease(LEASE)
        .connect()
        .await
        .unwrap();
    let g = c.acquire("k", None).await.unwrap();
    srv.pause();
    tokio::time::timeout(LEASE + SLACK, g.lost()).await.unwrap();
    srv.resume();
    let other = nats_client(&srv, "lad").await;
    // The held renewal lands now; the guard frees it, so the lock is free well within a lease.
    let g2 = other
        .acquire("k", Some(LEASE / 2))
        .await
        .expect("the late renewal's entry must be freed");
    assert!(g2.token() > g.token());
    other.close().await;
    c.close().await;
}

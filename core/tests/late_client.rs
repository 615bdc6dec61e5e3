//! A lock whose lease ended is free for every client at once, also for one that never saw it
//! held (issue 12): the store's clock decides (Redis, memory, nats-server 2.11+). NATS clients
//! that ask for clock-free expiry, and servers before 2.11, keep the observation rule.

mod support;

use std::time::Instant;
use support::*;

conformance!(
    a_client_that_never_saw_the_lock_takes_it_once_the_lease_ended,
    a_late_acquirer_gets_the_lock_when_the_lease_ends_not_a_lease_later,
    a_release_after_the_lease_frees_the_lock_and_keeps_the_old_state,
);

/// `a.acquireLock(k, 1000, 1000)`, never released; later `b.tryAcquireLock(k)` gets it.
async fn a_client_that_never_saw_the_lock_takes_it_once_the_lease_ended(fx: Fixture) {
    let a = builder(&fx, "late")
        .lease(ms(500))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let g = a.acquire("k", None).await.unwrap();
    g.put(Some(b("kept"))).await.unwrap();
    tokio::time::sleep(ms(700)).await;
    let late = client(&fx, "late").await;
    if !store_ends_leases(&fx) {
        // Clock-free (nats-server before 2.11): it must watch the lock for a lease first.
        assert!(late.try_acquire("k").await.unwrap().is_none());
        return;
    }
    let g2 = late
        .try_acquire("k")
        .await
        .unwrap()
        .expect("the lease ended 200 ms ago: the lock is free");
    assert!(g2.token() > g.token(), "{} after {}", g2.token(), g.token());
    assert_eq!(g2.initial_state(), Some(&b("kept")));
    assert!(!g.release(Some(b("stale"))).await.unwrap());
    assert_eq!(late.get("k").await.unwrap().state, Some(b("kept")));
    g2.release(None).await.unwrap();
}

/// Lease 1 s, holder silent; another client calls `acquire(k, timeout)` at 0.9 s and gets the
/// lock when the lease ends (about 1.0 s), not when its own observation would end it (1.9 s).
async fn a_late_acquirer_gets_the_lock_when_the_lease_ends_not_a_lease_later(fx: Fixture) {
    let a = builder(&fx, "late")
        .lease(ms(1000))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let late = client(&fx, "late").await;
    let t0 = Instant::now();
    let g = a.acquire("k", None).await.unwrap();
    tokio::time::sleep(ms(900)).await;
    let got = late.acquire("k", Some(ms(700))).await;
    if !store_ends_leases(&fx) {
        // Clock-free (nats-server before 2.11): its own observation ends the lease at 1.9 s.
        assert_eq!(got.unwrap_err().kind(), fencelock::ErrorKind::Timeout);
        return;
    }
    let g2 = got.expect("the lease ends 100 ms into this acquire");
    let at = t0.elapsed();
    assert!(at >= ms(1000), "taken over {at:?} into a 1 s lease");
    assert!(at < ms(1500), "taken over only after {at:?}");
    assert!(g2.token() > g.token());
    assert!(!g.release(None).await.unwrap());
    g2.release(None).await.unwrap();
}

/// The holder sleeps past its lease; its release answers false and writes nothing of its own,
/// yet frees the lock, so another client's `wait(k, 100 ms)` returns the old state at once.
async fn a_release_after_the_lease_frees_the_lock_and_keeps_the_old_state(fx: Fixture) {
    let a = builder(&fx, "late")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    a.acquire("k", None)
        .await
        .unwrap()
        .release(Some(b("old")))
        .await
        .unwrap();
    let g = a.acquire("k", None).await.unwrap();
    tokio::time::sleep(ms(450)).await;
    assert!(!g.release(Some(b("new"))).await.unwrap());
    let other = client(&fx, "late").await;
    let t = Instant::now();
    let state = other.wait("k", Some(ms(100))).await.unwrap();
    assert_eq!(state, Some(b("old")));
    assert!(t.elapsed() < ms(100));
    let info = other.get("k").await.unwrap();
    assert_eq!(info.holder, None);
    let g2 = other.try_acquire("k").await.unwrap().expect("free");
    assert!(g2.token() > g.token());
    assert_eq!(g2.initial_state(), Some(&b("old")));
}

/// Whether the store's clock ends leases: always but on nats-server before 2.11.
fn store_ends_leases(fx: &Fixture) -> bool {
    match fx {
        Fixture::Nats(srv) => server_clock_expected(srv),
        _ => true,
    }
}

fn clock_free(srv: &NatsServer, ns: &str) -> fencelock::ClientBuilder {
    nats_builder(srv, ns).clock_free(true)
}

fn server_clock_expected(srv: &NatsServer) -> bool {
    let mut v = srv
        .version
        .trim_start_matches('v')
        .split('.')
        .map(|p| p.parse::<u64>().unwrap_or(0));
    (v.next().unwrap_or(0), v.next().unwrap_or(0)) >= (2, 11)
}

/// On nats-server 2.11+ the server's clock decides by default; before 2.11 (run the suite with
/// `FENCELOCK_NATS_SERVER` naming an older binary) a client that never saw the lock must observe
/// it for a lease first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_the_server_version_picks_the_expiry_rule() {
    let srv = NatsServer::start();
    let a = nats_builder(&srv, "late")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let _g = a.acquire("k", None).await.unwrap();
    tokio::time::sleep(ms(450)).await;
    let late = nats_client(&srv, "late").await;
    let got = late.try_acquire("k").await.unwrap();
    assert_eq!(
        got.is_some(),
        server_clock_expected(&srv),
        "nats-server {}",
        srv.version
    );
}

/// `clock_free(true)` keeps the observation rule on a new server: a client that never saw the
/// lock reports it held, and takes it once it has itself seen it unchanged for a lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_clock_free_clients_take_over_only_after_observing_a_lease() {
    let srv = NatsServer::start();
    let a = clock_free(&srv, "late")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let g = a.acquire("k", None).await.unwrap();
    tokio::time::sleep(ms(450)).await;
    let late = clock_free(&srv, "late").connect().await.unwrap();
    assert!(late.try_acquire("k").await.unwrap().is_none());
    let t = Instant::now();
    let g2 = late.acquire("k", Some(ms(2000))).await.unwrap();
    assert!(t.elapsed() >= ms(250), "took over after {:?}", t.elapsed());
    assert!(g2.token() > g.token());
}

/// A clock-free client is not left waiting by a holder that releases late: the release frees
/// the lock (compare-and-set on the holder's last revision), keeping the stored state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_a_late_release_frees_the_lock_for_clock_free_clients() {
    let srv = NatsServer::start();
    let a = clock_free(&srv, "late")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let g = a.acquire("k", None).await.unwrap();
    g.put(Some(b("old"))).await.unwrap();
    tokio::time::sleep(ms(450)).await;
    assert!(!g.release(Some(b("new"))).await.unwrap());
    // A clock-free client that never saw the lock held would otherwise wait a lease of its own.
    let other = clock_free(&srv, "late").connect().await.unwrap();
    let g2 = other
        .try_acquire("k")
        .await
        .unwrap()
        .expect("freed by the late release");
    assert_eq!(g2.initial_state(), Some(&b("old")));
    assert!(g2.token() > g.token());
}

/// A late release loses to a client that took the lock over first: it writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_a_late_release_after_a_takeover_writes_nothing() {
    let srv = NatsServer::start();
    let a = nats_builder(&srv, "late")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let g = a.acquire("k", None).await.unwrap();
    tokio::time::sleep(ms(450)).await;
    let other = nats_client(&srv, "late").await;
    // At once with the server's clock; after a lease of its own on servers before 2.11.
    let g2 = other.acquire("k", Some(ms(2000))).await.unwrap();
    assert!(!g.release(Some(b("stale"))).await.unwrap());
    let info = other.get("k").await.unwrap();
    assert_eq!(info.holder.map(|h| h.token), Some(g2.token()));
    assert!(g2.release(Some(b("mine"))).await.unwrap());
    assert_eq!(other.get("k").await.unwrap().state, Some(b("mine")));
}

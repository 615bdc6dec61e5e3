//! The scenarios of Go's nlock test suite, against a real nats-server.

mod support;

use fencelock::{ErrorKind, GuardStatus, LockOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::*;

conformance!(
    many_concurrent_acquirers_run_exactly_once_each_and_never_overlap,
    renewal_keeps_a_lock_well_past_its_lease,
    without_renewal_the_lock_expires_and_lost_fires,
    releasing_twice_reports_not_held,
    a_key_broken_externally_while_held_fires_lost_and_refuses_writes,
    do_if_free_runs_only_when_free,
    local_tasks_queue_in_order_and_take_turns_without_timeouts,
    dropping_a_guard_releases_it,
    max_hold_caps_renewal,
    a_waiter_returning_while_the_feed_lingers_is_still_woken,
    a_cancelled_acquire_leaves_no_lock_and_no_queue_behind,
    an_acquire_dropped_while_its_write_is_in_flight_is_undone,
    a_try_right_after_another_clients_release_succeeds,
);

async fn many_concurrent_acquirers_run_exactly_once_each_and_never_overlap(fx: Fixture) {
    let clients = [
        client(&fx, "nl").await,
        client(&fx, "nl").await,
        client(&fx, "nl").await,
    ];
    let inside = Arc::new(AtomicUsize::new(0));
    let sections = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..30 {
        let c = clients[i % 3].clone();
        let (inside, sections) = (inside.clone(), sections.clone());
        tasks.push(tokio::spawn(async move {
            let g = c.acquire("shared", Some(ms(30_000))).await.unwrap();
            assert_eq!(
                inside.fetch_add(1, Ordering::SeqCst),
                0,
                "two holders at once"
            );
            tokio::time::sleep(ms(2)).await;
            sections.fetch_add(1, Ordering::SeqCst);
            inside.fetch_sub(1, Ordering::SeqCst);
            (g.token(), g.release(None).await.unwrap())
        }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        let (token, released) = t.await.unwrap();
        assert!(released);
        tokens.push(token);
    }
    assert_eq!(sections.load(Ordering::SeqCst), 30);
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 30, "every acquisition has its own token");
}

async fn renewal_keeps_a_lock_well_past_its_lease(fx: Fixture) {
    // Three leases' worth of waiting. The lease is 1 s rather than nlock's 300 ms: on a loaded
    // CI machine a renewal timer can be late by a few hundred milliseconds, and a lease that
    // lapses then is the library working as designed, not this scenario.
    let a = builder(&fx, "nl").lease(ms(1000)).connect().await.unwrap();
    let bc = client(&fx, "nl").await;
    let g = a.acquire("job", None).await.unwrap();
    let e = bc.acquire("job", Some(ms(3000))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(g.status(), GuardStatus::Held);
    g.put(b("still mine")).await.unwrap();
    assert!(g.release(None).await.unwrap());
}

async fn without_renewal_the_lock_expires_and_lost_fires(fx: Fixture) {
    let a = builder(&fx, "nl")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let g = a.acquire("job", None).await.unwrap();
    tokio::time::timeout(ms(2000), g.lost())
        .await
        .expect("lost fires");
    let e = g.put(b("late")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Expired);
    assert_eq!(e.token(), Some(g.token()));
}

async fn releasing_twice_reports_not_held(fx: Fixture) {
    let a = client(&fx, "nl").await;
    let g = a.acquire("job", None).await.unwrap();
    assert!(g.release(None).await.unwrap());
    let e = g.release(None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotHeld);
    assert!(e.to_string().contains("already released"), "{e}");
    let e = g.put(b("x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotHeld);
}

async fn a_key_broken_externally_while_held_fires_lost_and_refuses_writes(fx: Fixture) {
    let a = builder(&fx, "nl").lease(ms(600)).connect().await.unwrap();
    let admin = client(&fx, "nl").await;
    let g = a.acquire("job", None).await.unwrap();
    g.put(b("v1")).await.unwrap();
    admin.delete("job").await.unwrap();
    tokio::time::timeout(ms(3000), g.lost())
        .await
        .expect("lost fires after the break");
    assert_eq!(g.put(b("v2")).await.unwrap_err().kind(), ErrorKind::Expired);
    assert!(!g.release(Some(b("v3"))).await.unwrap());
    assert_eq!(admin.get("job").await.unwrap().state, None);
    // The broken key is immediately acquirable by someone else, with a larger token.
    let g2 = admin
        .try_acquire("job")
        .await
        .unwrap()
        .expect("free after delete");
    assert!(g2.token() > g.token());
}

async fn do_if_free_runs_only_when_free(fx: Fixture) {
    let a = client(&fx, "nl").await;
    let bc = client(&fx, "nl").await;
    let ran = a
        .do_if_free("job", |s| async move { s.is_none() })
        .await
        .unwrap();
    assert_eq!(ran, Some(true));
    let _g = bc.acquire("job", None).await.unwrap();
    let ran = a.do_if_free("job", |_| async { 1 }).await.unwrap();
    assert_eq!(ran, None);
}

async fn local_tasks_queue_in_order_and_take_turns_without_timeouts(fx: Fixture) {
    let a = client(&fx, "nl").await;
    let g = a.acquire("job", None).await.unwrap();
    let waiters: Vec<_> = (0..5)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move {
                let g = a.acquire("job", Some(ms(5000))).await.unwrap();
                g.release(None).await.unwrap()
            })
        })
        .collect();
    tokio::time::sleep(ms(50)).await;
    assert!(a.try_acquire("job").await.unwrap().is_none());
    g.release(None).await.unwrap();
    for w in waiters {
        assert!(w.await.unwrap());
    }
}

async fn a_waiter_returning_while_the_feed_lingers_is_still_woken(fx: Fixture) {
    // Regression: an idle feed stopped reading its watch during its linger period, so a waiter
    // that came back within it slept until the linger ended (5 s).
    let a = client(&fx, "nl").await;
    let bc = client(&fx, "nl").await;
    for round in 0..3 {
        let g = a.acquire("job", None).await.unwrap();
        let bc2 = bc.clone();
        let w = tokio::spawn(async move { bc2.acquire("job", Some(ms(2500))).await });
        tokio::time::sleep(ms(100)).await;
        g.release(None).await.unwrap();
        let g2 = w
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        g2.release(None).await.unwrap();
    }
}

async fn dropping_a_guard_releases_it(fx: Fixture) {
    let a = client(&fx, "nl").await;
    let bc = client(&fx, "nl").await;
    {
        let _g = a.acquire("job", None).await.unwrap();
    }
    let g = bc.acquire("job", Some(ms(2000))).await.unwrap();
    assert!(g.release(None).await.unwrap());
}

async fn max_hold_caps_renewal(fx: Fixture) {
    let a = builder(&fx, "nl")
        .lease(ms(200))
        .max_hold(ms(400))
        .connect()
        .await
        .unwrap();
    let g = a.acquire("job", None).await.unwrap();
    // Renewed past its 200 ms lease until the 400 ms cap, then left to lapse.
    tokio::time::sleep(ms(300)).await;
    assert_eq!(g.status(), GuardStatus::Held);
    tokio::time::timeout(ms(3000), g.lost())
        .await
        .expect("lapses after the cap");
    let g2 = a
        .acquire_with("job", &LockOptions::timeout(ms(2000)))
        .await
        .unwrap();
    assert!(g2.token() > g.token());
}

async fn a_cancelled_acquire_leaves_no_lock_and_no_queue_behind(fx: Fixture) {
    let a = client(&fx, "nl").await;
    let bc = client(&fx, "nl").await;
    let g = a.acquire("job", None).await.unwrap();
    // The caller gives up (drops the future) while waiting.
    let gave_up = tokio::time::timeout(ms(200), bc.acquire("job", None)).await;
    assert!(gave_up.is_err());
    g.release(Some(b("free"))).await.unwrap();
    tokio::time::sleep(ms(100)).await;
    assert_eq!(
        bc.get("job").await.unwrap().holder,
        None,
        "no phantom holder"
    );
    let g2 = bc
        .try_acquire("job")
        .await
        .unwrap()
        .expect("the local queue is clear");
    assert_eq!(g2.initial_state(), Some(&b("free")));
}

async fn an_acquire_dropped_while_its_write_is_in_flight_is_undone(fx: Fixture) {
    let c = client(&fx, "nl").await;
    let g = c.acquire("job", None).await.unwrap();
    let first = g.token();
    g.release(Some(b("kept"))).await.unwrap();
    // The revision is cached, so the first poll sends the acquiring write at once. (An
    // in-process store may already have answered: then the guard is dropped, which releases.)
    let mut attempt = Box::pin(c.acquire("job", None));
    if let std::task::Poll::Ready(done) = futures::poll!(&mut attempt) {
        drop(done);
    }
    drop(attempt);
    tokio::time::sleep(ms(300)).await;
    let info = c.get("job").await.unwrap();
    assert_eq!(info.holder, None, "the orphaned acquisition was undone");
    assert_eq!(info.state, Some(b("kept")));
    let g2 = c.try_acquire("job").await.unwrap().expect("free at once");
    assert!(g2.token() > first);
}

/// `try_acquire` answers "held" only when the store says so: a client whose change feed has not
/// yet delivered another client's release (which just returned) must still get the lock.
async fn a_try_right_after_another_clients_release_succeeds(fx: Fixture) {
    let a = client(&fx, "nl").await;
    let b = client(&fx, "nl").await;
    for round in 0..30 {
        let g = a.acquire("handover", None).await.unwrap();
        // b waits a moment and gives up: it now watches the key (its feed lingers and says
        // "held").
        let waited = b
            .acquire("handover", Some(std::time::Duration::from_millis(20)))
            .await
            .unwrap_err();
        assert_eq!(waited.kind(), fencelock::ErrorKind::Timeout);
        assert!(g.release(None).await.unwrap());
        let taken = b
            .try_acquire("handover")
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("round {round}: a free key was refused as held"));
        assert!(taken.release(None).await.unwrap());
    }
}

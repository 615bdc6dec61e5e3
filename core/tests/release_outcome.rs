//! A release that was applied is never reported as not written (issue 13, bug 4). A release
//! whose answer is lost (here: the server is frozen until the client's 5 s request timeout,
//! then continues and applies it) fails with a `Backend` error; the caller's retry used to meet
//! a conflict and answer `false` ("state not written") although the state was written, which
//! invites applying the update twice. The retry now learns the truth from the store, or says
//! the outcome is unknown.

mod support;

use fencelock::ErrorKind;
use std::time::Duration;
use support::*;

/// Releases `g` with `state` while the server is frozen, so the answer is lost; the server then
/// continues and applies the write.
async fn release_with_lost_answer(srv: &NatsServer, g: &fencelock::LockGuard, state: &str) {
    srv.pause();
    let first = tokio::time::timeout(Duration::from_secs(20), g.release(Some(b(state))))
        .await
        .expect("the client gives up on its own");
    srv.resume();
    let e = first.expect_err("no answer from a frozen server");
    assert_eq!(e.kind(), ErrorKind::Backend, "{e}");
    // Let the server read the buffered write.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_release_whose_first_attempt_was_applied_reports_true() {
    let srv = NatsServer::start();
    let c = nats_builder(&srv, "rel")
        .lease(Duration::from_secs(30))
        .connect()
        .await
        .unwrap();
    let g = c.acquire("k", None).await.unwrap();
    release_with_lost_answer(&srv, &g, "v1").await;
    let info = c.get("k").await.unwrap();
    assert!(info.holder.is_none(), "the first attempt was applied");
    assert_eq!(info.state, Some(b("v1")));
    assert!(
        g.release(Some(b("v1"))).await.unwrap(),
        "the state was written: the retry must not say it was not"
    );
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_release_that_cannot_learn_the_outcome_says_unknown() {
    let srv = NatsServer::start();
    let c = nats_builder(&srv, "rel")
        .lease(Duration::from_secs(30))
        .connect()
        .await
        .unwrap();
    let other = nats_client(&srv, "rel").await;
    let g = c.acquire("k", None).await.unwrap();
    release_with_lost_answer(&srv, &g, "v1").await;
    // Someone acquires and writes after the applied release: it can no longer be recognised.
    let g2 = other
        .acquire("k", Some(Duration::from_secs(5)))
        .await
        .unwrap();
    g2.put(Some(b("v2"))).await.unwrap();
    let e = g
        .release(Some(b("v1")))
        .await
        .expect_err("neither true nor a false 'not written'");
    assert_eq!(e.kind(), ErrorKind::Backend, "{e}");
    assert!(e.message().contains("unknown"), "{e}");
    assert!(g2.release(None).await.unwrap());
    c.close().await;
    other.close().await;
}

/// Without an unanswered attempt, a release that finds another holder is a plain `false`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_after_a_takeover_is_false_without_an_unanswered_attempt() {
    let srv = NatsServer::start();
    let c = nats_builder(&srv, "rel")
        .lease(Duration::from_millis(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let other = nats_client(&srv, "rel").await;
    let g = c.acquire("k", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let g2 = other
        .acquire("k", Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(!g.release(Some(b("stale"))).await.unwrap());
    assert_ne!(other.get("k").await.unwrap().state, Some(b("stale")));
    assert!(g2.release(None).await.unwrap());
    c.close().await;
    other.close().await;
}

/// `with_lock` whose releasing write gets no answer: it asks again, learns that the write was
/// applied, and returns the state — instead of an error that invites running the update twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_learns_that_its_unanswered_release_was_applied() {
    let srv = std::sync::Arc::new(NatsServer::start());
    let c = nats_builder(&srv, "rel")
        .lease(Duration::from_secs(30))
        .connect()
        .await
        .unwrap();
    let frozen = srv.clone();
    let out = c
        .with_lock("k", None, move |_state| async move {
            // Freeze the server as the release goes out; let it go on after the client's 5 s
            // request timeout, while the second attempt waits.
            frozen.pause();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(6));
                frozen.resume();
            });
            Ok::<_, std::io::Error>(Some(b("once")))
        })
        .await
        .expect("the release was applied: with_lock must say so");
    assert_eq!(out, Some(b("once")));
    let info = c.get("k").await.unwrap();
    assert!(info.holder.is_none());
    assert_eq!(info.state, Some(b("once")));
    c.close().await;
}

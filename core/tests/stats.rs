//! Per-client statistics count what happened, on each backend.

mod support;

use fencelock::LockOptions;
use std::time::Duration;
use support::*;

async fn counts_acquisitions_misses_timeouts_holds_renewals_and_losses(fx: Fixture) {
    let c = client(&fx, "stats").await;
    let other = client(&fx, "stats").await;
    assert_eq!(c.stats(), fencelock::Stats::default());
    for _ in 0..2 {
        let g = c.acquire("a", Some(ms(2000))).await.unwrap();
        tokio::time::sleep(ms(20)).await;
        g.release(None).await.unwrap();
    }
    let blocker = other.acquire("b", Some(ms(2000))).await.unwrap();
    assert!(c.try_acquire("b").await.unwrap().is_none());
    let e = c.acquire("b", Some(ms(100))).await.unwrap_err();
    assert_eq!(e.kind(), fencelock::ErrorKind::Timeout);
    blocker.release(None).await.unwrap();
    // Renewed twice or more, then broken by someone else.
    let g = c
        .acquire_with("c", &LockOptions::timeout(ms(2000)).with_lease(ms(300)))
        .await
        .unwrap();
    tokio::time::sleep(ms(450)).await;
    other.break_lock("c").await.unwrap();
    tokio::time::timeout(ms(2000), g.lost()).await.unwrap();
    // The keeper counts the refused renewal after it fired `lost`.
    let mut s = c.stats();
    for _ in 0..100 {
        if s.renewal_failures > 0 {
            break;
        }
        tokio::time::sleep(ms(10)).await;
        s = c.stats();
    }
    assert_eq!(s.acquisitions, 3, "{s:?}");
    assert_eq!(s.try_misses, 1, "{s:?}");
    assert_eq!(s.timeouts, 1, "{s:?}");
    assert_eq!(s.wait.count, 3);
    assert!(s.wait.max >= s.wait.total / 3);
    assert_eq!(s.hold.count, 3, "{s:?}");
    assert!(s.hold.total >= ms(40 + 450), "{s:?}");
    assert!(s.renewals >= 2, "{s:?}");
    assert_eq!(s.renewal_failures, 1, "the refused renewal: {s:?}");
    assert_eq!(s.locks_lost, 1, "{s:?}");
    assert_eq!(s.backend_errors, 0, "{s:?}");
    // Per client: the other one counts only its own.
    let o = other.stats();
    assert_eq!((o.acquisitions, o.try_misses, o.timeouts), (1, 0, 0));
    c.close().await;
    other.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_counts() {
    counts_acquisitions_misses_timeouts_holds_renewals_and_losses(Fixture::nats()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_counts() {
    counts_acquisitions_misses_timeouts_holds_renewals_and_losses(Fixture::redis()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_counts() {
    counts_acquisitions_misses_timeouts_holds_renewals_and_losses(Fixture::memory()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_errors_are_counted() {
    let mut srv = NatsServer::start();
    let c = nats_builder(&srv, "stats")
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap();
    srv.stop();
    let e = c.get("k").await.unwrap_err();
    assert_eq!(e.kind(), fencelock::ErrorKind::Backend);
    assert_eq!(c.stats().backend_errors, 1);
}

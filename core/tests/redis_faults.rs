//! Redis regression tests for issue 13's bugs: lease expiry judged by a waiter, a release
//! repeated by the cluster connection, object expiry under a live holder, awkward keys and
//! labels, and delayed duplicate writes. Each runs against real redis-server processes.

mod support;

use fencelock::{Client, LockOptions};
use std::time::Instant;
use support::*;

/// A waiter that saw the lock early must not count the PTTL it reads later from its first
/// sighting: `wait` returns only once the holder is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_does_not_report_free_while_a_with_lock_callback_runs() {
    let srv = RedisServer::start();
    let holder = Client::redis(&srv.url())
        .namespace("wait13")
        .connect()
        .await
        .unwrap();
    let waiter = Client::redis(&srv.url())
        .namespace("wait13")
        .connect()
        .await
        .unwrap();
    let start = Instant::now();
    let inside = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = inside.clone();
    let h = tokio::spawn(async move {
        holder
            .with_lock_opts(
                "k",
                &LockOptions::default().with_lease(ms(4000)),
                |_| async move {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(ms(3500)).await;
                    flag.store(false, std::sync::atomic::Ordering::SeqCst);
                    Ok::<_, std::io::Error>(Some(b("done")))
                },
            )
            .await
    });
    tokio::time::sleep_until((start + ms(200)).into()).await;
    assert!(waiter.try_acquire("k").await.unwrap().is_none());
    tokio::time::sleep_until((start + ms(2500)).into()).await;
    let state = waiter.wait("k", Some(ms(10_000))).await.unwrap();
    let at = start.elapsed();
    assert!(
        !inside.load(std::sync::atomic::Ordering::SeqCst),
        "wait returned at {at:?} while the holder was still inside"
    );
    assert_eq!(state, Some(b("done")), "returned at {at:?}");
    h.await.unwrap().unwrap();
}

/// Runs of scripts (`EVALSHA`/`EVAL`) the server has answered so far.
fn script_calls(srv: &RedisServer) -> u64 {
    let info = fencelock_testkit::redis_cli(srv.port, &["INFO", "commandstats"]).unwrap();
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            let calls = l.split("calls=").nth(1)?;
            calls.split(',').next()?.parse::<u64>().ok()
        })
        .sum()
}

/// An acquirer that first saw the lock long ago waits for the change feed or one timer at the
/// holder's expiry: it does not run the acquire script again and again until the lease ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acquirer_that_saw_the_lock_early_does_not_retry_until_expiry() {
    let srv = RedisServer::start();
    let holder = Client::redis(&srv.url())
        .namespace("poll13")
        .connect()
        .await
        .unwrap();
    let waiter = Client::redis(&srv.url())
        .namespace("poll13")
        .connect()
        .await
        .unwrap();
    let opts = LockOptions::default().with_lease(ms(3000)).with_renew(false);
    let g = holder.acquire_with("k", &opts).await.unwrap();
    let start = Instant::now();
    assert!(waiter.try_acquire("k").await.unwrap().is_none());
    tokio::time::sleep(ms(1500)).await;
    let before = script_calls(&srv);
    let got = waiter.acquire("k", Some(ms(10_000))).await.unwrap();
    let after = script_calls(&srv);
    let at = start.elapsed();
    assert!(at >= ms(2900), "acquired at {at:?} while the 3 s lease ran");
    assert!(got.token() > g.token());
    // A read, a re-read at the expiry timer and the acquiring run; a few more at most.
    assert!(
        after - before <= 6,
        "{} script runs while waiting {at:?} for one lease to end",
        after - before
    );
}

//! (g) Redis: Sentinel failovers while clients acquire, put, release, run with_lock, wait and
//! campaign (writes wait for the replica, `WAIT 1`, so an acknowledged write survives a
//! promotion); and a Redis restart without persistence, a store reset Redis does not guard
//! against (acknowledged writes before it are gone).

mod common;

use common::{scenario, sleep_until};
use fencelock_fault_tests::history::Bounds;
use fencelock_fault_tests::workload::Mix;
use fencelock_testkit::{RedisSentinel, RedisServer, SENTINEL_MASTER_NAME};
use std::time::{Duration, Instant};

/// Promotes the replica with `SENTINEL FAILOVER` once the old master follows again; `false`
/// when the sentinel would not (no replica in sync yet).
fn failover(s: &RedisSentinel) -> bool {
    let old = s.master_port();
    if s.cli(
        s.sentinel_port,
        &["SENTINEL", "FAILOVER", SENTINEL_MASTER_NAME],
    )
    .is_err()
    {
        return false;
    }
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        let now = s.master_port();
        if now != old && s.cli(now, &["ROLE"]).is_ok_and(|r| r.starts_with("master")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the failover from {old} did not complete in 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (about 35 s): make test-faults"]
async fn sentinel_failover_during_operations() {
    let s = tokio::task::spawn_blocking(RedisSentinel::start)
        .await
        .unwrap();
    let url = s.url();
    let (keep, kept) = std::sync::mpsc::channel();
    let v = scenario(
        "g: Sentinel failover (WAIT 1)",
        &url,
        "fault_g1",
        3,
        Mix::all(Duration::from_secs(1)),
        Duration::from_secs(25),
        |b| b.replication(2), // the primary and one replica: WAIT 1
        Bounds::default(),
        &[],
        move |_, until| {
            let mut faults = 0;
            std::thread::sleep(Duration::from_secs(2));
            while Instant::now() + Duration::from_secs(5) < until {
                if failover(&s) {
                    faults += 1;
                    std::thread::sleep(Duration::from_secs(4));
                } else {
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
            sleep_until(until);
            // Kept alive until the final state is read.
            let _ = keep.send(s);
            faults
        },
    )
    .await;
    drop(kept);
    assert!(v.is_empty(), "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (about 20 s): make test-faults"]
async fn redis_restart_without_persistence() {
    let mut srv = tokio::task::spawn_blocking(|| RedisServer::start_with(&["--appendonly", "no"]))
        .await
        .unwrap();
    let url = srv.url();
    let (tx, rx) = std::sync::mpsc::channel();
    let v = scenario(
        "g: Redis restart, no persistence (reset)",
        &url,
        "fault_g2",
        3,
        Mix::all(Duration::from_secs(1)),
        Duration::from_secs(15),
        |b| b,
        Bounds::default(),
        // Documented (docs/PROTOCOL-redis.md, "Failover and restarts"): without persistence a
        // restart forgets everything, tokens included, so tokens start again. Everything else
        // must hold: no two holders, no write past its lease, nothing lost after the restart.
        &["tokens increase across a store reset"],
        move |rec, until| {
            std::thread::sleep(Duration::from_secs(5));
            let from = Instant::now();
            srv.restart();
            rec.reset(from, Instant::now());
            sleep_until(until);
            let _ = tx.send(srv);
            1
        },
    )
    .await;
    drop(rx);
    assert!(v.is_empty(), "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (about 35 s): make test-faults"]
async fn master_partitioned_sentinel_fails_over_on_its_own() {
    let s = tokio::task::spawn_blocking(RedisSentinel::start_proxied)
        .await
        .unwrap();
    let url = s.url();
    let (keep, kept) = std::sync::mpsc::channel();
    let v = scenario(
        "g: Redis master partitioned (automatic failover)",
        &url,
        "fault_g3",
        3,
        Mix::all(Duration::from_secs(1)),
        Duration::from_secs(25),
        |b| b.replication(2), // the primary and one replica: WAIT 1
        Bounds::default(),
        &[],
        move |_, until| {
            let links = s.links.as_ref().expect("a proxied group");
            std::thread::sleep(Duration::from_secs(3));
            // Every link of the master (clients, its replica, the sentinel) is cut: the
            // sentinel finds it down after a second and promotes the replica.
            let old = s.master_port();
            let cut = if old == links.master.port {
                &links.master
            } else {
                &links.replica
            };
            cut.partition();
            let promoted = Instant::now() + Duration::from_secs(20);
            while s.master_port() == old {
                assert!(Instant::now() < promoted, "no automatic failover in 20 s");
                std::thread::sleep(Duration::from_millis(100));
            }
            std::thread::sleep(Duration::from_secs(3));
            cut.heal();
            sleep_until(until);
            let _ = keep.send(s);
            1
        },
    )
    .await;
    drop(kept);
    assert!(v.is_empty(), "{v:?}");
}

/// The sequence for a waiter on Redis: a holder keeps a 4 s lock for 3.5 s; another
/// client is refused at 0.2 s and then waits from 2.5 s. The wait must not return "free" while
/// the holder is still inside (issue 13 bug 2's report; this sequence passes on this branch,
/// the precise trigger is covered by that bug's regression tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_wait_is_not_told_free_while_the_key_is_held() {
    use common::KEY;
    use fencelock::{Bytes, LockOptions};
    use fencelock_fault_tests::history::{Event, Op, Outcome};
    use fencelock_fault_tests::workload::{connect_with, final_log, report, Recorder};

    let srv = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let lease = Duration::from_secs(4);
    let holder = connect_with(&srv.url(), "fault_g4", lease, |b| b).await;
    let other = connect_with(&srv.url(), "fault_g4", lease, |b| b).await;
    let rec = Recorder::default();
    let ev = move |process, op, token, entry: Option<String>, start, outcome| Event {
        process,
        op,
        token,
        entry,
        start,
        end: Instant::now(),
        outcome,
        lease,
        renews: false,
    };
    let t0 = Instant::now();
    let g = holder
        .acquire_with(
            KEY,
            &LockOptions::timeout(Duration::from_secs(5)).with_renew(false),
        )
        .await
        .unwrap();
    let t = g.token();
    rec.record(ev(0, Op::Acquire, Some(t), None, t0, Outcome::Ok));
    let waiting = {
        let rec = rec.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until((t0 + Duration::from_millis(200)).into()).await;
            let s = Instant::now();
            let got = other.try_acquire(KEY).await.unwrap();
            assert!(got.is_none(), "the key is held");
            rec.record(ev(1, Op::Acquire, None, None, s, Outcome::Refused));
            tokio::time::sleep_until((t0 + Duration::from_millis(2500)).into()).await;
            let s = Instant::now();
            let r = other.wait(KEY, Some(Duration::from_secs(10))).await;
            let outcome = if r.is_ok() {
                Outcome::Ok
            } else {
                Outcome::Refused
            };
            rec.record(ev(1, Op::Wait, None, None, s, outcome));
            other
        })
    };
    tokio::time::sleep_until((t0 + Duration::from_millis(3500)).into()).await;
    let entry = format!("{t}.1");
    let s = Instant::now();
    let released = g.release(Some(Bytes::from(entry.clone()))).await.unwrap();
    let outcome = if released {
        Outcome::Ok
    } else {
        Outcome::Refused
    };
    rec.record(ev(0, Op::Release, Some(t), Some(entry), s, outcome));
    let other = waiting.await.unwrap();
    let log = final_log(&other, KEY).await;
    let v = report(
        "g: Redis wait while held (issue's sequence)",
        &rec.history(),
        &log,
        0,
        Bounds::default(),
    );
    holder.close().await;
    other.close().await;
    drop(srv);
    assert!(v.is_empty(), "{v:?}");
}

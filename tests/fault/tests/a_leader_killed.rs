//! (a) The R3 stream leader killed with SIGKILL and restarted, again and again, while three
//! clients acquire, put, release, run with_lock, wait and campaign on one key.

mod common;

use common::{nats_scenario, sleep_until, stream};
use fencelock_fault_tests::workload::Mix;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_leader_killed_and_restarted_during_operations() {
    let ns = "fault_a";
    let v = nats_scenario(
        "a: R3 stream leader SIGKILL + restart",
        ns,
        3,
        Mix::all(Duration::from_secs(1)),
        Duration::from_secs(25),
        move |c, _, until| {
            let mut faults = 0;
            std::thread::sleep(Duration::from_secs(2));
            while Instant::now() + Duration::from_secs(8) < until {
                let leader = c
                    .wait_stream_leader(&stream(ns), Duration::from_secs(15))
                    .expect("a stream leader");
                c.kill(leader);
                faults += 1;
                std::thread::sleep(Duration::from_millis(1500));
                c.restart(leader).expect("the killed leader comes back");
                std::thread::sleep(Duration::from_secs(2));
            }
            sleep_until(until);
            faults
        },
    )
    .await;
    assert!(v.is_empty(), "{v:?}");
}

/// A waiter blocked on a held key while the stream leader is killed: once the holder lets go
/// (or, if its release got no answer, once its lease runs out) the waiter returns within
/// lease + the cluster bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow (about 20 s): make test-faults"]
async fn waiter_woken_after_the_stream_leader_is_killed() {
    use common::{cluster_bounds, KEY};
    use fencelock::{Bytes, LockOptions};
    use fencelock_fault_tests::history::{Event, Op, Outcome};
    use fencelock_fault_tests::workload::{connect, final_log, report, Recorder};
    use fencelock_testkit::NatsFaultCluster;

    let ns = "fault_a_wait";
    let lease = Duration::from_secs(1);
    let mut cluster = tokio::task::spawn_blocking(NatsFaultCluster::start)
        .await
        .unwrap();
    let holder = connect(&cluster.url(), ns, lease, Some(3)).await;
    let waiter = connect(&cluster.url(), ns, lease, Some(3)).await;
    let rec = Recorder::default();
    let ev = |process, op, token, entry: Option<&str>, start, end, outcome, renews| Event {
        process,
        op,
        token,
        entry: entry.map(str::to_owned),
        start,
        end,
        outcome,
        lease,
        renews,
    };
    let s = Instant::now();
    let g = holder
        .acquire_with(KEY, &LockOptions::timeout(Duration::from_secs(10)))
        .await
        .expect("the holder acquires");
    let t = g.token();
    rec.record(ev(
        0,
        Op::Acquire,
        Some(t),
        None,
        s,
        Instant::now(),
        Outcome::Ok,
        true,
    ));
    let waiting = {
        let waiter = waiter.clone();
        let rec = rec.clone();
        // An application retries a wait that failed (no leader for a moment); every attempt is
        // recorded and the checker holds each one to the bound.
        tokio::spawn(async move {
            let until = Instant::now() + Duration::from_secs(30);
            loop {
                let s = Instant::now();
                let r = waiter.wait(KEY, Some(Duration::from_secs(30))).await;
                let outcome = match &r {
                    Ok(_) => Outcome::Ok,
                    Err(e) if e.kind() == fencelock::ErrorKind::Timeout => Outcome::Refused,
                    Err(_) => Outcome::Unknown,
                };
                rec.record(Event {
                    process: 1,
                    op: Op::Wait,
                    token: None,
                    entry: None,
                    start: s,
                    end: Instant::now(),
                    outcome,
                    lease,
                    renews: false,
                });
                if outcome != Outcome::Unknown || Instant::now() > until {
                    return outcome;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let leader = {
        let stream = stream(ns);
        let (c, leader) = tokio::task::spawn_blocking(move || {
            let l = cluster
                .wait_stream_leader(&stream, Duration::from_secs(10))
                .expect("a stream leader");
            cluster.kill(l);
            (cluster, l)
        })
        .await
        .unwrap();
        cluster = c;
        leader
    };
    let entry = format!("{t}.1");
    let s = Instant::now();
    let released = g.release(Some(Bytes::from(entry.clone()))).await;
    let e = Instant::now();
    let outcome = match released {
        Ok(true) => Outcome::Ok,
        Ok(false) => Outcome::Refused,
        Err(_) => Outcome::Unknown,
    };
    rec.record(ev(
        0,
        Op::Release,
        Some(t),
        Some(&entry),
        s,
        e,
        outcome,
        true,
    ));
    if outcome != Outcome::Ok {
        // Renewal stopped with the release attempt: the key is free a lease later at most.
        rec.free_at(e + lease);
    }
    let woke = waiting.await.unwrap();
    assert_eq!(woke, Outcome::Ok, "the waiter was not woken");
    let cluster = tokio::task::spawn_blocking(move || {
        cluster
            .restart(leader)
            .expect("the killed leader comes back");
        cluster
    })
    .await
    .unwrap();
    let log = final_log(&waiter, KEY).await;
    let v = report(
        "a: waiter across a leader kill",
        &rec.history(),
        &log,
        1,
        cluster_bounds(),
    );
    holder.close().await;
    waiter.close().await;
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
    assert!(v.is_empty(), "{v:?}");
}

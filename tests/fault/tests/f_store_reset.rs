//! (f) The store reset under clients that stay up: a memory-storage server restarted (its
//! bucket gone), and a bucket deleted and recreated by an operator. Writes before the reset
//! may be lost by design; mutual exclusion, token order and the lease must hold throughout.
//!
//! The scenarios reproduce issue 13 bug 1 (per-key observation state outliving a store whose
//! revisions went backwards: two holders, tokens starting again at 1); they failed before the
//! store epochs of `docs/PROTOCOL-nats.md` §6.6.

mod common;

use common::{scenario, sleep_until};
use fencelock::Storage;
use fencelock_fault_tests::history::Bounds;
use fencelock_fault_tests::workload::{connect_with, Mix};
use fencelock_testkit::{nats_request, NatsServer};
use std::time::{Duration, Instant};

fn memory(b: fencelock::ClientBuilder) -> fencelock::ClientBuilder {
    b.storage(Storage::Memory)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: make test-faults"]
async fn memory_store_restarted_under_running_clients() {
    let mut srv = tokio::task::spawn_blocking(NatsServer::start)
        .await
        .unwrap();
    let url = srv.url();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let ns = "fault_f1";
    let lease = Duration::from_secs(1);
    let recreate_url = url.clone();
    // Someone must create the bucket again after the restart, as an application's next
    // client would: a fresh client connecting does.
    let recreate = tokio::spawn(async move {
        let _ = tokio::task::spawn_blocking(move || rx.recv()).await;
        connect_with(&recreate_url, ns, lease, memory)
            .await
            .close()
            .await;
    });
    let (srv_tx, srv_rx) = std::sync::mpsc::channel();
    let v = scenario(
        "f: memory store restarted (reset)",
        &url,
        ns,
        3,
        Mix::all(lease),
        Duration::from_secs(15),
        memory,
        Bounds::default(),
        &[],
        move |rec, until| {
            std::thread::sleep(Duration::from_secs(5));
            let from = Instant::now();
            srv.restart();
            rec.reset(from, Instant::now());
            let _ = tx.send(());
            sleep_until(until);
            let _ = srv_tx.send(srv);
            1
        },
    )
    .await;
    recreate.await.unwrap();
    drop(srv_rx);
    assert!(v.is_empty(), "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: make test-faults"]
async fn bucket_deleted_and_recreated_under_running_clients() {
    let srv = tokio::task::spawn_blocking(NatsServer::start)
        .await
        .unwrap();
    let url = srv.url();
    let port = srv.port;
    let ns = "fault_f2";
    let lease = Duration::from_secs(1);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let recreate_url = url.clone();
    let recreate = tokio::spawn(async move {
        let _ = tokio::task::spawn_blocking(move || rx.recv()).await;
        connect_with(&recreate_url, ns, lease, |b| b)
            .await
            .close()
            .await;
    });
    let v = scenario(
        "f: bucket deleted and recreated",
        &url,
        ns,
        3,
        Mix::all(lease),
        Duration::from_secs(15),
        |b| b,
        Bounds::default(),
        &[],
        move |rec, until| {
            std::thread::sleep(Duration::from_secs(5));
            let from = Instant::now();
            let r = nats_request(
                port,
                &format!("$JS.API.STREAM.DELETE.KV_{ns}"),
                "",
                Duration::from_secs(3),
            )
            .expect("deleting the bucket's stream");
            assert!(!r.contains("\"error\""), "{r}");
            rec.reset(from, Instant::now());
            let _ = tx.send(());
            sleep_until(until);
            1
        },
    )
    .await;
    recreate.await.unwrap();
    drop(srv);
    assert!(v.is_empty(), "{v:?}");
}

/// The issue's own sequence, as a scenario: B holds, W is refused; the store is wiped (memory
/// storage, restarted); 2.5 s later C acquires (token 1 again) and writes; W tries again. W must
/// be refused while C holds — or, if W gets the lock, C must have been told (`lost`) and C's
/// writes after W's acquire must be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiter_refused_before_a_reset_does_not_take_the_lock_from_a_holder_after_it() {
    use common::KEY;
    use fencelock::Bytes;
    use fencelock_fault_tests::history::{Event, Op, Outcome, Violation};
    use fencelock_fault_tests::workload::{final_log, print_row, Recorder};

    let lease = Duration::from_secs(1);
    let ns = "fault_f3";
    let mut srv = tokio::task::spawn_blocking(NatsServer::start)
        .await
        .unwrap();
    let url = srv.url();
    let b = connect_with(&url, ns, lease, memory).await;
    let w = connect_with(&url, ns, lease, memory).await;
    let c = connect_with(&url, ns, lease, memory).await;
    let rec = Recorder::default();
    let ev = |process, op, token, entry: Option<String>, start, outcome, renews| Event {
        process,
        op,
        token,
        entry,
        start,
        end: Instant::now(),
        outcome,
        lease,
        renews,
    };
    let s = Instant::now();
    let gb = b.acquire(KEY, Some(Duration::from_secs(5))).await.unwrap();
    rec.record(ev(
        0,
        Op::Acquire,
        Some(gb.token()),
        None,
        s,
        Outcome::Ok,
        true,
    ));
    let s = Instant::now();
    assert!(w.try_acquire(KEY).await.unwrap().is_none());
    rec.record(ev(1, Op::Acquire, None, None, s, Outcome::Refused, false));
    let from = Instant::now();
    srv = tokio::task::spawn_blocking(move || {
        srv.restart();
        srv
    })
    .await
    .unwrap();
    rec.reset(from, Instant::now());
    // A fresh client recreates the bucket, as an application's next start would.
    connect_with(&url, ns, lease, memory).await.close().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let s = Instant::now();
    let gc = c.acquire(KEY, Some(Duration::from_secs(5))).await.unwrap();
    let tc = gc.token();
    rec.record(ev(2, Op::Acquire, Some(tc), None, s, Outcome::Ok, true));
    let mut extra = Vec::new();
    let s = Instant::now();
    let second = w.try_acquire(KEY).await.unwrap();
    if let Some(gw) = &second {
        rec.record(ev(
            1,
            Op::Acquire,
            Some(gw.token()),
            None,
            s,
            Outcome::Ok,
            false,
        ));
        if !gc.is_lost() {
            extra.push(Violation {
                property: "mutual exclusion (held intervals)",
                detail: format!(
                    "W acquired token {} while C held token {tc} and C's lost signal was not set",
                    gw.token()
                ),
            });
        }
    } else {
        rec.record(ev(1, Op::Acquire, None, None, s, Outcome::Refused, false));
    }
    // C writes as the holder it believes it is.
    let entry = format!("{tc}.1-c");
    let s = Instant::now();
    let put = gc.put(Bytes::from(entry.clone())).await;
    let outcome = if put.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Refused
    };
    rec.record(ev(2, Op::Put, Some(tc), Some(entry), s, outcome, true));
    let log = final_log(&c, KEY).await;
    let history = rec.history();
    let mut v = history.check(&log, Bounds::default());
    v.extend(extra);
    print_row(
        "f: issue's sequence (refused W, reset, C, W again)",
        &history,
        1,
        v.len(),
        &[],
        &[],
    );
    for x in &v {
        println!("  violation: {x}");
    }
    drop(second);
    for cl in [b, w, c] {
        cl.close().await;
    }
    drop(srv);
    assert!(v.is_empty(), "{v:?}");
}

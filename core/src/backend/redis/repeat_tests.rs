//! Scripts run twice with the same arguments, as redis-rs's cluster connection does after a
//! dropped connection (and the backend itself after a lost reply), and delayed duplicates of an
//! earlier call: each answers the truth, against a real redis-server.

use super::*;
use crate::backend::{HoldRequest, LockId, Snapshot};
use fencelock_testkit::RedisServer;

async fn backend(srv: &RedisServer, ns: &str) -> RedisBackend {
    RedisBackend::connect(&RedisOptions {
        url: srv.url(),
        namespace: ns.into(),
        object_expiry: None,
        replication: None,
        replication_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        tls_root_cert: None,
        tls_client_cert: None,
        require_tls: false,
    })
    .await
    .unwrap()
}

async fn take(b: &RedisBackend, key: &Key, lease_ms: u64) -> Held {
    let hold = HoldRequest {
        lock_id: LockId::random(),
        lease: Duration::from_millis(lease_ms),
        label: "t".into(),
    };
    let Cas::Done(acq) = b.acquire(key, &Snapshot::empty(0), &hold).await.unwrap() else {
        panic!("{key} is held");
    };
    Held {
        revision: acq.revision,
        token: acq.token,
        lock_id: hold.lock_id,
        lease: hold.lease,
        label: hold.label,
        state: acq.state,
    }
}

fn bytes(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_release_reports_the_release_that_happened() {
    let srv = RedisServer::start();
    let b = backend(&srv, "rep").await;
    let key = Key::new("k").unwrap();
    let held = take(&b, &key, 10_000).await;
    let first = b
        .release_call(&key, &held, bytes("v1"), "7".into())
        .await
        .unwrap();
    let Cas::Done(first) = first else {
        panic!("the first run released")
    };
    // The same call again, its first reply lost: it must not say "not written".
    match b
        .release_call(&key, &held, bytes("v1"), "7".into())
        .await
        .unwrap()
    {
        Cas::Done(again) => assert_eq!(again.revision, first.revision),
        Cas::Conflict => panic!("a repeat of a successful release answered 'not released'"),
    }
    assert_eq!(b.load(&key).await.unwrap().state, bytes("v1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_that_cannot_know_its_outcome_says_so() {
    let srv = RedisServer::start();
    let b = backend(&srv, "unknown").await;
    let key = Key::new("k").unwrap();
    let held = take(&b, &key, 10_000).await;
    assert!(matches!(
        b.release_call(&key, &held, bytes("v1"), "7".into())
            .await
            .unwrap(),
        Cas::Done(_)
    ));
    // Another acquisition is taken and released before the repeat arrives: the marker now
    // names that release, so the repeat cannot tell.
    let next = take(&b, &key, 10_000).await;
    assert!(matches!(
        b.release(&key, &next, bytes("v2")).await.unwrap(),
        Cas::Done(_)
    ));
    let e = b
        .release_call(&key, &held, bytes("v1"), "7".into())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(e.to_string().contains("unknown"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lock_is_still_reported_as_not_released() {
    let srv = RedisServer::start();
    let b = backend(&srv, "lapsed").await;
    let key = Key::new("k").unwrap();
    let earlier = take(&b, &key, 10_000).await;
    assert!(matches!(
        b.release(&key, &earlier, None).await.unwrap(),
        Cas::Done(_)
    ));
    let held = take(&b, &key, 300).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(matches!(
        b.release(&key, &held, bytes("late")).await.unwrap(),
        Cas::Conflict
    ));
    // Taken over meanwhile by a holder that still holds: not released either.
    let held = take(&b, &key, 300).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _other = take(&b, &key, 10_000).await;
    assert!(matches!(
        b.release(&key, &held, bytes("late")).await.unwrap(),
        Cas::Conflict
    ));
    assert_eq!(b.load(&key).await.unwrap().state, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_duplicate_put_does_not_overwrite_a_later_one() {
    let srv = RedisServer::start();
    let b = backend(&srv, "dup").await;
    let key = Key::new("k").unwrap();
    let mut held = take(&b, &key, 10_000).await;
    let Cas::Done(r1) = b
        .put_call(&key, &held, bytes("first"), "10".into())
        .await
        .unwrap()
    else {
        panic!("put refused")
    };
    held.revision = r1;
    // Its repeat answers as the first run did.
    assert!(matches!(
        b.put_call(&key, &held, bytes("first"), "10".into()).await.unwrap(),
        Cas::Done(r) if r == r1
    ));
    held.state = bytes("first");
    assert!(matches!(
        b.put_call(&key, &held, bytes("second"), "11".into())
            .await
            .unwrap(),
        Cas::Done(_)
    ));
    // The first put, delayed on the network, arrives after the second.
    let late = b.put_call(&key, &held, bytes("first"), "10".into()).await;
    assert!(late.is_err(), "{late:?}");
    assert_eq!(b.load(&key).await.unwrap().state, bytes("second"));
}

/// Revisions and tokens from 1e14 on: Lua's number-to-text conversion writes them in exponent
/// notation, rounded to 14 digits. Lock values (tokens), markers and the revision that put and
/// release write back (`HGET` + `HSET`) must be digits, or the holder cannot be decoded and a
/// later `HINCRBY` cannot read the counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisions_past_1e14_stay_integers_through_put_and_release() {
    let srv = RedisServer::start();
    let b = backend(&srv, "big").await;
    let key = Key::new("k").unwrap();
    let start: u64 = 99_999_999_999_998;
    let mut conn = b.conn.clone();
    let _: () = redis::cmd("HSET")
        .arg(&b.keys(&key).meta)
        .arg("rev")
        .arg(start)
        .query_async(&mut conn)
        .await
        .unwrap();
    let held = take(&b, &key, 10_000).await;
    assert_eq!(held.token, start + 1);
    let Cas::Done(rev) = b.put(&key, &held, bytes("s")).await.unwrap() else {
        panic!("the holder's put was refused")
    };
    assert_eq!(rev, start + 2);
    let Cas::Done(snap) = b.release(&key, &held, bytes("s")).await.unwrap() else {
        panic!("the holder's release was refused")
    };
    assert_eq!(snap.revision, start + 3);
    let stored: String = redis::cmd("HGET")
        .arg(&b.keys(&key).meta)
        .arg("rev")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, (start + 3).to_string());
    // The next acquisition's HINCRBY reads it back: tokens keep increasing.
    let next = take(&b, &key, 10_000).await;
    assert_eq!(next.token, start + 4);
    let holder = b
        .load(&key)
        .await
        .unwrap()
        .holder
        .expect("the lock is held");
    assert_eq!(holder.token, start + 4);
    // A repeat of the release finds its marker and answers its revision.
    let Cas::Done(rel) = b
        .release_call(&key, &next, None, "900".into())
        .await
        .unwrap()
    else {
        panic!("the holder's release was refused")
    };
    let Cas::Done(again) = b
        .release_call(&key, &next, None, "900".into())
        .await
        .unwrap()
    else {
        panic!("a repeated release answered 'not released'")
    };
    assert_eq!(again.revision, rel.revision);
    assert_eq!(rel.revision, start + 5);
}

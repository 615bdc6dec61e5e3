//! Lock churn leaves nothing behind: after many short acquisitions the client's internal tables
//! (guards, the lease keeper's queue, the key registry) are back to what is actually held. A
//! long-running service takes thousands of locks an hour; anything kept per acquisition is a
//! leak (`make soak` measures the memory; these tests check the tables without timing).

mod support;

use fencelock::Bytes;
use std::time::{Duration, Instant};
use support::*;

conformance!(
    short_locks_leave_no_guard_and_no_lease_keeper_entry,
    guards_dropped_without_release_leave_the_tables,
    the_key_cache_of_a_client_touching_ever_new_keys_stays_bounded,
);

const TIMEOUT: Option<Duration> = Some(Duration::from_secs(10));

/// acquire/release, with_lock, try_acquire on a held key and wait, as the soak mixes them.
async fn short_locks_leave_no_guard_and_no_lease_keeper_entry(fx: Fixture) {
    let c = client(&fx, "churn").await;
    let other = client(&fx, "churn").await;
    let held = other.acquire("held", TIMEOUT).await.unwrap();
    for i in 0..200u32 {
        let key = format!("k{}", i % 8);
        let g = c.acquire(key.as_str(), TIMEOUT).await.unwrap();
        assert!(g.release(Some(b(&i.to_string()))).await.unwrap());
        c.with_lock(key.as_str(), TIMEOUT, |s| async move {
            Ok::<_, std::io::Error>(s.map(|s| Bytes::from([&s[..], b"+"].concat())))
        })
        .await
        .unwrap();
        assert!(c.try_acquire("held").await.unwrap().is_none());
        c.wait(key.as_str(), TIMEOUT).await.unwrap();
    }
    let sizes = c.internal_sizes();
    assert_eq!(sizes.guards, 0, "{sizes:?}");
    assert_eq!(
        sizes.keeper_queue, 0,
        "released guards must leave the lease keeper's queue at once: {sizes:?}"
    );
    assert!(sizes.key_slots <= 9, "{sizes:?}");
    // The holder's own lock is still kept, and only it.
    let theirs = other.internal_sizes();
    assert_eq!((theirs.guards, theirs.keeper_queue), (1, 1), "{theirs:?}");
    held.release(None).await.unwrap();
    assert_eq!(other.internal_sizes().keeper_queue, 0);
    c.close().await;
    assert_eq!(
        c.internal_sizes().key_slots,
        0,
        "close empties the key registry"
    );
    other.close().await;
}

/// A guard dropped without release is released in the background and forgotten.
async fn guards_dropped_without_release_leave_the_tables(fx: Fixture) {
    let c = client(&fx, "dropped").await;
    for i in 0..50u32 {
        drop(c.acquire(format!("d{}", i % 5), TIMEOUT).await.unwrap());
    }
    // The background releases finish within a few round trips.
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.internal_sizes().guards > 0 && Instant::now() < deadline {
        tokio::time::sleep(ms(10)).await;
    }
    let sizes = c.internal_sizes();
    assert_eq!((sizes.guards, sizes.keeper_queue), (0, 0), "{sizes:?}");
    c.close().await;
}

/// The per-key cache (the revision learned from this client's own writes) is swept, so a client
/// that locks a new key each time does not keep every key it ever touched.
async fn the_key_cache_of_a_client_touching_ever_new_keys_stays_bounded(fx: Fixture) {
    let c = client(&fx, "many").await;
    for i in 0..1100u32 {
        let g = c.acquire(format!("key-{i}"), TIMEOUT).await.unwrap();
        g.release(None).await.unwrap();
    }
    let sizes = c.internal_sizes();
    assert!(sizes.key_slots <= 1024, "{sizes:?}");
    assert_eq!((sizes.guards, sizes.keeper_queue), (0, 0), "{sizes:?}");
    c.close().await;
}

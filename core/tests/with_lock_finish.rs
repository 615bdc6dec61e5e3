//! `LockGuard::finish_with_lock`, the second half of `with_lock` for bindings whose callback
//! runs on their own event loop: each outcome ends as `Client::with_lock` ends it.

mod support;

use fencelock::{Bytes, ErrorKind, LockOptions};
use std::time::Duration;
use support::*;

fn no_renew(lease: Duration) -> LockOptions {
    LockOptions::timeout(ms(2000))
        .with_lease(lease)
        .with_renew(false)
}

async fn each_outcome_ends_the_lock_as_with_lock_does(fx: Fixture) {
    let c = client(&fx, "finish").await;
    let key = unique("k");
    // An answer is written and the lock released.
    let g = c
        .acquire_with(key.as_str(), &no_renew(ms(5000)))
        .await
        .unwrap();
    let out = g
        .finish_with_lock(Some(Ok(Some(Bytes::from_static(b"1")))))
        .await
        .unwrap();
    assert_eq!(out.as_deref(), Some(&b"1"[..]));
    // No answer keeps the state and still releases.
    let g = c
        .acquire_with(key.as_str(), &no_renew(ms(5000)))
        .await
        .unwrap();
    assert_eq!(
        g.finish_with_lock(Some(Ok(None))).await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    // The callback's error: released, nothing written, the error kept as the source.
    let g = c
        .acquire_with(key.as_str(), &no_renew(ms(5000)))
        .await
        .unwrap();
    let e = g
        .finish_with_lock(Some(Err("the callback broke".into())))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Callback);
    assert!(e.to_string().contains("the callback broke"), "{e}");
    let free = c
        .try_acquire(key.as_str())
        .await
        .unwrap()
        .expect("released");
    assert_eq!(free.initial_state().map(|b| &b[..]), Some(&b"1"[..]));
    free.release(None).await.unwrap();
    // Past the lease: Timeout, nothing written, the lock left to its lease (not released).
    let g = c
        .acquire_with(key.as_str(), &no_renew(ms(400)))
        .await
        .unwrap();
    let e = g.finish_with_lock(None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        c.try_acquire(key.as_str()).await.unwrap().is_none(),
        "left to its lease"
    );
    let state = c.wait(key.as_str(), Some(ms(3000))).await.unwrap();
    assert_eq!(state.as_deref(), Some(&b"1"[..]));
    c.close().await;
}

#[tokio::test]
async fn memory_finishes() {
    each_outcome_ends_the_lock_as_with_lock_does(Fixture::memory()).await;
}

#[tokio::test]
async fn nats_finishes() {
    each_outcome_ends_the_lock_as_with_lock_does(Fixture::nats()).await;
}

#[tokio::test]
async fn redis_finishes() {
    each_outcome_ends_the_lock_as_with_lock_does(Fixture::redis()).await;
}

//! Operator tools on every backend that supports them: listing keys, breaking a lock, and the
//! namespace's lock events.

mod support;

use fencelock::{LockEvent, LockEventKind, LockOptions};
use futures::stream::{BoxStream, StreamExt};
use std::time::Duration;
use support::*;

macro_rules! operator_tests {
    ($($name:ident),* $(,)?) => {
        mod nats {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Fixture::nats()).await }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Fixture::redis()).await }
            )*
        }
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Fixture::memory()).await }
            )*
        }
    };
}

operator_tests!(
    lists_keys_with_a_lock_or_state_by_prefix,
    breaking_a_lock_keeps_state_fires_lost_and_tokens_keep_rising,
    deleting_a_key_never_makes_tokens_go_backwards,
    lock_events_report_acquire_release_takeover_and_expiry,
);

async fn lists_keys_with_a_lock_or_state_by_prefix(fx: Fixture) {
    let c = client(&fx, "ls").await;
    assert_eq!(c.list_keys("").await.unwrap(), Vec::<String>::new());
    let held = c.acquire("jobs/a", Some(ms(2000))).await.unwrap();
    let with_state = c.acquire("jobs/b c*", Some(ms(2000))).await.unwrap();
    with_state.release(Some(b("x"))).await.unwrap();
    let other = c.acquire("other", Some(ms(2000))).await.unwrap();
    let deleted = c.acquire("jobs/gone", Some(ms(2000))).await.unwrap();
    drop(deleted);
    c.delete("jobs/gone").await.unwrap();
    assert_eq!(
        c.list_keys("jobs/").await.unwrap(),
        vec!["jobs/a".to_owned(), "jobs/b c*".to_owned()]
    );
    assert_eq!(c.list_keys("").await.unwrap().len(), 3);
    // Glob characters in the prefix are literal.
    assert!(c.list_keys("jobs/*").await.unwrap().is_empty());
    held.release(None).await.unwrap();
    other.release(None).await.unwrap();
    c.close().await;
}

async fn breaking_a_lock_keeps_state_fires_lost_and_tokens_keep_rising(fx: Fixture) {
    let holder = client(&fx, "brk").await;
    let operator = client(&fx, "brk").await;
    let g = holder
        .acquire_with(
            "k",
            &LockOptions::timeout(ms(2000))
                .with_lease(ms(900))
                .with_label("worker-1"),
        )
        .await
        .unwrap();
    g.put(b("state")).await.unwrap();
    let broken = operator.break_lock("k").await.unwrap().expect("was held");
    assert_eq!(broken.label, "worker-1");
    assert_eq!(broken.token, g.token());
    let info = operator.get("k").await.unwrap();
    assert!(info.holder.is_none());
    assert_eq!(info.state.as_deref(), Some(&b"state"[..]));
    // The holder finds out at its next renewal (a third of the lease).
    tokio::time::timeout(ms(3000), g.lost())
        .await
        .expect("the broken holder's lost signal fires");
    assert!(g.put(b("stale")).await.is_err());
    let next = operator.acquire("k", Some(ms(2000))).await.unwrap();
    assert!(next.token() > g.token(), "{} > {}", next.token(), g.token());
    assert_eq!(next.initial_state().map(|s| &s[..]), Some(&b"state"[..]));
    next.release(None).await.unwrap();
    assert_eq!(operator.break_lock("k").await.unwrap(), None);
    holder.close().await;
    operator.close().await;
}

async fn deleting_a_key_never_makes_tokens_go_backwards(fx: Fixture) {
    let c = client(&fx, "del").await;
    let mut last = 0;
    for _ in 0..3 {
        let g = c.acquire("k", Some(ms(2000))).await.unwrap();
        assert!(g.token() > last, "{} > {last}", g.token());
        last = g.token();
        // Deleted while held, then while free.
        c.delete("k").await.unwrap();
        assert!(g.is_lost() || !g.release(None).await.unwrap());
        let g = c.acquire("k", Some(ms(2000))).await.unwrap();
        assert!(g.token() > last, "{} > {last}", g.token());
        last = g.token();
        g.release(None).await.unwrap();
        c.delete("k").await.unwrap();
    }
    c.close().await;
}

async fn next(events: &mut BoxStream<'static, fencelock::Result<LockEvent>>) -> LockEvent {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event within 5 s")
        .expect("the stream goes on")
        .expect("no error")
}

async fn lock_events_report_acquire_release_takeover_and_expiry(fx: Fixture) {
    let a = client(&fx, "ev").await;
    let b_ = client(&fx, "ev").await;
    let before = a.acquire("w/held", Some(ms(2000))).await.unwrap();
    let _outside = a.acquire("elsewhere", Some(ms(2000))).await.unwrap();
    let mut events = b_.lock_events("w/").await.unwrap();
    let ev = next(&mut events).await;
    assert_eq!((ev.kind, ev.key.as_str()), (LockEventKind::Held, "w/held"));
    assert_eq!(ev.holder.unwrap().token, before.token());

    let g = a.acquire("w/k", Some(ms(2000))).await.unwrap();
    let ev = next(&mut events).await;
    assert_eq!((ev.kind, ev.key.as_str()), (LockEventKind::Acquired, "w/k"));
    g.release(None).await.unwrap();
    let ev = next(&mut events).await;
    assert_eq!((ev.kind, ev.key.as_str()), (LockEventKind::Released, "w/k"));

    // A holder that stops renewing: expiry is reported once, then the takeover.
    let silent = a
        .acquire_with(
            "w/silent",
            &LockOptions::timeout(ms(2000))
                .with_lease(ms(400))
                .with_renew(false)
                .with_label("silent"),
        )
        .await
        .unwrap();
    let ev = next(&mut events).await;
    assert_eq!(ev.kind, LockEventKind::Acquired);
    let ev = next(&mut events).await;
    assert_eq!(
        (ev.kind, ev.key.as_str()),
        (LockEventKind::Expired, "w/silent")
    );
    assert_eq!(ev.holder.unwrap().label, "silent");
    let taker = b_
        .acquire_with(
            "w/silent",
            &LockOptions::timeout(ms(3000)).with_label("taker"),
        )
        .await
        .unwrap();
    let ev = next(&mut events).await;
    // Where the store drops lapsed locks itself (Redis), the key was free: an acquisition.
    assert!(
        matches!(ev.kind, LockEventKind::TakenOver | LockEventKind::Acquired),
        "{ev:?}"
    );
    assert_eq!(ev.holder.unwrap().label, "taker");
    if ev.kind == LockEventKind::TakenOver {
        assert_eq!(ev.previous.unwrap().label, "silent");
    }
    taker.release(None).await.unwrap();
    let ev = next(&mut events).await;
    assert_eq!(ev.kind, LockEventKind::Released);
    drop(silent);
    before.release(None).await.unwrap();
    let ev = next(&mut events).await;
    assert_eq!(
        (ev.kind, ev.key.as_str()),
        (LockEventKind::Released, "w/held")
    );
    drop(events);
    a.close().await;
    b_.close().await;
}

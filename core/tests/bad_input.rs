//! Bad input gets a clear error (kind, key, what to do) and loses nothing.

mod support;

use fencelock::{Client, ErrorKind, LockOptions, MAX_KEY_LEN};
use std::time::Duration;
use support::*;

conformance!(
    invalid_keys_are_refused_before_touching_the_server,
    zero_and_absurd_durations_are_refused_with_the_range,
    oversized_state_is_refused_naming_the_limit_and_the_lock_and_state_survive,
    a_closed_client_refuses_everything_and_released_its_locks,
    a_guard_from_another_client_is_refused,
);

async fn invalid_keys_are_refused_before_touching_the_server(fx: Fixture) {
    let c = client(&fx, "bad").await;
    let e = c.acquire("", None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidKey);
    assert!(e.to_string().contains("non-empty"), "{e}");
    let long = "k".repeat(MAX_KEY_LEN + 1);
    for e in [
        c.try_acquire(long.as_str()).await.unwrap_err(),
        c.wait(long.as_str(), None).await.unwrap_err(),
        c.get(long.as_str()).await.unwrap_err(),
        c.delete(long.as_str()).await.unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::InvalidKey);
        assert!(e.to_string().contains("1024 bytes"), "{e}");
    }
    // The longest key, all multi-byte, still works end to end.
    let widest = "é".repeat(MAX_KEY_LEN / 2);
    let g = c.acquire(widest.as_str(), Some(ms(2000))).await.unwrap();
    assert!(g.release(Some(b("ok"))).await.unwrap());
    assert_eq!(c.get(widest.as_str()).await.unwrap().state, Some(b("ok")));
}

async fn zero_and_absurd_durations_are_refused_with_the_range(fx: Fixture) {
    let c = client(&fx, "bad").await;
    for lease in [Duration::ZERO, ms(1), Duration::from_secs(365 * 24 * 3600)] {
        let e = c
            .acquire_with("k", &LockOptions::default().with_lease(lease))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert_eq!(e.key(), Some("k"));
        assert!(e.to_string().contains("between 10ms and"), "{e}");
    }
    let e = builder(&fx, "bad")
        .lease(Duration::ZERO)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = builder(&fx, "bad")
        .renew_fraction(1.5)
        .connect()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("strictly between 0 and 1"), "{e}");
    let e = builder(&fx, "bad2")
        .lease(Duration::from_secs(60))
        .object_expiry(Duration::from_secs(10))
        .connect()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("shorter than the lease"), "{e}");
    // Zero copies is out of range where replication applies, and refused by name where not.
    let e = builder(&fx, "bad")
        .replication(0)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("replication"), "{e}");
    // A zero timeout is one attempt, not an error.
    let g = c.acquire("k", Some(Duration::ZERO)).await.unwrap();
    let e = c.acquire("k", Some(Duration::ZERO)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    // A huge timeout means "forever", not an overflow.
    drop(g);
    let g = c.acquire("k", Some(Duration::MAX)).await.unwrap();
    g.release(None).await.unwrap();
}

async fn oversized_state_is_refused_naming_the_limit_and_the_lock_and_state_survive(fx: Fixture) {
    let c = client(&fx, "bad").await;
    let g = c.acquire("k", None).await.unwrap();
    g.put(b("small")).await.unwrap();
    let max = c.max_state_len();
    assert!(max > 900_000, "default max_payload is 1 MiB, limit {max}");
    let huge = fencelock::Bytes::from(vec![0u8; max + 1]);
    let e = g.put(huge.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StateTooLarge);
    assert!(e.to_string().contains(&max.to_string()), "{e}");
    assert_eq!(e.key(), Some("k"));
    let e = g.release(Some(huge)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StateTooLarge);
    // Nothing was lost: still held, old state intact, and the largest state fits.
    assert!(!g.is_lost());
    g.put(fencelock::Bytes::from(vec![7u8; max])).await.unwrap();
    assert!(g.release(None).await.unwrap());
    assert_eq!(c.get("k").await.unwrap().state.unwrap().len(), max);
}

async fn a_closed_client_refuses_everything_and_released_its_locks(fx: Fixture) {
    let c = client(&fx, "bad").await;
    let other = client(&fx, "bad").await;
    let g = c.acquire("k", None).await.unwrap();
    g.put(b("kept")).await.unwrap();
    c.close().await;
    assert!(c.is_closed());
    for e in [
        c.acquire("k", None).await.unwrap_err(),
        c.try_acquire("k").await.unwrap_err(),
        c.get("k").await.unwrap_err(),
        c.wait("k", None).await.unwrap_err(),
        c.delete("k").await.unwrap_err(),
        g.put(b("x")).await.unwrap_err(),
        g.release(None).await.unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Closed, "{e}");
        assert!(e.to_string().contains("closed"), "{e}");
    }
    // close() released the lock with its state.
    let g2 = other
        .try_acquire("k")
        .await
        .unwrap()
        .expect("released by close");
    assert_eq!(g2.initial_state(), Some(&b("kept")));
}

async fn a_guard_from_another_client_is_refused(fx: Fixture) {
    let a = client(&fx, "bad").await;
    let bc = client(&fx, "bad").await;
    let g = a.acquire("k", None).await.unwrap();
    let e = bc.release(&g, None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("another client"), "{e}");
    assert!(a.release(&g, None).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_connection_settings_name_the_problem() {
    let e = Client::nats("nats://127.0.0.1:1")
        .connect_timeout(ms(500))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
    let e = Client::nats("").connect().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = Client::nats("nats://[bad").connect().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let srv = NatsServer::start();
    let e = nats_builder(&srv, "no.dots").connect().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("letters, digits"), "{e}");
    // An existing bucket with another expiry is reported, not silently reused.
    nats_builder(&srv, "conf")
        .object_expiry(Duration::from_secs(3600))
        .connect()
        .await
        .unwrap();
    let e = nats_builder(&srv, "conf")
        .object_expiry(Duration::from_secs(7200))
        .connect()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("max_age"), "{e}");
    // Binding without asking for a particular expiry is fine...
    let c = nats_builder(&srv, "conf").connect().await.unwrap();
    // ...but a lease the bucket would expire under its holder is refused, per call or default.
    let e = c
        .acquire_with(
            "k",
            &LockOptions::default().with_lease(Duration::from_secs(7200)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        e.to_string()
            .contains("longer than the namespace's object expiry"),
        "{e}"
    );
    let long_default = nats_builder(&srv, "conf")
        .lease(Duration::from_secs(7200))
        .connect()
        .await
        .unwrap();
    let e = long_default.acquire("k", None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_away_gives_backend_errors_naming_it_and_locks_are_lost_not_corrupted() {
    let mut srv = NatsServer::start();
    let c = nats_builder(&srv, "gone")
        .lease(ms(500))
        .connect()
        .await
        .unwrap();
    let g = c.acquire("k", None).await.unwrap();
    srv.stop();
    let e = c.get("k").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(e.to_string().contains(&srv.port.to_string()), "{e}");
    assert_eq!(e.key(), Some("k"));
    // Renewal cannot reach the server, so the lease lapses and `lost` fires.
    tokio::time::timeout(Duration::from_secs(10), g.lost())
        .await
        .expect("lost fires");
    assert!(!g.release(Some(b("x"))).await.unwrap());
}

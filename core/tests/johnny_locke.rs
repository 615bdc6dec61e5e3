//! The scenarios of Node's Johnny Locke test suite, against a real nats-server.

mod support;

use fencelock::{ErrorKind, LockOptions};
use support::*;

conformance!(
    acquire_returns_no_state_for_a_new_key_and_the_stored_state_otherwise,
    acquire_times_out_while_another_client_holds_the_lock,
    a_waiter_gets_the_lock_and_the_updated_state_after_release,
    the_lock_expires_after_its_lease,
    a_custom_per_call_lease_is_honoured,
    two_clients_keep_data_consistent,
    try_acquire_is_some_when_free_and_none_when_held,
    with_lock_releases_when_the_callback_fails,
    a_with_lock_callback_that_outlives_its_lease_times_out_and_writes_nothing,
    wait_returns_the_released_state_and_times_out_while_held,
    release_after_expiry_returns_false_and_keeps_the_old_state,
    delete_removes_state_and_lock,
);

async fn acquire_returns_no_state_for_a_new_key_and_the_stored_state_otherwise(fx: Fixture) {
    let c = client(&fx, "jl").await;
    let g = c.acquire("obj", Some(ms(1000))).await.unwrap();
    assert_eq!(g.initial_state(), None);
    assert!(g.release(Some(b("v1"))).await.unwrap());
    let g = c.acquire("obj", Some(ms(1000))).await.unwrap();
    assert_eq!(g.initial_state(), Some(&b("v1")));
    g.release(None).await.unwrap();
}

async fn acquire_times_out_while_another_client_holds_the_lock(fx: Fixture) {
    let a = client(&fx, "jl").await;
    let bc = client(&fx, "jl").await;
    let _g = a.acquire("obj", None).await.unwrap();
    let t = std::time::Instant::now();
    let e = bc.acquire("obj", Some(ms(300))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.key(), Some("obj"));
    assert!(t.elapsed() >= ms(300));
}

async fn a_waiter_gets_the_lock_and_the_updated_state_after_release(fx: Fixture) {
    let a = client(&fx, "jl").await;
    let bc = client(&fx, "jl").await;
    let g = a.acquire("obj", None).await.unwrap();
    let waiter = tokio::spawn(async move {
        let g2 = bc.acquire("obj", Some(ms(5000))).await.unwrap();
        let s = g2.initial_state().cloned();
        g2.release(None).await.unwrap();
        s
    });
    tokio::time::sleep(ms(200)).await;
    assert!(!waiter.is_finished());
    g.release(Some(b("updated"))).await.unwrap();
    assert_eq!(waiter.await.unwrap(), Some(b("updated")));
}

async fn the_lock_expires_after_its_lease(fx: Fixture) {
    let a = builder(&fx, "jl")
        .lease(ms(500))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let bc = client(&fx, "jl").await;
    let g = a.acquire("obj", None).await.unwrap();
    let t = std::time::Instant::now();
    let g2 = bc.acquire("obj", Some(ms(5000))).await.unwrap();
    assert!(t.elapsed() >= ms(400), "took over after {:?}", t.elapsed());
    assert!(g2.token() > g.token());
    assert!(!g.release(Some(b("stale"))).await.unwrap());
}

async fn a_custom_per_call_lease_is_honoured(fx: Fixture) {
    let a = client(&fx, "jl").await; // default lease 30 s
    let bc = client(&fx, "jl").await;
    let opts = LockOptions::default().with_lease(ms(400)).with_renew(false);
    let g = a.acquire_with("obj", &opts).await.unwrap();
    assert_eq!(g.lease(), ms(400));
    let t = std::time::Instant::now();
    let _g2 = bc.acquire("obj", Some(ms(5000))).await.unwrap();
    assert!(t.elapsed() < ms(3000));
    assert_eq!(
        bc.get("obj").await.unwrap().holder.unwrap().lease,
        fencelock::DEFAULT_LEASE
    );
}

async fn two_clients_keep_data_consistent(fx: Fixture) {
    let clients = [client(&fx, "jl").await, client(&fx, "jl").await];
    let mut tasks = Vec::new();
    for i in 0..10 {
        let c = clients[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            c.with_lock("counter", Some(ms(20_000)), |s| async move {
                let n: u64 = s
                    .map(|b| String::from_utf8_lossy(&b).parse().unwrap())
                    .unwrap_or(0);
                Ok::<_, std::io::Error>(Some(b(&(n + 1).to_string())))
            })
            .await
            .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = clients[0].get("counter").await.unwrap().state.unwrap();
    assert_eq!(&s[..], b"10");
}

async fn try_acquire_is_some_when_free_and_none_when_held(fx: Fixture) {
    let a = client(&fx, "jl").await;
    let bc = client(&fx, "jl").await;
    let g = a.try_acquire("obj").await.unwrap().expect("free");
    assert!(bc.try_acquire("obj").await.unwrap().is_none());
    g.release(None).await.unwrap();
    assert!(bc.try_acquire("obj").await.unwrap().is_some());
}

async fn with_lock_releases_when_the_callback_fails(fx: Fixture) {
    let c = client(&fx, "jl").await;
    let e = c
        .with_lock("obj", Some(ms(1000)), |_| async {
            Err::<Option<fencelock::Bytes>, _>(std::io::Error::other("boom"))
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Callback);
    assert!(e.to_string().contains("boom"));
    let g = c.try_acquire("obj").await.unwrap();
    assert!(g.is_some(), "the lock was released after the failure");
}

async fn a_with_lock_callback_that_outlives_its_lease_times_out_and_writes_nothing(fx: Fixture) {
    let c = client(&fx, "jl").await;
    c.with_lock("obj", None, |_| async {
        Ok::<_, std::io::Error>(Some(b("orig")))
    })
    .await
    .unwrap();
    let opts = LockOptions::timeout(ms(1000)).with_lease(ms(300));
    let e = c
        .with_lock_opts("obj", &opts, |_| async {
            tokio::time::sleep(ms(600)).await;
            Ok::<_, std::io::Error>(Some(b("late")))
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(c.get("obj").await.unwrap().state, Some(b("orig")));
}

async fn wait_returns_the_released_state_and_times_out_while_held(fx: Fixture) {
    let a = client(&fx, "jl").await;
    let bc = client(&fx, "jl").await;
    let g = a.acquire("obj", None).await.unwrap();
    let e = bc.wait("obj", Some(ms(300))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    let waiter = tokio::spawn(async move { bc.wait("obj", Some(ms(5000))).await });
    tokio::time::sleep(ms(100)).await;
    g.release(Some(b("released"))).await.unwrap();
    assert_eq!(waiter.await.unwrap().unwrap(), Some(b("released")));
    // A free key returns at once, and waiting takes no lock.
    assert_eq!(
        a.wait("obj", Some(ms(100))).await.unwrap(),
        Some(b("released"))
    );
    assert!(a.try_acquire("obj").await.unwrap().is_some());
}

async fn release_after_expiry_returns_false_and_keeps_the_old_state(fx: Fixture) {
    let c = builder(&fx, "jl")
        .lease(ms(300))
        .renew(false)
        .connect()
        .await
        .unwrap();
    let g = c.acquire("obj", None).await.unwrap();
    g.release(Some(b("old"))).await.unwrap();
    let g = c.acquire("obj", None).await.unwrap();
    tokio::time::sleep(ms(450)).await;
    assert!(g.is_lost());
    assert!(!g.release(Some(b("new"))).await.unwrap());
    assert_eq!(c.get("obj").await.unwrap().state, Some(b("old")));
}

async fn delete_removes_state_and_lock(fx: Fixture) {
    let c = client(&fx, "jl").await;
    let g = c.acquire("obj", None).await.unwrap();
    g.release(Some(b("v"))).await.unwrap();
    c.delete("obj").await.unwrap();
    let info = c.get("obj").await.unwrap();
    assert_eq!(info.state, None);
    assert_eq!(info.holder, None);
    let g = c.acquire("obj", Some(ms(1000))).await.unwrap();
    assert_eq!(g.initial_state(), None);
}

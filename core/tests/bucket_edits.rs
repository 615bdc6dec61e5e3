//! The bucket edited or undone under running clients (issue 13, bug 8). An operator who lowers
//! the bucket's `max_age` (`nats stream edit KV_<ns> --max-age`) while clients run: before, a
//! client kept the `max_age` it read at connect and granted leases the new one would expire
//! under their holders. And an acquire dropped because the caller's runtime shut down while its
//! write was in flight left the lock held for a whole lease.

mod support;

use fencelock::ErrorKind;
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_max_age_lowered_while_connected_bounds_later_leases() {
    let srv = NatsServer::start();
    let c = nats_builder(&srv, "edit")
        .lease(Duration::from_secs(30))
        .connect()
        .await
        .unwrap();
    c.acquire("warm", None)
        .await
        .unwrap()
        .release(None)
        .await
        .unwrap();
    let nc = async_nats::connect(srv.url()).await.unwrap();
    let js = async_nats::jetstream::new(nc);
    let mut stream = js.get_stream("KV_edit").await.unwrap();
    let mut config = stream.info().await.unwrap().config.clone();
    config.max_age = Duration::from_secs(5);
    config.duplicate_window = Duration::from_secs(1);
    js.update_stream(config).await.unwrap();

    // The server announces the update; give the client a moment to read it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let e = c
        .acquire("k", Some(Duration::from_secs(1)))
        .await
        .expect_err("a 30 s lease in a bucket whose entries now expire after 5 s");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let g = c
        .acquire_with(
            "k",
            &fencelock::LockOptions::default().with_lease(Duration::from_secs(2)),
        )
        .await
        .unwrap();
    assert!(g.release(None).await.unwrap());
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acquire_dropped_with_its_runtime_does_not_leave_the_lock_held() {
    let srv = NatsServer::start();
    let c = nats_builder(&srv, "shut")
        .lease(Duration::from_secs(30))
        .connect()
        .await
        .unwrap();
    // Our own release is cached, so the next acquire writes at once, without reading first.
    assert!(c
        .acquire("k", None)
        .await
        .unwrap()
        .release(None)
        .await
        .unwrap());
    srv.pause();
    let c2 = c.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _task = rt.spawn(async move {
            let _ = c2.acquire("k", None).await;
        });
        // The acquiring write goes out and waits for the frozen server.
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(300)).await });
        drop(rt); // shuts down: the acquire is dropped with its write in flight
    })
    .join()
    .unwrap();
    srv.resume();
    let other = nats_client(&srv, "shut").await;
    let g = other
        .acquire("k", Some(Duration::from_secs(5)))
        .await
        .expect("the undone acquisition must be released, not held for its 30 s lease");
    assert!(g.release(None).await.unwrap());
    other.close().await;
    c.close().await;
}

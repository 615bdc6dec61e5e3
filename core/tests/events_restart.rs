//! A namespace's lock events (`fencelock watch`) go on across a server restart: the watcher
//! subscribes again and reports what changed meanwhile, instead of ending with an error.

mod support;

use fencelock::{LockEvent, LockEventKind};
use futures::stream::{BoxStream, StreamExt};
use std::time::Duration;
use support::*;

/// How long the server stays down: long enough for the clients to notice and retry.
const DOWN: Duration = Duration::from_millis(1500);

async fn next(events: &mut BoxStream<'static, fencelock::Result<LockEvent>>) -> LockEvent {
    tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .expect("no lock event within 20 s")
        .expect("the event stream ended")
        .expect("the event stream failed")
}

/// Waits for an event about `key` of `kind`, skipping others (e.g. re-reports after a resync).
async fn expect(
    events: &mut BoxStream<'static, fencelock::Result<LockEvent>>,
    kind: LockEventKind,
    key: &str,
) -> LockEvent {
    loop {
        let ev = next(events).await;
        if ev.kind == kind && ev.key == key {
            return ev;
        }
    }
}

async fn events_survive_restart(fx: &mut Fixture, restart: impl FnOnce(&mut Fixture)) {
    let watcher = fx.builder("ev").connect().await.unwrap();
    let actor = fx.builder("ev").connect().await.unwrap();
    let mut events = watcher.lock_events("").await.unwrap();
    let g = actor.acquire("before", None).await.unwrap();
    expect(&mut events, LockEventKind::Acquired, "before").await;
    assert!(g.release(None).await.unwrap());
    expect(&mut events, LockEventKind::Released, "before").await;

    restart(fx);

    // Both clients reconnect by themselves; the watcher must resubscribe and keep reporting.
    let g = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match actor.acquire("after", Some(Duration::from_secs(2))).await {
                Ok(g) => break g,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    })
    .await
    .expect("could not acquire after the restart");
    let ev = expect(&mut events, LockEventKind::Acquired, "after").await;
    assert_eq!(ev.holder.unwrap().token, g.token());
    assert!(g.release(None).await.unwrap());
    expect(&mut events, LockEventKind::Released, "after").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_lock_events_go_on_after_a_server_restart() {
    let mut fx = Fixture::nats();
    events_survive_restart(&mut fx, |fx| match fx {
        Fixture::Nats(srv) => {
            srv.stop();
            std::thread::sleep(DOWN);
            srv.restart()
        }
        _ => unreachable!(),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lock_events_go_on_after_a_server_restart() {
    let mut fx = Fixture::redis();
    events_survive_restart(&mut fx, |fx| match fx {
        Fixture::Redis(srv) => {
            srv.stop();
            std::thread::sleep(DOWN);
            srv.restart()
        }
        _ => unreachable!(),
    })
    .await;
}

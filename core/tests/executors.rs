//! The async API can be awaited from any executor, and the blocking entry point works.

mod support;

use std::time::Duration;
use support::*;

#[test]
fn operations_can_be_awaited_from_a_non_tokio_executor() {
    let srv = NatsServer::start();
    futures::executor::block_on(async {
        let c = nats_client(&srv, "exec").await;
        let g = c.acquire("k", Some(Duration::from_secs(2))).await.unwrap();
        g.put(b("from futures::executor")).await.unwrap();
        assert!(g.release(None).await.unwrap());
        assert_eq!(
            c.wait("k", Some(Duration::from_secs(1))).await.unwrap(),
            Some(b("from futures::executor"))
        );
        c.close().await;
    });
}

#[test]
fn the_blocking_entry_point_runs_operations_on_the_core_runtime() {
    let srv = NatsServer::start();
    let c = fencelock::runtime::block_on(nats_client(&srv, "exec"));
    let g = fencelock::runtime::block_on(c.acquire("k", None)).unwrap();
    assert!(fencelock::runtime::block_on(g.release(Some(b("v")))).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let g =
                        fencelock::runtime::block_on(c.acquire("k", Some(Duration::from_secs(10))))
                            .unwrap();
                    fencelock::runtime::block_on(g.release(None)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[tokio::test]
async fn a_blocking_call_inside_async_code_is_an_error_not_a_panic() {
    let e = fencelock::runtime::try_block_on(async { 1 }).unwrap_err();
    assert_eq!(e.kind(), fencelock::ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("use the async API"), "{e}");
    let ok = std::thread::spawn(|| fencelock::runtime::try_block_on(async { 2 }))
        .join()
        .unwrap();
    assert_eq!(ok.unwrap(), 2);
}

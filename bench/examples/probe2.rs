use fencelock::Client;
use std::time::{Duration, Instant};

async fn handoff(
    a: &Client,
    b: &Client,
    reps: usize,
    on_core: bool,
    settle: Duration,
) -> Vec<Duration> {
    let cl = [a.clone(), b.clone()];
    let mut who = 0;
    let mut g = cl[0]
        .acquire("h", Some(Duration::from_secs(10)))
        .await
        .unwrap();
    let mut out = vec![];
    for _ in 0..reps {
        let w = 1 - who;
        let c = cl[w].clone();
        let fut = async move {
            let g = c.acquire("h", Some(Duration::from_secs(10))).await.unwrap();
            (g, Instant::now())
        };
        let h = if on_core {
            fencelock::runtime::handle().spawn(fut)
        } else {
            tokio::spawn(fut)
        };
        tokio::time::sleep(settle).await;
        let t0 = Instant::now();
        assert!(g.release(None).await.unwrap());
        let (g2, t1) = h.await.unwrap();
        out.push(t1 - t0);
        g = g2;
        who = w;
    }
    g.release(None).await.unwrap();
    out.sort();
    out
}

#[tokio::main]
async fn main() {
    let s = fencelock_testkit::NatsServer::start();
    let a = Client::nats(&s.url())
        .namespace("p")
        .connect()
        .await
        .unwrap();
    let b = Client::nats(&s.url())
        .namespace("p")
        .connect()
        .await
        .unwrap();
    handoff(&a, &b, 10, false, Duration::from_millis(5)).await;
    for settle in [5u64, 1] {
        for on_core in [false, true] {
            let v = handoff(&a, &b, 300, on_core, Duration::from_millis(settle)).await;
            println!(
                "settle {settle} ms, waiter on core runtime {on_core}: p50 {:?} p99 {:?}",
                v[150], v[296]
            );
        }
    }
}

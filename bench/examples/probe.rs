use async_nats::jetstream::{self, kv};
use futures::StreamExt;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let s = fencelock_testkit::NatsServer::start();
    let a = async_nats::connect(s.url()).await.unwrap();
    let b = async_nats::connect(s.url()).await.unwrap();
    let ja = jetstream::new(a);
    let kva = ja
        .create_key_value(kv::Config {
            bucket: "p".into(),
            history: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let kvb = jetstream::new(b).get_key_value("p").await.unwrap();
    // RTT
    let mut rev = kva.put("k", "x".into()).await.unwrap();
    let t = Instant::now();
    for _ in 0..2000 {
        rev = kva.update("k", "x".into(), rev).await.unwrap();
    }
    let rtt = t.elapsed() / 2000;
    println!("update RTT {rtt:?}");
    let mut w = kvb.watch("k").await.unwrap();
    let mut lat_seen = vec![];
    let mut lat_total = vec![];
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(3)).await;
        let t0 = Instant::now();
        let r = kva.update("k", "y".into(), rev).await.unwrap();
        let e = w.next().await.unwrap().unwrap();
        let t1 = Instant::now();
        assert_eq!(e.revision, r);
        rev = kvb.update("k", "z".into(), e.revision).await.unwrap();
        let t2 = Instant::now();
        let e = w.next().await.unwrap().unwrap();
        assert_eq!(e.revision, rev);
        lat_seen.push(t1 - t0);
        lat_total.push(t2 - t0);
    }
    lat_seen.sort();
    lat_total.sort();
    println!(
        "watch delivery p50 {:?} ({:.2} RTT); raw handoff p50 {:?} ({:.2} RTT)",
        lat_seen[150],
        lat_seen[150].as_secs_f64() / rtt.as_secs_f64(),
        lat_total[150],
        lat_total[150].as_secs_f64() / rtt.as_secs_f64()
    );
    // spawned watcher task: event timestamp taken in the watcher task
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(e)) = w.next().await {
            let _ = tx.send((e.revision, Instant::now()));
        }
    });
    let mut d = vec![];
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(3)).await;
        let t0 = Instant::now();
        rev = kva.update("k", "y".into(), rev).await.unwrap();
        let t_ack = Instant::now();
        let (r, t1) = rx.recv().await.unwrap();
        assert_eq!(r, rev);
        d.push((t_ack - t0, t1 - t0));
    }
    let mut acks: Vec<_> = d.iter().map(|x| x.0).collect();
    acks.sort();
    let mut ev: Vec<_> = d.iter().map(|x| x.1).collect();
    ev.sort();
    println!(
        "after sleep: ack p50 {:?}, watch event p50 {:?}",
        acks[150], ev[150]
    );
}

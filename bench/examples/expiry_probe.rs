//! Measures the NATS calls each candidate design for store-decided lease expiry would add, on a
//! local nats-server (the project's `.venv/bin/nats-server`):
//!
//! ```text
//! cargo run --release -p fencelock-bench --example expiry_probe
//! ```
//!
//! Figures are medians of N sequential calls (microseconds); docs/PROTOCOL-nats.md §8 records
//! what they decided.

use async_nats::header::HeaderMap;
use bytes::Bytes;
use fencelock_testkit::NatsServer;
use std::time::{Duration, Instant};

const N: usize = 2000;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e6
}

async fn api(c: &async_nats::Client, subject: String, body: String) -> serde_json::Value {
    let m = c
        .request(subject, body.into())
        .await
        .expect("JetStream API");
    serde_json::from_slice(&m.payload).expect("JSON")
}

async fn create(c: &async_nats::Client, name: &str, extra: &str) {
    let cfg = format!(
        r#"{{"name":"{name}","subjects":["{name}.>"],"max_msgs_per_subject":1,"storage":"file",
        "discard":"new","allow_direct":true,"allow_rollup_hdrs":true,"num_replicas":1{extra}}}"#
    );
    let r = api(c, format!("$JS.API.STREAM.CREATE.{name}"), cfg).await;
    assert!(r.get("error").is_none(), "creating {name}: {r}");
}

/// One compare-and-set publish, as fencelock's writes are; returns the new sequence.
async fn cas(c: &async_nats::Client, subject: &str, expect: u64, ttl: Option<&str>) -> u64 {
    let mut h = HeaderMap::new();
    h.insert(
        "Nats-Expected-Last-Subject-Sequence",
        expect.to_string().as_str(),
    );
    if let Some(t) = ttl {
        h.insert("Nats-TTL", t);
    }
    let m = c
        .request_with_headers(subject.to_owned(), h, Bytes::from_static(&[0u8; 64]))
        .await
        .expect("publish");
    let r: serde_json::Value = serde_json::from_slice(&m.payload).expect("ack");
    r["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("CAS refused: {r}"))
}

async fn timed<F, Fut>(mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut v = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        f().await;
        v.push(t.elapsed());
    }
    median(v)
}

#[tokio::main]
async fn main() {
    let srv = NatsServer::start();
    let c = async_nats::connect(srv.url()).await.expect("connect");
    println!("nats-server {}", c.server_info().version);
    create(&c, "PLAIN", "").await;
    create(
        &c,
        "TTL",
        r#","allow_msg_ttl":true,"subject_delete_marker_ttl":60000000000"#,
    )
    .await;
    create(&c, "ATOMIC", r#","allow_atomic":true"#).await;

    let mut seq = 0;
    let mut v = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        seq = cas(&c, "PLAIN.k", seq, None).await;
        v.push(t.elapsed());
    }
    println!(
        "CAS publish (today's acquire/release write)      {:>8.1}",
        median(v)
    );

    let mut seq = 0;
    let mut v = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        seq = cas(&c, "TTL.k", seq, Some("30s")).await;
        v.push(t.elapsed());
    }
    println!(
        "CAS publish with Nats-TTL (allow_msg_ttl stream)  {:>8.1}",
        median(v)
    );

    // Two subjects, state then lock, pipelined on one connection (release with new state).
    let (mut ls, mut ss) = (0u64, 0u64);
    let mut v = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        let (a, b) = tokio::join!(
            cas(&c, "TTL.s", ss, None),
            cas(&c, "TTL.l", ls, Some("30s"))
        );
        (ss, ls) = (a, b);
        v.push(t.elapsed());
    }
    println!(
        "two CAS publishes pipelined (state + lock)        {:>8.1}",
        median(v)
    );

    // Atomic batch of two messages (2.12+): the first without reply, the commit as a request.
    let mut v = Vec::with_capacity(N);
    for i in 0..N {
        let id = format!("b{i}");
        let t = Instant::now();
        let mut h1 = HeaderMap::new();
        h1.insert("Nats-Batch-Id", id.as_str());
        h1.insert("Nats-Batch-Sequence", "1");
        c.publish_with_headers("ATOMIC.s", h1, Bytes::from_static(&[0u8; 64]))
            .await
            .expect("publish");
        let mut h2 = HeaderMap::new();
        h2.insert("Nats-Batch-Id", id.as_str());
        h2.insert("Nats-Batch-Sequence", "2");
        h2.insert("Nats-Batch-Commit", "1");
        let m = c
            .request_with_headers("ATOMIC.l", h2, Bytes::from_static(&[0u8; 64]))
            .await
            .expect("commit");
        v.push(t.elapsed());
        if i == 0 {
            println!(
                "  (batch commit answered {})",
                String::from_utf8_lossy(&m.payload)
            );
        }
    }
    println!(
        "atomic batch of two messages                      {:>8.1}",
        median(v)
    );

    let direct = timed(|| {
        let c = c.clone();
        async move {
            let _ = c
                .request(
                    "$JS.API.DIRECT.GET.PLAIN",
                    Bytes::from_static(br#"{"last_by_subj":"PLAIN.k"}"#),
                )
                .await
                .expect("direct get");
        }
    })
    .await;
    println!("direct get last_by_subj (load)                    {direct:>8.1}");

    let info = timed(|| {
        let c = c.clone();
        async move {
            let r = api(&c, "$JS.API.STREAM.INFO.PLAIN".into(), String::new()).await;
            assert!(r["ts"].is_string(), "no ts in {r}");
        }
    })
    .await;
    println!("STREAM.INFO (server time `ts`)                    {info:>8.1}");

    let both = timed(|| {
        let c = c.clone();
        async move {
            let get = c.request(
                "$JS.API.DIRECT.GET.PLAIN",
                Bytes::from_static(br#"{"last_by_subj":"PLAIN.k"}"#),
            );
            let info = api(&c, "$JS.API.STREAM.INFO.PLAIN".into(), String::new());
            let (g, _) = tokio::join!(get, info);
            g.expect("direct get");
        }
    })
    .await;
    println!("direct get + STREAM.INFO concurrently             {both:>8.1}");

    // How late after its TTL does the server replace a message by its delete marker? Markers
    // are stored, not published on the subject, so poll the subject's last message (1 ms).
    let mut late = Vec::new();
    let mut seq = 0;
    for _ in 0..8 {
        let sent = Instant::now();
        cas(&c, "TTL.m", seq, Some("1s")).await;
        loop {
            let (last, marker) = last_message(&c, "TTL", "TTL.m").await;
            if marker {
                late.push(sent.elapsed().as_secs_f64() * 1e3);
                seq = last;
                break;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "no delete marker in 10 s"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let shown: Vec<String> = late.iter().map(|l| format!("{l:.0}")).collect();
    println!(
        "delete marker replaced a message with a 1 s TTL after (ms, from its publish): {}",
        shown.join(", ")
    );
}

/// The sequence of the subject's last message and whether it is a server delete marker.
async fn last_message(c: &async_nats::Client, stream: &str, subject: &str) -> (u64, bool) {
    let m = c
        .request(
            format!("$JS.API.DIRECT.GET.{stream}"),
            format!(r#"{{"last_by_subj":"{subject}"}}"#).into(),
        )
        .await
        .expect("direct get");
    let h = m.headers.as_ref().expect("headers");
    let seq = h
        .get("Nats-Sequence")
        .and_then(|v| v.as_str().parse().ok())
        .unwrap_or(0);
    (seq, h.get("Nats-Marker-Reason").is_some())
}

//! W4 alone, fencelock or the raw async-nats cycle, for profiling one side at a time:
//!
//! ```text
//! cargo run --release -p fencelock-bench --example w4_alone -- fl|raw [seconds] [tasks]
//! ```
//!
//! Starts its own nats-server and prints cycles/s with client and server CPU per cycle.

use async_nats::jetstream::{self, kv};
use async_nats::HeaderMap;
use bytes::Bytes;
use fencelock_testkit::NatsServer;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cpu_self() -> Duration {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn cpu_pid(pid: u32) -> Duration {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = s.rsplit(") ").next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_else(|| "fl".into());
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let tasks: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64);
    // W4_URL + W4_PID: a server started elsewhere (so that `perf stat` of this process leaves
    // the server out).
    let given = std::env::var("W4_URL").ok();
    let srv = given.is_none().then(NatsServer::start);
    let (url, pid) = match (&srv, given) {
        (Some(s), _) => (s.url(), s.pid().unwrap()),
        (None, Some(u)) => (u, std::env::var("W4_PID").unwrap().parse().unwrap()),
        _ => unreachable!(),
    };
    let d = Duration::from_secs(secs);
    let (n, el, c, s) = if mode == "raw" {
        let nc = async_nats::connect(&url).await.unwrap();
        let js = jetstream::new(nc);
        let kv = js
            .create_key_value(kv::Config {
                bucket: format!("raw{}", std::process::id()),
                history: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        let (js, kv) = (Arc::new(js), Arc::new(kv));
        let run = |d: Duration| {
            let (js, kv) = (js.clone(), kv.clone());
            async move {
                let end = Instant::now() + d;
                let hs: Vec<_> = (0..tasks)
                    .map(|i| {
                        let (js, kv) = (js.clone(), kv.clone());
                        tokio::spawn(async move {
                            let key = format!("k{i}");
                            let subject = format!("$KV.raw{}.{key}", std::process::id());
                            let mut last = match kv.entry(key.as_str()).await.unwrap() {
                                Some(e) => e.revision,
                                None => 0,
                            };
                            let mut n = 0u64;
                            while Instant::now() < end {
                                let rev = kv
                                    .update(key.as_str(), Bytes::from_static(&[7u8; 48]), last)
                                    .await
                                    .unwrap();
                                let mut h = HeaderMap::new();
                                h.insert("KV-Operation", "DEL");
                                h.insert(
                                    async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                                    rev.to_string().as_str(),
                                );
                                let ack = js
                                    .publish_with_headers(subject.clone(), h, Bytes::new())
                                    .await
                                    .unwrap()
                                    .await
                                    .unwrap();
                                last = ack.sequence;
                                n += 1;
                            }
                            n
                        })
                    })
                    .collect();
                let mut t = 0;
                for h in hs {
                    t += h.await.unwrap();
                }
                t
            }
        };
        run(Duration::from_millis(500)).await;
        let (c0, s0, t0) = (cpu_self(), cpu_pid(pid), Instant::now());
        let n = run(d).await;
        (n, t0.elapsed(), cpu_self() - c0, cpu_pid(pid) - s0)
    } else {
        let client = fencelock::Client::builder(&url)
            .namespace(format!("fl{}", std::process::id()))
            .connect()
            .await
            .unwrap();
        let run = |d: Duration| {
            let client = client.clone();
            async move {
                let end = Instant::now() + d;
                let hs: Vec<_> = (0..tasks)
                    .map(|i| {
                        let client = client.clone();
                        tokio::spawn(async move {
                            let key = format!("k{i}");
                            let mut n = 0u64;
                            while Instant::now() < end {
                                let g = client
                                    .acquire(key.as_str(), Some(Duration::from_secs(30)))
                                    .await
                                    .unwrap();
                                assert!(g.release(None).await.unwrap());
                                n += 1;
                            }
                            n
                        })
                    })
                    .collect();
                let mut t = 0;
                for h in hs {
                    t += h.await.unwrap();
                }
                t
            }
        };
        run(Duration::from_millis(500)).await;
        let (c0, s0, t0) = (cpu_self(), cpu_pid(pid), Instant::now());
        let n = run(d).await;
        (n, t0.elapsed(), cpu_self() - c0, cpu_pid(pid) - s0)
    };
    let per = |x: Duration| x.as_secs_f64() * 1e6 / n as f64;
    println!(
        "{mode}: {:.0} cycles/s; CPU per cycle {:.1} us client + {:.1} us server",
        n as f64 / el.as_secs_f64(),
        per(c),
        per(s)
    );
}

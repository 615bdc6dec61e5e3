//! The core's soak loops, run in a worker process of their own so that each row's RSS is its
//! own. Every binding's worker runs the same mix (see `soak/README.md`).

use crate::rss::rss_kib;
use bytes::Bytes;
use fencelock::Client;
use std::time::{Duration, Instant};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Keys the mixed loop rotates over.
const KEYS: u64 = 64;
/// The key a second client holds for the whole run, for the try-acquire misses.
pub const HELD_KEY: &str = "soak-held";
const TIMEOUT: Option<Duration> = Some(Duration::from_secs(10));

/// Prints an RSS mark as the orchestrator reads it: `rss <percent> <KiB>`.
fn mark(percent: u64) {
    println!("rss {percent} {}", rss_kib(None));
}

async fn connect(url: &str, ns: &str) -> Res<Client> {
    Ok(Client::builder(url).namespace(ns).connect().await?)
}

/// The mixed loop: per 8 cycles, 4 acquire + release, 2 with_lock increments, 1 try_acquire on
/// a key held by another client, 1 wait on a free key.
pub async fn mixed(url: &str, ns: &str, cycles: u64) -> Res<()> {
    let client = connect(url, ns).await?;
    let other = connect(url, ns).await?;
    let held = other.acquire(HELD_KEY, TIMEOUT).await?;
    for i in 0..cycles {
        let key = format!("soak-{}", i % KEYS);
        match i % 8 {
            0..=3 => {
                let g = client.acquire(key.as_str(), TIMEOUT).await?;
                let state = (i % 2 == 0).then(|| Bytes::from(i.to_string()));
                if !g.release(state).await? {
                    return Err(format!("release of {key} at cycle {i} found the lock lost").into());
                }
            }
            4 | 5 => {
                client
                    .with_lock(key.as_str(), TIMEOUT, |s| async move {
                        let n: u64 = s
                            .and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
                            .unwrap_or(0);
                        Ok::<_, std::io::Error>(Some(Bytes::from((n + 1).to_string())))
                    })
                    .await?;
            }
            6 => {
                if client.try_acquire(HELD_KEY).await?.is_some() {
                    return Err("try_acquire took a key another client holds".into());
                }
            }
            _ => {
                client.wait(key.as_str(), TIMEOUT).await?;
            }
        }
        if i + 1 == cycles / 10 {
            mark(10);
        }
    }
    mark(100);
    held.release(None).await?;
    other.close().await;
    client.close().await;
    Ok(())
}

/// Churn of held locks: acquire `batch` distinct keys, release them all; `cycles / batch`
/// rounds.
pub async fn held_churn(url: &str, ns: &str, cycles: u64, batch: u64) -> Res<()> {
    let client = connect(url, ns).await?;
    let rounds = (cycles / batch).max(1);
    for r in 0..rounds {
        let mut guards = Vec::with_capacity(batch as usize);
        for k in 0..batch {
            guards.push(client.acquire(format!("held-{k}"), TIMEOUT).await?);
        }
        for g in guards {
            g.release(None).await?;
        }
        if r + 1 == rounds.div_ceil(10) {
            mark(10);
        }
    }
    mark(100);
    client.close().await;
    Ok(())
}

/// Churn of clients: connect, one lock cycle, close; `cycles` times.
pub async fn client_churn(url: &str, ns: &str, cycles: u64) -> Res<()> {
    for i in 0..cycles {
        let client = connect(url, ns).await?;
        let g = client.acquire("churn", TIMEOUT).await?;
        g.release(None).await?;
        client.close().await;
        if i + 1 == cycles.div_ceil(10) {
            mark(10);
        }
    }
    mark(100);
    Ok(())
}

/// Runs one worker mode and prints `ok <cycles> <ms>` when done.
pub async fn run(mode: &str, url: &str, ns: &str, cycles: u64) -> Res<()> {
    let started = Instant::now();
    match mode {
        "mixed" => mixed(url, ns, cycles).await?,
        "held-churn" => held_churn(url, ns, cycles, 10_000).await?,
        "client-churn" => client_churn(url, ns, cycles).await?,
        other => return Err(format!("unknown worker mode {other:?}").into()),
    }
    println!("ok {cycles} {}", started.elapsed().as_millis());
    Ok(())
}

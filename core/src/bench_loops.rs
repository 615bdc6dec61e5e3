//! The core's W1-W4 loops (docs/BENCHMARKS.md), for the bindings' benchmarks. Not part of the
//! API: hidden from the docs, no stability promise.
//!
//! A binding's benchmark runs these rounds in its own process, interleaved with the same
//! workloads through the binding, against one server: on a shared machine whose speed drifts
//! over minutes, only rounds taken side by side give a ratio that repeats. The loops match
//! `fencelock-bench`'s: W1 one task cycling over 64 keys, W2 `with_lock` increments of one
//! counter from 2 clients x 8 tasks, W3 the lock handed between two clients with the waiter
//! settled into its wait, W4 one task per key over one client. Run them inside the core
//! runtime (`runtime::block_on`), as `fencelock-bench` runs in its own.

use crate::{Bytes, Client, LockGuard};
use std::time::{Duration, Instant};

/// What a round failed with.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// Timeout of every acquisition: never fires unless something is broken.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

async fn cycle(client: &Client, key: &str) -> Result<(), BenchError> {
    let g = client.acquire(key, Some(ACQUIRE_TIMEOUT)).await?;
    if !g.release(None).await? {
        return Err(format!("release of {key:?} reported the lock lost").into());
    }
    Ok(())
}

/// W1: acquire + release in one task, keys rotating over `keys`. Returns (cycles, elapsed).
pub async fn w1(
    client: &Client,
    keys: &[String],
    d: Duration,
) -> Result<(u64, Duration), BenchError> {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < d {
        cycle(client, &keys[(n % keys.len() as u64) as usize]).await?;
        n += 1;
    }
    Ok((n, start.elapsed()))
}

/// W4: one task per key of `keys` over one client. Returns (cycles, elapsed).
pub async fn w4(
    client: &Client,
    keys: &[String],
    d: Duration,
) -> Result<(u64, Duration), BenchError> {
    let start = Instant::now();
    let end = start + d;
    let tasks: Vec<_> = keys
        .iter()
        .map(|k| {
            let (client, key) = (client.clone(), k.clone());
            crate::runtime::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    cycle(&client, &key).await?;
                    n += 1;
                }
                Ok::<_, BenchError>(n)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok((total, start.elapsed()))
}

/// W2's counter: a decimal number (JSON too), absent = 0.
pub fn counter(state: Option<&Bytes>) -> Result<u64, std::io::Error> {
    match state {
        None => Ok(0),
        Some(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("counter state {b:?} is not a decimal number"),
                )
            }),
    }
}

/// W2: `tasks` tasks per client, each incrementing the counter in `key` with `with_lock`.
/// Returns the increments of each task and the elapsed time.
pub async fn w2(
    clients: &[Client],
    tasks: usize,
    key: &str,
    d: Duration,
) -> Result<(Vec<u64>, Duration), BenchError> {
    let start = Instant::now();
    let end = start + d;
    let mut handles = Vec::new();
    for client in clients {
        for _ in 0..tasks {
            let (client, key) = (client.clone(), key.to_owned());
            handles.push(crate::runtime::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    client
                        .with_lock(key.as_str(), Some(ACQUIRE_TIMEOUT), |s| async move {
                            let v = counter(s.as_ref())? + 1;
                            Ok::<_, std::io::Error>(Some(Bytes::from(v.to_string())))
                        })
                        .await?;
                    n += 1;
                }
                Ok::<_, BenchError>(n)
            }));
        }
    }
    let mut counts = Vec::with_capacity(handles.len());
    for h in handles {
        counts.push(h.await??);
    }
    Ok((counts, start.elapsed()))
}

/// W3: the lock of one key handed between two clients. Each repetition the other client starts
/// waiting in `acquire`, settles into its wait, then the holder releases; the figure is the time
/// from the release call to the waiter's `acquire` returning.
pub struct Handoff {
    clients: [Client; 2],
    key: String,
    holder: Option<(usize, LockGuard)>,
    settle: Duration,
}

impl Handoff {
    /// Handoffs of `key` between `clients`, the waiter settling `settle` into its wait.
    pub fn new(clients: [Client; 2], key: &str, settle: Duration) -> Handoff {
        Handoff {
            clients,
            key: key.to_owned(),
            holder: None,
            settle,
        }
    }

    /// Runs `reps` handoffs, returning each one's latency.
    pub async fn run(&mut self, reps: usize) -> Result<Vec<Duration>, BenchError> {
        let (mut who, mut guard) = match self.holder.take() {
            Some(h) => h,
            None => (
                0,
                self.clients[0]
                    .acquire(self.key.as_str(), Some(ACQUIRE_TIMEOUT))
                    .await?,
            ),
        };
        let mut out = Vec::with_capacity(reps);
        for _ in 0..reps {
            let waiter = 1 - who;
            let (client, key) = (self.clients[waiter].clone(), self.key.clone());
            let wait = crate::runtime::spawn(async move {
                let g = client.acquire(key, Some(ACQUIRE_TIMEOUT)).await;
                (g, Instant::now())
            });
            tokio::time::sleep(self.settle).await;
            if wait.is_finished() {
                return Err("W3: the waiter acquired while the other client held the lock".into());
            }
            let released_at = Instant::now();
            if !guard.release(None).await? {
                return Err("W3: release reported the lock lost".into());
            }
            let (g, acquired_at) = wait.await?;
            out.push(acquired_at.saturating_duration_since(released_at));
            who = waiter;
            guard = g?;
        }
        self.holder = Some((who, guard));
        Ok(out)
    }

    /// Releases the lock if held.
    pub async fn finish(&mut self) -> Result<(), BenchError> {
        if let Some((_, g)) = self.holder.take() {
            g.release(None).await?;
        }
        Ok(())
    }
}

/// Interleaving a binding's rounds with the core's: the core's clients of one run, opened once.
/// Every figure is returned as plain numbers so a binding passes it on without types of its own.
pub struct Rounds {
    w1: Client,
    w2: [Client; 2],
    w4: Client,
    handoff: Handoff,
    w1_keys: Vec<String>,
    w4_keys: Vec<String>,
    w2_key: String,
}

/// W2's tasks per client.
pub const W2_TASKS: usize = 8;
/// W3's pause between the waiter's call and the release, as in `fencelock-bench`.
pub const W3_SETTLE: Duration = Duration::from_millis(5);

fn keys(prefix: &str) -> Vec<String> {
    (0..64).map(|i| format!("{prefix}{i}")).collect()
}

impl Rounds {
    /// Connects the core's clients of `namespace` at `url` (keys prefixed `core-`).
    pub async fn open(url: &str, namespace: &str) -> Result<Rounds, BenchError> {
        let connect = |label: &'static str| async move {
            Client::builder(url)
                .namespace(namespace)
                .label(label)
                .connect()
                .await
        };
        let handoff = [
            connect("core bench W3 A").await?,
            connect("core bench W3 B").await?,
        ];
        let r = Rounds {
            w1: connect("core bench W1").await?,
            w2: [
                connect("core bench W2 a").await?,
                connect("core bench W2 b").await?,
            ],
            w4: connect("core bench W4").await?,
            handoff: Handoff::new(handoff, "core-w3", W3_SETTLE),
            w1_keys: keys("core-w1-"),
            w4_keys: keys("core-w4-"),
            w2_key: "core-w2".to_owned(),
        };
        r.w2[0].delete(r.w2_key.as_str()).await?;
        Ok(r)
    }

    /// One round of `workload` ("W1".."W4") lasting `amount` seconds (W3: `amount` handoffs).
    /// W1 and W4 return [cycles, elapsed ms]; W2 [elapsed ms, increments of each task...];
    /// W3 each handoff's latency in ms.
    pub async fn round(&mut self, workload: &str, amount: f64) -> Result<Vec<f64>, BenchError> {
        let secs = || {
            Duration::try_from_secs_f64(amount)
                .map_err(|e| BenchError::from(format!("{workload}: seconds {amount}: {e}")))
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        Ok(match workload {
            "W1" => {
                let (n, d) = w1(&self.w1, &self.w1_keys, secs()?).await?;
                vec![n as f64, ms(d)]
            }
            "W2" => {
                let (counts, d) = w2(&self.w2, W2_TASKS, &self.w2_key, secs()?).await?;
                std::iter::once(ms(d))
                    .chain(counts.into_iter().map(|c| c as f64))
                    .collect()
            }
            "W3" => {
                let lat = self.handoff.run(amount as usize).await?;
                lat.into_iter().map(ms).collect()
            }
            "W4" => {
                let (n, d) = w4(&self.w4, &self.w4_keys, secs()?).await?;
                vec![n as f64, ms(d)]
            }
            other => return Err(format!("unknown workload {other:?} (W1, W2, W3 or W4)").into()),
        })
    }

    /// W2's counter now (the increments of every round so far, when the count is exact).
    pub async fn w2_counter(&self) -> Result<u64, BenchError> {
        Ok(counter(
            self.w2[0].get(self.w2_key.as_str()).await?.state.as_ref(),
        )?)
    }

    /// Releases the handoff's lock and closes the clients.
    pub async fn close(mut self) -> Result<(), BenchError> {
        let out = self.handoff.finish().await;
        for c in [&self.w1, &self.w2[0], &self.w2[1], &self.w4] {
            c.close().await;
        }
        for c in &self.handoff.clients {
            c.close().await;
        }
        out
    }
}

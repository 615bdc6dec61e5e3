//! W1-W4 with the fencelock core (W5 lives in `scale.rs`).

use crate::Res;
use bytes::Bytes;
use fencelock::{Client, LockGuard};
use std::time::{Duration, Instant};

/// Timeout of every acquisition: long enough never to fire unless something is broken.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects a client of `namespace`; the URL's scheme (`nats://` or `redis://`) picks the
/// backend.
pub async fn connect(url: &str, namespace: &str, label: &str) -> Res<Client> {
    Ok(Client::builder(url)
        .namespace(namespace)
        .label(label)
        .connect()
        .await?)
}

async fn cycle(client: &Client, key: &str) -> Res<()> {
    let g = client.acquire(key, Some(ACQUIRE_TIMEOUT)).await?;
    if !g.release(None).await? {
        return Err(format!("release of {key:?} reported the lock lost").into());
    }
    Ok(())
}

/// W1: one task, acquire + release, keys rotating. Returns (cycles, elapsed).
pub async fn uncontended(client: &Client, keys: &[String], d: Duration) -> Res<(u64, Duration)> {
    let start = Instant::now();
    let end = start + d;
    let mut n = 0u64;
    while Instant::now() < end {
        cycle(client, &keys[(n % keys.len() as u64) as usize]).await?;
        n += 1;
    }
    Ok((n, start.elapsed()))
}

/// W4: one task per key over one client, acquire + release loops. Returns (cycles, elapsed).
pub async fn parallel(client: &Client, keys: &[String], d: Duration) -> Res<(u64, Duration)> {
    let start = Instant::now();
    let end = start + d;
    let tasks: Vec<_> = keys
        .iter()
        .map(|k| {
            let (client, key) = (client.clone(), k.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    cycle(&client, &key).await?;
                    n += 1;
                }
                Ok::<_, crate::BoxError>(n)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok((total, start.elapsed()))
}

fn counter(state: Option<&Bytes>) -> Result<u64, std::io::Error> {
    match state {
        None => Ok(0),
        Some(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("counter state {b:?} is not a decimal number"),
                )
            }),
    }
}

/// W2: `tasks` tasks per client incrementing the counter in `key` with `with_lock`. Each call's
/// wait is timed from calling `with_lock` to its callback starting (the lock held).
pub async fn contended(
    clients: &[Client],
    tasks: usize,
    key: &str,
    d: Duration,
) -> Res<crate::fairness::Round> {
    let start = Instant::now();
    let end = start + d;
    let mut handles = Vec::new();
    for client in clients {
        for _ in 0..tasks {
            let (client, key) = (client.clone(), key.to_owned());
            handles.push(tokio::spawn(async move {
                let mut n = 0u64;
                let mut longest = Duration::ZERO;
                while Instant::now() < end {
                    let called = Instant::now();
                    let held_at = std::sync::OnceLock::new();
                    let held = &held_at;
                    client
                        .with_lock(key.as_str(), Some(ACQUIRE_TIMEOUT), |s| async move {
                            let _ = held.set(Instant::now());
                            let v = counter(s.as_ref())? + 1;
                            Ok::<_, std::io::Error>(Some(Bytes::from(v.to_string())))
                        })
                        .await?;
                    if let Some(t) = held_at.get() {
                        longest = longest.max(t.saturating_duration_since(called));
                    }
                    n += 1;
                }
                Ok::<_, crate::BoxError>((n, longest))
            }));
        }
    }
    let mut round = crate::fairness::Round {
        ops: 0,
        elapsed: Duration::ZERO,
        per_task: Vec::with_capacity(handles.len()),
        longest_wait: Duration::ZERO,
    };
    for h in handles {
        let (n, longest) = h.await??;
        round.ops += n;
        round.per_task.push(n);
        round.longest_wait = round.longest_wait.max(longest);
    }
    round.elapsed = start.elapsed();
    Ok(round)
}

/// Reads W2's counter.
pub async fn read_counter(client: &Client, key: &str) -> Res<u64> {
    Ok(counter(client.get(key).await?.state.as_ref())?)
}

/// W3: the lock of `key` ping-pongs between two clients. Each repetition: the other client
/// starts waiting in `acquire`, we let it settle into its wait, then the holder releases;
/// the figure is the time from the release call to the waiter's `acquire` returning.
pub struct Handoff {
    clients: [Client; 2],
    key: String,
    holder: Option<(usize, LockGuard)>,
    settle: Duration,
}

impl Handoff {
    pub fn new(clients: [Client; 2], key: &str, settle: Duration) -> Handoff {
        Handoff {
            clients,
            key: key.to_owned(),
            holder: None,
            settle,
        }
    }

    /// Runs `reps` handoffs, returning each one's latency.
    pub async fn run(&mut self, reps: usize) -> Res<Vec<Duration>> {
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
            let wait = tokio::spawn(async move {
                let g = client.acquire(key, Some(ACQUIRE_TIMEOUT)).await;
                (g, Instant::now())
            });
            tokio::time::sleep(self.settle).await;
            if wait.is_finished() {
                let (g, _) = wait.await?;
                return Err(format!(
                    "W3: the waiter's acquire returned while the other client held the lock: \
                     {g:?}"
                )
                .into());
            }
            let released_at = Instant::now();
            if !guard.release(None).await? {
                return Err("W3: release reported the lock lost".into());
            }
            let (g, acquired_at) = wait.await?;
            let g = g?;
            out.push(acquired_at.saturating_duration_since(released_at));
            who = waiter;
            guard = g;
        }
        self.holder = Some((who, guard));
        Ok(out)
    }

    /// Releases the lock if held.
    pub async fn finish(&mut self) -> Res<()> {
        if let Some((_, g)) = self.holder.take() {
            g.release(None).await?;
        }
        Ok(())
    }
}

//! The Rust core's W1 and W3, run from inside the JVM for the Kotlin benchmark
//! (`make -C bindings/jvm bench`), so that core and Kotlin rounds interleave in one process
//! against one server: on a shared machine whose speed drifts over minutes, that keeps their
//! ratio repeatable. Like `fencelock-bench`, the caller thread blocks on a multi-thread tokio
//! runtime where the clients' connections live. Also no-op exports that measure what one JNA
//! crossing and one async call cost. Not part of the API.

use crate::error::{FencelockError, Result};
use std::future::Future;
use std::time::{Duration, Instant};

const KEYS: usize = 64;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `body` on a fresh multi-thread runtime, blocking the calling thread.
fn on_bench_runtime<T>(body: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| FencelockError::invalid_argument(format!("bench runtime: {e}")))?
        .block_on(body)
}

async fn bench_client(url: &str, namespace: &str, label: &str) -> Result<fencelock::Client> {
    Ok(fencelock::Client::builder(url)
        .namespace(namespace)
        .label(label)
        .connect()
        .await?)
}

/// Microseconds per acquire + release over `seconds` (after a 200 ms warm-up): one client of
/// `namespace` at `url`, sequential, keys rotating over 64 names.
#[uniffi::export]
pub fn bench_core_w1(url: String, namespace: String, seconds: f64) -> Result<f64> {
    let run = Duration::try_from_secs_f64(seconds)
        .map_err(|e| FencelockError::invalid_argument(format!("seconds: {e}")))?;
    on_bench_runtime(async move {
        let client = bench_client(&url, &namespace, "jvm bench: core W1").await?;
        let keys: Vec<String> = (0..KEYS).map(|i| format!("core-w1-{i}")).collect();
        let cycles = |d: Duration| {
            let (client, keys) = (&client, &keys);
            async move {
                let start = Instant::now();
                let mut n = 0usize;
                while start.elapsed() < d {
                    let g = client
                        .acquire(&keys[n % KEYS], Some(ACQUIRE_TIMEOUT))
                        .await?;
                    g.release(None).await?;
                    n += 1;
                }
                Ok::<f64, FencelockError>(start.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64)
            }
        };
        cycles(Duration::from_millis(200)).await?;
        let us = cycles(run).await;
        client.close().await;
        us
    })
}

/// W3, `reps` handoffs of one key between two clients of `namespace` at `url` (after 5 unmeasured
/// ones): the holder releases `settle_ms` after the other client started waiting in `acquire`;
/// each latency (microseconds) runs from calling release to the waiter holding the lock.
#[uniffi::export]
pub fn bench_core_w3(
    url: String,
    namespace: String,
    reps: u32,
    settle_ms: u32,
) -> Result<Vec<f64>> {
    let settle = Duration::from_millis(settle_ms.into());
    on_bench_runtime(async move {
        let clients = [
            bench_client(&url, &namespace, "jvm bench: core W3 A").await?,
            bench_client(&url, &namespace, "jvm bench: core W3 B").await?,
        ];
        let key = "core-w3";
        let mut guard = clients[0].acquire(key, Some(ACQUIRE_TIMEOUT)).await?;
        let mut holder = 0;
        let mut out = Vec::with_capacity(reps as usize);
        for i in 0..reps as usize + 5 {
            let waiter = clients[1 - holder].clone();
            let wait = tokio::spawn(async move {
                let g = waiter.acquire(key, Some(ACQUIRE_TIMEOUT)).await;
                (g, Instant::now())
            });
            tokio::time::sleep(settle).await;
            let released_at = Instant::now();
            if !guard.release(None).await? {
                return Err(FencelockError::invalid_argument(
                    "W3: release reported the lock lost".into(),
                ));
            }
            let (g, acquired_at) = wait.await.map_err(|e| {
                FencelockError::invalid_argument(format!("W3: the waiter failed: {e}"))
            })?;
            guard = g?;
            holder = 1 - holder;
            if i >= 5 {
                let us = acquired_at
                    .saturating_duration_since(released_at)
                    .as_secs_f64()
                    * 1e6;
                out.push(us);
            }
        }
        guard.release(None).await?;
        for c in &clients {
            c.close().await;
        }
        Ok(out)
    })
}

/// A synchronous export that does nothing: one JNA crossing, for the benchmark's crossing cost.
#[uniffi::export]
pub fn bench_noop_sync(x: u64) -> u64 {
    x
}

/// An async export that is ready at its first poll: the async machinery without any wake-up.
#[uniffi::export]
pub async fn bench_noop_async(x: u64) -> u64 {
    x
}

/// An async export completed by a core runtime thread: the wake-up path an I/O reply takes
/// (the runtime thread calls into the JVM to resume the coroutine).
#[uniffi::export]
pub async fn bench_noop_wake(x: u64) -> u64 {
    let task = fencelock::runtime::handle().spawn(async move { x });
    task.await.unwrap_or(x)
}

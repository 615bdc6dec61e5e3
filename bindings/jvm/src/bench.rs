//! The Rust core's W1, run from inside the JVM for the Kotlin benchmark
//! (`make -C bindings/jvm bench`), so that core and Kotlin rounds interleave in one process
//! against one server: on a shared machine whose speed drifts over minutes, that keeps their
//! ratio repeatable. Like `fencelock-bench`, the caller thread blocks on a multi-thread tokio
//! runtime where the client's connection lives. Not part of the API.

use crate::error::{FencelockError, Result};
use std::time::{Duration, Instant};

const KEYS: usize = 64;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Microseconds per acquire + release over `seconds` (after a 200 ms warm-up): one client of
/// `namespace` at `url`, sequential, keys rotating over 64 names.
#[uniffi::export]
pub fn bench_core_w1(url: String, namespace: String, seconds: f64) -> Result<f64> {
    let run = Duration::try_from_secs_f64(seconds)
        .map_err(|e| FencelockError::invalid_argument(format!("seconds: {e}")))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| FencelockError::invalid_argument(format!("bench runtime: {e}")))?;
    rt.block_on(async move {
        let client = fencelock::Client::builder(&url)
            .namespace(&namespace)
            .label("jvm bench: core W1")
            .connect()
            .await?;
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

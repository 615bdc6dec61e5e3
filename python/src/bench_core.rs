//! The Rust core's W1, run from inside the Python process for `bench/bench.py`.
//!
//! `fencelock-bench` measures W1 as a caller thread blocking on a multi-thread tokio runtime
//! where the client's connection lives; this does the same, so the Python benchmark can
//! interleave short core and Python rounds in one process against one server. On a shared
//! machine whose speed drifts by 20 % over minutes, that is what makes their ratio repeatable.
//! Not part of the API.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::time::{Duration, Instant};

const KEYS: usize = 64;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Microseconds per acquire + release over `seconds` (after a short warm-up): one client of
/// `namespace` at `url`, sequential, keys rotating over 64 names.
#[pyfunction]
pub fn _bench_core_w1(
    py: Python<'_>,
    url: String,
    namespace: String,
    seconds: f64,
) -> PyResult<f64> {
    let run = Duration::try_from_secs_f64(seconds)
        .map_err(|e| PyRuntimeError::new_err(format!("seconds: {e}")))?;
    py.detach(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| PyRuntimeError::new_err(format!("bench runtime: {e}")))?;
        rt.block_on(async move {
            let client = fencelock::Client::builder(&url)
                .namespace(&namespace)
                .label("python bench: core W1")
                .connect()
                .await
                .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
            let keys: Vec<String> = (0..KEYS).map(|i| format!("core-w1-{i}")).collect();
            let cycles = |d: Duration| {
                let (client, keys) = (&client, &keys);
                async move {
                    let start = Instant::now();
                    let mut n = 0usize;
                    while start.elapsed() < d {
                        let g = client
                            .acquire(&keys[n % KEYS], Some(ACQUIRE_TIMEOUT))
                            .await
                            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
                        g.release(None)
                            .await
                            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
                        n += 1;
                    }
                    Ok::<f64, PyErr>(start.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64)
                }
            };
            cycles(Duration::from_millis(200)).await?;
            let us = cycles(run).await;
            client.close().await;
            us
        })
    })
}

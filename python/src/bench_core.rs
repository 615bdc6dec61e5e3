//! The Rust core's W1-W4 rounds inside the Python process, for `bench/bench.py`: core and
//! Python rounds interleave against one server, so a shared machine's drifting speed hits both
//! alike. Each call blocks the calling thread (GIL released) on the core runtime for one round,
//! as `fencelock-bench` blocks its main thread. Not part of the API.

use fencelock::bench_loops::Rounds;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::sync::Mutex;

/// The open session of `_bench_core_open` (one at a time).
static ROUNDS: Mutex<Option<Rounds>> = Mutex::new(None);

fn failed(e: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(format!("core bench: {e}"))
}

/// Connects the core's clients of `namespace` at `url`.
#[pyfunction]
pub fn _bench_core_open(py: Python<'_>, url: String, namespace: String) -> PyResult<()> {
    let r = py
        .detach(|| fencelock::runtime::block_on(Rounds::open(&url, &namespace)))
        .map_err(failed)?;
    *ROUNDS.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
    Ok(())
}

/// One round of `workload` ("W1".."W4"): W1/W4 [cycles, ms]; W2 [ms, increments per task...];
/// W3 each handoff's latency in ms (`amount` handoffs; else `amount` seconds).
#[pyfunction]
pub fn _bench_core_round(py: Python<'_>, workload: String, amount: f64) -> PyResult<Vec<f64>> {
    py.detach(|| {
        let mut slot = ROUNDS.lock().unwrap_or_else(|p| p.into_inner());
        let r = slot.as_mut().ok_or_else(|| failed("not open"))?;
        fencelock::runtime::block_on(r.round(&workload, amount)).map_err(failed)
    })
}

/// W2's counter, then closes the core's clients.
#[pyfunction]
pub fn _bench_core_close(py: Python<'_>) -> PyResult<u64> {
    let r = ROUNDS.lock().unwrap_or_else(|p| p.into_inner()).take();
    let r = r.ok_or_else(|| failed("not open"))?;
    py.detach(|| {
        fencelock::runtime::block_on(async move {
            let n = r.w2_counter().await;
            let closed = r.close().await;
            closed.and(n)
        })
    })
    .map_err(failed)
}

//! The Rust core's W1-W4 rounds inside the Node process, for `bench/bench.mjs`: core and Node
//! rounds interleave against one server, so a shared machine's drifting speed hits both alike.
//! Each call blocks the JS thread on the core runtime for one round (the benchmark does nothing
//! else meanwhile), as `fencelock-bench` blocks its main thread. Not part of the API (left out
//! of binding.d.ts).

use fencelock::bench_loops::Rounds;
use napi_derive::napi;
use std::sync::Mutex;

/// The open session of `_benchCoreOpen` (one at a time).
static ROUNDS: Mutex<Option<Rounds>> = Mutex::new(None);

fn failed(e: impl std::fmt::Display) -> napi::Error {
    napi::Error::from_reason(format!("core bench: {e}"))
}

/// Connects the core's clients of `namespace` at `url`.
#[napi(js_name = "_benchCoreOpen", skip_typescript)]
pub fn bench_core_open(url: String, namespace: String) -> napi::Result<()> {
    let r = fencelock::runtime::block_on(Rounds::open(&url, &namespace)).map_err(failed)?;
    *ROUNDS.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
    Ok(())
}

/// One round of `workload` (see `Rounds::round` for what the numbers are).
#[napi(js_name = "_benchCoreRound", skip_typescript)]
pub fn bench_core_round(workload: String, amount: f64) -> napi::Result<Vec<f64>> {
    let mut slot = ROUNDS.lock().unwrap_or_else(|p| p.into_inner());
    let r = slot.as_mut().ok_or_else(|| failed("not open"))?;
    fencelock::runtime::block_on(r.round(&workload, amount)).map_err(failed)
}

/// W2's counter, then closes the core's clients.
#[napi(js_name = "_benchCoreClose", skip_typescript)]
pub fn bench_core_close() -> napi::Result<f64> {
    let r = ROUNDS.lock().unwrap_or_else(|p| p.into_inner()).take();
    let r = r.ok_or_else(|| failed("not open"))?;
    fencelock::runtime::block_on(async move {
        let n = r.w2_counter().await;
        let closed = r.close().await;
        closed.and(n)
    })
    .map(|n| n as f64)
    .map_err(failed)
}

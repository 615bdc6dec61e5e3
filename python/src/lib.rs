//! `fencelock._native`: the pyo3 module under the `fencelock` Python package. It converts
//! types and errors and nothing more; the Python-facing API (codecs, context managers,
//! exception classes) lives in `python/fencelock/*.py` over these classes.

mod bench_core;
mod callbacks;
mod client;
mod connect_options;
mod convert;
mod error;
mod guard;
mod interrupt;
mod leadership;
#[cfg(unix)]
mod loop_driver;
#[cfg(unix)]
mod loop_future;
mod observer;
mod runtime;
#[cfg(unix)]
mod wake_fd;

use pyo3::prelude::*;
use std::sync::OnceLock;

/// The logging bridge's cache of Python loggers and levels (reset when users change levels).
static LOG_RESET: OnceLock<pyo3_log::ResetHandle> = OnceLock::new();

/// Forgets cached logger levels so changes to `logging` configuration take effect.
#[pyfunction]
fn reset_log_cache() {
    if let Some(h) = LOG_RESET.get() {
        h.reset();
    }
}

/// Runs in a child after `os.fork()`: forgets the parent's pid and main thread and its signal
/// ticker (`interrupt.rs`), and separates NATS inboxes. async-nats names its reply inboxes from the `nuid`
/// crate's global generator, whose state a fork copies: a parent and its children (or
/// sibling children) then create the same inbox subjects and receive each other's replies.
/// The generator cannot be reseeded from outside, so this advances it by a random count in
/// each child. A workaround until the core gives each connection a random inbox prefix.
#[pyfunction]
fn _after_fork_in_child(py: Python<'_>) -> PyResult<()> {
    #[cfg(unix)]
    loop_driver::forget_pid();
    interrupt::after_fork(py)?;
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    // Children advance by distinct amounts below 2^20, far more than the inboxes one
    // child creates, so their sequences do not meet in practice (~10 ms per fork).
    for _ in 0..(h.finish() % (1 << 20)) {
        let _ = nuid::next();
    }
    Ok(())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Core records (tracing with its `log` feature) go to the `fencelock` Python logger.
    // Levels are cached so filtered-out records cost no GIL round trip on the core's threads.
    // Installing fails only if a logger is already set (a second import in one process).
    if let Ok(h) = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::LoggersAndLevels)?
        .filter(log::LevelFilter::Warn)
        .filter_target("fencelock".to_owned(), log::LevelFilter::Trace)
        .install()
    {
        let _ = LOG_RESET.set(h);
    }
    interrupt::learn_main_thread(m.py())?;
    m.add_function(wrap_pyfunction!(error::error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(reset_log_cache, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_at_exit, m)?)?;
    m.add_function(wrap_pyfunction!(bench_core::_bench_core_open, m)?)?;
    m.add_function(wrap_pyfunction!(bench_core::_bench_core_round, m)?)?;
    m.add_function(wrap_pyfunction!(bench_core::_bench_core_close, m)?)?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<guard::NativeGuard>()?;
    m.add_class::<leadership::NativeLeadership>()?;
    m.add_class::<observer::NativeLeaderObserver>()?;
    m.add("VERSION", fencelock::VERSION)?;
    m.add("MAX_KEY_LEN", fencelock::MAX_KEY_LEN)?;
    m.add("MIN_LEASE", fencelock::MIN_LEASE.as_secs_f64())?;
    m.add("MAX_LEASE", fencelock::MAX_LEASE.as_secs_f64())?;
    m.add("DEFAULT_LEASE", fencelock::DEFAULT_LEASE.as_secs_f64())?;
    Ok(())
}

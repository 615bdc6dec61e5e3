//! Test support, not a stable API: counts of native objects that lock churn must not pile up.

use napi_derive::napi;

/// What `_internalCounts()` reports.
#[napi(object)]
pub struct InternalCounts {
    /// `Guard` objects whose native side is alive (freed when Node finalizes them).
    pub live_guards: u32,
    /// Calls made on this thread whose promises are not settled yet.
    pub pending_calls: u32,
}

/// Counts of native objects, for tests that check nothing accumulates under churn.
#[napi(js_name = "_internalCounts")]
pub fn internal_counts() -> InternalCounts {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    InternalCounts {
        live_guards: count(crate::guard::Guard::live()),
        pending_calls: count(crate::promise::pending_on_this_thread()),
    }
}

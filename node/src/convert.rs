//! JS numbers and buffers to core types. Durations arrive as milliseconds (JS `number`):
//! negative, NaN or non-numeric values are refused here because `Duration` cannot hold them.

use crate::error::invalid_argument;
use fencelock::Bytes;
use napi::bindgen_prelude::Buffer;
use std::time::Duration;

/// A timeout in ms; `Infinity` waits forever (`None`), zero makes one attempt.
pub fn timeout(name: &str, ms: f64) -> napi::Result<Option<Duration>> {
    if ms == f64::INFINITY {
        return Ok(None);
    }
    duration(name, ms).map(Some)
}

/// A finite, non-negative duration in ms (the core checks lease ranges itself).
pub fn duration(name: &str, ms: f64) -> napi::Result<Duration> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(invalid_argument(format!(
            "{name} must be a finite number of milliseconds >= 0, not {ms}"
        )));
    }
    Duration::try_from_secs_f64(ms / 1000.0)
        .map_err(|e| invalid_argument(format!("{name} of {ms} ms is out of range: {e}")))
}

/// An optional duration in ms.
pub fn opt_duration(name: &str, ms: Option<f64>) -> napi::Result<Option<Duration>> {
    ms.map(|ms| duration(name, ms)).transpose()
}

/// Milliseconds of a duration, as JS numbers carry them.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// JS bytes into the core's state (one copy: the JS buffer may change after the call).
pub fn state_in(buf: Buffer) -> Bytes {
    Bytes::copy_from_slice(&buf)
}

/// Core state out to a JS buffer.
pub fn state_out(state: Option<Bytes>) -> Option<Buffer> {
    state.map(|b| Buffer::from(b.to_vec()))
}

//! Python values to core types: durations in seconds, state bytes, holders. Wrong types raise
//! `TypeError`, out-of-range values `ValueError` (the core's `InvalidArgument` is one too), and
//! every message names the argument.

use fencelock::{Bytes, Holder, KeyInfo};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt};
use std::time::Duration;

/// Seconds (int or float, not bool) to a duration; `None` stays `None`. Negative, NaN and
/// infinite values are refused; `allow_zero` is false for leases and expiries.
pub fn duration(
    name: &str,
    value: Option<&Bound<'_, PyAny>>,
    allow_zero: bool,
) -> PyResult<Option<Duration>> {
    let Some(v) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if v.is_instance_of::<PyBool>()
        || !(v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>())
    {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a number of seconds (int or float) or None, not {}",
            v.get_type().name()?
        )));
    }
    let secs: f64 = v.extract()?;
    if !secs.is_finite() || secs < 0.0 || (!allow_zero && secs == 0.0) {
        let want = if allow_zero {
            "zero or more"
        } else {
            "more than zero"
        };
        return Err(PyValueError::new_err(format!(
            "{name} must be a finite number of seconds, {want}; got {secs}"
        )));
    }
    Duration::try_from_secs_f64(secs)
        .map(Some)
        .map_err(|e| PyValueError::new_err(format!("{name} = {secs} s is out of range: {e}")))
}

/// A state argument: bytes (or bytearray / memoryview) or None.
pub fn state(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Bytes>> {
    let Some(v) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(Some(Bytes::copy_from_slice(b.as_bytes())));
    }
    if v.is_instance_of::<pyo3::types::PyString>() {
        return Err(PyTypeError::new_err(
            "state must be bytes, not str; encode it (or use the json codec)",
        ));
    }
    let buf: Vec<u8> = v.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "state must be bytes or None, not {}",
            v.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    Ok(Some(Bytes::from(buf)))
}

/// Bytes for an async call's result (converted to `bytes` once back under the GIL).
pub fn bytes_result(b: Option<Bytes>) -> Option<Vec<u8>> {
    b.map(|b| b.to_vec())
}

pub fn bytes_out(py: Python<'_>, b: Option<Bytes>) -> Option<Py<PyBytes>> {
    b.map(|b| PyBytes::new(py, &b).unbind())
}

/// A holder as a tuple `(lock_id_hex, token, lease_seconds, label)`; the Python layer makes
/// a dataclass of it.
pub type HolderTuple = (String, u64, f64, String);

pub fn holder(h: Holder) -> HolderTuple {
    (
        h.lock_id.to_string(),
        h.token,
        h.lease.as_secs_f64(),
        h.label,
    )
}

/// `get`'s answer as `(state, holder, revision)`.
pub type KeyInfoTuple = (Option<Vec<u8>>, Option<HolderTuple>, u64);

pub fn key_info(i: KeyInfo) -> KeyInfoTuple {
    (
        i.state.map(|b| b.to_vec()),
        i.holder.map(holder),
        i.revision,
    )
}

/// `(count, total seconds, max seconds)` of one timing.
pub type TimingTuple = (u64, f64, f64);
/// A `fencelock::Stats` as a tuple, in the order of the fields of `fencelock.Stats`.
pub type StatsTuple = (u64, u64, u64, TimingTuple, TimingTuple, u64, u64, u64, u64);

fn timing(t: &fencelock::Timing) -> TimingTuple {
    (t.count, t.total.as_secs_f64(), t.max.as_secs_f64())
}

pub fn stats(s: &fencelock::Stats) -> StatsTuple {
    (
        s.acquisitions,
        s.try_misses,
        s.timeouts,
        timing(&s.wait),
        timing(&s.hold),
        s.renewals,
        s.renewal_failures,
        s.locks_lost,
        s.backend_errors,
    )
}

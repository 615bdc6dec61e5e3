//! The guard every export runs in, and argument conversions shared by the exports.
//!
//! `build.rs` fails the build when an `extern "C"` function's body is anything but one call
//! to `guard`, `guard_void` or `guard_value`: a panic unwinding into C is undefined behaviour.

use crate::cancel::fl_cancel;
use crate::error::{fl_error, report, FlError};
use crate::status::fl_status;
use fencelock::Bytes;
use std::ffi::{c_char, CStr};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// Wait without a time limit (timeouts are in milliseconds).
pub const FL_WAIT_FOREVER: i64 = -1;

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("internal error in fencelock (please report it): {what}")
}

/// Runs a fallible export body, turning errors and panics into a status and an `fl_error`.
pub(crate) fn guard<F>(err: *mut *mut fl_error, body: F) -> fl_status
where
    F: FnOnce() -> Result<(), FlError>,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => fl_status::FL_OK,
        Ok(Err(e)) => report(err, e),
        Err(p) => report(err, FlError::new(fl_status::FL_INTERNAL, panic_message(p))),
    }
}

/// Runs an export that cannot report errors (frees, triggers).
pub(crate) fn guard_void<F: FnOnce()>(body: F) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Runs an infallible accessor; `fallback` if it panicked.
pub(crate) fn guard_value<T, F: FnOnce() -> T>(fallback: T, body: F) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Frees a boxed handle through its `T **` and nulls the caller's pointer.
///
/// # Safety
/// `slot` is NULL, or points to NULL or to a pointer from `Box::into_raw` not yet freed.
pub(crate) unsafe fn free_box<T>(slot: *mut *mut T) {
    if slot.is_null() {
        return;
    }
    let p = std::ptr::replace(slot, std::ptr::null_mut());
    if !p.is_null() {
        drop(Box::from_raw(p));
    }
}

/// Hands a new handle to the caller.
pub(crate) fn write_out<T>(out: *mut *mut T, value: T) {
    // SAFETY: callers check `out` for NULL first (`check_out`).
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// Writes `value` to an optional out-param.
pub(crate) fn write_opt<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL out-params point to writable memory of the right type.
        unsafe { *out = value };
    }
}

/// Checks a required out-param and sets it to NULL so it is defined on failure.
pub(crate) fn check_out<T>(out: *mut *mut T, what: &str) -> Result<(), FlError> {
    if out.is_null() {
        return Err(FlError::null(what));
    }
    // SAFETY: non-NULL, points to a pointer slot.
    unsafe { *out = std::ptr::null_mut() };
    Ok(())
}

/// Borrows a handle argument.
/// Checks that a value out-param is not NULL.
pub(crate) fn required<T>(out: *mut T) -> Result<(), FlError> {
    if out.is_null() {
        Err(FlError::null("out"))
    } else {
        Ok(())
    }
}

pub(crate) fn handle<'a, T>(p: *const T, what: &str) -> Result<&'a T, FlError> {
    // SAFETY: NULL or a live handle from this library; callers document it.
    unsafe { p.as_ref() }.ok_or_else(|| FlError::null(what))
}

/// A required UTF-8 string argument.
pub(crate) fn string<'a>(p: *const c_char, what: &str) -> Result<&'a str, FlError> {
    if p.is_null() {
        return Err(FlError::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|e| FlError::invalid(format!("{what} is not valid UTF-8 ({e})")))
}

/// An optional string argument: NULL means unset.
pub(crate) fn opt_string<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, FlError> {
    if p.is_null() {
        Ok(None)
    } else {
        string(p, what).map(Some)
    }
}

/// A key: NULL or non-UTF-8 is an invalid key; length rules are the core's.
pub(crate) fn key_arg<'a>(p: *const c_char) -> Result<&'a str, FlError> {
    if p.is_null() {
        return Err(FlError::new(
            fl_status::FL_INVALID_KEY,
            "the key is NULL; pass a non-empty NUL-terminated UTF-8 string",
        ));
    }
    // SAFETY: non-NULL and NUL-terminated by contract.
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|e| {
        FlError::new(
            fl_status::FL_INVALID_KEY,
            format!("the key is not valid UTF-8 ({e}); keys are UTF-8 strings"),
        )
    })
}

/// State bytes: (NULL, 0) is "no state"; (NULL, n > 0) is a mistake; otherwise copied.
pub(crate) fn state_arg(p: *const u8, len: usize) -> Result<Option<Bytes>, FlError> {
    if p.is_null() {
        if len == 0 {
            return Ok(None);
        }
        return Err(FlError::invalid(format!(
            "state is NULL but state_len is {len}; pass NULL with 0 for no state"
        )));
    }
    // SAFETY: `p` points to `len` readable bytes by contract.
    Ok(Some(Bytes::copy_from_slice(unsafe {
        std::slice::from_raw_parts(p, len)
    })))
}

/// A millisecond duration where 0 means "the default" and negatives are refused.
pub(crate) fn opt_millis(ms: i64, what: &str) -> Result<Option<Duration>, FlError> {
    match ms {
        0 => Ok(None),
        ms if ms < 0 => Err(FlError::invalid(format!(
            "{what} is {ms} ms; durations must be positive (0 takes the default)"
        ))),
        ms => Ok(Some(Duration::from_millis(ms as u64))),
    }
}

/// A timeout: `FL_WAIT_FOREVER` waits forever, 0 makes one attempt, other negatives are refused.
pub(crate) fn timeout(ms: i64) -> Result<Option<Duration>, FlError> {
    match ms {
        FL_WAIT_FOREVER => Ok(None),
        ms if ms < 0 => Err(FlError::invalid(format!(
            "timeout_ms is {ms}; use a value >= 0 or FL_WAIT_FOREVER (-1)"
        ))),
        ms => Ok(Some(Duration::from_millis(ms as u64))),
    }
}

/// Blocks the calling thread on the core runtime until `fut` completes or `cancel` fires.
pub(crate) fn block<T, F>(cancel: *const fl_cancel, fut: F) -> Result<T, FlError>
where
    F: Future<Output = Result<T, fencelock::Error>>,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        // block_on would panic here: a callback of ours (with_lock) called back into us.
        return Err(FlError::invalid(
            "a blocking fencelock call was made from inside a with_lock callback; return the \
             new state from the callback and make other calls after fl_with_lock returns",
        ));
    }
    // SAFETY: NULL or a live cancel handle.
    let cancelled = unsafe { cancel.as_ref() }.map(fl_cancel::watch);
    fencelock::runtime::block_on(async move {
        match cancelled {
            None => fut.await.map_err(FlError::from),
            Some(c) => {
                tokio::select! {
                    r = fut => r.map_err(FlError::from),
                    () = c => Err(FlError::new(
                        fl_status::FL_CANCELLED,
                        "the call was cancelled through its fl_cancel",
                    )),
                }
            }
        }
    })
}

/// Milliseconds of a duration, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{fl_error_code, fl_error_free, fl_error_message};

    fn message(e: *const fl_error) -> String {
        // SAFETY: a live error from `guard`; its message is NUL-terminated.
        unsafe { CStr::from_ptr(fl_error_message(e)) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_fl_internal_with_its_message() {
        let mut err: *mut fl_error = std::ptr::null_mut();
        let st = guard(&mut err, || panic!("deliberate"));
        assert_eq!(st, fl_status::FL_INTERNAL);
        assert_eq!(fl_error_code(err), fl_status::FL_INTERNAL);
        assert!(message(err).contains("deliberate"), "{}", message(err));
        fl_error_free(&mut err);
        assert!(err.is_null());
        // Without an error slot the status still comes back.
        assert_eq!(
            guard(std::ptr::null_mut(), || panic!("again")),
            fl_status::FL_INTERNAL
        );
        assert_eq!(guard_value(7, || panic!("value")), 7);
        guard_void(|| panic!("void"));
    }

    #[test]
    fn errors_carry_status_message_key() {
        let mut err: *mut fl_error = std::ptr::null_mut();
        let st = guard(
            &mut err,
            || Err(FlError::invalid("bad thing").with_key("k")),
        );
        assert_eq!(st, fl_status::FL_INVALID_ARGUMENT);
        assert_eq!(message(err), "bad thing");
        // SAFETY: the key is NUL-terminated and owned by `err`.
        let key = unsafe { CStr::from_ptr(crate::error::fl_error_key(err)) };
        assert_eq!(key.to_str().unwrap(), "k");
        fl_error_free(&mut err);
    }

    #[test]
    fn durations_and_state_arguments() {
        assert_eq!(timeout(FL_WAIT_FOREVER).unwrap(), None);
        assert_eq!(timeout(0).unwrap(), Some(Duration::ZERO));
        assert_eq!(
            timeout(-2).unwrap_err().status,
            fl_status::FL_INVALID_ARGUMENT
        );
        assert_eq!(opt_millis(0, "x").unwrap(), None);
        assert_eq!(opt_millis(5, "x").unwrap(), Some(Duration::from_millis(5)));
        assert!(opt_millis(-1, "lease_ms")
            .unwrap_err()
            .message
            .contains("lease_ms"));
        assert_eq!(state_arg(std::ptr::null(), 0).unwrap(), None);
        assert!(state_arg(std::ptr::null(), 3).is_err());
        let empty = state_arg(b"".as_ptr(), 0).unwrap();
        assert_eq!(empty.as_deref(), Some(&b""[..]));
        assert_eq!(
            key_arg(std::ptr::null()).unwrap_err().status,
            fl_status::FL_INVALID_KEY
        );
        assert_eq!(
            key_arg(c"\xff".as_ptr()).unwrap_err().status,
            fl_status::FL_INVALID_KEY
        );
    }
}

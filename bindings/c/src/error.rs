//! `fl_error`: the error every export reports through its optional `fl_error **` out-param.
//! Carries the status, the core's message (which names the key and the fix), the key and the
//! fencing token when known. No thread-local last-error: Go moves goroutines between threads.

use crate::status::fl_status;
use std::ffi::{c_char, CString};
use std::ptr;

/// An error raised inside the binding, before or after it reaches the core.
#[derive(Debug)]
pub(crate) struct FlError {
    pub status: fl_status,
    pub message: String,
    pub key: Option<String>,
    pub token: Option<u64>,
}

impl FlError {
    pub fn new(status: fl_status, message: impl Into<String>) -> FlError {
        FlError {
            status,
            message: message.into(),
            key: None,
            token: None,
        }
    }

    pub fn with_key(mut self, key: &str) -> FlError {
        self.key = Some(key.to_owned());
        self
    }

    pub fn invalid(message: impl Into<String>) -> FlError {
        FlError::new(fl_status::FL_INVALID_ARGUMENT, message)
    }

    /// A required pointer argument was NULL.
    pub fn null(what: &str) -> FlError {
        FlError::invalid(format!("{what} is NULL; pass a valid pointer"))
    }
}

impl From<fencelock::Error> for FlError {
    fn from(e: fencelock::Error) -> FlError {
        FlError {
            status: e.kind().into(),
            message: e.to_string(),
            key: e.key().map(String::from),
            token: e.token(),
        }
    }
}

/// An error reported by a fencelock call. Free it with `fl_error_free`.
///
/// Immutable once returned: it may be read from any thread.
pub struct fl_error {
    status: fl_status,
    message: CString,
    key: Option<CString>,
    token: Option<u64>,
}

/// C strings cannot hold NUL bytes; a message never has any, a key from C cannot either.
fn c_string(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let mut bytes = e.into_vec();
        bytes.retain(|b| *b != 0);
        CString::new(bytes).unwrap_or_default()
    })
}

impl From<FlError> for fl_error {
    fn from(e: FlError) -> fl_error {
        fl_error {
            status: e.status,
            message: c_string(e.message),
            key: e.key.map(c_string),
            token: e.token,
        }
    }
}

/// Writes `e` to `*err` when the caller asked for errors (a non-NULL `err`).
pub(crate) fn report(err: *mut *mut fl_error, e: FlError) -> fl_status {
    let status = e.status;
    if !err.is_null() {
        // SAFETY: the caller passes either NULL or a writable `fl_error *` slot.
        unsafe { *err = Box::into_raw(Box::new(fl_error::from(e))) };
    }
    status
}

/// The status of `error` (`FL_OK` for NULL).
///
/// @param error borrowed; may be NULL.
#[no_mangle]
pub extern "C" fn fl_error_code(error: *const fl_error) -> fl_status {
    crate::ffi::guard_value(fl_status::FL_INTERNAL, || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }.map_or(fl_status::FL_OK, |e| e.status)
    })
}

/// The message of `error`: what failed, on which key, and what to do about it.
///
/// @param error borrowed; may be NULL (then "" is returned).
/// @return a NUL-terminated string owned by `error`, valid until `fl_error_free`.
#[no_mangle]
pub extern "C" fn fl_error_message(error: *const fl_error) -> *const c_char {
    crate::ffi::guard_value(c"".as_ptr(), || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// The key the failed call was about, or NULL when there was none.
///
/// @return a string owned by `error`, valid until `fl_error_free`, or NULL.
#[no_mangle]
pub extern "C" fn fl_error_key(error: *const fl_error) -> *const c_char {
    crate::ffi::guard_value(ptr::null(), || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }
            .and_then(|e| e.key.as_ref())
            .map_or(ptr::null(), |k| k.as_ptr())
    })
}

/// The fencing token of the lock involved, or 0 when there was none (tokens start at 1).
#[no_mangle]
pub extern "C" fn fl_error_token(error: *const fl_error) -> u64 {
    crate::ffi::guard_value(0, || {
        // SAFETY: NULL or a live error from this library.
        unsafe { error.as_ref() }.and_then(|e| e.token).unwrap_or(0)
    })
}

/// Frees `*error` and sets `*error` to NULL. Accepts NULL and a pointer to NULL.
#[no_mangle]
pub extern "C" fn fl_error_free(error: *mut *mut fl_error) {
    crate::ffi::guard_void(|| {
        // SAFETY: NULL or a slot holding NULL or an error from this library.
        unsafe { crate::ffi::free_box(error) }
    })
}

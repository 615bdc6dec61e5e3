//! Library version and status names.

use crate::ffi::guard_value;
use crate::status::fl_status;
use std::ffi::c_char;

/// The library version, e.g. "0.1.0" (static storage): the one version of every fencelock
/// package built from the same source (the Python wheel, the npm packages, the Go module as
/// "v0.1.0"), the same as `pkg-config --modversion fencelock` and the release tarball's name.
#[no_mangle]
pub extern "C" fn fl_version() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

/// The stable name of a status, e.g. "timeout" for FL_TIMEOUT (static storage); "unknown"
/// for a value that is not an `fl_status`.
#[no_mangle]
pub extern "C" fn fl_status_name(status: i32) -> *const c_char {
    guard_value(c"unknown".as_ptr(), || {
        let Some(s) = crate::status::ALL_STATUSES
            .iter()
            .find(|s| **s as i32 == status)
        else {
            return c"unknown".as_ptr();
        };
        match s {
            fl_status::FL_OK => c"ok",
            fl_status::FL_TIMEOUT => c"timeout",
            fl_status::FL_HELD => c"held",
            fl_status::FL_NOT_HELD => c"not_held",
            fl_status::FL_EXPIRED => c"expired",
            fl_status::FL_INVALID_KEY => c"invalid_key",
            fl_status::FL_INVALID_ARGUMENT => c"invalid_argument",
            fl_status::FL_STATE_TOO_LARGE => c"state_too_large",
            fl_status::FL_CLOSED => c"closed",
            fl_status::FL_BACKEND => c"backend",
            fl_status::FL_CALLBACK => c"callback",
            fl_status::FL_CANCELLED => c"cancelled",
            fl_status::FL_INTERNAL => c"internal",
        }
        .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn c_names_equal_the_rust_names() {
        for s in crate::status::ALL_STATUSES {
            // SAFETY: fl_status_name returns static NUL-terminated strings.
            let c = unsafe { CStr::from_ptr(fl_status_name(s as i32)) };
            assert_eq!(c.to_str().unwrap(), s.name());
        }
        // SAFETY: as above.
        let c = unsafe { CStr::from_ptr(fl_status_name(999)) };
        assert_eq!(c.to_str().unwrap(), "unknown");
    }
}

//! The status every export returns: one explicit value per core error kind plus the few
//! conditions only the C layer knows (cancellation, internal failures).

use fencelock::ErrorKind;

/// Outcome of a fencelock call. Values are fixed forever: bindings (Go) mirror them.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fl_status {
    /// Success.
    FL_OK = 0,
    /// The lock (or the wait) was not available before the timeout, or a with_lock callback
    /// outlived its lease.
    FL_TIMEOUT = 1,
    /// Someone else holds the lock (try-acquire, try-campaign).
    FL_HELD = 2,
    /// The lock was already released through this handle.
    FL_NOT_HELD = 3,
    /// The lease lapsed or another holder took over: writes through this handle are refused.
    FL_EXPIRED = 4,
    /// The key is empty, longer than 1 KiB, or not UTF-8.
    FL_INVALID_KEY = 5,
    /// A NULL pointer, an out-of-range duration or option, or a handle of another client.
    FL_INVALID_ARGUMENT = 6,
    /// The state is larger than the server accepts (see fl_client_max_state_len).
    FL_STATE_TOO_LARGE = 7,
    /// The client was closed.
    FL_CLOSED = 8,
    /// The server failed or could not be reached.
    FL_BACKEND = 9,
    /// A user callback reported failure; the lock was released and the state left unchanged.
    FL_CALLBACK = 10,
    /// The call was cancelled through its fl_cancel.
    FL_CANCELLED = 11,
    /// A bug inside fencelock (a caught panic) or an error kind newer than this header.
    FL_INTERNAL = 12,
}

/// Every status, for tests and for `fl_status_name`.
pub(crate) const ALL_STATUSES: [fl_status; 13] = [
    fl_status::FL_OK,
    fl_status::FL_TIMEOUT,
    fl_status::FL_HELD,
    fl_status::FL_NOT_HELD,
    fl_status::FL_EXPIRED,
    fl_status::FL_INVALID_KEY,
    fl_status::FL_INVALID_ARGUMENT,
    fl_status::FL_STATE_TOO_LARGE,
    fl_status::FL_CLOSED,
    fl_status::FL_BACKEND,
    fl_status::FL_CALLBACK,
    fl_status::FL_CANCELLED,
    fl_status::FL_INTERNAL,
];

impl fl_status {
    /// The stable snake_case name, the core's `ErrorKind::as_str` where there is one.
    pub fn name(self) -> &'static str {
        match self {
            fl_status::FL_OK => "ok",
            fl_status::FL_TIMEOUT => "timeout",
            fl_status::FL_HELD => "held",
            fl_status::FL_NOT_HELD => "not_held",
            fl_status::FL_EXPIRED => "expired",
            fl_status::FL_INVALID_KEY => "invalid_key",
            fl_status::FL_INVALID_ARGUMENT => "invalid_argument",
            fl_status::FL_STATE_TOO_LARGE => "state_too_large",
            fl_status::FL_CLOSED => "closed",
            fl_status::FL_BACKEND => "backend",
            fl_status::FL_CALLBACK => "callback",
            fl_status::FL_CANCELLED => "cancelled",
            fl_status::FL_INTERNAL => "internal",
        }
    }
}

impl From<ErrorKind> for fl_status {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Timeout => fl_status::FL_TIMEOUT,
            ErrorKind::Held => fl_status::FL_HELD,
            ErrorKind::NotHeld => fl_status::FL_NOT_HELD,
            ErrorKind::Expired => fl_status::FL_EXPIRED,
            ErrorKind::InvalidKey => fl_status::FL_INVALID_KEY,
            ErrorKind::InvalidArgument => fl_status::FL_INVALID_ARGUMENT,
            ErrorKind::StateTooLarge => fl_status::FL_STATE_TOO_LARGE,
            ErrorKind::Closed => fl_status::FL_CLOSED,
            ErrorKind::Backend => fl_status::FL_BACKEND,
            ErrorKind::Callback => fl_status::FL_CALLBACK,
            // ErrorKind is non_exhaustive: a kind newer than this binding is still an error.
            _ => fl_status::FL_INTERNAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_core_kinds_and_values_are_dense() {
        for (i, s) in ALL_STATUSES.iter().enumerate() {
            assert_eq!(*s as i32, i as i32, "{s:?} out of order");
        }
        assert_eq!(
            fl_status::from(ErrorKind::StateTooLarge).name(),
            ErrorKind::StateTooLarge.as_str()
        );
        assert_eq!(fl_status::from(ErrorKind::NotHeld).name(), "not_held");
    }

    /// The core lists its kinds once (`ErrorKind::ALL`); a kind this table lacks would turn
    /// into FL_INTERNAL, and a status named differently would confuse every other binding.
    #[test]
    fn every_core_kind_has_its_own_status_of_the_same_name() {
        let mut seen = Vec::new();
        for kind in ErrorKind::ALL {
            let status = fl_status::from(*kind);
            assert_ne!(status, fl_status::FL_INTERNAL, "{kind:?} has no status");
            assert_eq!(status.name(), kind.as_str(), "{kind:?}");
            assert!(!seen.contains(&status), "{kind:?} shares {status:?}");
            seen.push(status);
            let c_name =
                unsafe { std::ffi::CStr::from_ptr(crate::version::fl_status_name(status as i32)) };
            assert_eq!(
                c_name.to_str().unwrap(),
                kind.as_str(),
                "fl_status_name of {status:?}"
            );
        }
        // Besides the kinds: FL_OK, FL_CANCELLED and FL_INTERNAL, which only this layer knows.
        assert_eq!(ALL_STATUSES.len(), ErrorKind::ALL.len() + 3);
    }
}

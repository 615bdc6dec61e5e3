//! Core errors to JS errors. napi-rs async functions can only reject with a `napi::Status`
//! code, so the stable fencelock code travels as a `[ERR_FENCELOCK_...]` prefix of the
//! message; the JS layer (`errors.js`) strips it into `err.code` and picks the class.

use fencelock::ErrorKind;

/// Stable code of a core error kind, e.g. `ERR_FENCELOCK_TIMEOUT`.
pub fn code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout => "ERR_FENCELOCK_TIMEOUT",
        ErrorKind::Held => "ERR_FENCELOCK_HELD",
        ErrorKind::NotHeld => "ERR_FENCELOCK_NOT_HELD",
        ErrorKind::Expired => "ERR_FENCELOCK_EXPIRED",
        ErrorKind::InvalidKey => "ERR_FENCELOCK_INVALID_KEY",
        ErrorKind::InvalidArgument => "ERR_FENCELOCK_INVALID_ARGUMENT",
        ErrorKind::StateTooLarge => "ERR_FENCELOCK_STATE_TOO_LARGE",
        ErrorKind::Closed => "ERR_FENCELOCK_CLOSED",
        ErrorKind::Backend => "ERR_FENCELOCK_BACKEND",
        ErrorKind::Callback => "ERR_FENCELOCK_CALLBACK",
        // The kind list is non-exhaustive: a kind added later still gets a stable code.
        _ => "ERR_FENCELOCK_OTHER",
    }
}

/// Code of an operation given up because its `AbortSignal` fired.
pub const ABORTED: &str = "ERR_FENCELOCK_ABORTED";

/// A JS error carrying `code` as a message prefix (see the module docs).
pub fn coded(code: &str, message: impl std::fmt::Display) -> napi::Error {
    napi::Error::from_reason(format!("[{code}] {message}"))
}

/// Converts a core error, keeping its message (which already names the key and the fix).
pub fn to_js(e: fencelock::Error) -> napi::Error {
    coded(code(e.kind()), e.message())
}

/// An argument the core cannot even be asked about (negative duration, NaN, ...).
pub fn invalid_argument(message: impl std::fmt::Display) -> napi::Error {
    coded(code(ErrorKind::InvalidArgument), message)
}

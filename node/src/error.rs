//! Core errors to JS errors. napi-rs async functions can only reject with a `napi::Status`
//! code, so the stable fencelock code travels as a `[ERR_FENCELOCK_...]` prefix of the
//! message; the JS layer (`errors.js`) strips it into `err.code` and picks the class.

use fencelock::ErrorKind;

/// Stable code of a core error kind: `ERR_FENCELOCK_` and the kind's name, e.g.
/// `ERR_FENCELOCK_TIMEOUT`. Derived, never listed, so a new core kind gets its code at once.
pub fn code(kind: ErrorKind) -> String {
    format!("ERR_FENCELOCK_{}", kind.as_str().to_ascii_uppercase())
}

/// The code of every core error kind, for the test that `errors.js`' `CODES` lists them all.
#[napi_derive::napi]
pub fn error_codes() -> Vec<String> {
    ErrorKind::ALL.iter().map(|k| code(*k)).collect()
}

/// Separates the message from each cause's message in what JS receives (`errors.js` splits on
/// it and rebuilds `err.cause`). A line break keeps the raw text readable.
pub const CAUSE_SEPARATOR: &str = "\n[cause] ";

/// Code of an operation given up because its `AbortSignal` fired.
pub const ABORTED: &str = "ERR_FENCELOCK_ABORTED";

/// A JS error carrying `code` as a message prefix (see the module docs).
pub fn coded(code: &str, message: impl std::fmt::Display) -> napi::Error {
    napi::Error::from_reason(format!("[{code}] {message}"))
}

/// Converts a core error, keeping its message (which already names the key and the fix) and
/// the messages of its sources, which `errors.js` turns into `err.cause`.
pub fn to_js(e: fencelock::Error) -> napi::Error {
    let mut text = e.message().to_owned();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(CAUSE_SEPARATOR);
        text.push_str(&s.to_string().replace('\n', " "));
        source = s.source();
    }
    coded(&code(e.kind()), text)
}

/// An argument the core cannot even be asked about (negative duration, NaN, ...).
pub fn invalid_argument(message: impl std::fmt::Display) -> napi::Error {
    coded(&code(ErrorKind::InvalidArgument), message)
}

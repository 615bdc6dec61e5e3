//! One error type for every operation, with a stable [`ErrorKind`] that bindings map to their
//! own exception classes and error codes.

use std::fmt;

/// Boxed source error kept for diagnostics.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, stable across releases: bindings map each kind to an exception class or code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The lock (or the wait) did not become available before the timeout, or a `with_lock`
    /// callback outlived its lease.
    Timeout,
    /// Someone else holds the lock (from `try_acquire`).
    Held,
    /// The guard was never held or was already released.
    NotHeld,
    /// The guard's lease lapsed or another holder took over: its writes are refused.
    Expired,
    /// The key is empty, too long or not UTF-8.
    InvalidKey,
    /// A duration, size or option is out of range.
    InvalidArgument,
    /// The state is larger than the backend accepts.
    StateTooLarge,
    /// The client was closed.
    Closed,
    /// The server failed or could not be reached.
    Backend,
    /// A user callback (`with_lock`, `do_if_free`) returned an error.
    Callback,
}

impl ErrorKind {
    /// Every kind, once, in a stable order: the one list bindings derive their exception
    /// classes, error codes and statuses from (each binding has a test that fails when its
    /// table misses a kind listed here).
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::Timeout,
        ErrorKind::Held,
        ErrorKind::NotHeld,
        ErrorKind::Expired,
        ErrorKind::InvalidKey,
        ErrorKind::InvalidArgument,
        ErrorKind::StateTooLarge,
        ErrorKind::Closed,
        ErrorKind::Backend,
        ErrorKind::Callback,
    ];

    /// The kind whose [`as_str`](ErrorKind::as_str) is `name`.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.iter().copied().find(|k| k.as_str() == name)
    }

    /// A short stable identifier, e.g. `"timeout"`, used in messages and by bindings.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Held => "held",
            ErrorKind::NotHeld => "not_held",
            ErrorKind::Expired => "expired",
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::StateTooLarge => "state_too_large",
            ErrorKind::Closed => "closed",
            ErrorKind::Backend => "backend",
            ErrorKind::Callback => "callback",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of every fencelock operation.
///
/// The message names the key (when there is one) and what the caller can do about it.
pub struct Error {
    kind: ErrorKind,
    key: Option<String>,
    token: Option<u64>,
    message: String,
    source: Option<BoxError>,
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            key: None,
            token: None,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }

    pub(crate) fn with_token(mut self, token: u64) -> Self {
        self.token = Some(token);
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The stable category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The key the failed operation was about, when there was one.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The fencing token of the guard involved, when there was one.
    pub fn token(&self) -> Option<u64> {
        self.token
    }

    /// The message without kind prefix or source chain.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn closed(key: Option<&str>) -> Self {
        let e = Error::new(
            ErrorKind::Closed,
            "the fencelock client is closed; create a new client to continue",
        );
        match key {
            Some(k) => e.with_key(k),
            None => e,
        }
    }

    /// A client used in a child forked from the process that connected it.
    pub(crate) fn inherited_after_fork(key: &str, connected_in: u32, here: u32) -> Self {
        Error::new(
            ErrorKind::Closed,
            format!(
                "this fencelock client was connected in process {connected_in}, and this \
                 process ({here}) was forked from it; a client does not survive fork(): connect \
                 a new client in this process"
            ),
        )
        .with_key(key)
    }

    pub(crate) fn backend(
        server: &str,
        operation: &str,
        key: Option<&str>,
        source: impl Into<BoxError>,
    ) -> Self {
        let source = source.into();
        let what = match key {
            Some(k) => format!("{operation} of key {k:?}"),
            None => operation.to_owned(),
        };
        let e = Error::new(
            ErrorKind::Backend,
            format!(
                "{what} failed on {server}: {source}; check that the server is running and \
                 reachable, then retry"
            ),
        )
        .with_source(source);
        match key {
            Some(k) => e.with_key(k),
            None => e,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(k) = &self.key {
            d.field("key", k);
        }
        if let Some(t) = self.token {
            d.field("token", &t);
        }
        if let Some(s) = &self.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding a kind without listing it in `ALL` fails here: the match is exhaustive inside
    /// the crate, so the new variant must get a position, and the position must be its index.
    #[test]
    fn all_lists_every_kind_once_in_order() {
        fn position(k: ErrorKind) -> usize {
            match k {
                ErrorKind::Timeout => 0,
                ErrorKind::Held => 1,
                ErrorKind::NotHeld => 2,
                ErrorKind::Expired => 3,
                ErrorKind::InvalidKey => 4,
                ErrorKind::InvalidArgument => 5,
                ErrorKind::StateTooLarge => 6,
                ErrorKind::Closed => 7,
                ErrorKind::Backend => 8,
                ErrorKind::Callback => 9,
            }
        }
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(*k), i, "{k:?}");
            assert_eq!(ErrorKind::from_name(k.as_str()), Some(*k));
        }
        assert_eq!(ErrorKind::ALL.len(), 10);
        assert_eq!(ErrorKind::from_name("nope"), None);
    }
}

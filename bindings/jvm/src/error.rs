//! The core's error as one uniffi error: one variant per stable kind, each with the message
//! (naming the key and the fix), the key and the token where known. Kotlin gets a sealed
//! `FencelockException` with one subclass per variant.

use fencelock::ErrorKind;

/// A fencelock failure; the variant is the core's stable error kind.
#[derive(Debug, uniffi::Error)]
pub enum FencelockError {
    /// The lock or the wait was not available in time, or a with_lock callback outlived its lease.
    Timeout {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// Someone else holds the lock.
    Held {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// The lock was never held or was already released.
    NotHeld {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// The lease lapsed or another holder took over.
    Expired {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// The key is empty or too long.
    InvalidKey {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// A duration, size or option is out of range.
    InvalidArgument {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// The state is larger than the server accepts.
    StateTooLarge {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// The client was closed.
    Closed {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// The server failed or could not be reached.
    Backend {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
    /// A user callback failed.
    Callback {
        detail: String,
        key: Option<String>,
        token: Option<u64>,
    },
}

impl std::fmt::Display for FencelockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.detail())
    }
}

impl std::error::Error for FencelockError {}

impl FencelockError {
    fn detail(&self) -> &str {
        use FencelockError::*;
        match self {
            Timeout { detail, .. }
            | Held { detail, .. }
            | NotHeld { detail, .. }
            | Expired { detail, .. }
            | InvalidKey { detail, .. }
            | InvalidArgument { detail, .. }
            | StateTooLarge { detail, .. }
            | Closed { detail, .. }
            | Backend { detail, .. }
            | Callback { detail, .. } => detail,
        }
    }

    /// An `InvalidArgument` error made by the binding (an option it cannot convert).
    pub(crate) fn invalid_argument(detail: String) -> Self {
        FencelockError::InvalidArgument {
            detail,
            key: None,
            token: None,
        }
    }
}

impl From<fencelock::Error> for FencelockError {
    fn from(e: fencelock::Error) -> Self {
        let detail = e.to_string();
        let key = e.key().map(str::to_owned);
        let token = e.token();
        match e.kind() {
            ErrorKind::Timeout => Self::Timeout { detail, key, token },
            ErrorKind::Held => Self::Held { detail, key, token },
            ErrorKind::NotHeld => Self::NotHeld { detail, key, token },
            ErrorKind::Expired => Self::Expired { detail, key, token },
            ErrorKind::InvalidKey => Self::InvalidKey { detail, key, token },
            ErrorKind::InvalidArgument => Self::InvalidArgument { detail, key, token },
            ErrorKind::StateTooLarge => Self::StateTooLarge { detail, key, token },
            ErrorKind::Closed => Self::Closed { detail, key, token },
            ErrorKind::Callback => Self::Callback { detail, key, token },
            // Backend, and any kind a newer core adds: the message still says what happened.
            _ => Self::Backend { detail, key, token },
        }
    }
}

/// A Kotlin exception that the callback did not declare (the facade catches user exceptions
/// itself; this covers anything that slips through).
impl From<uniffi::UnexpectedUniFFICallbackError> for FencelockError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        FencelockError::Callback {
            detail: format!("the callback threw: {}", e.reason),
            key: None,
            token: None,
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, FencelockError>;

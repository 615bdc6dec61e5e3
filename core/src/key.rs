//! User-facing lock keys: validated once, then shared cheaply.

use crate::error::{Error, ErrorKind, Result};
use std::fmt;
use std::sync::Arc;

/// Longest key accepted, in UTF-8 bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// A validated key: a non-empty UTF-8 string of at most [`MAX_KEY_LEN`] bytes.
///
/// Backends with a narrower key alphabet encode it reversibly; users never see the encoding.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(Arc<str>);

impl Key {
    /// Validates `key`, naming the rule it breaks.
    pub fn new(key: &str) -> Result<Key> {
        if key.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidKey,
                "the key is empty; use a non-empty string such as \"jobs/nightly-import\"",
            )
            .with_key(key));
        }
        if key.len() > MAX_KEY_LEN {
            let preview: String = key.chars().take(32).collect();
            return Err(Error::new(
                ErrorKind::InvalidKey,
                format!(
                    "the key {preview:?}... is {} bytes long; keys are limited to {MAX_KEY_LEN} \
                     bytes of UTF-8, so hash or shorten it",
                    key.len()
                ),
            )
            .with_key(key));
        }
        Ok(Key(Arc::from(key)))
    }

    /// The key as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Anything that can name a lock: `&str`, `String` or an already validated [`Key`].
pub trait IntoKey {
    /// Validates and converts.
    fn into_key(self) -> Result<Key>;
}

impl IntoKey for &str {
    fn into_key(self) -> Result<Key> {
        Key::new(self)
    }
}

impl IntoKey for String {
    fn into_key(self) -> Result<Key> {
        Key::new(&self)
    }
}

impl IntoKey for &String {
    fn into_key(self) -> Result<Key> {
        Key::new(self)
    }
}

impl IntoKey for Key {
    fn into_key(self) -> Result<Key> {
        Ok(self)
    }
}

impl IntoKey for &Key {
    fn into_key(self) -> Result<Key> {
        Ok(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_long_keys_are_rejected_with_the_rule() {
        let e = Key::new("").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidKey);
        assert!(e.to_string().contains("empty"));
        let long = "x".repeat(MAX_KEY_LEN + 1);
        let e = Key::new(&long).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidKey);
        assert!(e.to_string().contains("1024"));
        assert!(Key::new(&"é".repeat(MAX_KEY_LEN / 2)).is_ok());
    }
}

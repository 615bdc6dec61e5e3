//! Callbacks implemented in Kotlin (suspend functions) and awaited by the core under a lock.

use crate::error::FencelockError;

/// with_lock's callback: computes the new state from the current one; `null` keeps the
/// current state. A thrown error releases the lock unchanged.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait StateUpdate: Send + Sync {
    /// Called once, under the lock, with the state read at acquisition.
    async fn update(&self, state: Option<Vec<u8>>) -> Result<Option<Vec<u8>>, FencelockError>;
}

/// do_if_free's callback: runs with the state while the lock is held; writes nothing.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait FreeAction: Send + Sync {
    /// Called once, under the lock, with the state read at acquisition.
    async fn run(&self, state: Option<Vec<u8>>) -> Result<(), FencelockError>;
}

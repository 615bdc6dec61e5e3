//! The second half of `with_lock`: what happens to the lock once the callback has answered,
//! failed or run past the lease. `Client::with_lock` runs the callback inside the core; a
//! binding whose callback lives on an event loop (Python's asyncio) acquires with renewal off,
//! runs the callback on its loop and hands the outcome here, so that the rules stay in one
//! place while the callback costs no crossing between threads.

use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::guard::LockGuard;
use bytes::Bytes;

impl LockGuard {
    /// Ends a `with_lock` whose callback ran outside the core. `outcome` is `None` when the
    /// callback ran longer than [`remaining`](Self::remaining) allowed at its start, else what it
    /// returned: new state (`None` keeps the old one) or its error. Writes the state and
    /// releases, or releases without writing, or abandons the lock to its lease, exactly as
    /// [`Client::with_lock`](crate::Client::with_lock) does, and answers what it would.
    /// The guard should come from an acquire with renewal off (`with_lock` never renews).
    ///
    /// # Errors
    /// `Timeout` for `None` (nothing written), `Callback` for the callback's error (the lock
    /// released, the state unchanged), `Expired` when the lock was lost meanwhile, `Backend`
    /// when writing got no answer twice.
    pub async fn finish_with_lock(
        &self,
        outcome: Option<std::result::Result<Option<Bytes>, BoxError>>,
    ) -> Result<Option<Bytes>> {
        match outcome {
            None => {
                self.shared.abandon();
                Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the with_lock callback for key {:?} ran longer than its lease of {:?}, \
                         so nothing was written; pass a longer lease",
                        self.key(),
                        self.lease()
                    ),
                )
                .with_key(self.key())
                .with_token(self.token()))
            }
            Some(Err(e)) => {
                let _ = self.release(None).await;
                Err(Error::new(
                    ErrorKind::Callback,
                    format!(
                        "the with_lock callback for key {:?} failed: {e}; the lock was released \
                         and the state left unchanged",
                        self.key()
                    ),
                )
                .with_key(self.key())
                .with_token(self.token())
                .with_source(e))
            }
            Some(Ok(new_state)) => {
                let state = new_state.or_else(|| self.initial_state().cloned());
                let released = match self.release(state.clone()).await {
                    // No answer: the guard remembers the attempt, and a second release learns
                    // from the store whether it was applied.
                    Err(e) if e.kind() == ErrorKind::Backend => {
                        self.release(state.clone()).await.map_err(|e2| {
                            Error::new(
                                ErrorKind::Backend,
                                format!(
                                    "the with_lock callback for key {:?} returned, but writing \
                                     its state got no answer, so the outcome is unknown (the \
                                     state may or may not have been written); read it with get() \
                                     before running the update again: {e2}",
                                    self.key()
                                ),
                            )
                            .with_key(self.key())
                            .with_token(self.token())
                            .with_source(e2)
                        })
                    }
                    r => r,
                };
                if released? {
                    Ok(state)
                } else {
                    Err(Error::new(
                        ErrorKind::Expired,
                        format!(
                            "the lock on key {:?} was lost while the with_lock callback ran, so \
                             its state was not written; retry",
                            self.key()
                        ),
                    )
                    .with_key(self.key())
                    .with_token(self.token()))
                }
            }
        }
    }
}

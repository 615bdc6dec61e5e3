//! `CancelToken`: how an `AbortSignal` reaches a pending operation. The JS layer creates one
//! per call and cancels it from the signal's `abort` event; the operation's future is then
//! dropped and its promise rejects with `ERR_FENCELOCK_ABORTED`.

use crate::error::{coded, ABORTED};
use napi_derive::napi;
use std::future::Future;
use tokio::sync::watch;

/// Cancels the operations it was passed to.
#[napi]
pub struct CancelToken {
    tx: watch::Sender<bool>,
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        CancelToken {
            tx: watch::Sender::new(false),
        }
    }

    /// Gives up every operation this token was passed to.
    #[napi]
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

/// A receiver for one operation (taken before the operation goes async).
pub fn watch(token: Option<&CancelToken>) -> Option<watch::Receiver<bool>> {
    token.map(|t| t.tx.subscribe())
}

/// Runs `op` unless the token fires first.
pub async fn run<T>(
    cancel: Option<watch::Receiver<bool>>,
    what: &str,
    op: impl Future<Output = napi::Result<T>>,
) -> napi::Result<T> {
    let Some(mut rx) = cancel else {
        return op.await;
    };
    tokio::select! {
        r = op => r,
        // An error means the token was dropped without cancelling: never cancel then.
        Ok(_) = rx.wait_for(|c| *c) => Err(coded(ABORTED, format!("{what} was aborted by its AbortSignal"))),
    }
}

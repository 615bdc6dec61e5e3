//! `fl_cancel`: lets another thread abort a blocking call (Go triggers it from a goroutine
//! that watches `ctx.Done()`).

use crate::error::fl_error;
use crate::ffi::{check_out, guard, guard_value, guard_void, handle, write_out};
use crate::status::fl_status;
use std::future::Future;
use tokio::sync::watch;

/// A cancellation token. Once triggered it stays triggered; make a new one per call.
///
/// Thread-safe: trigger it from any thread while a call that received it blocks on another.
pub struct fl_cancel {
    tx: watch::Sender<bool>,
}

impl fl_cancel {
    /// Resolves once the token is triggered.
    pub(crate) fn watch(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            if rx.wait_for(|t| *t).await.is_err() {
                // Freed while a call still used it (a caller bug): never cancel spuriously.
                futures::future::pending::<()>().await;
            }
        }
    }
}

/// Creates a cancellation token.
///
/// @param out receives the new token; free it with `fl_cancel_free` after the calls using it
///            have returned.
#[no_mangle]
pub extern "C" fn fl_cancel_new(out: *mut *mut fl_cancel, err: *mut *mut fl_error) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let (tx, _) = watch::channel(false);
        write_out(out, fl_cancel { tx });
        Ok(())
    })
}

/// Triggers `cancel`: blocking calls that received it return `FL_CANCELLED` promptly.
/// Safe to call from any thread, more than once, and with NULL.
#[no_mangle]
pub extern "C" fn fl_cancel_trigger(cancel: *const fl_cancel) {
    guard_void(|| {
        if let Ok(c) = handle(cancel, "cancel") {
            c.tx.send_replace(true);
        }
    })
}

/// Whether `cancel` was triggered (false for NULL).
#[no_mangle]
pub extern "C" fn fl_cancel_is_triggered(cancel: *const fl_cancel) -> bool {
    guard_value(false, || {
        handle(cancel, "cancel").is_ok_and(|c| *c.tx.borrow())
    })
}

/// Frees `*cancel` and sets it to NULL. Accepts NULL. No call may still be using it.
#[no_mangle]
pub extern "C" fn fl_cancel_free(cancel: *mut *mut fl_cancel) {
    // SAFETY: NULL, or a slot holding NULL or a token from fl_cancel_new.
    guard_void(|| unsafe { crate::ffi::free_box(cancel) })
}

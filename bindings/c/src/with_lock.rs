//! `fl_with_lock`: run a C callback under the lock and store the state it returns.

use crate::bytes::{bytes_out, fl_bytes, fl_state_out};
use crate::cancel::fl_cancel;
use crate::client::fl_client;
use crate::error::{fl_error, FlError};
use crate::ffi::{block, guard, handle, key_arg, timeout, write_opt};
use crate::options::{fl_lock_options, lock_options};
use crate::status::fl_status;
use std::ffi::{c_char, c_void};

/// A with_lock callback: gets the current state (NULL when there is none; borrowed for the
/// call) and may store a new one with `fl_state_out_set(out, ...)`. Returns 0 on success;
/// any other value releases the lock unchanged and makes fl_with_lock return FL_CALLBACK.
///
/// It runs on the calling thread, under the lock, and must not call blocking fencelock
/// functions (they return FL_INVALID_ARGUMENT there).
pub type fl_with_lock_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        state: *const fl_bytes,
        out: *mut fl_state_out,
    ) -> i32,
>;

/// Acquires `key`, runs `callback(user_data, state, out)`, stores the state it set (or keeps
/// the old one) and releases. The lease is not renewed: a callback that outlives it writes
/// nothing and the call returns FL_TIMEOUT.
///
/// @param timeout_ms how long to wait for the lock; FL_WAIT_FOREVER waits forever.
/// @param opts       optional (lease, label; renewal is always off).
/// @param cancel     optional; cancels the wait for the lock.
/// @param out_state  optional; receives the state now stored (NULL for none).
/// @return FL_OK, FL_TIMEOUT, FL_CALLBACK, FL_EXPIRED, FL_CANCELLED, FL_INVALID_KEY,
///         FL_INVALID_ARGUMENT, FL_STATE_TOO_LARGE, FL_CLOSED, FL_BACKEND.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fl_with_lock(
    client: *const fl_client,
    key: *const c_char,
    timeout_ms: i64,
    opts: *const fl_lock_options,
    cancel: *const fl_cancel,
    callback: fl_with_lock_fn,
    user_data: *mut c_void,
    out_state: *mut *mut fl_bytes,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        write_opt(out_state, std::ptr::null_mut());
        let c = handle(client, "client")?;
        let k = key_arg(key)?;
        let cb = callback.ok_or_else(|| FlError::null("callback"))?;
        let o = lock_options(opts, timeout(timeout_ms)?)?;
        let run = |state: Option<fencelock::Bytes>| async move {
            let current = state.map(|bytes| fl_bytes { bytes });
            let current_ptr = current
                .as_ref()
                .map_or(std::ptr::null(), |b| b as *const fl_bytes);
            let mut out = fl_state_out { state: None };
            // SAFETY: the caller's callback with its own user_data; both pointers we pass
            // stay valid for the duration of the call.
            let rc = unsafe { cb(user_data, current_ptr, &mut out) };
            if rc == 0 {
                Ok(out.state)
            } else {
                Err(format!("the callback returned {rc}"))
            }
        };
        let stored = block(cancel, c.client.with_lock_opts(k, &o, run))?;
        bytes_out(out_state, stored);
        Ok(())
    })
}

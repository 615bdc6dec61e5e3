//! `fl_lock`: acquire, try-acquire, release, put, refresh, the getters and lost notification.

use crate::bytes::{bytes_out, fl_bytes};
use crate::cancel::fl_cancel;
use crate::client::fl_client;
use crate::error::{fl_error, FlError};
use crate::ffi::{
    block, check_out, guard, guard_void, handle, key_arg, millis, required, state_arg, timeout,
    write_opt, write_out,
};
use crate::lost::{fl_lost_fn, Disarm};
use crate::options::{fl_lock_options, lock_options};
use crate::status::fl_status;
use fencelock::{GuardStatus, LockGuard};
use std::ffi::{c_char, c_void, CString};

/// Where a lock stands (`fl_lock_status`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fl_guard_status {
    /// Held and the lease is running.
    FL_GUARD_HELD = 0,
    /// The lease lapsed or someone else took the lock: writes are refused.
    FL_GUARD_LOST = 1,
    /// Released by its holder (or by closing the client).
    FL_GUARD_RELEASED = 2,
}

impl From<GuardStatus> for fl_guard_status {
    fn from(s: GuardStatus) -> Self {
        match s {
            GuardStatus::Held => fl_guard_status::FL_GUARD_HELD,
            GuardStatus::Lost => fl_guard_status::FL_GUARD_LOST,
            GuardStatus::Released => fl_guard_status::FL_GUARD_RELEASED,
        }
    }
}

/// A held lock: its key, fencing token, lock id and state.
///
/// Thread-safe: calls on one lock from several threads are serialised by the core.
/// Free it with `fl_lock_free`; freeing a lock that is still held releases it in the
/// background, keeping its state.
pub struct fl_lock {
    pub(crate) guard: LockGuard,
    key: CString,
    lock_id: CString,
    disarm: Disarm,
}

impl fl_lock {
    pub(crate) fn new(guard: LockGuard) -> fl_lock {
        fl_lock {
            key: CString::new(guard.key().replace('\0', "")).unwrap_or_default(),
            lock_id: CString::new(guard.lock_id().to_string()).unwrap_or_default(),
            guard,
            disarm: Disarm::default(),
        }
    }
}

impl Drop for fl_lock {
    fn drop(&mut self) {
        self.disarm.disarm();
    }
}

/// Acquires `key`, waiting up to `timeout_ms`.
///
/// @param client     borrowed.
/// @param key        NUL-terminated UTF-8, 1 byte to 1 KiB.
/// @param timeout_ms how long to wait; 0 makes one attempt; FL_WAIT_FOREVER waits forever.
/// @param opts       optional per-call options (lease, renewal, label).
/// @param cancel     optional; triggering it makes the call return FL_CANCELLED.
/// @param out        receives the lock; free it with `fl_lock_free`.
/// @return FL_OK, FL_TIMEOUT, FL_CANCELLED, FL_INVALID_KEY, FL_INVALID_ARGUMENT, FL_CLOSED,
///         FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_acquire(
    client: *const fl_client,
    key: *const c_char,
    timeout_ms: i64,
    opts: *const fl_lock_options,
    cancel: *const fl_cancel,
    out: *mut *mut fl_lock,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let c = handle(client, "client")?;
        let k = key_arg(key)?;
        let o = lock_options(opts, timeout(timeout_ms)?)?;
        let g = block(cancel, c.client.acquire_with(k, &o))?;
        write_out(out, fl_lock::new(g));
        Ok(())
    })
}

/// Acquires `key` only if it is free now.
///
/// @param out receives the lock; free it with `fl_lock_free`.
/// @return FL_OK, FL_HELD (someone else holds it; `*out` is NULL), FL_INVALID_KEY,
///         FL_INVALID_ARGUMENT, FL_CLOSED, FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_try_acquire(
    client: *const fl_client,
    key: *const c_char,
    opts: *const fl_lock_options,
    out: *mut *mut fl_lock,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let c = handle(client, "client")?;
        let k = key_arg(key)?;
        let o = lock_options(opts, None)?;
        match block(std::ptr::null(), c.client.try_acquire_with(k, &o))? {
            Some(g) => {
                write_out(out, fl_lock::new(g));
                Ok(())
            }
            None => Err(FlError::new(
                fl_status::FL_HELD,
                format!(
                    "the lock on key {k:?} is held by someone else; retry later or use \
                     fl_acquire to wait for it"
                ),
            )
            .with_key(k)),
        }
    })
}

/// Releases `lock` through `client` (the client that acquired it), writing `state` if given
/// and keeping the current state otherwise.
///
/// @param state       `state_len` bytes to store, or NULL with 0 to keep the current state.
/// @param out_released optional; false when the lease had lapsed or another holder took over:
///                    then nothing was written.
/// @return FL_OK, FL_NOT_HELD (already released), FL_INVALID_ARGUMENT (a lock of another
///         client), FL_STATE_TOO_LARGE, FL_CLOSED, FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_release(
    client: *const fl_client,
    lock: *const fl_lock,
    state: *const u8,
    state_len: usize,
    out_released: *mut bool,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        write_opt(out_released, false);
        let c = handle(client, "client")?;
        let l = handle(lock, "lock")?;
        let s = state_arg(state, state_len)?;
        let released = block(std::ptr::null(), c.client.release(&l.guard, s))?;
        write_opt(out_released, released);
        Ok(())
    })
}

/// Releases `lock` and clears its state.
///
/// @param out_released optional; false when the lock had already been lost.
#[no_mangle]
pub extern "C" fn fl_lock_release_clearing(
    lock: *const fl_lock,
    out_released: *mut bool,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        write_opt(out_released, false);
        let l = handle(lock, "lock")?;
        let released = block(std::ptr::null(), l.guard.release_clearing_state())?;
        write_opt(out_released, released);
        Ok(())
    })
}

/// Writes state while keeping the lock (a compare-and-set: refused once the lock is lost).
///
/// @param state `state_len` bytes, or NULL with 0 to clear the state.
/// @return FL_OK, FL_EXPIRED (lost), FL_NOT_HELD (released), FL_STATE_TOO_LARGE, FL_CLOSED,
///         FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_lock_put(
    lock: *const fl_lock,
    state: *const u8,
    state_len: usize,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        let s = state_arg(state, state_len)?;
        block(std::ptr::null(), l.guard.put(s))
    })
}

/// Renews the lease now.
///
/// @return FL_OK, FL_EXPIRED, FL_NOT_HELD, FL_CLOSED, FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_lock_refresh(lock: *const fl_lock, err: *mut *mut fl_error) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        block(std::ptr::null(), l.guard.refresh())
    })
}

/// The fencing token: strictly greater than every earlier acquisition's token of this key.
/// Pass it to the resource you protect and have it refuse smaller tokens.
#[no_mangle]
pub extern "C" fn fl_lock_token(
    lock: *const fl_lock,
    out: *mut u64,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        required(out)?;
        write_opt(out, l.guard.token());
        Ok(())
    })
}

/// The key, owned by `lock` (valid until `fl_lock_free`).
#[no_mangle]
pub extern "C" fn fl_lock_key(
    lock: *const fl_lock,
    out: *mut *const c_char,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        required(out)?;
        write_opt(out, l.key.as_ptr());
        Ok(())
    })
}

/// This acquisition's unique id: 32 lowercase hex characters owned by `lock`.
#[no_mangle]
pub extern "C" fn fl_lock_id(
    lock: *const fl_lock,
    out: *mut *const c_char,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        required(out)?;
        write_opt(out, l.lock_id.as_ptr());
        Ok(())
    })
}

/// The lease of this acquisition, in ms.
#[no_mangle]
pub extern "C" fn fl_lock_lease_ms(
    lock: *const fl_lock,
    out: *mut u64,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        required(out)?;
        write_opt(out, millis(l.guard.lease()));
        Ok(())
    })
}

/// The time left on the lease by this process's clock, in ms.
#[no_mangle]
pub extern "C" fn fl_lock_remaining_ms(
    lock: *const fl_lock,
    out: *mut u64,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        required(out)?;
        write_opt(out, millis(l.guard.remaining()));
        Ok(())
    })
}

/// Whether the lock is held, lost or released: the pollable form of lost notification.
#[no_mangle]
pub extern "C" fn fl_lock_status(
    lock: *const fl_lock,
    out: *mut fl_guard_status,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        required(out)?;
        write_opt(out, l.guard.status().into());
        Ok(())
    })
}

/// The state read when the lock was acquired (NULL for none). Free it with `fl_bytes_free`.
#[no_mangle]
pub extern "C" fn fl_lock_initial_state(
    lock: *const fl_lock,
    out: *mut *mut fl_bytes,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let l = handle(lock, "lock")?;
        bytes_out(out, l.guard.initial_state().cloned());
        Ok(())
    })
}

/// The state as last written through this lock, or read at acquisition (NULL for none).
#[no_mangle]
pub extern "C" fn fl_lock_state(
    lock: *const fl_lock,
    out: *mut *mut fl_bytes,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let l = handle(lock, "lock")?;
        bytes_out(out, l.guard.state());
        Ok(())
    })
}

/// Registers `callback`, called once with `user_data` and the token if the lock is lost
/// (lease lapsed, renewal refused, or broken by someone else); never if it is released.
///
/// The callback runs on a thread owned by fencelock and may call fencelock functions, except
/// `fl_lock_free` of this lock. `user_data` must be usable from that thread until
/// `fl_lock_free` returns; no callback runs after that.
#[no_mangle]
pub extern "C" fn fl_lock_on_lost(
    lock: *const fl_lock,
    callback: fl_lost_fn,
    user_data: *mut c_void,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(lock, "lock")?;
        let cb = callback.ok_or_else(|| FlError::null("callback"))?;
        l.disarm.watch(&l.guard, cb, user_data);
        Ok(())
    })
}

/// Frees `*lock` and sets it to NULL; a lock still held is released in the background
/// (keeping its state). Accepts NULL. No other thread may be using the lock.
#[no_mangle]
pub extern "C" fn fl_lock_free(lock: *mut *mut fl_lock) {
    // SAFETY: NULL, or a slot holding NULL or a lock from this library.
    guard_void(|| unsafe { crate::ffi::free_box(lock) })
}

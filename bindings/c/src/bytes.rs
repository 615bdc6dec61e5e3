//! State as bytes: `fl_bytes` hands state out (pointer + length, no copy of the core's
//! buffer); `fl_state_out` lets a with_lock callback hand a new state back.

use crate::error::fl_error;
use crate::ffi::{guard, guard_value, guard_void, handle, state_arg};
use crate::status::fl_status;
use fencelock::Bytes;

/// A state value. NULL where a state is returned means "no state" (never written or
/// cleared); an `fl_bytes` of length 0 is an empty state. Immutable: readable from any thread.
pub struct fl_bytes {
    pub(crate) bytes: Bytes,
}

/// Boxes an optional state for an `fl_bytes **` out-param (NULL for no state).
pub(crate) fn bytes_out(out: *mut *mut fl_bytes, value: Option<Bytes>) {
    if out.is_null() {
        return;
    }
    let p = value.map_or(std::ptr::null_mut(), |bytes| {
        Box::into_raw(Box::new(fl_bytes { bytes }))
    });
    // SAFETY: non-NULL out-params point to a writable pointer slot.
    unsafe { *out = p };
}

/// The bytes of `bytes`, valid until `fl_bytes_free`; NULL for a NULL handle. Not
/// NUL-terminated: use `fl_bytes_len`.
#[no_mangle]
pub extern "C" fn fl_bytes_data(bytes: *const fl_bytes) -> *const u8 {
    guard_value(std::ptr::null(), || {
        handle(bytes, "bytes").map_or(std::ptr::null(), |b| b.bytes.as_ptr())
    })
}

/// The length of `bytes` in bytes (0 for NULL).
#[no_mangle]
pub extern "C" fn fl_bytes_len(bytes: *const fl_bytes) -> usize {
    guard_value(0, || handle(bytes, "bytes").map_or(0, |b| b.bytes.len()))
}

/// Frees `*bytes` and sets it to NULL. Accepts NULL.
#[no_mangle]
pub extern "C" fn fl_bytes_free(bytes: *mut *mut fl_bytes) {
    // SAFETY: NULL, or a slot holding NULL or bytes from this library.
    guard_void(|| unsafe { crate::ffi::free_box(bytes) })
}

/// Where a with_lock callback puts the state to store. Only valid during the callback.
pub struct fl_state_out {
    pub(crate) state: Option<Bytes>,
}

/// Sets the state a with_lock callback wants stored (copied). Not calling it keeps the
/// current state.
///
/// @param out   the `fl_state_out` the callback received.
/// @param state `state_len` bytes; NULL with 0 is refused (to clear state, use
///              `fl_lock_put` with NULL or `fl_lock_release_clearing`).
#[no_mangle]
pub extern "C" fn fl_state_out_set(
    out: *mut fl_state_out,
    state: *const u8,
    state_len: usize,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        // SAFETY: NULL or the live fl_state_out given to the running callback.
        let out = unsafe { out.as_mut() }.ok_or_else(|| crate::error::FlError::null("out"))?;
        let new =
            state_arg(state, state_len)?.ok_or_else(|| crate::error::FlError::null("state"))?;
        out.state = Some(new);
        Ok(())
    })
}

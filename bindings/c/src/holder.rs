//! `fl_holder`: who holds a lock (or leads an election), as recorded in the store.

use crate::ffi::{guard_value, guard_void, handle, millis};
use fencelock::Holder;
use std::ffi::{c_char, CString};

/// A holder record. Immutable: readable from any thread. Free with `fl_holder_free`.
pub struct fl_holder {
    token: u64,
    lock_id: CString,
    lease_ms: u64,
    label: CString,
}

/// Boxes an optional holder for an `fl_holder **` out-param (NULL when free).
pub(crate) fn holder_out(out: *mut *mut fl_holder, holder: Option<Holder>) {
    if out.is_null() {
        return;
    }
    let p = holder.map_or(std::ptr::null_mut(), |h| {
        let label = h.label.replace('\0', "");
        Box::into_raw(Box::new(fl_holder {
            token: h.token,
            lock_id: CString::new(h.lock_id.to_string()).unwrap_or_default(),
            lease_ms: millis(h.lease),
            label: CString::new(label).unwrap_or_default(),
        }))
    });
    // SAFETY: non-NULL out-params point to a writable pointer slot.
    unsafe { *out = p };
}

/// The holder's fencing token (the leader's term); 0 for NULL.
#[no_mangle]
pub extern "C" fn fl_holder_token(holder: *const fl_holder) -> u64 {
    guard_value(0, || handle(holder, "holder").map_or(0, |h| h.token))
}

/// The holder's lock id: 32 lowercase hex characters, owned by `holder`; "" for NULL.
#[no_mangle]
pub extern "C" fn fl_holder_lock_id(holder: *const fl_holder) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        handle(holder, "holder").map_or(c"".as_ptr(), |h| h.lock_id.as_ptr())
    })
}

/// The lease the holder asked for, in ms; 0 for NULL.
#[no_mangle]
pub extern "C" fn fl_holder_lease_ms(holder: *const fl_holder) -> u64 {
    guard_value(0, || handle(holder, "holder").map_or(0, |h| h.lease_ms))
}

/// The holder's label (the candidate name in elections), owned by `holder`; "" for NULL.
#[no_mangle]
pub extern "C" fn fl_holder_label(holder: *const fl_holder) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        handle(holder, "holder").map_or(c"".as_ptr(), |h| h.label.as_ptr())
    })
}

/// Frees `*holder` and sets it to NULL. Accepts NULL.
#[no_mangle]
pub extern "C" fn fl_holder_free(holder: *mut *mut fl_holder) {
    // SAFETY: NULL, or a slot holding NULL or a holder from this library.
    guard_void(|| unsafe { crate::ffi::free_box(holder) })
}

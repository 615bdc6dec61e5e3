//! Leader election (natslock's AcquireLead / ReleaseLead): campaign, try_campaign, leader,
//! resign, and lost notification for the leader.

use crate::cancel::fl_cancel;
use crate::client::fl_client;
use crate::error::{fl_error, FlError};
use crate::ffi::{
    block, check_out, guard, guard_void, handle, key_arg, required, string, timeout, write_opt,
    write_out,
};
use crate::holder::{fl_holder, holder_out};
use crate::lost::{fl_lost_fn, Disarm};
use crate::status::fl_status;
use fencelock::Leadership;
use std::ffi::{c_char, c_void};

/// Leadership of one election, held (its lease renewed) until resigned, lost or freed.
///
/// Thread-safe. Freeing it while leading resigns in the background.
pub struct fl_leadership {
    leadership: Leadership,
    disarm: Disarm,
}

impl Drop for fl_leadership {
    fn drop(&mut self) {
        self.disarm.disarm();
    }
}

fn lead(l: Leadership) -> fl_leadership {
    fl_leadership {
        leadership: l,
        disarm: Disarm::default(),
    }
}

/// Campaigns for leadership of `election`, waiting up to `timeout_ms`.
///
/// @param candidate  recorded as the leader's label (e.g. a host name); NUL-terminated UTF-8.
/// @param timeout_ms FL_WAIT_FOREVER waits until elected.
/// @param cancel     optional; triggering it makes the call return FL_CANCELLED.
/// @param out        receives the leadership; free it with `fl_leadership_free`.
/// @return FL_OK, FL_TIMEOUT, FL_CANCELLED, FL_INVALID_KEY, FL_INVALID_ARGUMENT, FL_CLOSED,
///         FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_campaign(
    client: *const fl_client,
    election: *const c_char,
    candidate: *const c_char,
    timeout_ms: i64,
    cancel: *const fl_cancel,
    out: *mut *mut fl_leadership,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let c = handle(client, "client")?;
        let k = key_arg(election)?;
        let who = string(candidate, "candidate")?;
        let t = timeout(timeout_ms)?;
        let l = block(cancel, c.client.campaign(k, who, t))?;
        write_out(out, lead(l));
        Ok(())
    })
}

/// Becomes leader only if nobody leads now.
///
/// @return FL_OK, FL_HELD (someone else leads; `*out` is NULL), FL_INVALID_KEY,
///         FL_INVALID_ARGUMENT, FL_CLOSED, FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_try_campaign(
    client: *const fl_client,
    election: *const c_char,
    candidate: *const c_char,
    out: *mut *mut fl_leadership,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let c = handle(client, "client")?;
        let k = key_arg(election)?;
        let who = string(candidate, "candidate")?;
        match block(std::ptr::null(), c.client.try_campaign(k, who))? {
            Some(l) => {
                write_out(out, lead(l));
                Ok(())
            }
            None => Err(FlError::new(
                fl_status::FL_HELD,
                format!("election {k:?} already has a leader; campaign to wait for it"),
            )
            .with_key(k)),
        }
    })
}

/// The current leader of `election` as recorded in the store.
///
/// @param out receives the leader (NULL when nobody leads); free it with `fl_holder_free`.
#[no_mangle]
pub extern "C" fn fl_leader(
    client: *const fl_client,
    election: *const c_char,
    out: *mut *mut fl_holder,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let c = handle(client, "client")?;
        let k = key_arg(election)?;
        let h = block(std::ptr::null(), c.client.leader(k))?;
        holder_out(out, h);
        Ok(())
    })
}

/// Whether this process still leads.
#[no_mangle]
pub extern "C" fn fl_leadership_is_leader(
    leadership: *const fl_leadership,
    out: *mut bool,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(leadership, "leadership")?;
        required(out)?;
        write_opt(out, l.leadership.is_leader());
        Ok(())
    })
}

/// The term: the fencing token of this leadership, greater than every earlier term's.
#[no_mangle]
pub extern "C" fn fl_leadership_term(
    leadership: *const fl_leadership,
    out: *mut u64,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(leadership, "leadership")?;
        required(out)?;
        write_opt(out, l.leadership.term());
        Ok(())
    })
}

/// Steps down so another candidate can lead.
///
/// @param out_resigned optional; false when leadership had already been lost.
/// @return FL_OK, FL_NOT_HELD (already resigned), FL_CLOSED, FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_leadership_resign(
    leadership: *const fl_leadership,
    out_resigned: *mut bool,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        write_opt(out_resigned, false);
        let l = handle(leadership, "leadership")?;
        // Leadership::resign consumes it; its guard's release is the same operation.
        let done = block(std::ptr::null(), l.leadership.resign())?;
        write_opt(out_resigned, done);
        Ok(())
    })
}

/// Registers `callback`, called once if leadership is lost (see `fl_lock_on_lost`).
#[no_mangle]
pub extern "C" fn fl_leadership_on_lost(
    leadership: *const fl_leadership,
    callback: fl_lost_fn,
    user_data: *mut c_void,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let l = handle(leadership, "leadership")?;
        let cb = callback.ok_or_else(|| FlError::null("callback"))?;
        l.disarm.watch(l.leadership.guard(), cb, user_data);
        Ok(())
    })
}

/// Frees `*leadership` and sets it to NULL; still leading, it resigns in the background.
/// Accepts NULL.
#[no_mangle]
pub extern "C" fn fl_leadership_free(leadership: *mut *mut fl_leadership) {
    // SAFETY: NULL, or a slot holding NULL or a leadership from this library.
    guard_void(|| unsafe { crate::ffi::free_box(leadership) })
}

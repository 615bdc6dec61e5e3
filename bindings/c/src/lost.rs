//! Lost notification as a C callback: a task on the core runtime watches the guard's status
//! and, when it turns `Lost`, calls the callback on a fresh thread (so the callback may make
//! blocking fencelock calls). Freeing the handle disarms it: no call after the free returns.

use fencelock::{GuardStatus, LockGuard};
use std::ffi::c_void;
use std::sync::{Arc, Mutex};

/// Called once when a lock (or leadership) is lost: `user_data` as registered, and the
/// fencing token of the lost lock. Runs on a thread owned by fencelock.
pub type fl_lost_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, token: u64)>;

/// The user's pointer, moved to the delivering thread; the caller vouches it may be.
struct UserData(*mut c_void);
// SAFETY: documented contract of fl_lock_on_lost: user_data must be usable from any thread.
unsafe impl Send for UserData {}

/// Shared by a handle and its watchers; `true` once the handle was freed.
#[derive(Default)]
pub(crate) struct Disarm(Arc<Mutex<bool>>);

impl Disarm {
    /// Stops future callbacks, waiting for one in progress to finish.
    pub fn disarm(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
    }

    /// Watches `guard` and calls `cb(user_data, token)` if it is lost.
    pub fn watch(
        &self,
        guard: &LockGuard,
        cb: unsafe extern "C" fn(*mut c_void, u64),
        user_data: *mut c_void,
    ) {
        let mut rx = guard.status_receiver();
        let token = guard.token();
        let disarmed = self.0.clone();
        let user = UserData(user_data);
        fencelock::runtime::handle().spawn(async move {
            let lost = rx
                .wait_for(|s| *s != GuardStatus::Held)
                .await
                .is_ok_and(|s| *s == GuardStatus::Lost);
            if !lost {
                return;
            }
            std::thread::spawn(move || {
                let user = user;
                let off = disarmed.lock().unwrap_or_else(|p| p.into_inner());
                if !*off {
                    // SAFETY: the caller registered a valid callback; a C function cannot
                    // unwind into us.
                    unsafe { cb(user.0, token) };
                }
            });
        });
    }
}

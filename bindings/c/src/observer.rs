//! `fl_observer`: leadership changes of an election delivered to a C callback (the core's
//! `observe_leader` stream). Callbacks run one at a time on a thread owned by the observer,
//! so they may make blocking fencelock calls; none runs after `fl_observer_free` returns.

use crate::client::fl_client;
use crate::error::{fl_error, FlError};
use crate::ffi::{block, check_out, guard, guard_void, handle, key_arg, write_out};
use crate::holder::{fl_holder, holder_out};
use crate::status::fl_status;
use futures::StreamExt;
use std::ffi::{c_char, c_void};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Called with the current leader first, then at every change: `leader` is NULL when nobody
/// leads, and is borrowed for the call (copy what you keep).
pub type fl_leader_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, leader: *const fl_holder)>;

/// A running observation of one election. Free it with `fl_observer_free` to stop.
pub struct fl_observer {
    task: tokio::task::JoinHandle<()>,
    thread: Option<JoinHandle<()>>,
}

struct UserData(*mut c_void);
// SAFETY: fl_observe_leader documents that user_data is used from the observer's thread.
unsafe impl Send for UserData {}

/// Observes the leadership of `election`: `callback(user_data, leader)` runs with the current
/// leader, then on every change of leader, from a thread owned by the observer.
///
/// @param out receives the observer; `fl_observer_free` stops it.
/// @return FL_OK, FL_INVALID_KEY, FL_INVALID_ARGUMENT, FL_CLOSED, FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_observe_leader(
    client: *const fl_client,
    election: *const c_char,
    callback: fl_leader_fn,
    user_data: *mut c_void,
    out: *mut *mut fl_observer,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let c = handle(client, "client")?;
        let k = key_arg(election)?;
        let cb = callback.ok_or_else(|| FlError::null("callback"))?;
        let mut changes = block(std::ptr::null(), c.client.observe_leader(k))?;
        let (tx, rx) = mpsc::channel::<Option<fencelock::Holder>>();
        let user = UserData(user_data);
        let thread = std::thread::Builder::new()
            .name("fencelock-observer".into())
            .spawn(move || {
                let user = user;
                for leader in rx {
                    let mut h: *mut fl_holder = std::ptr::null_mut();
                    holder_out(&mut h, leader);
                    // SAFETY: the caller's callback with its user_data; `h` lives for the call.
                    unsafe { cb(user.0, h) };
                    // SAFETY: `h` is NULL or was boxed by holder_out just above.
                    unsafe { crate::ffi::free_box(&mut h) };
                }
            })
            .map_err(|e| {
                FlError::new(
                    fl_status::FL_INTERNAL,
                    format!("cannot start the observer thread: {e}"),
                )
            })?;
        let task = fencelock::runtime::handle().spawn(async move {
            while let Some(leader) = changes.next().await {
                if tx.send(leader).is_err() {
                    break;
                }
            }
        });
        write_out(
            out,
            fl_observer {
                task,
                thread: Some(thread),
            },
        );
        Ok(())
    })
}

impl Drop for fl_observer {
    fn drop(&mut self) {
        // Aborting drops the sender, which ends the delivery thread after its current call.
        self.task.abort();
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// Stops and frees `*observer`, setting it to NULL; no callback runs after it returns (when
/// called from the observer's own callback, the current call is the last). Accepts NULL.
#[no_mangle]
pub extern "C" fn fl_observer_free(observer: *mut *mut fl_observer) {
    // SAFETY: NULL, or a slot holding NULL or an observer from fl_observe_leader.
    guard_void(|| unsafe { crate::ffi::free_box(observer) })
}

//! `fl_client`: connect, close, and the key operations that need no lock (get, wait, delete).

use crate::bytes::{bytes_out, fl_bytes};
use crate::cancel::fl_cancel;
use crate::error::fl_error;
use crate::ffi::{
    block, check_out, guard, guard_void, handle, key_arg, required, timeout, write_opt, write_out,
};
use crate::holder::{fl_holder, holder_out};
use crate::options::fl_client_options;
use crate::status::fl_status;
use fencelock::Client;

/// A connection to a backend plus a namespace and defaults.
///
/// Thread-safe: one client may be used from any number of threads at once. Locks taken
/// through it stay valid handles after the client is freed (their calls then fail with
/// `FL_CLOSED`).
pub struct fl_client {
    pub(crate) client: Client,
}

/// Connects a client (creating or binding the namespace's bucket).
///
/// @param options borrowed for the call; `options->url` is required.
/// @param out     receives the client; free it with `fl_client_free`.
/// @param err     optional; receives an `fl_error` on failure (free it with `fl_error_free`).
/// @return FL_OK, FL_INVALID_ARGUMENT (bad option, with the reason) or FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_client_connect(
    options: *const fl_client_options,
    out: *mut *mut fl_client,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        check_out(out, "out")?;
        let options = handle(options, "options")?.core_options()?;
        let client = block(std::ptr::null(), fencelock::Client::connect_with(options))?;
        write_out(out, fl_client { client });
        Ok(())
    })
}

/// Closes the client: stops renewals and watches, releases every lock it holds (keeping
/// their state) and closes the connection. Later calls through it or its locks fail with
/// `FL_CLOSED`. Idempotent. Blocks until done.
#[no_mangle]
pub extern "C" fn fl_client_close(client: *const fl_client, err: *mut *mut fl_error) -> fl_status {
    guard(err, || {
        let c = handle(client, "client")?;
        block(std::ptr::null(), async {
            c.client.close().await;
            Ok(())
        })
    })
}

/// Whether the client was closed.
#[no_mangle]
pub extern "C" fn fl_client_is_closed(
    client: *const fl_client,
    out: *mut bool,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let c = handle(client, "client")?;
        required(out)?;
        write_opt(out, c.client.is_closed());
        Ok(())
    })
}

/// The largest state the server accepts, in bytes.
#[no_mangle]
pub extern "C" fn fl_client_max_state_len(
    client: *const fl_client,
    out: *mut usize,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let c = handle(client, "client")?;
        required(out)?;
        write_opt(out, c.client.max_state_len());
        Ok(())
    })
}

/// Closes (see `fl_client_close`) and frees `*client`, setting it to NULL. Accepts NULL.
/// No other thread may be using the client.
#[no_mangle]
pub extern "C" fn fl_client_free(client: *mut *mut fl_client) {
    guard_void(|| {
        if client.is_null() {
            return;
        }
        // SAFETY: a slot holding NULL or a client from fl_client_connect.
        let p = unsafe { std::ptr::replace(client, std::ptr::null_mut()) };
        if p.is_null() {
            return;
        }
        // SAFETY: `p` came from Box::into_raw in fl_client_connect.
        let c = unsafe { Box::from_raw(p) };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Freed from inside a callback: close in the background instead of blocking.
            let client = c.client.clone();
            fencelock::runtime::handle().spawn(async move { client.close().await });
        } else {
            fencelock::runtime::block_on(c.client.close());
        }
    })
}

/// Waits until `key` is free (released, never held, or its holder's lease ran out) and
/// returns its state. Takes no lock.
///
/// @param timeout_ms how long to wait; 0 checks once; FL_WAIT_FOREVER waits forever.
/// @param cancel     optional; triggering it makes the call return FL_CANCELLED.
/// @param out_state  optional; receives the state (NULL when there is none).
/// @return FL_OK, FL_TIMEOUT, FL_CANCELLED, FL_INVALID_KEY, FL_CLOSED, FL_BACKEND.
#[no_mangle]
pub extern "C" fn fl_wait(
    client: *const fl_client,
    key: *const std::ffi::c_char,
    timeout_ms: i64,
    cancel: *const fl_cancel,
    out_state: *mut *mut fl_bytes,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        write_opt(out_state, std::ptr::null_mut());
        let c = handle(client, "client")?;
        let k = key_arg(key)?;
        let t = timeout(timeout_ms)?;
        let state = block(cancel, c.client.wait(k, t))?;
        bytes_out(out_state, state);
        Ok(())
    })
}

/// Reads the state and the holder of `key` without locking.
///
/// @param out_state    optional; receives the state (NULL when there is none).
/// @param out_holder   optional; receives the holder (NULL when the lock is free); free it
///                     with `fl_holder_free`.
/// @param out_revision optional; receives the store's revision (0: the key never existed).
#[no_mangle]
pub extern "C" fn fl_get(
    client: *const fl_client,
    key: *const std::ffi::c_char,
    out_state: *mut *mut fl_bytes,
    out_holder: *mut *mut fl_holder,
    out_revision: *mut u64,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        write_opt(out_state, std::ptr::null_mut());
        write_opt(out_holder, std::ptr::null_mut());
        let c = handle(client, "client")?;
        let k = key_arg(key)?;
        let info = block(std::ptr::null(), c.client.get(k))?;
        bytes_out(out_state, info.state);
        holder_out(out_holder, info.holder);
        write_opt(out_revision, info.revision);
        Ok(())
    })
}

/// Deletes the lock and the state of `key` unconditionally. A current holder loses the lock
/// (its writes are refused and its lost callback fires). For operators and tests.
#[no_mangle]
pub extern "C" fn fl_delete(
    client: *const fl_client,
    key: *const std::ffi::c_char,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let c = handle(client, "client")?;
        let k = key_arg(key)?;
        block(std::ptr::null(), c.client.delete(k))
    })
}

#[allow(dead_code)]
fn _assert_thread_safe() {
    fn is<T: Send + Sync>() {}
    is::<fl_client>();
    is::<crate::lock::fl_lock>();
    is::<crate::leader::fl_leadership>();
    is::<fl_bytes>();
    is::<fl_cancel>();
    is::<fl_error>();
    is::<fl_holder>();
    let _ = check_out::<u8>;
}

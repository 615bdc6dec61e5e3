//! Promises of core operations, driven on the JS thread that asked for them.
//!
//! An operation's future is polled right away on the JS thread (inside the core runtime's
//! context), which sends its request at once; when the store answers, the connection task on
//! the core runtime wakes it, and the waker nudges this thread through one thread-safe
//! function per JS thread, whose callback polls the woken futures and settles their promises.
//! Compared with running each operation as a task on the core runtime, this saves the
//! wake-up that starts the task and a thread-safe function per promise: most of the binding's
//! overhead on a lock cycle (DESIGN.md §6: Node W1 <= 1.3x the core's). The nudge function is
//! referenced only while operations are pending, so an idle client never keeps Node alive.

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{sys, Env, JsError};
use std::cell::{Cell, OnceCell};
use std::ffi::c_void;
use std::future::Future;
use std::ptr;
use std::sync::{Arc, Mutex};

/// A finished operation: turns its outcome into a JS value (or error) on the JS thread.
type Settle = Box<dyn FnOnce(sys::napi_env) -> napi::Result<sys::napi_value> + Send>;

/// A promise's resolver. Only used on the JS thread that created it.
struct Deferred(sys::napi_deferred);

/// The nudge function, shared with wakers on the core's threads. `None` once Node has torn
/// the environment down (the function is freed then, so nobody may call it any more).
struct Nudge(Mutex<Option<NudgeFn>>);

struct NudgeFn(sys::napi_threadsafe_function);

// SAFETY: a thread-safe function may be called from any thread; that is its purpose.
unsafe impl Send for NudgeFn {}

impl Nudge {
    fn call(&self) {
        let f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = f.as_ref() {
            // Fails only while the environment closes: nobody is left to settle then.
            // SAFETY: the function stays alive while it is in the slot (see `env_closing`).
            unsafe {
                sys::napi_call_threadsafe_function(
                    f.0,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                );
            }
        }
    }
}

/// This JS thread's pending operations.
struct Driver {
    tasks: fencelock::runtime::LoopTasks<Settle, Deferred>,
    nudge: Arc<Nudge>,
    /// Whether the nudge function currently keeps the event loop alive.
    referenced: Cell<bool>,
}

thread_local! {
    static DRIVER: OnceCell<Driver> = const { OnceCell::new() };
}

/// Runs `op` and returns a promise of its outcome.
pub fn spawn<'env, T, F>(env: &'env Env, op: F) -> napi::Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = napi::Result<T>> + Send + 'static,
{
    let raw = env.raw();
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: called on the JS thread with its env.
    napi::check_status!(unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) })?;
    let future = async move {
        let out = op.await;
        Box::new(move |env| out.and_then(|v| unsafe { T::to_napi_value(env, v) })) as Settle
    };
    DRIVER.with(|cell| {
        let driver = match cell.get() {
            Some(d) => d,
            None => {
                let d = Driver::new(raw)?;
                cell.get_or_init(|| d)
            }
        };
        if let Ok((settle, deferred)) = driver.tasks.start(future, Deferred(deferred)) {
            settle_one(raw, settle, deferred);
        }
        driver.keep_alive_while_pending(raw);
        Ok::<_, napi::Error>(())
    })?;
    Ok(Object::from_raw(raw, promise))
}

impl Driver {
    fn new(env: sys::napi_env) -> napi::Result<Driver> {
        let mut name = ptr::null_mut();
        let label = "fencelock";
        let mut tsfn = ptr::null_mut();
        // SAFETY: plain N-API calls on the JS thread; the callback and hook are `extern "C"`
        // functions of this module.
        unsafe {
            napi::check_status!(sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name
            ))?;
            napi::check_status!(sys::napi_create_threadsafe_function(
                env,
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                ptr::null_mut(),
                None,
                ptr::null_mut(),
                Some(run_woken),
                &mut tsfn,
            ))?;
            napi::check_status!(sys::napi_unref_threadsafe_function(env, tsfn))?;
        }
        let nudge = Arc::new(Nudge(Mutex::new(Some(NudgeFn(tsfn)))));
        // Registered after the function was created, so it runs before Node's own clean-up
        // frees the function (hooks run in reverse order).
        let hook = Arc::into_raw(nudge.clone()) as *mut c_void;
        // SAFETY: `env_closing` takes back the Arc leaked here, once.
        napi::check_status!(unsafe {
            sys::napi_add_env_cleanup_hook(env, Some(env_closing), hook)
        })?;
        let waker_side = nudge.clone();
        Ok(Driver {
            tasks: fencelock::runtime::LoopTasks::new(move || waker_side.call()),
            nudge,
            referenced: Cell::new(false),
        })
    }

    /// References the nudge function while operations are pending (a pending `await` keeps
    /// Node running, as any I/O does) and unreferences it when none are.
    fn keep_alive_while_pending(&self, env: sys::napi_env) {
        let pending = self.tasks.pending() > 0;
        if pending == self.referenced.get() {
            return;
        }
        let f = self.nudge.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = f.as_ref() {
            // SAFETY: on the JS thread, with a live function.
            unsafe {
                if pending {
                    sys::napi_ref_threadsafe_function(env, f.0);
                } else {
                    sys::napi_unref_threadsafe_function(env, f.0);
                }
            }
            self.referenced.set(pending);
        }
    }
}

/// Resolves or rejects one promise with an operation's outcome.
fn settle_one(env: sys::napi_env, settle: Settle, deferred: Deferred) {
    // SAFETY: on the JS thread that created the deferred, with its env.
    unsafe {
        match settle(env) {
            Ok(value) => sys::napi_resolve_deferred(env, deferred.0, value),
            Err(e) => sys::napi_reject_deferred(env, deferred.0, JsError::from(e).into_value(env)),
        };
    }
}

/// The nudge function's callback, on the JS thread: polls the woken operations.
unsafe extern "C" fn run_woken(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() {
        return; // the environment is closing
    }
    DRIVER.with(|cell| {
        if let Some(driver) = cell.get() {
            driver
                .tasks
                .run_woken(|settle, deferred| settle_one(env, settle, deferred));
            driver.keep_alive_while_pending(env);
        }
    });
}

/// Env clean-up hook: the nudge function is about to be freed; wakers must stop calling it.
unsafe extern "C" fn env_closing(arg: *mut c_void) {
    // SAFETY: the Arc leaked in `Driver::new`.
    let nudge = unsafe { Arc::from_raw(arg as *const Nudge) };
    nudge.0.lock().unwrap_or_else(|p| p.into_inner()).take();
}

//! Promises of core operations, driven on the JS thread that asked for them.
//!
//! An operation's future is polled right away on the JS thread (inside the core runtime's
//! context), which sends its request at once; when the store answers, the connection task on
//! the core runtime wakes it, and the waker nudges this thread through one thread-safe
//! function per JS thread, whose callback polls the woken futures and settles their promises.
//! Compared with running each operation as a task on the core runtime, this saves the
//! wake-up that starts the task and a thread-safe function per promise: most of the binding's
//! overhead on a lock cycle (target: Node W1 <= 1.3x the core's, docs/ARCHITECTURE.md). With
//! many calls in flight `LoopTasks` runs new ones on the core runtime instead (its
//! `INLINE_LIMIT`), so the JS thread is not the one thread polling them all. The nudge function is
//! referenced only while operations are pending, so an idle client never keeps Node alive.
//!
//! An operation that completes on its first poll (the memory backend, a closed client) settles
//! its promise at once, so a loop of such calls runs entirely in microtasks and never returns
//! to the event loop. Node frees the native side of garbage-collected objects (every `Guard`,
//! every callback's thread-safe function) only from the event loop, so such a loop kept every
//! guard it ever made until it ended: about 1 KiB per lock cycle. After
//! [`SYNC_STREAK`] immediate settlements in a row, the next ones are delivered from a
//! `setImmediate` callback instead, which costs one event-loop turn and lets those frees run
//! (they run in the same phase as immediates). The nudge would not do: Node runs the calls
//! queued on a thread-safe function in a loop of up to 1000 without returning to the event loop.

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{sys, Env, JsError};
use std::cell::{Cell, OnceCell, RefCell};
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

/// Immediate settlements in a row before one goes through the event loop (see the module
/// docs): bounds what a synchronous loop holds to this many cycles' objects, for one loop turn
/// (~10 µs) per this many calls.
const SYNC_STREAK: u32 = 256;

/// This JS thread's pending operations.
struct Driver {
    tasks: fencelock::runtime::LoopTasks<Settle, Deferred>,
    nudge: Arc<Nudge>,
    /// Whether the nudge function currently keeps the event loop alive.
    referenced: Cell<bool>,
    /// Promises settled at once since the last `setImmediate` callback.
    streak: Cell<u32>,
    /// Finished operations whose promises wait for the `setImmediate` callback.
    ready: RefCell<Vec<(Settle, Deferred)>>,
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
            driver.settle_now_or_soon(raw, settle, deferred);
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
            streak: Cell::new(0),
            ready: RefCell::new(Vec::new()),
        })
    }

    /// Settles a finished operation at once, or after an event-loop turn once too many were
    /// settled at once in a row.
    fn settle_now_or_soon(&self, env: sys::napi_env, settle: Settle, deferred: Deferred) {
        let streak = self.streak.get();
        if streak < SYNC_STREAK {
            self.streak.set(streak + 1);
            settle_one(env, settle, deferred);
            return;
        }
        let first = {
            let mut ready = self.ready.borrow_mut();
            ready.push((settle, deferred));
            ready.len() == 1
        };
        if first {
            if let Err(e) = set_immediate(env) {
                // Not expected (setImmediate is a Node global); settle at once rather than never.
                eprintln!("fencelock: cannot schedule setImmediate ({e}); settling at once");
                self.settle_ready(env);
            }
        }
    }

    /// Settles what waited for an event-loop turn.
    fn settle_ready(&self, env: sys::napi_env) {
        self.streak.set(0);
        let ready = std::mem::take(&mut *self.ready.borrow_mut());
        for (settle, deferred) in ready {
            settle_one(env, settle, deferred);
        }
    }

    /// Polls the woken operations.
    fn run_woken(&self, env: sys::napi_env) {
        self.tasks
            .run_woken(|settle, deferred| settle_one(env, settle, deferred));
        self.keep_alive_while_pending(env);
    }

    /// Operations whose promises are not settled yet (test support: must fall back to 0).
    fn pending(&self) -> usize {
        self.tasks.pending() + self.ready.borrow().len()
    }

    /// References the nudge function while operations are pending (a pending `await` keeps
    /// Node running, as any I/O does) and unreferences it when none are.
    fn keep_alive_while_pending(&self, env: sys::napi_env) {
        let pending = self.pending() > 0;
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
            driver.run_woken(env);
        }
    });
}

/// Calls `settle_ready` from a `setImmediate` callback (after an event-loop turn).
fn set_immediate(env: sys::napi_env) -> napi::Result<()> {
    let name = "fencelockSettle";
    // SAFETY: plain N-API calls on the JS thread with its env.
    unsafe {
        let mut global = ptr::null_mut();
        napi::check_status!(sys::napi_get_global(env, &mut global))?;
        let mut schedule = ptr::null_mut();
        napi::check_status!(sys::napi_get_named_property(
            env,
            global,
            c"setImmediate".as_ptr(),
            &mut schedule
        ))?;
        let mut callback = ptr::null_mut();
        napi::check_status!(sys::napi_create_function(
            env,
            name.as_ptr().cast(),
            name.len() as isize,
            Some(on_immediate),
            ptr::null_mut(),
            &mut callback
        ))?;
        let mut result = ptr::null_mut();
        napi::check_status!(sys::napi_call_function(
            env,
            global,
            schedule,
            1,
            &callback,
            &mut result
        ))
    }
}

unsafe extern "C" fn on_immediate(
    env: sys::napi_env,
    _info: sys::napi_callback_info,
) -> sys::napi_value {
    DRIVER.with(|cell| {
        if let Some(driver) = cell.get() {
            driver.settle_ready(env);
            // Nothing may be pending any more: stop keeping Node alive then.
            driver.keep_alive_while_pending(env);
        }
    });
    ptr::null_mut()
}

/// Env clean-up hook: the nudge function is about to be freed; wakers must stop calling it.
unsafe extern "C" fn env_closing(arg: *mut c_void) {
    // SAFETY: the Arc leaked in `Driver::new`.
    let nudge = unsafe { Arc::from_raw(arg as *const Nudge) };
    nudge.0.lock().unwrap_or_else(|p| p.into_inner()).take();
}

/// Operations of this JS thread whose promises are not settled yet.
pub fn pending_on_this_thread() -> usize {
    DRIVER.with(|cell| cell.get().map_or(0, Driver::pending))
}

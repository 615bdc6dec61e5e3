//! Ctrl-C during a blocking call of the sync API.
//!
//! Python runs signal handlers only on the main thread, and only while that thread holds the
//! GIL, which a blocking call has released. So a call blocked on the main thread re-attaches
//! every [`SIGNAL_CHECK`] to let them run. A timer per call did that, but a timer registered
//! from a thread outside the runtime wakes the runtime's timer thread to re-arm it: one more
//! thread wake-up per call, about a tenth of a W1 cycle on a 2-vCPU VM. Instead one ticker
//! task on the core runtime wakes the blocked main-thread call every period, and runs only
//! while such calls happen (it stops after a second without one). Calls on other threads skip
//! the check: their signal handlers could not run anyway.

use crate::runtime::attach_unless_exiting;
use futures::task::AtomicWaker;
use pyo3::prelude::*;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::task::Poll;
use std::time::Duration;

/// How often a blocked main-thread call checks for pending signals: the reaction time.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);
/// Ticks without a blocked main-thread call after which the ticker stops.
const IDLE_TICKS: u32 = 20;

/// `threading.main_thread().ident` (a `pthread_t` on Unix); 0 until the module is loaded.
static MAIN_IDENT: AtomicU64 = AtomicU64::new(0);
/// Wakes the main thread's blocked call (there is at most one).
static MAIN_WAKER: AtomicWaker = AtomicWaker::new();
static TICKS: AtomicU64 = AtomicU64::new(0);
/// Whether a main-thread call is blocked, and how many have been (for the ticker's idleness).
static BLOCKED: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicU64 = AtomicU64::new(0);
static TICKING: AtomicBool = AtomicBool::new(false);

/// Records which thread is Python's main thread: at import, and in a child after `fork()`
/// (whose main thread is the one that forked).
pub fn learn_main_thread(py: Python<'_>) -> PyResult<()> {
    let ident: u64 = py
        .import("threading")?
        .call_method0("main_thread")?
        .getattr("ident")?
        .extract()?;
    MAIN_IDENT.store(ident, SeqCst);
    Ok(())
}

/// Called in a child after `fork()`: the parent's ticker task does not exist there.
pub fn after_fork(py: Python<'_>) -> PyResult<()> {
    TICKING.store(false, SeqCst);
    BLOCKED.store(false, SeqCst);
    learn_main_thread(py)
}

/// Whether the calling thread is Python's main thread (the only one that runs signal handlers).
pub fn on_main_thread() -> bool {
    current_ident() == MAIN_IDENT.load(SeqCst)
}

#[cfg(unix)]
fn current_ident() -> u64 {
    // Python's thread ident is `pthread_self()` on Unix.
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize as u64 }
}

#[cfg(not(unix))]
fn current_ident() -> u64 {
    // Elsewhere the ident is not known from Rust: every thread checks, as the main one does.
    MAIN_IDENT.load(SeqCst)
}

/// Resolves with the exception a signal handler raised while the main thread is blocked in a
/// call; never resolves otherwise. Only for calls on the main thread.
pub async fn interrupted() -> PyErr {
    let _blocked = Blocked::enter();
    let mut seen = TICKS.load(SeqCst);
    loop {
        seen = poll_fn(|cx| {
            MAIN_WAKER.register(cx.waker());
            let now = TICKS.load(SeqCst);
            if now == seen {
                Poll::Pending
            } else {
                Poll::Ready(now)
            }
        })
        .await;
        if let Some(Err(e)) = attach_unless_exiting(|py| py.check_signals()) {
            return e;
        }
    }
}

struct Blocked;

impl Blocked {
    fn enter() -> Blocked {
        BLOCKED.store(true, SeqCst);
        CALLS.fetch_add(1, SeqCst);
        if !TICKING.swap(true, SeqCst) {
            fencelock::runtime::handle().spawn(tick());
        }
        Blocked
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        BLOCKED.store(false, SeqCst);
    }
}

async fn tick() {
    let (mut seen, mut idle) = (CALLS.load(SeqCst), 0);
    loop {
        tokio::time::sleep(SIGNAL_CHECK).await;
        TICKS.fetch_add(1, SeqCst);
        MAIN_WAKER.wake();
        let calls = CALLS.load(SeqCst);
        if BLOCKED.load(SeqCst) || calls != seen {
            (seen, idle) = (calls, 0);
            continue;
        }
        idle += 1;
        if idle < IDLE_TICKS {
            continue;
        }
        TICKING.store(false, SeqCst);
        // A call that blocked just now may have seen TICKING still set: then this task goes
        // on (unless that call started a new ticker after all).
        if BLOCKED.load(SeqCst) && !TICKING.swap(true, SeqCst) {
            idle = 0;
            continue;
        }
        return;
    }
}

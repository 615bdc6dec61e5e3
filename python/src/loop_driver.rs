//! Core futures driven on the asyncio loop's own thread.
//!
//! The loop thread polls an operation's future itself (which sends its request at once); when
//! the store answers, the core's connection task wakes it, and the waker nudges a descriptor
//! the loop watches with `add_reader` (`wake_fd.rs`). The reader callback, on the loop thread, polls
//! the woken futures and completes their awaitables (`loop_future.rs`), which resumes the
//! awaiting tasks right there. Compared with finishing each operation
//! as a task on the core runtime and posting the result with `call_soon_threadsafe`, this saves
//! the wake-up that starts the task and a GIL hand-off on a core thread per operation
//! (target: Python W1 <= 1.3x the core's, docs/ARCHITECTURE.md). Wakers never take the GIL.
//! With many operations in flight on one loop, `LoopTasks` runs new ones on the core runtime
//! (its `INLINE_LIMIT`) and only their outcomes come back through the descriptor.
//!
//! Loops without `add_reader` (Windows' proactor loop) keep the task-based path in
//! `runtime.rs`.

use crate::loop_future::{self, LoopFuture};
use crate::wake_fd::WakeFd;
use fencelock::runtime::LoopTasks;
use pyo3::prelude::*;
use pyo3::{intern, IntoPyObjectExt};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A finished operation: converts its outcome to Python on the loop thread.
type Output = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// The pending operations of one event loop.
struct Driver {
    id: u64,
    /// Identity of the loop; a forked child gets drivers of its own (the descriptor is shared).
    pid: u32,
    tasks: LoopTasks<Output, Py<LoopFuture>>,
    /// What the loop watches; wakers nudge it.
    wake: WakeFd,
}

/// [`current_pid`]'s cache; 0 until asked and after a fork.
static PID: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// The drivers of the loops that ran on this thread and are not closed.
    static DRIVERS: RefCell<Vec<(Py<PyAny>, Rc<Driver>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

/// A `Send` wrapper for the driver during `Python::detach`, whose closure runs on the calling
/// thread: the driver never leaves it.
struct SameThread<T>(T);
// SAFETY: only used to pass values into and out of `Python::detach`, which runs its closure
// synchronously on the thread that called it.
unsafe impl<T> Send for SameThread<T> {}

/// Starts `fut` on `event_loop` and returns the awaitable of its outcome, or gives `fut` back
/// when the loop cannot watch a descriptor (then the caller uses the task-based path).
pub fn start<'py, F, T>(
    py: Python<'py>,
    event_loop: &Bound<'py, PyAny>,
    fut: F,
) -> PyResult<Result<Bound<'py, PyAny>, F>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let Some(driver) = driver_for(py, event_loop)? else {
        return Ok(Err(fut));
    };
    let py_fut = LoopFuture::new(py, event_loop)?;
    let fut = async move {
        let out = fut.await;
        Box::new(move |py: Python<'_>| out.and_then(|v| v.into_py_any(py))) as Output
    };
    let target = py_fut.clone().unbind();
    // Without the GIL: the core may log (taking the GIL on its own threads) while holding a
    // lock this poll needs.
    let d = SameThread(driver.clone());
    let started = py
        .detach(move || {
            let d = d; // the whole wrapper moves in, not just its field
            SameThread(d.0.tasks.start(fut, target))
        })
        .0;
    match started {
        // Nobody awaits it yet, so there are no callbacks to run.
        Ok((out, target)) => drop(target.get().complete(out(py), py)),
        Err(task) => {
            let driver = driver.id;
            py_fut.get().set_cancel_hook(
                py,
                Box::new(move |py| {
                    // A cancelled future drops its operation, which cancels it in the core
                    // (an awaiting acquire takes no lock then).
                    let Some(driver) = by_id(driver) else { return };
                    let d = SameThread(driver);
                    // The future comes back out and is released here, with the GIL.
                    drop(
                        py.detach(move || {
                            let d = d;
                            SameThread(d.0.tasks.cancel(task))
                        })
                        .0,
                    );
                }),
            );
        }
    }
    Ok(Ok(py_fut.into_any()))
}

/// This thread's driver for `event_loop`, registering a new one with the loop when needed.
fn driver_for(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Option<Rc<Driver>>> {
    let pid = current_pid();
    let found = DRIVERS.with(|d| {
        d.borrow()
            .iter()
            .find(|(l, drv)| l.is(event_loop) && drv.pid == pid)
            .map(|(_, drv)| drv.clone())
    });
    if found.is_some() {
        return Ok(found);
    }
    // Drivers of loops closed since (or inherited from a parent process) go now.
    let stale: Vec<_> = DRIVERS.with(|d| {
        let mut d = d.borrow_mut();
        let all = std::mem::take(&mut *d);
        let (keep, stale): (Vec<_>, Vec<_>) = all.into_iter().partition(|(l, drv)| {
            drv.pid == pid
                && !l
                    .bind(py)
                    .call_method0(intern!(py, "is_closed"))
                    .and_then(|c| c.is_truthy())
                    .unwrap_or(true)
        });
        *d = keep;
        stale
    });
    for (l, drv) in stale {
        // A loop still open in a forked child watches the parent's descriptor: stop that.
        let _ = l
            .bind(py)
            .call_method1(intern!(py, "remove_reader"), (drv.wake.raw_fd(),));
    }
    let wake = WakeFd::new()?;
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    let registered = event_loop.call_method1(
        intern!(py, "add_reader"),
        (wake.raw_fd(), RunWoken { driver: id }),
    );
    if let Err(e) = registered {
        if e.is_instance_of::<pyo3::exceptions::PyNotImplementedError>(py) {
            return Ok(None);
        }
        return Err(e);
    }
    let driver = Rc::new(Driver {
        id,
        pid,
        tasks: LoopTasks::new(wake.notifier()),
        wake,
    });
    DRIVERS.with(|d| {
        d.borrow_mut()
            .push((event_loop.clone().unbind(), driver.clone()))
    });
    Ok(Some(driver))
}

/// This process's id, asked of the kernel once per process rather than per operation.
fn current_pid() -> u32 {
    let cached = PID.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    let pid = std::process::id();
    PID.store(pid, Ordering::Relaxed);
    pid
}

/// Called in a child after `os.fork()` (lib.rs): its pid differs from the parent's.
pub fn forget_pid() {
    PID.store(0, Ordering::Relaxed);
}

fn by_id(id: u64) -> Option<Rc<Driver>> {
    DRIVERS.with(|d| {
        d.borrow()
            .iter()
            .find(|(_, drv)| drv.id == id)
            .map(|(_, drv)| drv.clone())
    })
}

/// The loop's reader callback: drains the wake-up descriptor and polls the woken operations.
#[pyclass(frozen)]
struct RunWoken {
    driver: u64,
}

#[pymethods]
impl RunWoken {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let Some(driver) = by_id(self.driver) else {
            return Ok(());
        };
        driver.wake.drain();
        let d = SameThread(driver.clone());
        let finished = py
            .detach(move || {
                let d = d;
                let mut out = Vec::new();
                d.0.tasks.run_woken(|o, target| out.push((o, target)));
                SameThread(out)
            })
            .0;
        // All outcomes are recorded before any awaiting task resumes (and maybe raises).
        let woken: Vec<_> = finished
            .into_iter()
            .map(|(out, target)| {
                let target = target.into_bound(py);
                let callbacks = target.get().complete(out(py), py);
                (target, callbacks)
            })
            .collect();
        loop_future::run_callbacks(py, woken)
    }
}

//! The awaitable of an operation driven on the asyncio loop's thread (`loop_driver.rs`).
//!
//! It speaks asyncio's future protocol (`_asyncio_future_blocking`, `get_loop`,
//! `add_done_callback`, `cancel`, `result`...), so a `Task` awaits it as it would an
//! `asyncio.Future`. The difference is in delivery: when the loop's reader callback finishes an
//! operation, the awaiting task's wake-up runs right there instead of being queued with
//! `call_soon` for the loop's next turn. On the default (pure-Python) loop each turn costs an
//! `epoll_wait` and several µs of interpreter time, and an operation used to need two of them
//! (the reader callback, then the task's wake-up); now it needs one (target: Python W1
//! <= 1.3x the core's, docs/ARCHITECTURE.md). Completions outside the reader callback (cancel, a callback added to a
//! finished future) are queued with `call_soon`, as asyncio does.

use pyo3::exceptions::{PyKeyboardInterrupt, PyStopIteration, PySystemExit};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use pyo3::{intern, PyTraverseError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// What cancelling does to the operation in the core (drops its future); set once it is
/// pending there.
pub type CancelHook = Box<dyn FnOnce(Python<'_>) + Send>;

/// A done-callback and the `contextvars.Context` to run it in.
type Callback = (Py<PyAny>, Option<Py<PyAny>>);

enum Outcome {
    Pending,
    Value(Py<PyAny>),
    Error(Py<pyo3::exceptions::PyBaseException>),
    Cancelled(Option<Py<PyAny>>),
}

impl Outcome {
    fn clone_ref(&self, py: Python<'_>) -> Outcome {
        match self {
            Outcome::Pending => Outcome::Pending,
            Outcome::Value(v) => Outcome::Value(v.clone_ref(py)),
            Outcome::Error(e) => Outcome::Error(e.clone_ref(py)),
            Outcome::Cancelled(m) => Outcome::Cancelled(m.as_ref().map(|m| m.clone_ref(py))),
        }
    }
}

struct State {
    outcome: Outcome,
    callbacks: Vec<Callback>,
    on_cancel: Option<CancelHook>,
}

#[pyclass(frozen, module = "fencelock._native")]
pub struct LoopFuture {
    event_loop: Py<PyAny>,
    state: Mutex<State>,
    /// asyncio's `_asyncio_future_blocking`: set when yielded to a task, which clears it.
    blocking: AtomicBool,
}

impl LoopFuture {
    pub fn new<'py>(py: Python<'py>, event_loop: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        Bound::new(
            py,
            LoopFuture {
                event_loop: event_loop.clone().unbind(),
                state: Mutex::new(State {
                    outcome: Outcome::Pending,
                    callbacks: Vec::new(),
                    on_cancel: None,
                }),
                blocking: AtomicBool::new(false),
            },
        )
    }

    /// Held only for plain reads and writes, never across a call into Python (which could
    /// come back to this future).
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn outcome(&self, py: Python<'_>) -> Outcome {
        self.state().outcome.clone_ref(py)
    }

    /// Keeps what cancelling must undo; runs it at once if the future was cancelled already.
    pub fn set_cancel_hook(&self, py: Python<'_>, hook: CancelHook) {
        let mut s = self.state();
        if matches!(s.outcome, Outcome::Cancelled(_)) {
            drop(s);
            hook(py);
        } else {
            s.on_cancel = Some(hook);
        }
    }

    /// Records the operation's outcome and returns the callbacks to run now; nothing when the
    /// future was cancelled meanwhile (the outcome is dropped).
    pub fn complete(&self, outcome: PyResult<Py<PyAny>>, py: Python<'_>) -> Vec<Callback> {
        let mut s = self.state();
        if !matches!(s.outcome, Outcome::Pending) {
            return Vec::new();
        }
        s.outcome = match outcome {
            Ok(v) => Outcome::Value(v),
            Err(e) => Outcome::Error(e.into_value(py)),
        };
        s.on_cancel = None;
        std::mem::take(&mut s.callbacks)
    }

    fn schedule(&self, py: Python<'_>, me: &Bound<'_, PyAny>, cb: Callback) -> PyResult<()> {
        let (func, context) = cb;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "context"), context)?;
        self.event_loop.bind(py).call_method(
            intern!(py, "call_soon"),
            (func, me),
            Some(&kwargs),
        )?;
        Ok(())
    }

    fn outcome_err(py: Python<'_>, outcome: &Outcome) -> Option<PyErr> {
        match outcome {
            Outcome::Pending | Outcome::Value(_) => None,
            Outcome::Error(e) => Some(PyErr::from_value(e.bind(py).clone().into_any())),
            Outcome::Cancelled(msg) => Some(cancelled_error(py, msg.as_ref())),
        }
    }
}

/// Runs done-callbacks of futures finished by the loop's reader callback, in order. An
/// exception from one goes to the loop's exception handler, as asyncio's `Handle` does; a
/// `KeyboardInterrupt` or `SystemExit` propagates after the remaining callbacks were queued.
pub fn run_callbacks(
    py: Python<'_>,
    finished: Vec<(Bound<'_, LoopFuture>, Vec<Callback>)>,
) -> PyResult<()> {
    let mut queue = finished
        .into_iter()
        .flat_map(|(fut, cbs)| cbs.into_iter().map(move |cb| (fut.clone(), cb)));
    while let Some((fut, (func, context))) = queue.next() {
        let ran = match &context {
            Some(ctx) => ctx
                .bind(py)
                .call_method1(intern!(py, "run"), (func.bind(py), &fut)),
            None => func.bind(py).call1((&fut,)),
        };
        let Err(e) = ran else { continue };
        if e.is_instance_of::<PyKeyboardInterrupt>(py) || e.is_instance_of::<PySystemExit>(py) {
            for (fut, cb) in queue {
                let me = fut.clone().into_any();
                let _ = fut.get().schedule(py, &me, cb);
            }
            return Err(e);
        }
        let report = PyDict::new(py);
        report.set_item(
            "message",
            format!("Exception in callback {}", func.bind(py).repr()?),
        )?;
        report.set_item("exception", e.value(py))?;
        report.set_item("future", &fut)?;
        fut.get()
            .event_loop
            .bind(py)
            .call_method1(intern!(py, "call_exception_handler"), (report,))?;
    }
    Ok(())
}

static CANCELLED_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn cancelled_error(py: Python<'_>, msg: Option<&Py<PyAny>>) -> PyErr {
    let cls = CANCELLED_ERROR.get_or_try_init(py, || {
        py.import("asyncio")?
            .getattr("CancelledError")
            .map(Bound::unbind)
    });
    let cls = match cls {
        Ok(c) => c.bind(py),
        Err(e) => return e,
    };
    let made = match msg {
        Some(m) => cls.call1((m,)),
        None => cls.call0(),
    };
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

#[pymethods]
impl LoopFuture {
    #[getter(_asyncio_future_blocking)]
    fn get_blocking(&self) -> bool {
        self.blocking.load(Ordering::Relaxed)
    }

    #[setter(_asyncio_future_blocking)]
    fn set_blocking(&self, value: bool) {
        self.blocking.store(value, Ordering::Relaxed);
    }

    fn get_loop(&self, py: Python<'_>) -> Py<PyAny> {
        self.event_loop.clone_ref(py)
    }

    fn done(&self) -> bool {
        !matches!(self.state().outcome, Outcome::Pending)
    }

    fn cancelled(&self) -> bool {
        matches!(self.state().outcome, Outcome::Cancelled(_))
    }

    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.outcome(py) {
            Outcome::Value(v) => Ok(v),
            Outcome::Pending => Err(invalid_state(py, "Result is not set.")),
            other => Err(Self::outcome_err(py, &other).expect("an error outcome")),
        }
    }

    fn exception(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match self.outcome(py) {
            Outcome::Value(_) => Ok(None),
            Outcome::Error(e) => Ok(Some(e.into_any())),
            Outcome::Pending => Err(invalid_state(py, "Exception is not set.")),
            Outcome::Cancelled(msg) => Err(cancelled_error(py, msg.as_ref())),
        }
    }

    #[pyo3(signature = (func, *, context=None))]
    fn add_done_callback(
        slf: &Bound<'_, Self>,
        func: Py<PyAny>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let me = slf.get();
        let mut s = me.state();
        if matches!(s.outcome, Outcome::Pending) {
            s.callbacks.push((func, context));
            return Ok(());
        }
        drop(s);
        me.schedule(slf.py(), slf.as_any(), (func, context))
    }

    fn remove_done_callback(&self, py: Python<'_>, func: &Bound<'_, PyAny>) -> PyResult<usize> {
        // Compared without the lock: `==` may run Python code.
        let all = std::mem::take(&mut self.state().callbacks);
        let before = all.len();
        let mut keep = Vec::with_capacity(before);
        let mut failed = None;
        for cb in all {
            match cb.0.bind(py).eq(func) {
                Ok(true) if failed.is_none() => {}
                Ok(_) => keep.push(cb),
                Err(e) => {
                    failed.get_or_insert(e);
                    keep.push(cb);
                }
            }
        }
        let removed = before - keep.len();
        let mut s = self.state();
        // Callbacks added meanwhile (by an `__eq__`) stay after the older ones.
        keep.append(&mut s.callbacks);
        s.callbacks = keep;
        drop(s);
        match failed {
            Some(e) => Err(e),
            None => Ok(removed),
        }
    }

    /// Cancels the operation in the core (an acquire takes no lock then) and queues the
    /// callbacks, as `asyncio.Future.cancel` does.
    #[pyo3(signature = (msg=None))]
    fn cancel(slf: &Bound<'_, Self>, msg: Option<Py<PyAny>>) -> PyResult<bool> {
        let py = slf.py();
        let me = slf.get();
        let mut s = me.state();
        if !matches!(s.outcome, Outcome::Pending) {
            return Ok(false);
        }
        s.outcome = Outcome::Cancelled(msg);
        let hook = s.on_cancel.take();
        let callbacks = std::mem::take(&mut s.callbacks);
        drop(s);
        if let Some(hook) = hook {
            hook(py);
        }
        for cb in callbacks {
            me.schedule(py, slf.as_any(), cb)?;
        }
        Ok(true)
    }

    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// One step of `await`: yields itself to the task while pending, then returns the
    /// outcome (as `StopIteration`'s value) or raises it.
    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let me = slf.get();
        match me.outcome(py) {
            Outcome::Pending => {
                me.blocking.store(true, Ordering::Relaxed);
                Ok(slf.clone().into_any().unbind())
            }
            Outcome::Value(v) => Err(PyStopIteration::new_err((v,))),
            other => Err(Self::outcome_err(py, &other).expect("an error outcome")),
        }
    }

    fn __repr__(&self) -> &'static str {
        match self.state().outcome {
            Outcome::Pending => "<fencelock LoopFuture pending>",
            Outcome::Cancelled(_) => "<fencelock LoopFuture cancelled>",
            _ => "<fencelock LoopFuture finished>",
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.event_loop)?;
        // Never block in the collector; a future being updated right now is visited next time.
        let Ok(s) = self.state.try_lock() else {
            return Ok(());
        };
        match &s.outcome {
            Outcome::Value(v) => visit.call(v)?,
            Outcome::Error(e) => visit.call(e)?,
            Outcome::Cancelled(Some(m)) => visit.call(m)?,
            _ => {}
        }
        for (func, context) in &s.callbacks {
            visit.call(func)?;
            visit.call(context)?;
        }
        Ok(())
    }

    fn __clear__(&self) {
        // Released after the lock: a callback's finalizer may look at this future.
        let callbacks = match self.state.try_lock() {
            Ok(mut s) => std::mem::take(&mut s.callbacks),
            Err(_) => return,
        };
        drop(callbacks);
    }
}

static INVALID_STATE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn invalid_state(py: Python<'_>, msg: &str) -> PyErr {
    let cls = INVALID_STATE.get_or_try_init(py, || {
        py.import("asyncio")?
            .getattr("InvalidStateError")
            .map(Bound::unbind)
    });
    match cls.and_then(|c| c.bind(py).call1((msg,))) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

//! Running core futures from Python: blocking (sync API, GIL released, Ctrl-C checked) and as
//! asyncio awaitables on the core's own runtime (a small bridge of our own for plain
//! operations; pyo3-async-runtimes where a callback awaits Python coroutines).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::{intern, IntoPyObjectExt};
use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime};
use pyo3_async_runtimes::TaskLocals;
use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Set at interpreter exit (an `atexit` hook): from then on the core's threads stop calling
/// into Python. A thread that takes the GIL while the interpreter finalizes is ended with
/// `pthread_exit`, which aborts the process when it unwinds through Rust frames.
static EXITING: AtomicBool = AtomicBool::new(false);
/// Core threads currently inside Python; the exit hook waits for them.
static IN_PYTHON: AtomicUsize = AtomicUsize::new(0);

/// `Python::attach` for the core's own threads: `None` once the interpreter is exiting.
pub fn attach_unless_exiting<R>(f: impl FnOnce(Python<'_>) -> R) -> Option<R> {
    IN_PYTHON.fetch_add(1, Ordering::SeqCst);
    let out = if EXITING.load(Ordering::SeqCst) {
        None
    } else {
        Some(Python::attach(f))
    };
    IN_PYTHON.fetch_sub(1, Ordering::SeqCst);
    out
}

/// The `atexit` hook: stops the core's threads from entering Python (results, callbacks and
/// log records are dropped from now on) and lets those inside finish, for up to 2 s.
#[pyfunction]
pub fn _at_exit(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    log::set_max_level(log::LevelFilter::Off);
    py.detach(|| {
        let give_up = std::time::Instant::now() + Duration::from_secs(2);
        while IN_PYTHON.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Blocks the calling thread on `fut` with the GIL released. On the main thread a pending
/// signal's handler gets to run meanwhile (`interrupt.rs`); if it raises (KeyboardInterrupt),
/// `fut` is dropped, which cancels the operation in the core, and the exception propagates.
pub fn block<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = PyResult<T>> + Send,
    T: Send,
{
    py.detach(|| {
        let out = if crate::interrupt::on_main_thread() {
            fencelock::runtime::block_on(async {
                tokio::select! {
                    biased;
                    r = fut => r,
                    e = crate::interrupt::interrupted() => Err(e),
                }
            })
        } else {
            fencelock::runtime::block_on(fut)
        };
        if EXITING.load(Ordering::SeqCst) {
            // A daemon thread outliving the interpreter: taking the GIL back now would end it
            // with `pthread_exit` through Rust frames (an abort). Wait for the process to end.
            loop {
                std::thread::park();
            }
        }
        out
    })
}

/// Wraps `fut` in an asyncio future of the running loop, driven on the loop's thread
/// (`loop_driver.rs`) when the loop can watch a socket. Otherwise: `fut` is polled once right here
/// (inside the core runtime's context, GIL released), so work that completes at once, such as an
/// uncontended step or an error, costs no thread handoff; otherwise it continues as a task on
/// the core runtime, which hands the outcome to the loop with `call_soon_threadsafe`.
/// Cancelling the asyncio future aborts the task, dropping `fut` (an awaiting acquire takes
/// no lock then).
pub fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let event_loop = asyncio(py)?.call_method0(intern!(py, "get_running_loop"))?;
    #[cfg(unix)]
    let fut = match crate::loop_driver::start(py, &event_loop, fut)? {
        Ok(py_fut) => return Ok(py_fut),
        Err(fut) => fut,
    };
    let py_fut = event_loop.call_method0(intern!(py, "create_future"))?;
    let mut fut = Box::pin(fut);
    let handle = fencelock::runtime::handle();
    // Without the GIL: the core may log (which takes the GIL on its threads) while holding
    // a lock this poll needs.
    let first = py.detach(|| {
        let _ctx = handle.enter();
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    });
    if let Poll::Ready(out) = first {
        match out.and_then(|v| v.into_py_any(py)) {
            Ok(v) => py_fut.call_method1(intern!(py, "set_result"), (v,))?,
            Err(e) => py_fut.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?,
        };
        return Ok(py_fut);
    }
    let (target, event_loop) = (py_fut.clone().unbind(), event_loop.unbind());
    // The task re-polls `fut`, which registers the task's waker in place of the no-op one.
    let task = handle.spawn(async move {
        let out = fut.await;
        attach_unless_exiting(|py| {
            let delivered = aio(py).and_then(|helpers| {
                let (helper, arg) = match out.and_then(|v| v.into_py_any(py)) {
                    Ok(v) => ("resolve", v),
                    Err(e) => ("reject", e.into_value(py).into_any()),
                };
                event_loop.bind(py).call_method1(
                    intern!(py, "call_soon_threadsafe"),
                    (helpers.getattr(helper)?, target.bind(py), arg),
                )
            });
            // Fails only when the loop was closed meanwhile: nobody is left to tell.
            if let Err(e) = delivered {
                log::debug!(target: "fencelock::python", "result not delivered to asyncio: {e}");
            }
        });
    });
    py_fut.call_method1(
        intern!(py, "add_done_callback"),
        (AbortOnCancel {
            task: task.abort_handle(),
        },),
    )?;
    Ok(py_fut)
}

/// Done-callback of the asyncio future: aborts the core task when the future was cancelled.
#[pyclass(frozen)]
struct AbortOnCancel {
    task: tokio::task::AbortHandle,
}

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, fut: &Bound<'_, PyAny>) -> PyResult<()> {
        if fut
            .call_method0(intern!(fut.py(), "cancelled"))?
            .is_truthy()?
        {
            self.task.abort();
        }
        Ok(())
    }
}

static ASYNCIO: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static AIO: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn asyncio(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(ASYNCIO
        .get_or_try_init(py, || py.import("asyncio").map(Bound::unbind))?
        .bind(py))
}

fn aio(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(AIO
        .get_or_try_init(py, || py.import("fencelock._aio").map(Bound::unbind))?
        .bind(py))
}

/// Like [`awaitable`], for futures that await Python coroutines themselves (callbacks) and so
/// need the loop's task locals.
pub fn awaitable_with_locals<'py, F, T>(
    py: Python<'py>,
    locals: TaskLocals,
    fut: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::generic::future_into_py_with_locals::<CoreRuntime, _, _>(py, locals, fut)
}

/// The running loop's task locals, for converting Python awaitables into Rust futures.
pub fn current_locals(py: Python<'_>) -> PyResult<TaskLocals> {
    pyo3_async_runtimes::generic::get_current_locals::<CoreRuntime>(py)
}

/// pyo3-async-runtimes' tokio integration wants a `&'static Runtime`; the core only hands out
/// a `Handle` (its runtime is rebuilt after fork), so this implements the generic trait over it.
pub struct CoreRuntime;

pub struct CoreJoinError(tokio::task::JoinError);

impl JoinError for CoreJoinError {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }
    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

type JoinFuture = Pin<Box<dyn Future<Output = Result<(), CoreJoinError>> + Send>>;

impl Runtime for CoreRuntime {
    type JoinError = CoreJoinError;
    type JoinHandle = JoinFuture;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let h = fencelock::runtime::handle().spawn(fut);
        Box::pin(async move { h.await.map_err(CoreJoinError) })
    }

    /// pyo3-async-runtimes calls this only to hand a finished result to the asyncio loop (take
    /// the GIL, `call_soon_threadsafe`). Running it inline on the worker saves a thread handoff
    /// per operation, a third of the async W1 cycle; the GIL wait it may add is bounded by
    /// Python's switch interval (5 ms) and blocks one worker, not the runtime.
    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        attach_unless_exiting(|_| f());
        Box::pin(std::future::ready(Ok(())))
    }
}

impl ContextExt for CoreRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

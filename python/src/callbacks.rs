//! Bridging user callbacks (`with_lock`, `do_if_free`) between core tasks and Python: a
//! blocking call runs the callback on the calling thread (so it may use the sync API again);
//! an async call awaits the callback's coroutine on the caller's event loop.

use crate::convert;
use crate::runtime;
use fencelock::Bytes;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A user callback's answer: the new state (None keeps the old one) or its exception.
pub type Answer = PyResult<Option<Bytes>>;
/// A callback request from a core task to the thread that called the sync API.
pub type Request = (Option<Bytes>, oneshot::Sender<Answer>);

/// Runs a core operation that calls back into Python, from a blocking call: the operation runs
/// on the core runtime and sends each callback request here, where it runs on the calling
/// thread with the GIL, outside any tokio context (so the callback may use the sync API).
pub fn block_with_callback<T, Op, Fut>(
    py: Python<'_>,
    func: &Bound<'_, PyAny>,
    op: Op,
) -> PyResult<T>
where
    Op: FnOnce(mpsc::UnboundedSender<Request>) -> Fut,
    Fut: Future<Output = PyResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Request>();
    // Aborted if this thread leaves early (Ctrl-C), which drops the operation.
    let mut task = AbortOnDrop(fencelock::runtime::handle().spawn(op(tx)));
    loop {
        let next = runtime::block(py, async {
            tokio::select! {
                req = rx.recv() => Ok(Step::Call(req)),
                done = &mut task.0 => Ok(Step::Done(done)),
            }
        })?;
        match next {
            Step::Call(Some((state, reply))) => {
                let _ = reply.send(call_sync(py, func, state));
            }
            Step::Call(None) => {}
            Step::Done(done) => {
                return done
                    .map_err(|e| PyRuntimeError::new_err(format!("fencelock task failed: {e}")))?;
            }
        }
    }
}

enum Step<T> {
    Call(Option<Request>),
    Done(Result<PyResult<T>, tokio::task::JoinError>),
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Calls a sync callback with the state bytes; it must return bytes or None.
pub fn call_sync(py: Python<'_>, func: &Bound<'_, PyAny>, state: Option<Bytes>) -> Answer {
    let arg = convert::bytes_out(py, state);
    let out = func.call1((arg,))?;
    convert::state(Some(&out)).map_err(|_| {
        PyTypeError::new_err(format!(
            "the callback must return bytes or None (the codec's encoding), not {}",
            out.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })
}

/// Sends a callback request to the calling thread and waits for its answer.
pub async fn ask(tx: &mpsc::UnboundedSender<Request>, state: Option<Bytes>) -> Answer {
    let (reply, answer) = oneshot::channel();
    tx.send((state, reply)).map_err(|_| {
        PyRuntimeError::new_err("the calling thread stopped waiting for the callback")
    })?;
    answer
        .await
        .map_err(|_| PyRuntimeError::new_err("the callback was abandoned"))?
}

/// Calls an async callback (returning an awaitable of bytes or None) on the caller's loop.
pub async fn call_async(
    func: Arc<Py<PyAny>>,
    locals: pyo3_async_runtimes::TaskLocals,
    state: Option<Bytes>,
) -> Answer {
    let exiting = || PyRuntimeError::new_err("the interpreter is exiting");
    let fut = runtime::attach_unless_exiting(|py| {
        let arg = convert::bytes_out(py, state);
        let awaitable = func.bind(py).call1((arg,))?;
        pyo3_async_runtimes::into_future_with_locals(&locals, awaitable)
    })
    .ok_or_else(exiting)??;
    let out = fut.await?;
    runtime::attach_unless_exiting(|py| {
        let out = out.bind(py);
        convert::state(Some(out)).map_err(|_| {
            PyTypeError::new_err(format!(
                "the callback must resolve to bytes or None (the codec's encoding), not {}",
                out.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })
    })
    .ok_or_else(exiting)?
}

pub fn check_callable(what: &str, func: &Bound<'_, PyAny>) -> PyResult<()> {
    if func.is_callable() {
        Ok(())
    } else {
        Err(PyTypeError::new_err(format!(
            "{what} needs a callable taking the state, not {}",
            func.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        )))
    }
}

//! `NativeGuard`: a held lock. Every blocking method releases the GIL; `*_async` methods
//! return asyncio awaitables. Dropping it unreleased releases in the background (core `Drop`).

use crate::convert;
use crate::error::IntoPy;
use crate::runtime;
use fencelock::{BoxError, GuardStatus, LockGuard};
use pyo3::exceptions::PyBaseException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::Arc;
use tokio::sync::watch;

#[pyclass(frozen, module = "fencelock._native")]
pub struct NativeGuard {
    pub(crate) inner: Arc<LockGuard>,
}

fn status_name(s: GuardStatus) -> &'static str {
    match s {
        GuardStatus::Held => "held",
        GuardStatus::Lost => "lost",
        GuardStatus::Released => "released",
    }
}

/// Waits until the guard leaves `Held`; true when it was lost (not released).
/// Takes a receiver rather than the guard, so a pending wait does not keep the guard alive
/// (dropping the last guard handle must still release the lock).
pub(crate) async fn until_lost(mut rx: watch::Receiver<GuardStatus>) -> bool {
    let _ = rx.wait_for(|s| *s != GuardStatus::Held).await;
    let lost = *rx.borrow() == GuardStatus::Lost;
    lost
}

impl NativeGuard {
    /// Calls `callback()` when the status turns to `Lost`, on a thread of its own: outside
    /// any tokio context, so the callback may call the sync API (which blocks on the runtime).
    /// Losing a lock is rare, so a thread per event costs nothing that matters.
    pub(crate) fn watch_lost(rx: watch::Receiver<GuardStatus>, callback: Py<PyAny>) {
        fencelock::runtime::handle().spawn(async move {
            if until_lost(rx).await {
                let run = move || {
                    runtime::attach_unless_exiting(|py| {
                        if let Err(e) = callback.call0(py) {
                            e.write_unraisable(py, Some(callback.bind(py)));
                        }
                    })
                };
                if let Err(e) = std::thread::Builder::new()
                    .name("fencelock-lost".into())
                    .spawn(run)
                {
                    log::error!(target: "fencelock::python", "cannot start the on_lost thread: {e}");
                }
            }
        });
    }
}

#[pymethods]
impl NativeGuard {
    #[getter]
    fn key(&self) -> &str {
        self.inner.key()
    }

    #[getter]
    fn token(&self) -> u64 {
        self.inner.token()
    }

    #[getter]
    fn lock_id(&self) -> String {
        self.inner.lock_id().to_string()
    }

    #[getter]
    fn lease(&self) -> f64 {
        self.inner.lease().as_secs_f64()
    }

    #[getter]
    fn remaining(&self) -> f64 {
        self.inner.remaining().as_secs_f64()
    }

    #[getter]
    fn status(&self) -> &'static str {
        status_name(self.inner.status())
    }

    /// The state read at acquisition.
    #[getter]
    fn initial_state(&self, py: Python<'_>) -> Option<Py<PyBytes>> {
        convert::bytes_out(py, self.inner.initial_state().cloned())
    }

    /// The state as last written through this guard (or read at acquisition).
    fn state(&self, py: Python<'_>) -> Option<Py<PyBytes>> {
        convert::bytes_out(py, self.inner.state())
    }

    #[pyo3(signature = (state))]
    fn put(&self, py: Python<'_>, state: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let state = convert::state(state)?;
        let g = self.inner.clone();
        runtime::block(py, async move { g.put(state).await.py_err() })
    }

    #[pyo3(signature = (state))]
    fn put_async<'py>(
        &self,
        py: Python<'py>,
        state: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let state = convert::state(state)?;
        let g = self.inner.clone();
        runtime::awaitable(py, async move { g.put(state).await.py_err() })
    }

    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        let g = self.inner.clone();
        runtime::block(py, async move { g.refresh().await.py_err() })
    }

    fn refresh_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let g = self.inner.clone();
        runtime::awaitable(py, async move { g.refresh().await.py_err() })
    }

    /// Releases, writing `state` when given; `clear` releases with no state at all. False when
    /// the lock had been lost (nothing written).
    #[pyo3(signature = (state=None, clear=false))]
    fn release(
        &self,
        py: Python<'_>,
        state: Option<&Bound<'_, PyAny>>,
        clear: bool,
    ) -> PyResult<bool> {
        let state = convert::state(state)?;
        let g = self.inner.clone();
        runtime::block(py, async move { release(&g, state, clear).await })
    }

    #[pyo3(signature = (state=None, clear=false))]
    fn release_async<'py>(
        &self,
        py: Python<'py>,
        state: Option<&Bound<'_, PyAny>>,
        clear: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let state = convert::state(state)?;
        let g = self.inner.clone();
        runtime::awaitable(py, async move { release(&g, state, clear).await })
    }

    /// Ends an asyncio `with_lock` whose callback ran on the event loop (see
    /// `fencelock::LockGuard::finish_with_lock`): `timed_out` when it ran past the lease,
    /// else `error` (its exception, re-raised unchanged once the lock is released) or `state`
    /// (its encoded answer; None keeps the stored state). Resolves to the stored state.
    #[pyo3(signature = (state=None, error=None, timed_out=false))]
    fn finish_with_lock_async<'py>(
        &self,
        py: Python<'py>,
        state: Option<&Bound<'_, PyAny>>,
        error: Option<Bound<'_, PyBaseException>>,
        timed_out: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let outcome = if timed_out {
            None
        } else if let Some(e) = error {
            Some(Err(Box::new(PyErr::from_value(e.into_any())) as BoxError))
        } else {
            // An answer of the wrong type fails like a raising callback: the lock is released.
            Some(convert::state(state).map_err(|e| Box::new(e) as BoxError))
        };
        let g = self.inner.clone();
        runtime::awaitable(py, async move {
            Ok(convert::bytes_result(
                g.finish_with_lock(outcome).await.py_err()?,
            ))
        })
    }

    /// Starts a release that keeps the state and returns at once: for a caller that cannot
    /// await any more (a `with_lock` cancelled while its callback ran).
    fn release_soon(&self) {
        let g = self.inner.clone();
        fencelock::runtime::handle().spawn(async move {
            // Lost or released already: nothing left to give back.
            let _ = g.release(None).await;
        });
    }

    /// Blocks until the lock is lost or `timeout` (seconds) passes; true when lost. Returns
    /// false at once after a release (a released lock is never lost).
    #[pyo3(signature = (timeout=None))]
    fn wait_lost(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        let timeout = convert::duration("timeout", timeout, true)?;
        let rx = self.inner.status_receiver();
        runtime::block(py, async move {
            match timeout {
                Some(t) => Ok(tokio::time::timeout(t, until_lost(rx))
                    .await
                    .unwrap_or(false)),
                None => Ok(until_lost(rx).await),
            }
        })
    }

    /// Awaitable resolving to true when the lock is lost, false when it is released first.
    fn wait_lost_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rx = self.inner.status_receiver();
        runtime::awaitable(py, async move { Ok(until_lost(rx).await) })
    }

    /// Calls `callback()` once, on a fencelock thread, if the lock is lost (never after a
    /// release). Exceptions it raises are logged, not propagated.
    fn on_lost(&self, callback: Py<PyAny>) {
        NativeGuard::watch_lost(self.inner.status_receiver(), callback);
    }

    fn __repr__(&self) -> String {
        format!(
            "<fencelock guard key={:?} token={} status={}>",
            self.inner.key(),
            self.inner.token(),
            status_name(self.inner.status())
        )
    }
}

async fn release(g: &LockGuard, state: Option<fencelock::Bytes>, clear: bool) -> PyResult<bool> {
    if clear {
        g.release_clearing_state().await.py_err()
    } else {
        g.release(state).await.py_err()
    }
}

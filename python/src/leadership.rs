//! `NativeLeadership`: leadership of one election, renewed until resigned or lost.

use crate::error::IntoPy;
use crate::guard::{until_lost, NativeGuard};
use crate::runtime;
use fencelock::Leadership;
use pyo3::prelude::*;
use std::sync::Arc;

#[pyclass(frozen, module = "fencelock._native")]
pub struct NativeLeadership {
    inner: Arc<Leadership>,
}

impl NativeLeadership {
    pub fn new(l: Leadership) -> Self {
        NativeLeadership { inner: Arc::new(l) }
    }
}

#[pymethods]
impl NativeLeadership {
    #[getter]
    fn key(&self) -> &str {
        self.inner.key()
    }

    #[getter]
    fn term(&self) -> u64 {
        self.inner.term()
    }

    #[getter]
    fn is_leader(&self) -> bool {
        self.inner.is_leader()
    }

    /// Steps down (blocking); false when leadership had already been lost.
    fn resign(&self, py: Python<'_>) -> PyResult<bool> {
        let l = self.inner.clone();
        runtime::block(py, async move { l.resign().await.py_err() })
    }

    fn resign_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let l = self.inner.clone();
        runtime::awaitable(py, async move { l.resign().await.py_err() })
    }

    #[pyo3(signature = (timeout=None))]
    fn wait_lost(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        let timeout = crate::convert::duration("timeout", timeout, true)?;
        let rx = self.inner.guard().status_receiver();
        runtime::block(py, async move {
            match timeout {
                Some(t) => Ok(tokio::time::timeout(t, until_lost(rx))
                    .await
                    .unwrap_or(false)),
                None => Ok(until_lost(rx).await),
            }
        })
    }

    fn wait_lost_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rx = self.inner.guard().status_receiver();
        runtime::awaitable(py, async move { Ok(until_lost(rx).await) })
    }

    fn on_lost(&self, callback: Py<PyAny>) {
        NativeGuard::watch_lost(self.inner.guard().status_receiver(), callback);
    }

    fn __repr__(&self) -> String {
        format!(
            "<fencelock leadership election={:?} term={} leader={}>",
            self.inner.key(),
            self.inner.term(),
            self.inner.is_leader()
        )
    }
}

//! `NativeClient`: every client operation, blocking (GIL released, Ctrl-C checked) and as
//! `*_async` awaitables. Callbacks (`with_lock`, `do_if_free`) run Python code: the sync forms
//! run it on the calling thread, so it may call the client again.

use crate::callbacks::{ask, block_with_callback, call_async, check_callable};
use crate::connect_options;
use crate::convert::{self, HolderTuple, KeyInfoTuple};
use crate::error::IntoPy;
use crate::guard::NativeGuard;
use crate::leadership::NativeLeadership;
use crate::observer::NativeLeaderObserver;
use crate::runtime;
use fencelock::{Bytes, Client, LockOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;

#[pyclass(frozen, module = "fencelock._native")]
pub struct NativeClient {
    inner: Client,
}

fn lock_options(
    timeout: Option<&Bound<'_, PyAny>>,
    lease: Option<&Bound<'_, PyAny>>,
    renew: Option<bool>,
    label: Option<String>,
) -> PyResult<LockOptions> {
    Ok(LockOptions {
        timeout: convert::duration("timeout", timeout, true)?,
        lease: convert::duration("lease", lease, false)?,
        renew,
        label,
    })
}

#[pymethods]
impl NativeClient {
    /// Connects (blocking). Durations are seconds; keyword arguments as in `fencelock.connect`.
    #[staticmethod]
    #[pyo3(signature = (url, **options))]
    fn connect(
        py: Python<'_>,
        url: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<NativeClient> {
        let options = connect_options::from_kwargs(url, options)?;
        runtime::block(py, async move {
            Ok(NativeClient {
                inner: Client::connect_with(options).await.py_err()?,
            })
        })
    }

    /// Connects, as an awaitable.
    #[staticmethod]
    #[pyo3(signature = (url, **options))]
    fn connect_async<'py>(
        py: Python<'py>,
        url: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = connect_options::from_kwargs(url, options)?;
        runtime::awaitable(py, async move {
            Ok(NativeClient {
                inner: Client::connect_with(options).await.py_err()?,
            })
        })
    }

    #[getter]
    fn server(&self) -> &str {
        self.inner.server()
    }

    #[getter]
    fn default_lease(&self) -> f64 {
        self.inner.default_lease().as_secs_f64()
    }

    #[getter]
    fn max_state_len(&self) -> usize {
        self.inner.max_state_len()
    }

    #[getter]
    fn held_count(&self) -> usize {
        self.inner.held_count()
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The client's lock statistics as a tuple (see `fencelock.Stats`): acquisitions, try
    /// misses, timeouts, (wait count, total s, max s), (hold count, total s, max s), renewals,
    /// renewal failures, locks lost, backend errors.
    fn stats(&self) -> convert::StatsTuple {
        convert::stats(&self.inner.stats())
    }

    #[pyo3(signature = (key, timeout=None, lease=None, renew=None, label=None))]
    fn acquire(
        &self,
        py: Python<'_>,
        key: &str,
        timeout: Option<&Bound<'_, PyAny>>,
        lease: Option<&Bound<'_, PyAny>>,
        renew: Option<bool>,
        label: Option<String>,
    ) -> PyResult<NativeGuard> {
        let opts = lock_options(timeout, lease, renew, label)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::block(py, async move {
            let g = c.acquire_with(key, &opts).await.py_err()?;
            Ok(NativeGuard { inner: Arc::new(g) })
        })
    }

    #[pyo3(signature = (key, timeout=None, lease=None, renew=None, label=None))]
    fn acquire_async<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        timeout: Option<&Bound<'_, PyAny>>,
        lease: Option<&Bound<'_, PyAny>>,
        renew: Option<bool>,
        label: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = lock_options(timeout, lease, renew, label)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::awaitable(py, async move {
            let g = c.acquire_with(key, &opts).await.py_err()?;
            Ok(NativeGuard { inner: Arc::new(g) })
        })
    }

    #[pyo3(signature = (key, lease=None, renew=None, label=None))]
    fn try_acquire(
        &self,
        py: Python<'_>,
        key: &str,
        lease: Option<&Bound<'_, PyAny>>,
        renew: Option<bool>,
        label: Option<String>,
    ) -> PyResult<Option<NativeGuard>> {
        let opts = lock_options(None, lease, renew, label)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::block(py, async move {
            let g = c.try_acquire_with(key, &opts).await.py_err()?;
            Ok(g.map(|g| NativeGuard { inner: Arc::new(g) }))
        })
    }

    #[pyo3(signature = (key, lease=None, renew=None, label=None))]
    fn try_acquire_async<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        lease: Option<&Bound<'_, PyAny>>,
        renew: Option<bool>,
        label: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = lock_options(None, lease, renew, label)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::awaitable(py, async move {
            let g = c.try_acquire_with(key, &opts).await.py_err()?;
            Ok(g.map(|g| NativeGuard { inner: Arc::new(g) }))
        })
    }

    /// Releases through the client (refused for a guard of another client); `state` None
    /// keeps the stored state.
    #[pyo3(signature = (guard, state=None))]
    fn release(
        &self,
        py: Python<'_>,
        guard: &Bound<'_, NativeGuard>,
        state: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let state = convert::state(state)?;
        let (c, g) = (self.inner.clone(), guard.get().inner.clone());
        runtime::block(py, async move { release(&c, &g, state).await })
    }

    #[pyo3(signature = (guard, state=None))]
    fn release_async<'py>(
        &self,
        py: Python<'py>,
        guard: &Bound<'_, NativeGuard>,
        state: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let state = convert::state(state)?;
        let (c, g) = (self.inner.clone(), guard.get().inner.clone());
        runtime::awaitable(py, async move { release(&c, &g, state).await })
    }

    /// Runs `func(state_bytes) -> bytes | None` under the lock and stores its answer.
    #[pyo3(signature = (key, func, timeout=None, lease=None, label=None))]
    fn with_lock(
        &self,
        py: Python<'_>,
        key: &str,
        func: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
        lease: Option<&Bound<'_, PyAny>>,
        label: Option<String>,
    ) -> PyResult<Option<Vec<u8>>> {
        check_callable("with_lock", func)?;
        let opts = lock_options(timeout, lease, None, label)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        block_with_callback(py, func, move |tx| async move {
            let out = c
                .with_lock_opts(key, &opts, |state| async move { ask(&tx, state).await })
                .await
                .py_err()?;
            Ok(convert::bytes_result(out))
        })
    }

    /// Runs `func(state_bytes)` only if `key` is free now; `(ran, value)`.
    fn do_if_free(
        &self,
        py: Python<'_>,
        key: &str,
        func: &Bound<'_, PyAny>,
    ) -> PyResult<(bool, Option<Vec<u8>>)> {
        check_callable("do_if_free", func)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        block_with_callback(py, func, move |tx| async move {
            match c
                .do_if_free(key, |state| async move { ask(&tx, state).await })
                .await
                .py_err()?
            {
                None => Ok((false, None)),
                Some(answer) => Ok((true, convert::bytes_result(answer?))),
            }
        })
    }

    fn do_if_free_async<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        func: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_callable("do_if_free", func)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        let locals = runtime::current_locals(py)?;
        let func = Arc::new(func.clone().unbind());
        runtime::awaitable_with_locals(py, locals.clone(), async move {
            match c
                .do_if_free(key, |state| call_async(func, locals, state))
                .await
                .py_err()?
            {
                None => Ok((false, None)),
                Some(answer) => Ok((true, convert::bytes_result(answer?))),
            }
        })
    }

    #[pyo3(signature = (key, timeout=None))]
    fn wait(
        &self,
        py: Python<'_>,
        key: &str,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Vec<u8>>> {
        let timeout = convert::duration("timeout", timeout, true)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::block(py, async move {
            Ok(convert::bytes_result(c.wait(key, timeout).await.py_err()?))
        })
    }

    #[pyo3(signature = (key, timeout=None))]
    fn wait_async<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let timeout = convert::duration("timeout", timeout, true)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::awaitable(py, async move {
            Ok(convert::bytes_result(c.wait(key, timeout).await.py_err()?))
        })
    }

    fn get(&self, py: Python<'_>, key: &str) -> PyResult<KeyInfoTuple> {
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::block(py, async move {
            Ok(convert::key_info(c.get(key).await.py_err()?))
        })
    }

    fn get_async<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::awaitable(py, async move {
            Ok(convert::key_info(c.get(key).await.py_err()?))
        })
    }

    fn delete(&self, py: Python<'_>, key: &str) -> PyResult<()> {
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::block(py, async move { c.delete(key).await.py_err() })
    }

    fn delete_async<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let (c, key) = (self.inner.clone(), key.to_owned());
        runtime::awaitable(py, async move { c.delete(key).await.py_err() })
    }

    #[pyo3(signature = (election, candidate, timeout=None))]
    fn campaign(
        &self,
        py: Python<'_>,
        election: &str,
        candidate: &str,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<NativeLeadership> {
        let timeout = convert::duration("timeout", timeout, true)?;
        let (c, key, who) = (
            self.inner.clone(),
            election.to_owned(),
            candidate.to_owned(),
        );
        runtime::block(py, async move {
            let l = c.campaign(key, &who, timeout).await.py_err()?;
            Ok(NativeLeadership::new(l))
        })
    }

    #[pyo3(signature = (election, candidate, timeout=None))]
    fn campaign_async<'py>(
        &self,
        py: Python<'py>,
        election: &str,
        candidate: &str,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let timeout = convert::duration("timeout", timeout, true)?;
        let (c, key, who) = (
            self.inner.clone(),
            election.to_owned(),
            candidate.to_owned(),
        );
        runtime::awaitable(py, async move {
            let l = c.campaign(key, &who, timeout).await.py_err()?;
            Ok(NativeLeadership::new(l))
        })
    }

    fn try_campaign(
        &self,
        py: Python<'_>,
        election: &str,
        candidate: &str,
    ) -> PyResult<Option<NativeLeadership>> {
        let (c, key, who) = (
            self.inner.clone(),
            election.to_owned(),
            candidate.to_owned(),
        );
        runtime::block(py, async move {
            let l = c.try_campaign(key, &who).await.py_err()?;
            Ok(l.map(NativeLeadership::new))
        })
    }

    fn try_campaign_async<'py>(
        &self,
        py: Python<'py>,
        election: &str,
        candidate: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (c, key, who) = (
            self.inner.clone(),
            election.to_owned(),
            candidate.to_owned(),
        );
        runtime::awaitable(py, async move {
            let l = c.try_campaign(key, &who).await.py_err()?;
            Ok(l.map(NativeLeadership::new))
        })
    }

    fn leader(&self, py: Python<'_>, election: &str) -> PyResult<Option<HolderTuple>> {
        let (c, key) = (self.inner.clone(), election.to_owned());
        runtime::block(py, async move {
            Ok(c.leader(key).await.py_err()?.map(convert::holder))
        })
    }

    fn leader_async<'py>(&self, py: Python<'py>, election: &str) -> PyResult<Bound<'py, PyAny>> {
        let (c, key) = (self.inner.clone(), election.to_owned());
        runtime::awaitable(py, async move {
            Ok(c.leader(key).await.py_err()?.map(convert::holder))
        })
    }

    fn observe_leader(&self, py: Python<'_>, election: &str) -> PyResult<NativeLeaderObserver> {
        let (c, key) = (self.inner.clone(), election.to_owned());
        runtime::block(py, async move {
            let stream = c.observe_leader(key).await.py_err()?;
            Ok(NativeLeaderObserver::new(stream))
        })
    }

    fn observe_leader_async<'py>(
        &self,
        py: Python<'py>,
        election: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (c, key) = (self.inner.clone(), election.to_owned());
        runtime::awaitable(py, async move {
            let stream = c.observe_leader(key).await.py_err()?;
            Ok(NativeLeaderObserver::new(stream))
        })
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let c = self.inner.clone();
        runtime::block(py, async move {
            c.close().await;
            Ok(())
        })
    }

    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        runtime::awaitable(py, async move {
            c.close().await;
            Ok(())
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<fencelock client server={:?} closed={}>",
            self.inner.server(),
            self.inner.is_closed()
        )
    }
}

async fn release(c: &Client, g: &fencelock::LockGuard, state: Option<Bytes>) -> PyResult<bool> {
    c.release(g, state).await.py_err()
}

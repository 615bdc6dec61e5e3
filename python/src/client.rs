//! `NativeClient`: every client operation, blocking (GIL released, Ctrl-C checked) and as
//! `*_async` awaitables. Callbacks (`with_lock`, `do_if_free`) run Python code: the sync forms
//! run it on the calling thread, so it may call the client again.

use crate::convert::{self, HolderTuple, KeyInfoTuple};
use crate::error::{invalid_argument, IntoPy};
use crate::guard::NativeGuard;
use crate::leadership::NativeLeadership;
use crate::observer::NativeLeaderObserver;
use crate::runtime;
use fencelock::{Bytes, Client, ClientBuilder, LockOptions, Storage};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

#[pyclass(frozen, module = "fencelock._native")]
pub struct NativeClient {
    inner: Client,
}

/// Builds the core builder from `connect`'s keyword arguments.
#[allow(clippy::too_many_arguments)]
fn builder(
    url: &str,
    namespace: Option<String>,
    lease: Option<&Bound<'_, PyAny>>,
    object_expiry: Option<&Bound<'_, PyAny>>,
    replicas: Option<i64>,
    storage: Option<&str>,
    renew: Option<bool>,
    renew_fraction: Option<f64>,
    max_hold: Option<&Bound<'_, PyAny>>,
    label: Option<String>,
    token: Option<String>,
    user: Option<String>,
    password: Option<String>,
    creds_file: Option<String>,
    tls_root_cert: Option<String>,
    tls_client_cert: Option<String>,
    tls_client_key: Option<String>,
    require_tls: bool,
    connect_timeout: Option<&Bound<'_, PyAny>>,
    clock_free: bool,
) -> PyResult<ClientBuilder> {
    let mut b = Client::builder(url).clock_free(clock_free);
    if let Some(ns) = namespace {
        b = b.namespace(ns);
    }
    if let Some(l) = convert::duration("lock_duration", lease, false)? {
        b = b.lease(l);
    }
    if let Some(e) = convert::duration("object_expiry", object_expiry, false)? {
        b = b.object_expiry(e);
    }
    if let Some(r) = replicas {
        let r = usize::try_from(r).map_err(|_| {
            invalid_argument(format!("replication must be between 1 and 5, not {r}"))
        })?;
        b = b.replicas(r);
    }
    match storage {
        None => {}
        Some("file") => b = b.storage(Storage::File),
        Some("memory") => b = b.storage(Storage::Memory),
        Some(other) => {
            return Err(invalid_argument(format!(
                "storage must be \"file\" or \"memory\", not {other:?}"
            )))
        }
    }
    if let Some(r) = renew {
        b = b.renew(r);
    }
    if let Some(f) = renew_fraction {
        b = b.renew_fraction(f);
    }
    if let Some(m) = convert::duration("max_hold", max_hold, false)? {
        b = b.max_hold(m);
    }
    if let Some(l) = label {
        b = b.label(l);
    }
    if let Some(t) = token {
        b = b.token(t);
    }
    match (user, password) {
        (Some(u), Some(p)) => b = b.user_password(u, p),
        (None, None) => {}
        _ => return Err(invalid_argument("user and password must be given together")),
    }
    if let Some(c) = creds_file {
        b = b.creds_file(c);
    }
    if let Some(c) = tls_root_cert {
        b = b.tls_root_cert(c);
    }
    match (tls_client_cert, tls_client_key) {
        (Some(c), Some(k)) => b = b.tls_client_cert(c, k),
        (None, None) => {}
        _ => {
            return Err(invalid_argument(
                "tls_client_cert and tls_client_key must be given together",
            ))
        }
    }
    if require_tls {
        b = b.require_tls(true);
    }
    if let Some(t) = convert::duration("connect_timeout", connect_timeout, false)? {
        b = b.connect_timeout(t);
    }
    Ok(b)
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

/// A user callback's answer: the new state (None keeps the old one) or its exception.
type Answer = PyResult<Option<Bytes>>;
/// A callback request from a core task to the thread that called the sync API.
type Request = (Option<Bytes>, oneshot::Sender<Answer>);

/// Runs a core operation that calls back into Python, from a blocking call: the operation runs
/// on the core runtime and sends each callback request here, where it runs on the calling
/// thread with the GIL, outside any tokio context (so the callback may use the sync API).
fn block_with_callback<T, Op, Fut>(py: Python<'_>, func: &Bound<'_, PyAny>, op: Op) -> PyResult<T>
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
fn call_sync(py: Python<'_>, func: &Bound<'_, PyAny>, state: Option<Bytes>) -> Answer {
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
async fn ask(tx: &mpsc::UnboundedSender<Request>, state: Option<Bytes>) -> Answer {
    let (reply, answer) = oneshot::channel();
    tx.send((state, reply)).map_err(|_| {
        PyRuntimeError::new_err("the calling thread stopped waiting for the callback")
    })?;
    answer
        .await
        .map_err(|_| PyRuntimeError::new_err("the callback was abandoned"))?
}

/// Calls an async callback (returning an awaitable of bytes or None) on the caller's loop.
async fn call_async(
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

fn bytes_result(b: Option<Bytes>) -> Option<Vec<u8>> {
    b.map(|b| b.to_vec())
}

#[pymethods]
impl NativeClient {
    /// Connects (blocking). Durations are seconds.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (url, *, namespace=None, lease=None, object_expiry=None, replicas=None,
        storage=None, renew=None, renew_fraction=None, max_hold=None, label=None, token=None,
        user=None, password=None, creds_file=None, tls_root_cert=None, tls_client_cert=None,
        tls_client_key=None, require_tls=false, connect_timeout=None, clock_free=false))]
    fn connect(
        py: Python<'_>,
        url: &str,
        namespace: Option<String>,
        lease: Option<&Bound<'_, PyAny>>,
        object_expiry: Option<&Bound<'_, PyAny>>,
        replicas: Option<i64>,
        storage: Option<&str>,
        renew: Option<bool>,
        renew_fraction: Option<f64>,
        max_hold: Option<&Bound<'_, PyAny>>,
        label: Option<String>,
        token: Option<String>,
        user: Option<String>,
        password: Option<String>,
        creds_file: Option<String>,
        tls_root_cert: Option<String>,
        tls_client_cert: Option<String>,
        tls_client_key: Option<String>,
        require_tls: bool,
        connect_timeout: Option<&Bound<'_, PyAny>>,
        clock_free: bool,
    ) -> PyResult<NativeClient> {
        let b = builder(
            url,
            namespace,
            lease,
            object_expiry,
            replicas,
            storage,
            renew,
            renew_fraction,
            max_hold,
            label,
            token,
            user,
            password,
            creds_file,
            tls_root_cert,
            tls_client_cert,
            tls_client_key,
            require_tls,
            connect_timeout,
            clock_free,
        )?;
        runtime::block(py, async move {
            Ok(NativeClient {
                inner: b.connect().await.py_err()?,
            })
        })
    }

    /// Connects, as an awaitable.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (url, *, namespace=None, lease=None, object_expiry=None, replicas=None,
        storage=None, renew=None, renew_fraction=None, max_hold=None, label=None, token=None,
        user=None, password=None, creds_file=None, tls_root_cert=None, tls_client_cert=None,
        tls_client_key=None, require_tls=false, connect_timeout=None, clock_free=false))]
    fn connect_async<'py>(
        py: Python<'py>,
        url: &str,
        namespace: Option<String>,
        lease: Option<&Bound<'_, PyAny>>,
        object_expiry: Option<&Bound<'_, PyAny>>,
        replicas: Option<i64>,
        storage: Option<&str>,
        renew: Option<bool>,
        renew_fraction: Option<f64>,
        max_hold: Option<&Bound<'_, PyAny>>,
        label: Option<String>,
        token: Option<String>,
        user: Option<String>,
        password: Option<String>,
        creds_file: Option<String>,
        tls_root_cert: Option<String>,
        tls_client_cert: Option<String>,
        tls_client_key: Option<String>,
        require_tls: bool,
        connect_timeout: Option<&Bound<'_, PyAny>>,
        clock_free: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let b = builder(
            url,
            namespace,
            lease,
            object_expiry,
            replicas,
            storage,
            renew,
            renew_fraction,
            max_hold,
            label,
            token,
            user,
            password,
            creds_file,
            tls_root_cert,
            tls_client_cert,
            tls_client_key,
            require_tls,
            connect_timeout,
            clock_free,
        )?;
        runtime::awaitable(py, async move {
            Ok(NativeClient {
                inner: b.connect().await.py_err()?,
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
            Ok(bytes_result(out))
        })
    }

    /// `with_lock` whose `func(state_bytes)` returns an awaitable of bytes or None.
    #[pyo3(signature = (key, func, timeout=None, lease=None, label=None))]
    fn with_lock_async<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        func: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
        lease: Option<&Bound<'_, PyAny>>,
        label: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_callable("with_lock", func)?;
        let opts = lock_options(timeout, lease, None, label)?;
        let (c, key) = (self.inner.clone(), key.to_owned());
        let locals = runtime::current_locals(py)?;
        let func = Arc::new(func.clone().unbind());
        runtime::awaitable_with_locals(py, locals.clone(), async move {
            let out = c
                .with_lock_opts(key, &opts, |state| call_async(func, locals, state))
                .await
                .py_err()?;
            Ok(bytes_result(out))
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
                Some(answer) => Ok((true, bytes_result(answer?))),
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
                Some(answer) => Ok((true, bytes_result(answer?))),
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
            Ok(bytes_result(c.wait(key, timeout).await.py_err()?))
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
            Ok(bytes_result(c.wait(key, timeout).await.py_err()?))
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

fn check_callable(what: &str, func: &Bound<'_, PyAny>) -> PyResult<()> {
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

async fn release(c: &Client, g: &fencelock::LockGuard, state: Option<Bytes>) -> PyResult<bool> {
    c.release(g, state).await.py_err()
}

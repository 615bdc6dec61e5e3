//! Core errors to Python exceptions. The classes live in `fencelock/errors.py` (they need
//! multiple inheritance, e.g. `LockTimeout(FencelockError, TimeoutError)`); this maps each
//! stable core kind to its class and passes the core's message, key and token through.

use fencelock::{Error, ErrorKind};
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The class of a core kind, from `fencelock.errors.KIND_CLASSES`; a kind that table lacks
/// (a test catches that) still lands in the tree as `FencelockError`.
fn kind_class<'py>(py: Python<'py>, kind: ErrorKind) -> PyResult<Bound<'py, PyType>> {
    let module = errors_module(py)?;
    let table = module.getattr("KIND_CLASSES")?;
    match table.get_item(kind.as_str()) {
        Ok(cls) => Ok(cls.cast_into::<PyType>()?),
        Err(_) => Ok(module.getattr("FencelockError")?.cast_into::<PyType>()?),
    }
}

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(ERRORS
        .get_or_try_init(py, || py.import("fencelock.errors").map(|m| m.unbind()))?
        .bind(py))
}

/// The core's error kinds (`ErrorKind::ALL`), for the test that the class table matches.
#[pyfunction]
pub fn error_kinds() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// The error's sources as a chain of plain exceptions (outermost first), so `__cause__` shows
/// why, e.g., a connection failed.
fn cause_chain(py: Python<'_>, e: &Error) -> Option<PyErr> {
    let mut messages = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        messages.push(s.to_string());
        source = s.source();
    }
    let mut cause: Option<PyErr> = None;
    for m in messages.into_iter().rev() {
        let err = PyException::new_err(m);
        err.set_cause(py, cause.take());
        cause = Some(err);
    }
    cause
}

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    Ok(errors_module(py)?.getattr(name)?.cast_into::<PyType>()?)
}

/// Converts a core error into its exception. A failed user callback (`with_lock`,
/// `do_if_free`) re-raises the callback's own exception unchanged.
pub fn to_py(e: Error) -> PyErr {
    let message = e.message().to_owned();
    // Converted on the core's threads for async calls; at interpreter exit, nobody reads it.
    crate::runtime::attach_unless_exiting(|py| {
        if e.kind() == ErrorKind::Callback {
            if let Some(inner) =
                std::error::Error::source(&e).and_then(|s| s.downcast_ref::<PyErr>())
            {
                return inner.clone_ref(py);
            }
        }
        match kind_class(py, e.kind()) {
            Ok(cls) => match cls.call1((e.message(), e.kind().as_str(), e.key(), e.token())) {
                Ok(exc) => {
                    let err = PyErr::from_value(exc);
                    err.set_cause(py, cause_chain(py, &e));
                    err
                }
                Err(err) => err,
            },
            Err(err) => PyRuntimeError::new_err(format!(
                "{} (fencelock.errors could not be loaded: {err})",
                e.message()
            )),
        }
    })
    .unwrap_or_else(|| PyRuntimeError::new_err(message))
}

/// `?`-friendly conversion of core results.
pub trait IntoPy<T> {
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for fencelock::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// An error of this binding's own checks, raised as the core would (e.g. `InvalidArgument`).
pub fn invalid_argument(message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| match class(py, "InvalidArgument") {
        Ok(cls) => match cls.call1((
            message.as_str(),
            "invalid_argument",
            None::<&str>,
            None::<u64>,
        )) {
            Ok(exc) => PyErr::from_value(exc),
            Err(err) => err,
        },
        Err(err) => err,
    })
}

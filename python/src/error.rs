//! Core errors to Python exceptions. The classes live in `fencelock/errors.py` (they need
//! multiple inheritance, e.g. `LockTimeout(FencelockError, TimeoutError)`); this maps each
//! stable core kind to its class and passes the core's message, key and token through.

use fencelock::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout => "LockTimeout",
        ErrorKind::Held => "LockHeld",
        ErrorKind::NotHeld => "LockNotHeld",
        ErrorKind::Expired => "LockExpired",
        ErrorKind::InvalidKey => "InvalidKey",
        ErrorKind::InvalidArgument => "InvalidArgument",
        ErrorKind::StateTooLarge => "StateTooLarge",
        ErrorKind::Closed => "ClientClosed",
        ErrorKind::Backend => "BackendError",
        ErrorKind::Callback => "CallbackError",
        // A kind added to the core later still lands in the tree.
        _ => "FencelockError",
    }
}

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    let module =
        ERRORS.get_or_try_init(py, || py.import("fencelock.errors").map(|m| m.unbind()))?;
    Ok(module.bind(py).getattr(name)?.cast_into::<PyType>()?)
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
        let name = class_name(e.kind());
        match class(py, name) {
            Ok(cls) => match cls.call1((e.message(), e.kind().as_str(), e.key(), e.token())) {
                Ok(exc) => PyErr::from_value(exc),
                Err(err) => err,
            },
            Err(err) => PyRuntimeError::new_err(format!(
                "{} (fencelock.errors.{name} could not be loaded: {err})",
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

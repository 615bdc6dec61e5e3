//! `connect`'s keyword arguments turned into the core's `ConnectOptions`. Only types are
//! converted here: which options a backend uses, and which go together, the core decides.

use crate::convert;
use crate::error::invalid_argument;
use fencelock::{ConnectOptions, Storage};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};
use std::path::PathBuf;

/// The options named by `kwargs`; a `None` value leaves that option at its default.
pub fn from_kwargs(url: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<ConnectOptions> {
    let mut o = ConnectOptions::new(url);
    let Some(kwargs) = kwargs else {
        return Ok(o);
    };
    for (name, value) in kwargs.iter() {
        if value.is_none() {
            continue;
        }
        let name: String = name.extract()?;
        let v = &value;
        match name.as_str() {
            "namespace" => o.namespace = Some(text(&name, v)?),
            "lease" => o.lease = convert::duration("lock_duration", Some(v), false)?,
            "object_expiry" => o.object_expiry = convert::duration(&name, Some(v), false)?,
            "replication" => o.replication = Some(count(&name, v)?),
            "replication_timeout" => {
                o.replication_timeout = convert::duration(&name, Some(v), false)?
            }
            "storage" => o.storage = Some(storage(v)?),
            "clock_free" => o.clock_free = Some(flag(&name, v)?),
            "renew" => o.renew = Some(flag(&name, v)?),
            "renew_fraction" => {
                o.renew_fraction = Some(v.extract().map_err(|_| type_error(&name, "a float", v))?)
            }
            "max_hold" => o.max_hold = convert::duration(&name, Some(v), false)?,
            "label" => o.label = Some(text(&name, v)?),
            "token" => o.token = Some(text(&name, v)?),
            "user" => o.user = Some(text(&name, v)?),
            "password" => o.password = Some(text(&name, v)?),
            "creds_file" => o.creds_file = Some(path(&name, v)?),
            "tls_root_cert" => o.tls_root_cert = Some(path(&name, v)?),
            "tls_client_cert" => o.tls_client_cert = Some(path(&name, v)?),
            "tls_client_key" => o.tls_client_key = Some(path(&name, v)?),
            "require_tls" => o.require_tls = Some(flag(&name, v)?),
            "connect_timeout" => o.connect_timeout = convert::duration(&name, Some(v), false)?,
            other => {
                return Err(PyTypeError::new_err(format!(
                    "connect() got an unexpected keyword argument {other:?}"
                )))
            }
        }
    }
    Ok(o)
}

fn type_error(name: &str, want: &str, v: &Bound<'_, PyAny>) -> PyErr {
    let got = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!("{name} must be {want} or None, not {got}"))
}

fn text(name: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    v.extract().map_err(|_| type_error(name, "a str", v))
}

fn path(name: &str, v: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    v.extract()
        .map_err(|_| type_error(name, "a path (str or os.PathLike)", v))
}

fn flag(name: &str, v: &Bound<'_, PyAny>) -> PyResult<bool> {
    if !v.is_instance_of::<PyBool>() {
        return Err(type_error(name, "a bool", v));
    }
    v.extract()
}

fn count(name: &str, v: &Bound<'_, PyAny>) -> PyResult<usize> {
    if v.is_instance_of::<PyBool>() {
        return Err(type_error(name, "an int", v));
    }
    let n: i64 = v.extract().map_err(|_| type_error(name, "an int", v))?;
    // Zero and counts too high are the core's to refuse, with the backend's range.
    usize::try_from(n).map_err(|_| invalid_argument(format!("{name} must be at least 1, not {n}")))
}

fn storage(v: &Bound<'_, PyAny>) -> PyResult<Storage> {
    match text("storage", v)?.as_str() {
        "file" => Ok(Storage::File),
        "memory" => Ok(Storage::Memory),
        other => Err(invalid_argument(format!(
            "storage must be \"file\" or \"memory\", not {other:?}"
        ))),
    }
}

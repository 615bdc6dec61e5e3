//! `NativeLeaderObserver`: the stream of leadership changes of one election, pulled one item
//! at a time (blocking with a timeout, or awaited).

use crate::convert::{self, HolderTuple};
use crate::runtime;
use fencelock::Holder;
use futures::stream::{BoxStream, StreamExt};
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use std::sync::Arc;
use tokio::sync::Mutex;

type Changes = Arc<Mutex<BoxStream<'static, Option<Holder>>>>;

#[pyclass(frozen, module = "fencelock._native")]
pub struct NativeLeaderObserver {
    stream: Changes,
}

impl NativeLeaderObserver {
    pub fn new(stream: BoxStream<'static, Option<Holder>>) -> Self {
        NativeLeaderObserver {
            stream: Arc::new(Mutex::new(stream)),
        }
    }
}

/// The next change: `(True, holder_or_None)`, or `(False, None)` when the stream ended
/// (client closed) or `timeout` passed.
async fn next(
    stream: Changes,
    timeout: Option<std::time::Duration>,
) -> (bool, Option<HolderTuple>) {
    let mut s = stream.lock().await;
    let item = match timeout {
        Some(t) => tokio::time::timeout(t, s.next()).await.ok().flatten(),
        None => s.next().await,
    };
    match item {
        Some(h) => (true, h.map(convert::holder)),
        None => (false, None),
    }
}

#[pymethods]
impl NativeLeaderObserver {
    #[pyo3(signature = (timeout=None))]
    fn next(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(bool, Option<HolderTuple>)> {
        let timeout = convert::duration("timeout", timeout, true)?;
        let s = self.stream.clone();
        runtime::block(py, async move { Ok(next(s, timeout).await) })
    }

    /// Awaitable of the next change; raises `StopAsyncIteration` when the stream ended.
    fn next_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.stream.clone();
        runtime::awaitable(py, async move {
            match next(s, None).await {
                (true, h) => Ok(h),
                (false, _) => Err(PyStopAsyncIteration::new_err(())),
            }
        })
    }
}

//! Runs the core's futures in the core runtime's context.
//!
//! uniffi polls an exported future on the thread that resumes the Kotlin coroutine. Entering the
//! core runtime around each poll lets the core's timers and spawns work there and makes the core
//! run the operation inline (no hop to a runtime thread per call); the connection and the lease
//! keepers stay on the core runtime. Dropping the future (a cancelled coroutine) cancels the
//! operation; the core releases a lock whose guard is dropped that way.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Wraps `fut` so that each poll runs inside the core runtime's context.
pub(crate) fn in_core<F: Future>(fut: F) -> InCore<F> {
    InCore {
        handle: fencelock::runtime::handle(),
        fut: Box::pin(fut),
    }
}

pub(crate) struct InCore<F> {
    handle: tokio::runtime::Handle,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for InCore<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _entered = this.handle.enter();
        this.fut.as_mut().poll(cx)
    }
}

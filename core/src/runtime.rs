//! The core's own tokio runtime: connections, lease keepers and watches run here, whatever
//! executor (or none) the caller uses. Built lazily and rebuilt in a child after `fork()`,
//! because a forked child inherits the runtime's memory but none of its threads.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use tokio::runtime::{Builder, Handle, Runtime};

mod loop_tasks;
pub use loop_tasks::{LoopTasks, TaskId};

struct Owned {
    pid: u32,
    runtime: Runtime,
}

static RUNTIME: Mutex<Option<Owned>> = Mutex::new(None);

thread_local! {
    /// True on the core runtime's worker threads.
    static ON_CORE: Cell<bool> = const { Cell::new(false) };
}

/// A handle to the core runtime of this process.
pub fn handle() -> Handle {
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if let Some(owned) = slot.as_ref() {
        if owned.pid == pid {
            return owned.runtime.handle().clone();
        }
    }
    if let Some(stale) = slot.take() {
        // The parent's worker threads do not exist here; dropping would wait for them forever.
        std::mem::forget(stale);
    }
    let runtime = Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .thread_name("fencelock")
        .on_thread_start(|| ON_CORE.with(|c| c.set(true)))
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("fencelock cannot start its runtime threads: {e}"));
    let handle = runtime.handle().clone();
    *slot = Some(Owned { pid, runtime });
    handle
}

fn worker_threads() -> usize {
    std::env::var("FENCELOCK_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get().min(4))
                .unwrap_or(2)
        })
}

/// Runs `fut` to completion on the core runtime, blocking the calling thread. For blocking
/// APIs (C, sync Python). Panics when called from inside an async task (a runtime thread); use
/// [`try_block_on`] where that can happen.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    handle().block_on(fut)
}

/// [`block_on`], or an `InvalidArgument` error instead of a panic when the calling thread is
/// running async tasks (blocking there would stall them).
pub fn try_block_on<F: Future>(fut: F) -> crate::Result<F::Output> {
    if ON_CORE.with(Cell::get) || Handle::try_current().is_ok() {
        return Err(crate::Error::new(
            crate::ErrorKind::InvalidArgument,
            "a blocking fencelock call was made from a thread that runs async tasks; use the \
             async API there, or call from another thread",
        ));
    }
    Ok(block_on(fut))
}

/// Spawns a background task on the core runtime.
pub(crate) fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    handle().spawn(fut)
}

/// Runs `fut` so that any executor can await it: inline when the caller is on a tokio runtime
/// (its timers and I/O work there, and no hop between runtimes is paid per operation), else on
/// the core runtime. Dropping the returned future cancels the operation.
pub(crate) async fn on_core<F>(fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if ON_CORE.with(Cell::get) || Handle::try_current().is_ok() {
        return fut.await;
    }
    let task = AbortOnDrop(spawn(fut));
    match task.await {
        Ok(out) => out,
        // The task cannot be cancelled while we await it, so this is a panic: pass it on.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

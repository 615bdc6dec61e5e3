//! The JVM's hot path: `acquire` without options and `release` keeping the state as plain C
//! functions with primitive arguments, bound by hand with JNA direct mapping
//! (`src/main/kotlin/dev/fencelock/FastPath.kt`), beside the uniffi exports.
//!
//! Why: through uniffi's generated Kotlin, an async call is about seven native calls (handle
//! clones, the call, two polls, complete, free), each allocating JNA `Structure`s, plus a JNA
//! callback from a runtime thread that resumes the coroutine. Here a call is one native call
//! that spawns the core's operation on the core runtime and returns; the task's outcome goes to a
//! completion queue that one JVM thread drains with a blocking native call (several outcomes per
//! crossing under load) and turns into coroutine resumptions. No JNA callback, no second poll.
//!
//! Cancellation: the JVM calls [`fencelock_jvm_fast_cancel`], which aborts the task; dropping the
//! core's future cancels the operation, and the core releases a lock granted in that instant.
//! Every operation posts exactly one completion (done, failed, or cancelled), so the JVM side
//! never keeps a waiter forever; a guard that completes for a coroutine already cancelled is
//! freed there, which releases it in the background.
//!
//! The guard handed to the JVM is a uniffi object handle (`HandleAlloc`), so the generated
//! `LockGuard` class owns it like any other; handles passed in are borrowed (the JVM keeps the
//! owning object reachable across the call).

use crate::client::Client;
use crate::error::{FencelockError, Result};
use crate::guard::LockGuard;
use crate::options::lock_options;
use crate::UniFfiTag;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::AbortHandle;
use uniffi::{Handle, HandleAlloc};

/// The operation finished; `a` and `b` carry its result.
const DONE: i64 = 0;
/// The operation failed; [`fast_take_error`] returns the error.
const FAILED: i64 = 1;
/// The operation was cancelled (or its task dropped) before it finished.
const CANCELLED: i64 = 2;

/// Longs per completion in the buffer [`fencelock_jvm_fast_next`] fills: id, kind, a, b.
const COMPLETION_LONGS: usize = 4;

struct Completion {
    id: i64,
    kind: i64,
    a: i64,
    b: i64,
}

#[derive(Default)]
struct Hub {
    queue: Mutex<VecDeque<Completion>>,
    ready: Condvar,
    /// The tasks still running, by the JVM's operation id, for cancellation. `None`: the task
    /// ended before its starter recorded it (the starter then removes the entry).
    running: Mutex<HashMap<i64, Option<AbortHandle>>>,
    /// Errors of failed operations until the JVM takes them.
    errors: Mutex<HashMap<i64, FencelockError>>,
}

static HUB: LazyLock<Hub> = LazyLock::new(Hub::default);

/// Locks `m`, ignoring poisoning: the maps and the queue stay consistent at every step.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn post(c: Completion) {
    lock(&HUB.queue).push_back(c);
    HUB.ready.notify_one();
}

/// Posts the task's completion when the task ends, also when it is aborted or dropped.
struct Reporter {
    id: i64,
    outcome: Option<Result<(i64, i64)>>,
}

impl Drop for Reporter {
    fn drop(&mut self) {
        {
            let mut running = lock(&HUB.running);
            if running.remove(&self.id).is_none() {
                running.insert(self.id, None);
            }
        }
        let (kind, a, b) = match self.outcome.take() {
            Some(Ok((a, b))) => (DONE, a, b),
            Some(Err(e)) => {
                lock(&HUB.errors).insert(self.id, e);
                (FAILED, 0, 0)
            }
            None => (CANCELLED, 0, 0),
        };
        post(Completion {
            id: self.id,
            kind,
            a,
            b,
        });
    }
}

/// Runs `op` as a task of the core runtime under the JVM's operation `id`.
fn start(id: i64, op: impl Future<Output = Result<(i64, i64)>> + Send + 'static) {
    // Made outside the task: a task dropped before its first poll still reports.
    let report = Reporter { id, outcome: None };
    let task = fencelock::runtime::handle().spawn(async move {
        // Moves the whole reporter in (a field assignment alone would capture only the field).
        let mut report = report;
        report.outcome = Some(op.await);
    });
    let mut running = lock(&HUB.running);
    if running.remove(&id).is_none() {
        running.insert(id, Some(task.abort_handle()));
    }
}

/// Starts `acquire` of the key (`key_len` bytes of UTF-8 at `key`) on the client `client` (a
/// uniffi `Client` handle, borrowed), waiting up to `timeout_nanos` (negative: forever). The
/// completion of `id` carries the new guard's handle (owned by the receiver) and its token.
///
/// # Safety
/// `client` must be a live `Client` handle for the duration of the call and `key` must point to
/// `key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn fencelock_jvm_fast_acquire(
    client: i64,
    key: *const u8,
    key_len: i32,
    timeout_nanos: i64,
    id: i64,
) {
    // SAFETY: the caller keeps the handle's owner reachable across this call; get_arc takes a
    // reference of its own for the task.
    let client = unsafe { <Client as HandleAlloc<UniFfiTag>>::get_arc(handle(client)) };
    let bytes = match usize::try_from(key_len) {
        // SAFETY: the caller passes a buffer of key_len bytes.
        Ok(len) if !key.is_null() => unsafe { std::slice::from_raw_parts(key, len) },
        _ => &[],
    };
    // The JVM encodes a String, which is valid UTF-8 unless it held lone surrogates (then
    // replaced, as uniffi's own String lowering does).
    let key = String::from_utf8_lossy(bytes).into_owned();
    let timeout = u64::try_from(timeout_nanos).ok().map(Duration::from_nanos);
    start(id, async move {
        let o = lock_options(timeout, None);
        let g = client.inner.acquire_with(key, &o).await?;
        let token = g.token() as i64;
        let guard = <LockGuard as HandleAlloc<UniFfiTag>>::new_handle(Arc::new(LockGuard::new(g)));
        Ok((guard.as_raw() as i64, token))
    });
}

/// Starts `release` (keeping the state) of the guard `guard` (a uniffi `LockGuard` handle,
/// borrowed). The completion of `id` carries 1 when released, 0 when the lock had been lost.
///
/// # Safety
/// `guard` must be a live `LockGuard` handle for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn fencelock_jvm_fast_release(guard: i64, id: i64) {
    // SAFETY: as in fencelock_jvm_fast_acquire.
    let guard = unsafe { <LockGuard as HandleAlloc<UniFfiTag>>::get_arc(handle(guard)) };
    start(id, async move {
        let released = guard.inner.release(None).await?;
        Ok((i64::from(released), 0))
    });
}

/// A task that completes at once with `x`, from a runtime thread: what the completion path
/// costs without any lock work (the benchmark's crossing figures).
#[no_mangle]
pub extern "C" fn fencelock_jvm_fast_noop(x: i64, id: i64) {
    start(id, async move { Ok((x, 0)) });
}

/// Cancels the operation `id` if it is still running; its completion then reports it cancelled.
#[no_mangle]
pub extern "C" fn fencelock_jvm_fast_cancel(id: i64) {
    if let Some(Some(task)) = lock(&HUB.running).get(&id) {
        task.abort();
    }
}

/// Waits up to `timeout_ms` for completions and writes up to `capacity` of them to `out` as
/// four longs each (id, kind, a, b); returns how many (0 on timeout).
///
/// # Safety
/// `out` must point to `capacity * 4` writable longs.
#[no_mangle]
pub unsafe extern "C" fn fencelock_jvm_fast_next(
    out: *mut i64,
    capacity: i32,
    timeout_ms: i64,
) -> i32 {
    let capacity = usize::try_from(capacity).unwrap_or(0);
    if out.is_null() || capacity == 0 {
        return 0;
    }
    let wait = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
    let queue = lock(&HUB.queue);
    let (mut queue, _) = HUB
        .ready
        .wait_timeout_while(queue, wait, |q| q.is_empty())
        .unwrap_or_else(|p| p.into_inner());
    let n = queue.len().min(capacity);
    // SAFETY: the caller passes room for capacity completions.
    let out = unsafe { std::slice::from_raw_parts_mut(out, capacity * COMPLETION_LONGS) };
    for (slot, c) in out.chunks_exact_mut(COMPLETION_LONGS).zip(queue.drain(..n)) {
        slot.copy_from_slice(&[c.id, c.kind, c.a, c.b]);
    }
    n as i32
}

/// The error of the failed fast operation `id` (each is taken once).
#[uniffi::export]
pub fn fast_take_error(id: i64) -> Result<()> {
    match lock(&HUB.errors).remove(&id) {
        Some(e) => Err(e),
        None => Err(FencelockError::invalid_argument(format!(
            "no error is pending for operation {id} (a bug of the JVM binding)"
        ))),
    }
}

fn handle(raw: i64) -> Handle {
    Handle::from_raw_unchecked(raw as u64)
}

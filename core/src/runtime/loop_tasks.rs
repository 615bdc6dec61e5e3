//! Core futures driven on a foreign event loop's own thread (Node's, asyncio's).
//!
//! A binding could run each operation as a task on the core runtime and post the outcome back
//! to its event loop, but that costs a thread wake-up to start the task on top of the one that
//! brings the outcome back, and on small VMs a wake-up is 15-30 µs against a ~120 µs round trip
//! to the store. Here the loop thread polls the future itself: the first poll sends the request
//! right away, and the waker only asks the loop, through the loop's own wake-up primitive, to
//! poll again. The connection still lives on the core runtime; only the operation's state
//! machine runs on the loop thread, inside the core runtime's context so timers and spawns work.
//!
//! That suits a few operations at a time (one loop awaiting lock after lock, a waiter and a
//! holder). With many in flight (64 tasks cycling locks on distinct keys) the loop thread alone
//! would poll every operation's state machine and become the bottleneck while the core's
//! threads idle: from [`INLINE_LIMIT`] pending tasks on, a new operation runs as a task on the
//! core runtime and only its outcome comes back through the loop.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

type BoxFuture<O> = Pin<Box<dyn Future<Output = O> + Send>>;

/// Pending tasks from which a new one runs on the core runtime rather than on the loop thread.
/// Below it (a sequential loop, a handoff's waiter and holder) the loop thread's own polls save
/// a thread wake-up per operation; above it the loop thread would be the one busy thread.
pub const INLINE_LIMIT: usize = 4;

/// Identifies a pending task, for [`LoopTasks::cancel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskId(u64);

/// What wakers share with the loop thread: the woken task ids and how to nudge the loop.
struct Ready {
    woken: Mutex<Vec<u64>>,
    /// Set while a nudge is in flight, so a burst of wake-ups costs the loop one wake-up.
    nudged: AtomicBool,
    nudge: Box<dyn Fn() + Send + Sync>,
}

struct TaskWaker {
    id: u64,
    ready: Arc<Ready>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready
            .woken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(self.id);
        if !self.ready.nudged.swap(true, Ordering::AcqRel) {
            (self.ready.nudge)();
        }
    }
}

struct Task<O, C> {
    future: BoxFuture<O>,
    waker: Waker,
    context: C,
}

/// The pending futures of one event loop. Lives on (and is used only from) the loop's thread;
/// wakers may fire on any thread and call `nudge`, after which the loop must call
/// [`LoopTasks::run_woken`] on its thread.
///
/// `O` is a future's output, `C` what the binding keeps beside it to deliver that output (a
/// promise's deferred, an asyncio future).
pub struct LoopTasks<O, C> {
    /// The core runtime of the process that made this (a forked child makes its own).
    runtime: tokio::runtime::Handle,
    ready: Arc<Ready>,
    tasks: RefCell<HashMap<u64, Task<O, C>>>,
    next: Cell<u64>,
}

impl<O, C> LoopTasks<O, C> {
    /// `nudge` must make the loop call [`run_woken`](Self::run_woken) soon, from any thread,
    /// without blocking (write to an eventfd, `uv_async_send`, ...).
    pub fn new(nudge: impl Fn() + Send + Sync + 'static) -> Self {
        LoopTasks {
            runtime: super::handle(),
            ready: Arc::new(Ready {
                woken: Mutex::new(Vec::new()),
                nudged: AtomicBool::new(false),
                nudge: Box::new(nudge),
            }),
            tasks: RefCell::new(HashMap::new()),
            next: Cell::new(0),
        }
    }

    /// Polls `future` once now. Its output comes back at once when it is ready, else the task
    /// is kept and its id returned; its output will come out of a later `run_woken`.
    pub fn start<F>(&self, future: F, context: C) -> Result<(O, C), TaskId>
    where
        F: Future<Output = O> + Send + 'static,
        O: Send + 'static,
    {
        if self.pending() >= INLINE_LIMIT {
            // Aborted when dropped: `cancel` still cancels the operation.
            let task = super::AbortOnDrop(self.runtime.spawn(future));
            return self.start_inline(
                async move {
                    match task.await {
                        Ok(out) => out,
                        // Never aborted while awaited, so this is a panic: pass it on.
                        Err(e) => std::panic::resume_unwind(e.into_panic()),
                    }
                },
                context,
            );
        }
        self.start_inline(future, context)
    }

    /// [`start`](Self::start) polling `future` on the loop thread whatever is pending.
    pub fn start_inline<F>(&self, future: F, context: C) -> Result<(O, C), TaskId>
    where
        F: Future<Output = O> + Send + 'static,
    {
        let id = self.next.get();
        self.next.set(id + 1);
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            ready: self.ready.clone(),
        }));
        let mut task = Task {
            future: Box::pin(future),
            waker,
            context,
        };
        match poll(&self.runtime, &mut task) {
            Poll::Ready(out) => Ok((out, task.context)),
            Poll::Pending => {
                self.tasks.borrow_mut().insert(id, task);
                Err(TaskId(id))
            }
        }
    }

    /// Polls the tasks woken since the last call and hands each finished one to `done` with
    /// its context. Call it on the loop thread after a nudge.
    pub fn run_woken(&self, mut done: impl FnMut(O, C)) {
        // Cleared before taking the list: a wake-up from here on nudges the loop again.
        self.ready.nudged.store(false, Ordering::Release);
        let woken =
            std::mem::take(&mut *self.ready.woken.lock().unwrap_or_else(|p| p.into_inner()));
        for id in woken {
            // Out of the map while polled, so `done` may start or cancel tasks.
            let Some(mut task) = self.tasks.borrow_mut().remove(&id) else {
                continue; // finished or cancelled already; a late or repeated wake-up
            };
            match poll(&self.runtime, &mut task) {
                Poll::Ready(out) => done(out, task.context),
                Poll::Pending => {
                    self.tasks.borrow_mut().insert(id, task);
                }
            }
        }
    }

    /// Drops a pending task's future (which cancels the operation) and returns its context.
    pub fn cancel(&self, id: TaskId) -> Option<C> {
        let task = self.tasks.borrow_mut().remove(&id.0)?;
        // Dropping an operation may spawn its clean-up (an acquire undoes its write).
        let _ctx = self.runtime.enter();
        let Task {
            future, context, ..
        } = task;
        drop(future);
        Some(context)
    }

    /// How many tasks are pending (a loop may keep its process alive while there are any).
    pub fn pending(&self) -> usize {
        self.tasks.borrow().len()
    }
}

/// One poll inside the core runtime's context: the future may start timers or spawn tasks, and
/// core operations see a runtime and so run inline instead of as a task of their own.
fn poll<O, C>(runtime: &tokio::runtime::Handle, task: &mut Task<O, C>) -> Poll<O> {
    let _ctx = runtime.enter();
    task.future
        .as_mut()
        .poll(&mut Context::from_waker(&task.waker))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A loop thread of our own: nudges arrive on a channel, as they would through an eventfd.
    fn tasks() -> (LoopTasks<u32, &'static str>, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let tasks = LoopTasks::new(move || {
            let _ = tx.lock().unwrap().send(());
        });
        (tasks, rx)
    }

    #[test]
    fn a_ready_future_completes_in_start_without_a_nudge() {
        let (tasks, nudges) = tasks();
        let out = tasks.start(async { 7 }, "ctx");
        assert_eq!(out.ok(), Some((7, "ctx")));
        assert_eq!(tasks.pending(), 0);
        assert!(nudges.try_recv().is_err());
    }

    #[test]
    fn a_pending_future_finishes_after_its_nudge() {
        let (tasks, nudges) = tasks();
        let id = tasks
            .start(
                async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    5
                },
                "timer",
            )
            .expect_err("a 20 ms timer is not ready at once");
        assert_eq!(tasks.pending(), 1);
        nudges
            .recv_timeout(Duration::from_secs(5))
            .expect("the timer wakes the task");
        let mut done = Vec::new();
        tasks.run_woken(|out, ctx| done.push((out, ctx)));
        assert_eq!(done, vec![(5, "timer")]);
        assert_eq!(tasks.pending(), 0);
        assert_eq!(tasks.cancel(id), None);
    }

    #[test]
    fn many_wake_ups_before_the_loop_runs_cost_one_nudge() {
        let (tasks, nudges) = tasks();
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        tasks
            .start(async move { rx.await.unwrap_or(0) }, "chan")
            .expect_err("nothing was sent yet");
        let (tx2, rx2) = tokio::sync::oneshot::channel::<u32>();
        tasks
            .start(async move { rx2.await.unwrap_or(0) }, "chan2")
            .expect_err("nothing was sent yet");
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
        nudges.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(
            nudges.try_recv().is_err(),
            "the second wake-up nudged again"
        );
        let mut done = Vec::new();
        tasks.run_woken(|out, ctx| done.push((out, ctx)));
        done.sort();
        assert_eq!(done, vec![(1, "chan"), (2, "chan2")]);
    }

    #[test]
    fn cancel_drops_the_future() {
        let (tasks, _nudges) = tasks();
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let id = tasks
            .start(async move { rx.await.unwrap_or(0) }, "dropped")
            .expect_err("nothing was sent yet");
        assert_eq!(tasks.cancel(id), Some("dropped"));
        assert!(
            tx.is_closed(),
            "the future (holding the receiver) was dropped"
        );
        assert_eq!(tasks.pending(), 0);
    }

    /// Parks `INLINE_LIMIT` tasks that wait on channels; returns their senders.
    fn fill(tasks: &LoopTasks<u32, &'static str>) -> Vec<tokio::sync::oneshot::Sender<u32>> {
        (0..INLINE_LIMIT)
            .map(|_| {
                let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
                tasks
                    .start(async move { rx.await.unwrap_or(0) }, "parked")
                    .expect_err("nothing was sent yet");
                tx
            })
            .collect()
    }

    #[test]
    fn past_the_inline_limit_a_task_runs_on_the_core_runtime() {
        let (tasks, nudges) = tasks();
        let _parked = fill(&tasks);
        let loop_thread = std::thread::current().id();
        let mut done = Vec::new();
        // The core thread may finish before the first poll: then it comes back at once.
        match tasks.start(
            async move { u32::from(std::thread::current().id() != loop_thread) },
            "spawned",
        ) {
            Ok(out) => done.push(out),
            Err(_) => {
                nudges.recv_timeout(Duration::from_secs(5)).unwrap();
                tasks.run_woken(|out, ctx| done.push((out, ctx)));
            }
        }
        assert_eq!(done, vec![(1, "spawned")], "it ran on a core thread");
        assert_eq!(tasks.pending(), INLINE_LIMIT);
        // Below the limit again, a ready future still completes inline.
        let (tasks, _n) = self::tasks();
        assert_eq!(tasks.start(async { 3 }, "inline").ok(), Some((3, "inline")));
    }

    #[test]
    fn cancel_aborts_a_task_running_on_the_core_runtime() {
        let (tasks, _nudges) = tasks();
        let _parked = fill(&tasks);
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let id = tasks
            .start(async move { rx.await.unwrap_or(0) }, "spawned")
            .expect_err("nothing was sent yet");
        assert_eq!(tasks.cancel(id), Some("spawned"));
        let give_up = std::time::Instant::now() + Duration::from_secs(5);
        while !tx.is_closed() {
            assert!(
                std::time::Instant::now() < give_up,
                "the task was not aborted"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

//! Keeps the leases of one client alive with a single task and a queue of due times.
//!
//! Each held lock is renewed at a fraction of its lease. Transient failures are retried while
//! the lease still runs, and the lock is declared lost when it cannot (or must not) be renewed in
//! time. One task for all guards keeps acquire and release free of task spawns and wake-ups: a
//! new entry wakes the task only when it is due before everything already queued, and released
//! guards are dropped from the queue when their time comes.

use crate::error::ErrorKind;
use crate::guard::{GuardShared, GuardStatus};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// Pause before retrying a renewal that failed for a transient reason (server unreachable).
const RETRY_MIN: Duration = Duration::from_millis(50);

/// How a guard's lease is kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepPlan {
    /// Renew this long after each successful write; `None` lets the lease run out.
    pub renew_every: Option<Duration>,
    /// Stop renewing after this instant (the client's optional cap on total hold time).
    pub renew_until: Option<Instant>,
}

/// Per-guard bookkeeping of the keeper.
#[derive(Default)]
pub(crate) struct KeepState {
    /// A renewal is in flight; don't start another.
    renewing: AtomicBool,
    /// When the last renewal failed transiently, and the current retry pause.
    failed: Mutex<Option<(Instant, Duration)>>,
}

struct Entry {
    due: Instant,
    guard: Weak<GuardShared>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.due == other.due
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.due.cmp(&other.due)
    }
}

/// The lease keeper of one client.
pub(crate) struct LeaseKeeper {
    queue: Mutex<BinaryHeap<Reverse<Entry>>>,
    wake: Notify,
    started: AtomicBool,
    closed: watch::Receiver<bool>,
    rt: tokio::runtime::Handle,
}

impl LeaseKeeper {
    pub fn new(closed: watch::Receiver<bool>, rt: tokio::runtime::Handle) -> Arc<LeaseKeeper> {
        Arc::new(LeaseKeeper {
            queue: Mutex::new(BinaryHeap::new()),
            wake: Notify::new(),
            started: AtomicBool::new(false),
            closed,
            rt,
        })
    }

    /// Starts keeping `guard`'s lease.
    pub fn keep(self: &Arc<Self>, guard: &Arc<GuardShared>) {
        if !self.started.swap(true, Ordering::AcqRel) {
            self.rt.spawn(run(Arc::downgrade(self)));
        }
        let due = next_due(guard, Instant::now());
        self.schedule(due, Arc::downgrade(guard));
    }

    fn schedule(&self, due: Instant, guard: Weak<GuardShared>) {
        let earliest = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let earliest = q.peek().is_none_or(|Reverse(head)| due < head.due);
            q.push(Reverse(Entry { due, guard }));
            earliest
        };
        if earliest {
            self.wake.notify_one();
        }
    }

    /// Removes and returns the entries due by `now`, or the time the next one is due.
    fn due(&self, now: Instant) -> Result<Vec<Weak<GuardShared>>, Option<Instant>> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        while let Some(Reverse(head)) = q.peek() {
            if head.due > now {
                break;
            }
            if let Some(Reverse(e)) = q.pop() {
                out.push(e.guard);
            }
        }
        if out.is_empty() {
            Err(q.peek().map(|Reverse(e)| e.due))
        } else {
            Ok(out)
        }
    }
}

/// When `guard` next needs attention: its renewal time, its retry time, or its deadline.
fn next_due(g: &GuardShared, now: Instant) -> Instant {
    let deadline = g.deadline();
    if !renewing(g, now) {
        return deadline;
    }
    let failed = *g.keep.failed.lock().unwrap_or_else(|p| p.into_inner());
    let at = match (failed, g.plan.renew_every) {
        (Some((at, pause)), _) => at + pause,
        (None, Some(every)) => g.written_at() + every,
        (None, None) => deadline,
    };
    at.min(deadline)
}

fn renewing(g: &GuardShared, now: Instant) -> bool {
    g.plan.renew_every.is_some() && g.plan.renew_until.is_none_or(|until| now < until)
}

async fn run(keeper: Weak<LeaseKeeper>) {
    let Some(k) = keeper.upgrade() else { return };
    let mut closed = k.closed.clone();
    drop(k);
    loop {
        let Some(k) = keeper.upgrade() else { return };
        let now = Instant::now();
        match k.due(now) {
            Ok(due) => {
                for g in due.iter().filter_map(Weak::upgrade) {
                    attend(&k, g, now);
                }
            }
            Err(next) => {
                let sleep = async {
                    match next {
                        Some(t) => tokio::time::sleep_until(t.into()).await,
                        None => futures::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = sleep => {}
                    _ = k.wake.notified() => {}
                    _ = closed.changed() => return,
                }
            }
        }
    }
}

/// Renews, reschedules or gives up on one guard whose time came.
fn attend(k: &Arc<LeaseKeeper>, g: Arc<GuardShared>, now: Instant) {
    if g.status() != GuardStatus::Held {
        return;
    }
    if now >= g.deadline() {
        g.mark_lost();
        return;
    }
    let due = next_due(&g, now);
    if due > now || !renewing(&g, now) {
        // Written since (a put renews too), or only waiting for the deadline.
        k.schedule(due.max(now + Duration::from_millis(1)), Arc::downgrade(&g));
        return;
    }
    if g.keep.renewing.swap(true, Ordering::AcqRel) {
        return;
    }
    let keeper = k.clone();
    k.rt.spawn(async move {
        let result = g.refresh().await;
        g.client.stats.renewed(&result);
        g.keep.renewing.store(false, Ordering::Release);
        let mut failed = g.keep.failed.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(()) => *failed = None,
            Err(e) if matches!(e.kind(), ErrorKind::Expired | ErrorKind::NotHeld) => return,
            Err(e) => {
                tracing::warn!(key = %g.key, error = %e, "lease renewal failed; retrying");
                let lease = g.deadline().saturating_duration_since(g.written_at());
                let pause = failed.map_or(RETRY_MIN, |(_, p)| p * 2);
                *failed = Some((Instant::now(), pause.min(lease / 10).max(RETRY_MIN)));
            }
        }
        drop(failed);
        let due = next_due(&g, Instant::now());
        keeper.schedule(due, Arc::downgrade(&g));
    });
}

//! Keeps the leases of one client alive with a single task and a queue of due times.
//!
//! Each held lock is renewed at a fraction of its lease. Transient failures are retried while
//! the lease still runs, and the lock is declared lost when it cannot (or must not) be renewed in
//! time. One task for all guards keeps acquire and release free of task spawns and wake-ups: a
//! new entry wakes the task only when it is due before everything already queued. A guard
//! leaves the queue the moment it is released or lost, so the queue holds exactly the held
//! locks: under churn (thousands of short locks a second, each with a lease of seconds) a queue
//! that dropped finished guards only when their time came grew by one entry per acquisition.

use crate::error::ErrorKind;
use crate::guard::{GuardShared, GuardStatus};
use std::collections::{BTreeMap, HashMap};
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

/// Guards by due time, and each guard's place in that order so it can leave at once.
#[derive(Default)]
struct Queue {
    by_due: BTreeMap<(Instant, u64), Weak<GuardShared>>,
    due_of: HashMap<u64, Instant>,
    /// When the task wakes by itself next (its timer); `None` when it sleeps until notified.
    /// The timer is kept after the queue empties, so that a short lock taken right after
    /// another was released (one task cycling acquire and release) is usually due after it
    /// and needs no wake-up: waking the task on every acquire cost a thread switch each.
    armed: Option<Instant>,
}

impl Queue {
    /// Queues (or moves) guard `id`; true when the task must be woken to look at it (it is
    /// due before the task's timer fires).
    fn insert(&mut self, id: u64, due: Instant, guard: Weak<GuardShared>) -> bool {
        if let Some(old) = self.due_of.insert(id, due) {
            self.by_due.remove(&(old, id));
        }
        self.by_due.insert((due, id), guard);
        if self.armed.is_some_and(|t| t <= due) {
            return false;
        }
        // The woken task re-arms its timer from the queue; until then, later entries need
        // no wake-up of their own.
        self.armed = Some(due);
        true
    }

    fn remove(&mut self, id: u64) {
        if let Some(due) = self.due_of.remove(&id) {
            self.by_due.remove(&(due, id));
        }
        // A burst of held locks leaves a large table behind; give the memory back.
        if self.due_of.capacity() > 1024 && self.due_of.len() < self.due_of.capacity() / 4 {
            self.due_of.shrink_to(self.due_of.len() * 2);
        }
    }

    fn pop_due(&mut self, now: Instant) -> Vec<Weak<GuardShared>> {
        let mut out = Vec::new();
        while let Some(entry) = self.by_due.first_entry() {
            let (due, id) = *entry.key();
            if due > now {
                break;
            }
            out.push(entry.remove());
            self.due_of.remove(&id);
        }
        out
    }
}

/// The lease keeper of one client.
pub(crate) struct LeaseKeeper {
    queue: Mutex<Queue>,
    wake: Notify,
    started: AtomicBool,
    closed: watch::Receiver<bool>,
    rt: tokio::runtime::Handle,
}

impl LeaseKeeper {
    pub fn new(closed: watch::Receiver<bool>, rt: tokio::runtime::Handle) -> Arc<LeaseKeeper> {
        Arc::new(LeaseKeeper {
            queue: Mutex::new(Queue::default()),
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
        self.schedule(due, guard);
    }

    fn schedule(&self, due: Instant, guard: &Arc<GuardShared>) {
        let earliest = self.lock().insert(guard.id, due, Arc::downgrade(guard));
        if earliest {
            self.wake.notify_one();
        }
    }

    /// Stops keeping guard `id` (released or lost).
    pub fn forget(&self, id: u64) {
        self.lock().remove(id);
    }

    /// Number of guards queued (for tests: it must fall back to zero after releases).
    pub fn queued(&self) -> usize {
        self.lock().due_of.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes and returns the entries due by `now`, or the time the task should wake next:
    /// the first entry's due time, else the timer it already had if that is still ahead
    /// (see [`Queue::armed`]), else never (until notified).
    fn due(&self, now: Instant) -> Result<Vec<Weak<GuardShared>>, Option<Instant>> {
        let mut q = self.lock();
        let out = q.pop_due(now);
        if !out.is_empty() {
            // Attending may queue them again; the task looks at the queue before sleeping.
            q.armed = Some(now);
            return Ok(out);
        }
        let first = q.by_due.first_key_value().map(|((due, _), _)| *due);
        let kept = q.armed.filter(|t| *t > now);
        q.armed = match (first, kept) {
            (Some(f), Some(k)) => Some(f.min(k)),
            (f, k) => f.or(k),
        };
        Err(q.armed)
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
        k.schedule(due.max(now + Duration::from_millis(1)), &g);
        return;
    }
    if g.keep.renewing.swap(true, Ordering::AcqRel) {
        return;
    }
    // The renewal's answer may take up to the store's request timeout; the guard must still
    // be declared lost at its deadline, so that stays queued while the renewal runs.
    k.schedule(g.deadline(), &g);
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
        if g.status() == GuardStatus::Held {
            let due = next_due(&g, Instant::now());
            keeper.schedule(due, &g);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_lease_wakes_the_task_only_when_due_before_its_timer() {
        let mut q = Queue::default();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        // No timer yet: the task sleeps until notified.
        assert!(q.insert(1, t0 + s(10), Weak::new()));
        // The task armed its timer for the first entry; a later entry needs no wake-up.
        assert!(!q.insert(2, t0 + s(11), Weak::new()));
        // The first guard leaves (released): the timer stays, so the next short lock taken
        // right after, due later, wakes nobody either.
        q.remove(1);
        assert!(!q.insert(3, t0 + s(10) + Duration::from_millis(1), Weak::new()));
        // An entry due before the timer wakes the task, once.
        assert!(q.insert(4, t0 + s(5), Weak::new()));
        assert!(!q.insert(5, t0 + s(6), Weak::new()));
    }

    #[test]
    fn the_timer_outlives_an_emptied_queue_only_until_it_fires() {
        let (_tx, rx) = watch::channel(false);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let k = LeaseKeeper::new(rx, rt.handle().clone());
        let t0 = Instant::now();
        let timer = t0 + Duration::from_secs(10);
        k.lock().insert(1, timer, Weak::new());
        assert_eq!(k.due(t0).err(), Some(Some(timer)));
        k.forget(1);
        // Emptied: the task keeps its timer rather than needing a wake-up for the next lock.
        assert_eq!(k.due(t0).err(), Some(Some(timer)));
        // Once it has fired with nothing queued, the task sleeps until notified.
        assert_eq!(k.due(timer + Duration::from_millis(1)).err(), Some(None));
        assert!(k
            .lock()
            .insert(2, timer + Duration::from_secs(1), Weak::new()));
    }
}

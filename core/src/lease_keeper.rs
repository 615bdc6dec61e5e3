//! Keeps a lease alive: renews at a fraction of the lease, retries transient failures while
//! the lease still runs, and declares the lock lost when it cannot (or must not) renew in time.

use crate::error::ErrorKind;
use crate::guard::{GuardShared, GuardStatus};
use std::sync::Weak;
use std::time::{Duration, Instant};

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

/// Runs until the guard is released, lost or dropped. Holds only a weak reference so that a
/// dropped guard is not kept alive by its keeper.
pub(crate) async fn keep(guard: Weak<GuardShared>, plan: KeepPlan) {
    let Some(g) = guard.upgrade() else { return };
    let mut status = g.status.subscribe();
    drop(g);
    let mut retry = RETRY_MIN;
    let mut failed_at: Option<Instant> = None;
    loop {
        let Some(g) = guard.upgrade() else { return };
        if g.status() != GuardStatus::Held {
            return;
        }
        let deadline = g.deadline();
        let renewing = plan.renew_every.is_some()
            && plan.renew_until.is_none_or(|until| Instant::now() < until);
        let next = match (renewing, plan.renew_every) {
            (true, Some(every)) => match failed_at {
                Some(at) => at + retry,
                None => g.written_at() + every,
            }
            .min(deadline),
            _ => deadline,
        };
        drop(g);
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = status.wait_for(|s| *s != GuardStatus::Held) => return,
        }
        let Some(g) = guard.upgrade() else { return };
        if g.status() != GuardStatus::Held {
            return;
        }
        if Instant::now() >= g.deadline() {
            g.mark_lost();
            return;
        }
        if !renewing {
            continue;
        }
        match g.refresh().await {
            Ok(()) => {
                failed_at = None;
                retry = RETRY_MIN;
            }
            Err(e) if matches!(e.kind(), ErrorKind::Expired | ErrorKind::NotHeld) => return,
            Err(e) => {
                tracing::warn!(key = %g.key, error = %e, "lease renewal failed; retrying");
                failed_at = Some(Instant::now());
                let lease = g.deadline().saturating_duration_since(g.written_at());
                retry = (retry * 2).min(lease / 10).max(RETRY_MIN);
            }
        }
    }
}

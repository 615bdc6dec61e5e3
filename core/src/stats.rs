//! Per-client lock statistics for dashboards: counters and count/sum/max timings, each a
//! relaxed atomic bumped once on the path it counts, so the hot path pays a handful of
//! uncontended atomic adds and no lock. Read with [`Client::stats`](crate::Client::stats);
//! values only grow (never reset), so a scraper computes rates from differences.

use crate::error::{ErrorKind, Result};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Count, total and maximum of one kind of duration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// How many were recorded.
    pub count: u64,
    /// Their sum (mean = `total / count`).
    pub total: Duration,
    /// The longest one.
    pub max: Duration,
}

/// A snapshot of one client's statistics since it connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Locks acquired (by `acquire`, `try_acquire`, `with_lock`, `campaign`, ...).
    pub acquisitions: u64,
    /// `try_acquire` calls that found the lock held.
    pub try_misses: u64,
    /// Acquisitions (and `wait`s) that gave up at their timeout.
    pub timeouts: u64,
    /// Time from calling acquire to holding the lock, for successful acquisitions.
    pub wait: Timing,
    /// Time from acquiring to releasing or losing, per lock.
    pub hold: Timing,
    /// Leases renewed by the lease keeper or `refresh()`.
    pub renewals: u64,
    /// Renewals that failed (the keeper retries until the lease runs out).
    pub renewal_failures: u64,
    /// Locks lost: lease lapsed, renewal refused, or broken by someone else.
    pub locks_lost: u64,
    /// Operations that failed with a backend error (server, network).
    pub backend_errors: u64,
}

#[derive(Default)]
struct TimingCell {
    count: AtomicU64,
    total_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl TimingCell {
    fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.count.fetch_add(1, Relaxed);
        self.total_ns.fetch_add(ns, Relaxed);
        self.max_ns.fetch_max(ns, Relaxed);
    }

    fn read(&self) -> Timing {
        Timing {
            count: self.count.load(Relaxed),
            total: Duration::from_nanos(self.total_ns.load(Relaxed)),
            max: Duration::from_nanos(self.max_ns.load(Relaxed)),
        }
    }
}

/// The live counters of one client.
#[derive(Default)]
pub(crate) struct Counters {
    acquisitions: AtomicU64,
    try_misses: AtomicU64,
    timeouts: AtomicU64,
    wait: TimingCell,
    hold: TimingCell,
    renewals: AtomicU64,
    renewal_failures: AtomicU64,
    locks_lost: AtomicU64,
    backend_errors: AtomicU64,
}

impl Counters {
    pub fn acquired(&self, waited: Duration) {
        self.acquisitions.fetch_add(1, Relaxed);
        self.wait.record(waited);
    }

    pub fn try_missed(&self) {
        self.try_misses.fetch_add(1, Relaxed);
    }

    /// A lock acquired at `since` was released, or `lost`.
    pub fn finished(&self, since: std::time::Instant, lost: bool) {
        self.hold.record(since.elapsed());
        if lost {
            self.locks_lost.fetch_add(1, Relaxed);
        }
    }

    /// Counts a renewal's outcome.
    pub fn renewed<T>(&self, r: &Result<T>) {
        match r {
            Ok(_) => self.renewals.fetch_add(1, Relaxed),
            Err(e) if e.kind() == ErrorKind::Backend => {
                self.backend_errors.fetch_add(1, Relaxed);
                self.renewal_failures.fetch_add(1, Relaxed)
            }
            Err(_) => self.renewal_failures.fetch_add(1, Relaxed),
        };
    }

    /// Counts an operation's failure by kind (timeouts, backend errors); passes it on.
    pub fn outcome<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            match e.kind() {
                ErrorKind::Timeout => {
                    self.timeouts.fetch_add(1, Relaxed);
                }
                ErrorKind::Backend => {
                    self.backend_errors.fetch_add(1, Relaxed);
                }
                _ => {}
            }
        }
        r
    }

    pub fn read(&self) -> Stats {
        Stats {
            acquisitions: self.acquisitions.load(Relaxed),
            try_misses: self.try_misses.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            wait: self.wait.read(),
            hold: self.hold.read(),
            renewals: self.renewals.load(Relaxed),
            renewal_failures: self.renewal_failures.load(Relaxed),
            locks_lost: self.locks_lost.load(Relaxed),
            backend_errors: self.backend_errors.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn timings_keep_count_sum_and_max() {
        let c = Counters::default();
        c.acquired(Duration::from_millis(3));
        c.acquired(Duration::from_millis(7));
        let s = c.read();
        assert_eq!(s.acquisitions, 2);
        assert_eq!(s.wait.count, 2);
        assert_eq!(s.wait.total, Duration::from_millis(10));
        assert_eq!(s.wait.max, Duration::from_millis(7));
    }

    #[test]
    fn outcomes_count_timeouts_and_backend_errors_only() {
        let c = Counters::default();
        let _ = c.outcome::<()>(Err(Error::new(ErrorKind::Timeout, "t")));
        let _ = c.outcome::<()>(Err(Error::new(ErrorKind::Backend, "b")));
        let _ = c.outcome::<()>(Err(Error::new(ErrorKind::Held, "h")));
        let _ = c.outcome(Ok(()));
        let s = c.read();
        assert_eq!((s.timeouts, s.backend_errors), (1, 1));
    }
}

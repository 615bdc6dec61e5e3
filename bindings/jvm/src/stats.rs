//! A client's lock statistics as one record (one crossing per read), and the library version.

use std::time::Duration;

/// Count, total and maximum of one kind of duration.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Timing {
    /// How many were recorded.
    pub count: u64,
    /// Their sum (mean = total / count).
    pub total: Duration,
    /// The longest one.
    pub max: Duration,
}

impl From<fencelock::Timing> for Timing {
    fn from(t: fencelock::Timing) -> Self {
        Timing {
            count: t.count,
            total: t.total,
            max: t.max,
        }
    }
}

/// A snapshot of one client's lock statistics since it connected; counters only grow.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Stats {
    /// Locks acquired (acquire, try_acquire, with_lock, campaign, ...).
    pub acquisitions: u64,
    /// try_acquire calls that found the lock held.
    pub try_misses: u64,
    /// Acquisitions (and waits) that gave up at their timeout.
    pub timeouts: u64,
    /// From calling acquire to holding the lock, for successful acquisitions.
    pub wait: Timing,
    /// From acquiring to releasing or losing, per lock.
    pub hold: Timing,
    /// Leases renewed by the lease keeper or refresh().
    pub renewals: u64,
    /// Renewals that failed.
    pub renewal_failures: u64,
    /// Locks lost: lease lapsed, renewal refused, or broken by someone else.
    pub locks_lost: u64,
    /// Operations that failed with a backend (server, network) error.
    pub backend_errors: u64,
}

impl From<fencelock::Stats> for Stats {
    fn from(s: fencelock::Stats) -> Self {
        Stats {
            acquisitions: s.acquisitions,
            try_misses: s.try_misses,
            timeouts: s.timeouts,
            wait: s.wait.into(),
            hold: s.hold.into(),
            renewals: s.renewals,
            renewal_failures: s.renewal_failures,
            locks_lost: s.locks_lost,
            backend_errors: s.backend_errors,
        }
    }
}

/// The version of the native library (the workspace's version, e.g. "0.1.0").
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

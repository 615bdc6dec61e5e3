//! `fl_stats`: a client's lock statistics, copied into a caller-owned struct.

use crate::client::fl_client;
use crate::error::fl_error;
use crate::ffi::{guard, handle, required, write_opt};
use crate::status::fl_status;

/// Count, total and maximum of one kind of duration, in microseconds.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fl_timing {
    /// How many were recorded.
    pub count: u64,
    /// Their sum (mean = total_us / count).
    pub total_us: u64,
    /// The longest one.
    pub max_us: u64,
}

/// One client's lock statistics since it connected; counters only grow.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fl_stats {
    /// Locks acquired.
    pub acquisitions: u64,
    /// fl_try_acquire calls that found the lock held.
    pub try_misses: u64,
    /// Acquisitions (and waits) that gave up at their timeout.
    pub timeouts: u64,
    /// From calling acquire to holding the lock, for successful acquisitions.
    pub wait: fl_timing,
    /// From acquiring to releasing or losing, per lock.
    pub hold: fl_timing,
    /// Leases renewed.
    pub renewals: u64,
    /// Renewals that failed.
    pub renewal_failures: u64,
    /// Locks lost: lease lapsed, renewal refused, or broken by someone else.
    pub locks_lost: u64,
    /// Operations that failed with a backend (server, network) error.
    pub backend_errors: u64,
}

fn timing(t: &fencelock::Timing) -> fl_timing {
    let us = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    fl_timing {
        count: t.count,
        total_us: us(t.total),
        max_us: us(t.max),
    }
}

/// Copies the client's lock statistics into `*out`. Cheap (no I/O); works after close.
///
/// @param out receives the statistics (caller-owned, e.g. on the stack).
/// @return FL_OK, or FL_INVALID_ARGUMENT for a NULL client or out.
#[no_mangle]
pub extern "C" fn fl_client_stats(
    client: *const fl_client,
    out: *mut fl_stats,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let c = handle(client, "client")?;
        required(out)?;
        let s = c.client.stats();
        write_opt(
            out,
            fl_stats {
                acquisitions: s.acquisitions,
                try_misses: s.try_misses,
                timeouts: s.timeouts,
                wait: timing(&s.wait),
                hold: timing(&s.hold),
                renewals: s.renewals,
                renewal_failures: s.renewal_failures,
                locks_lost: s.locks_lost,
                backend_errors: s.backend_errors,
            },
        );
        Ok(())
    })
}

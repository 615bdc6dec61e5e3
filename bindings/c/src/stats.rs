//! `fl_stats`: a client's lock statistics, copied into a caller-owned struct.

use crate::client::fl_client;
use crate::error::fl_error;
use crate::error::FlError;
use crate::ffi::{guard, handle, required};
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
///
/// Set `size` to `sizeof(fl_stats)` before calling `fl_client_stats` (or start from
/// `FL_STATS_INIT`): the library writes only the fields that fit in `size`, so a program
/// built against this header keeps working with a later library whose `fl_stats` has
/// gained fields at its end, and a later program learns from `size` what an earlier
/// library filled in.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fl_stats {
    /// In: the size of the caller's struct. Out: how many bytes the library wrote.
    pub size: usize,
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

/// Bytes of the first version of `fl_stats` (`size` and the nine counters): the smallest
/// struct accepted. Fixed forever; fields are only ever added after it.
const FIRST_VERSION_SIZE: usize = 112;
const _: () = assert!(std::mem::size_of::<fl_stats>() >= FIRST_VERSION_SIZE);

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
/// @param out receives the statistics (caller-owned, e.g. on the stack); its `size` must be
///            set to `sizeof(fl_stats)` first (`fl_stats s = FL_STATS_INIT;`).
/// @return FL_OK, or FL_INVALID_ARGUMENT for a NULL client or out, or a `size` smaller than
///         the fields of the first version (`size` and the nine counters).
#[no_mangle]
pub extern "C" fn fl_client_stats(
    client: *const fl_client,
    out: *mut fl_stats,
    err: *mut *mut fl_error,
) -> fl_status {
    guard(err, || {
        let c = handle(client, "client")?;
        required(out)?;
        // SAFETY: `out` is non-NULL and points to a caller-owned fl_stats of at least
        // `size` bytes, whose first field is `size` (of every version of this struct).
        let caller_size = unsafe { std::ptr::addr_of!((*out).size).read_unaligned() };
        if caller_size < FIRST_VERSION_SIZE {
            return Err(FlError::invalid(format!(
                "fl_stats.size is {caller_size}; set it to sizeof(fl_stats) before calling \
                 fl_client_stats (fl_stats s = FL_STATS_INIT;)"
            )));
        }
        let s = c.client.stats();
        let n = caller_size.min(std::mem::size_of::<fl_stats>());
        let value = fl_stats {
            size: n,
            acquisitions: s.acquisitions,
            try_misses: s.try_misses,
            timeouts: s.timeouts,
            wait: timing(&s.wait),
            hold: timing(&s.hold),
            renewals: s.renewals,
            renewal_failures: s.renewal_failures,
            locks_lost: s.locks_lost,
            backend_errors: s.backend_errors,
        };
        // SAFETY: both regions hold at least `n` bytes and do not overlap; only the prefix
        // the caller's struct has room for is written.
        unsafe {
            std::ptr::copy_nonoverlapping(
                std::ptr::addr_of!(value).cast::<u8>(),
                out.cast::<u8>(),
                n,
            )
        };
        Ok(())
    })
}

//! Client configuration, per-call lock options and the limits they are checked against.

use crate::error::{Error, ErrorKind, Result};
use std::time::{Duration, Instant};

/// Shortest lease accepted: shorter leases cannot be renewed reliably over a network.
pub const MIN_LEASE: Duration = Duration::from_millis(10);
/// Longest lease accepted (7 days): a crashed holder blocks waiters this long.
pub const MAX_LEASE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Lease used when neither the client nor the call sets one (nlock's default).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Per-call options for acquiring a lock; `None` fields take the client's defaults.
#[derive(Debug, Clone, Default)]
pub struct LockOptions {
    /// How long to wait for the lock; `None` waits forever (`acquire`) or not at all
    /// (`try_acquire`). Zero makes one attempt.
    pub timeout: Option<Duration>,
    /// Lease of this acquisition.
    pub lease: Option<Duration>,
    /// Renew the lease automatically while the guard lives.
    pub renew: Option<bool>,
    /// Holder label recorded with the lock (leader identity in elections).
    pub label: Option<String>,
}

impl LockOptions {
    /// Options with a timeout.
    pub fn timeout(timeout: Duration) -> LockOptions {
        LockOptions {
            timeout: Some(timeout),
            ..LockOptions::default()
        }
    }

    /// Sets the lease.
    pub fn with_lease(mut self, lease: Duration) -> LockOptions {
        self.lease = Some(lease);
        self
    }

    /// Turns automatic renewal on or off.
    pub fn with_renew(mut self, renew: bool) -> LockOptions {
        self.renew = Some(renew);
        self
    }

    /// Sets the holder label.
    pub fn with_label(mut self, label: impl Into<String>) -> LockOptions {
        self.label = Some(label.into());
        self
    }
}

/// Client-wide defaults applied to every acquisition.
#[derive(Debug, Clone)]
pub(crate) struct Defaults {
    pub lease: Duration,
    pub renew: bool,
    pub renew_fraction: f64,
    pub max_hold: Option<Duration>,
    pub label: String,
}

impl Defaults {
    pub fn validate(&self) -> Result<()> {
        check_lease(None, self.lease)?;
        if !(self.renew_fraction > 0.0 && self.renew_fraction < 1.0) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "renew_fraction {} is out of range; renew at a fraction of the lease \
                     strictly between 0 and 1 (default 1/3)",
                    self.renew_fraction
                ),
            ));
        }
        if let Some(m) = self.max_hold {
            if m.is_zero() {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "max_hold must be positive; leave it unset for no cap",
                ));
            }
        }
        Ok(())
    }
}

/// Checks a lease against [`MIN_LEASE`]..=[`MAX_LEASE`].
pub(crate) fn check_lease(key: Option<&str>, lease: Duration) -> Result<()> {
    if lease < MIN_LEASE || lease > MAX_LEASE {
        let e = Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "lease {lease:?}{} is out of range; use between {MIN_LEASE:?} and {MAX_LEASE:?}",
                key.map(|k| format!(" for key {k:?}")).unwrap_or_default()
            ),
        );
        return Err(match key {
            Some(k) => e.with_key(k),
            None => e,
        });
    }
    Ok(())
}

/// A timeout turned into a deadline; `None` when it is too far away to represent (forever).
pub(crate) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// Options resolved against the client's defaults for one acquisition.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub lease: Duration,
    pub renew: bool,
    pub label: String,
    pub deadline: Option<Instant>,
    /// Wait for the lock (acquire) rather than fail when held (try_acquire).
    pub wait: bool,
}

impl Resolved {
    pub fn new(
        key: &str,
        d: &Defaults,
        o: &LockOptions,
        wait: bool,
        max_lease: Option<Duration>,
    ) -> Result<Resolved> {
        let lease = o.lease.unwrap_or(d.lease);
        check_lease(Some(key), lease)?;
        if let Some(max) = max_lease.filter(|m| lease > *m) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "lease {lease:?} for key {key:?} is longer than the namespace's object expiry \
                     {max:?}: the entry would expire while held; use a shorter lease"
                ),
            )
            .with_key(key));
        }
        // Whole milliseconds, as recorded in the store, so holder and observers agree.
        let lease = Duration::from_millis(lease.as_millis() as u64);
        Ok(Resolved {
            lease,
            renew: o.renew.unwrap_or(d.renew),
            label: o.label.clone().unwrap_or_else(|| d.label.clone()),
            deadline: deadline(o.timeout),
            wait,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_outside_the_range_name_the_key_and_the_range() {
        let e = check_lease(Some("k"), Duration::ZERO).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert_eq!(e.key(), Some("k"));
        assert!(e.to_string().contains("10ms"), "{e}");
        assert!(check_lease(None, MAX_LEASE + Duration::from_secs(1)).is_err());
        assert!(check_lease(None, DEFAULT_LEASE).is_ok());
    }

    #[test]
    fn huge_timeouts_mean_forever() {
        assert!(deadline(Some(Duration::MAX)).is_none());
        assert!(deadline(Some(Duration::from_secs(1))).is_some());
    }
}

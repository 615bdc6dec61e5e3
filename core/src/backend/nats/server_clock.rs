//! Lease expiry judged by the NATS server's clock (docs/PROTOCOL-nats.md §6.4).
//!
//! Every stored message carries the time the stream leader stored it, and the stream info
//! answer carries the leader's current time (`ts`). A held entry whose age by those two server
//! readings is at least its lease has lapsed for every client at once, also for one that never
//! saw it before. Both readings come from the server, so no client clock is compared with
//! another machine's; the holder's own deadline (counted on its monotonic clock from when it
//! sent the write) ends before the server's, because the server stored the write after it was
//! sent.

use crate::backend::Snapshot;
use crate::error::BoxError;
use std::time::{Duration, SystemTime};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Held entries younger than this share of their lease by this machine's wall clock are judged
/// by the observer's own clock instead: the one more round trip would buy at most that much
/// (plus the offset between this machine's clock and the server's). Only cost depends on it.
const FRESH_SHARE: u32 = 20;

/// Whether a server of this version (`server_info().version`) is asked for its clock: 2.11 and
/// later. Older servers keep the clock-free rule (the stream info timestamp exists from 2.10.0,
/// but 2.10 is the line the protocol promises clock-free behaviour on).
pub(super) fn supported(version: &str) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(['.', '-'])
        .map(|p| p.parse::<u64>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (2, 11),
        _ => false,
    }
}

/// Reads the server's current time through the stream info request of one bucket.
pub(super) struct ServerClock {
    client: async_nats::Client,
    info_subject: String,
}

impl ServerClock {
    pub fn new(client: async_nats::Client, bucket: &str) -> ServerClock {
        ServerClock {
            client,
            info_subject: format!("$JS.API.STREAM.INFO.KV_{bucket}"),
        }
    }

    /// The stream leader's current time.
    async fn now(&self) -> Result<OffsetDateTime, BoxError> {
        let reply = self
            .client
            .request(self.info_subject.clone(), bytes::Bytes::new())
            .await?;
        let info: serde_json::Value = serde_json::from_slice(&reply.payload)?;
        if let Some(err) = info.get("error") {
            return Err(format!("stream info refused: {err}").into());
        }
        let ts = info
            .get("ts")
            .and_then(|t| t.as_str())
            .ok_or("the stream info answer has no server time (ts)")?;
        Ok(OffsetDateTime::parse(ts, &Rfc3339)?)
    }

    /// Judges a held snapshot stored at `stored` (server time): a lapsed lease reads as free
    /// (same revision, state kept, so a takeover still compare-and-sets on that revision), a
    /// running one gets the time the server says remains. A snapshot this machine's clock says
    /// is fresh, or a failed clock read, is left to the observer's own clock (the clock-free
    /// rule, always safe).
    pub async fn judge(&self, mut snap: Snapshot, stored: OffsetDateTime) -> Snapshot {
        let Some(lease) = snap.holder.as_ref().map(|h| h.lease) else {
            return snap;
        };
        let local_age = OffsetDateTime::from(SystemTime::now()) - stored;
        if local_age < lease / FRESH_SHARE {
            return snap;
        }
        let now = match self.now().await {
            Ok(now) => now,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the server's clock; judging by our own");
                return snap;
            }
        };
        // A negative age (a leader whose clock is behind the one that stored it) counts as 0.
        let age = Duration::try_from(now - stored).unwrap_or_default();
        match lease.checked_sub(age) {
            Some(left) if !left.is_zero() => snap.store_ttl = Some(left),
            _ => snap.holder = None,
        }
        snap
    }
}

#[cfg(test)]
mod tests {
    use super::supported;

    #[test]
    fn server_clock_is_used_from_2_11() {
        for v in ["2.11.0", "2.12.3", "2.15.1", "v2.11.0-beta", "3.0.0"] {
            assert!(supported(v), "{v}");
        }
        for v in ["2.10.29", "2.9.0", "1.4.1", "", "garbage"] {
            assert!(!supported(v), "{v}");
        }
    }
}

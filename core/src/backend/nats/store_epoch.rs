//! Telling when the bucket's stream was reset (docs/PROTOCOL-nats.md §6.6).
//!
//! Stream sequences only grow while a stream lives. They go back when a server restarts
//! without its data (memory storage, wiped or lost storage, an unsynced tail lost in a crash)
//! or when the bucket is deleted and created again; then a revision this client remembers may
//! name someone else's entry, and its observations (who held what since when) are void. The
//! epoch moves on every reconnect (a restart may have reset the stream) and whenever a reset is
//! seen while connected:
//! - a write acknowledged with a sequence not above one this client saw *before sending it*
//!   (a new message always gets a sequence above every existing one);
//! - on a suspicion (a key's revision went back), the stream info shows another creation time
//!   or a last sequence below one this client saw;
//! - the server announces that the bucket's stream was deleted or created (JetStream
//!   advisories, one subscription per client), or that it elected a new stream leader (then
//!   the stream info is checked as above). The KV watch cannot tell: its consumer is re-created
//!   silently and resumes after the last sequence it delivered, so it would skip every entry of
//!   the new stream below that.

use async_nats::jetstream::kv;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::watch;

pub(super) struct StoreEpoch {
    epoch: watch::Sender<u64>,
    /// The same number as `epoch`, for the hot path: every acquire and release reads the epoch
    /// a few times, and reading the watch channel takes its lock each time.
    now: AtomicU64,
    /// Highest stream sequence seen in this epoch (writes, reads, watch entries).
    high: AtomicU64,
    /// The stream's creation time as first read in this epoch.
    created: Mutex<Option<time::OffsetDateTime>>,
    /// Highest stream sequence ever seen, across epochs: a stream this client creates again
    /// starts above it.
    ever: AtomicU64,
    /// The connection and bucket, once bound, for creating the stream again.
    bound: std::sync::OnceLock<(async_nats::Client, kv::Store)>,
}

impl StoreEpoch {
    pub fn new() -> StoreEpoch {
        StoreEpoch {
            epoch: watch::channel(0).0,
            now: AtomicU64::new(0),
            high: AtomicU64::new(0),
            created: Mutex::new(None),
            ever: AtomicU64::new(0),
            bound: std::sync::OnceLock::new(),
        }
    }

    pub fn current(&self) -> u64 {
        self.now.load(Ordering::Acquire)
    }

    pub fn changes(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    /// Starts a new epoch: nothing seen so far counts.
    pub fn advance(&self, why: &str) {
        self.high.store(0, Ordering::Release);
        *self.created.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.epoch.send_modify(|e| {
            *e += 1;
            // Inside the channel's lock, so concurrent advances store in order.
            self.now.store(*e, Ordering::Release);
        });
        tracing::debug!(epoch = self.current(), why, "new store epoch");
    }

    /// The highest sequence seen so far, to read before sending a write.
    pub fn high(&self) -> u64 {
        self.high.load(Ordering::Acquire)
    }

    /// Records a sequence read from the stream.
    pub fn saw(&self, seq: u64) {
        self.high.fetch_max(seq, Ordering::AcqRel);
        self.ever.fetch_max(seq, Ordering::AcqRel);
    }

    /// Remembers the bound bucket, so that a stream found missing can be created again.
    pub fn bind(&self, client: async_nats::Client, kv: kv::Store) {
        let _ = self.bound.set((client, kv));
    }

    /// Creates the bucket's stream again if it is missing (after a reconnect: the server may
    /// have come back without its data), above every sequence this client saw.
    pub async fn restore_if_missing(&self) {
        if let Some((client, kv)) = self.bound.get() {
            let ever = self.ever.load(Ordering::Acquire);
            super::bucket_restore::restore_if_missing(client.clone(), kv.clone(), ever).await;
        }
    }

    /// Records the sequence a write got; `before` is [`high`](Self::high) read before it was
    /// sent. A sequence not above it means the stream went back.
    pub fn wrote(&self, seq: u64, before: u64) {
        if seq <= before {
            self.advance("a write was stored below a sequence seen before it");
        }
        self.saw(seq);
    }

    /// Checks the stream itself after a key's revision went back (which a lagging replica can
    /// also cause, so that alone moves nothing).
    pub async fn check(&self, kv: &kv::Store) {
        let high = self.high();
        let info = match fresh_info(kv).await {
            Ok(i) => i,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the stream info to check for a reset");
                return;
            }
        };
        let created = info.created;
        let last = info.state.last_sequence;
        let known = {
            let mut c = self.created.lock().unwrap_or_else(|p| p.into_inner());
            *c.get_or_insert(created)
        };
        if known != created {
            self.advance("the bucket's stream was created again");
        } else if last < high {
            self.advance("the stream's last sequence is below one seen before");
        }
    }

    /// Follows the server's advisories about the bucket's stream until the connection closes.
    /// A stream created again or updated may have another `max_age`: it is read into
    /// `max_age_ms` (0: none), which bounds every later acquisition's lease.
    pub async fn follow_advisories(
        self: std::sync::Arc<Self>,
        client: async_nats::Client,
        kv: kv::Store,
        stream: String,
        max_age_ms: std::sync::Arc<AtomicU64>,
    ) {
        use futures::StreamExt;
        let subject = format!("$JS.EVENT.ADVISORY.STREAM.*.{stream}");
        let mut sub = match client.subscribe(subject).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "cannot follow the stream advisories");
                return;
            }
        };
        let weak = std::sync::Arc::downgrade(&self);
        drop(self);
        while let Some(msg) = sub.next().await {
            let Some(me) = weak.upgrade() else { return };
            let kind = msg.subject.split('.').nth(4).unwrap_or_default();
            match kind {
                "CREATED" => me.advance("the bucket's stream was created again"),
                "DELETED" => {
                    me.advance("the bucket's stream was deleted");
                    me.restore_if_missing().await;
                }
                "LEADER_ELECTED" => me.check(&kv).await,
                _ => {}
            }
            if matches!(kind, "CREATED" | "UPDATED") {
                match fresh_info(&kv).await {
                    Ok(i) => max_age_ms.store(millis(i.config.max_age), Ordering::Release),
                    Err(e) => tracing::debug!(error = %e, "cannot re-read the bucket's max_age"),
                }
            }
        }
    }

    /// Notes the stream's creation time read at connect.
    pub fn set_created(&self, created: time::OffsetDateTime) {
        *self.created.lock().unwrap_or_else(|p| p.into_inner()) = Some(created);
    }
}

/// A `max_age` in whole milliseconds (0: none), rounded down so a lease is never judged to fit
/// when it does not.
pub(super) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The stream's info as the server has it now (the KV handle's `status` is the copy read when
/// the bucket was bound).
async fn fresh_info(
    kv: &kv::Store,
) -> Result<async_nats::jetstream::stream::Info, async_nats::jetstream::context::RequestError> {
    let mut stream = kv.stream.clone();
    stream.info().await.cloned()
}

#[cfg(test)]
mod tests {
    use super::StoreEpoch;

    #[test]
    fn a_write_stored_below_a_sequence_seen_before_it_moves_the_epoch() {
        let e = StoreEpoch::new();
        e.saw(40);
        let before = e.high();
        e.wrote(41, before);
        assert_eq!(
            e.current(),
            0,
            "a new write above everything seen is normal"
        );
        // A write sent after seeing 41 and stored at 3: the stream went back.
        let before = e.high();
        e.wrote(3, before);
        assert_eq!(e.current(), 1);
        assert_eq!(
            e.high(),
            3,
            "the new epoch starts from what the new stream showed"
        );
    }

    #[test]
    fn concurrent_writes_answered_out_of_order_move_nothing() {
        let e = StoreEpoch::new();
        e.saw(10);
        // Both sent after seeing 10; the later-stored one is answered first.
        let (a, b) = (e.high(), e.high());
        e.wrote(12, b);
        e.wrote(11, a);
        assert_eq!(e.current(), 0);
        assert_eq!(e.high(), 12);
    }

    #[test]
    fn reads_never_move_the_epoch_and_the_highest_sequence_survives_it() {
        let e = StoreEpoch::new();
        e.saw(100);
        e.saw(7); // an old key's entry: sequences of other keys are lower, that is normal
        assert_eq!(e.current(), 0);
        assert_eq!(e.high(), 100);
        e.advance("test");
        assert_eq!(e.high(), 0);
        assert_eq!(e.ever.load(std::sync::atomic::Ordering::Acquire), 100);
    }
}

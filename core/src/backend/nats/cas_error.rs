//! Which failed writes are a refused compare-and-set, and what each refusal means. Every write
//! carries the expected last revision of its key (`Nats-Expected-Last-Subject-Sequence`); the
//! server refuses in more than one form, and none of them may surface as an error, or
//! contenders on a replicated bucket get errors instead of waiting for the lock.
//!
//! The forms (nats-server's `errors.json`):
//! - 10071 `wrong last sequence: N` (400): the key's last revision is N, not the expected one.
//!   Single servers and stream leaders alike; async-nats reports it as `WrongLastRevision`.
//! - 10164 `wrong last sequence` (400, no number): replicated streams only. The leader checks
//!   the expectation before proposing the write to its peers, and refuses it while another
//!   write of the same key is proposed but not yet applied. async-nats reports it as a generic
//!   publish failure, hence this module. Usually that other write passed the same check against
//!   the same revision, so ours is bound to be stale. But the leader acknowledges a write before
//!   it clears the write's in-flight mark, so for a moment after an acknowledgement the
//!   writer's own next write (a release right after an acquire) can be refused too, though the
//!   key did not move on. Taken as a conflict, that would make a holder think it lost its lock.
//!   So [`settle`] sends the same compare-and-set again, after pauses growing from nothing to
//!   64 ms: a stale one then meets 10071 (the other write applied), a spurious one goes through,
//!   and only a refusal that outlasts every retry (a write stuck in flight) counts as a
//!   conflict: no write of ours was applied, and one that passed the check against our
//!   revision is pending.
//!
//! Deliberately NOT conflicts (they say nothing about the key having moved on, and a holder
//! would wrongly conclude it lost its lock): 10063 (a replica's stream sequence mismatch, a
//! cluster reset), 10163 (`expected last sequence per subject temporarily unavailable`, only in
//! 2.11 pre-releases), 10193 (a malformed expectation header), 10070 (message-id expectations,
//! which this protocol does not use). They stay backend errors, like timeouts, whose outcome is
//! unknown.

use crate::backend::Cas;
use async_nats::jetstream::kv::{UpdateError, UpdateErrorKind};
use async_nats::jetstream::{self, ErrorCode};
use std::future::Future;
use std::time::Duration;

/// Pauses before re-sending a compare-and-set the leader refused while a write of the key was
/// in flight (10164); about 130 ms in all, many consensus rounds.
const IN_FLIGHT_RETRIES: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_millis(1),
    Duration::from_millis(2),
    Duration::from_millis(4),
    Duration::from_millis(8),
    Duration::from_millis(16),
    Duration::from_millis(32),
    Duration::from_millis(64),
];

/// Why the server refused a compare-and-set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The key's last revision is another one (10071): a conflict.
    Stale,
    /// Another write of the key is in flight at the stream leader (10164): retry to tell.
    InFlight,
}

/// Settles the compare-and-set whose first send answered `first`: applied, refused as stale,
/// or refused while a write is in flight, when `publish` sends the same write again until it is
/// applied, refused as stale, refused in flight beyond every retry, or fails otherwise. The
/// first send is the caller's own `.await`, so the common case (applied or stale at once) moves
/// no publish future around: on the hot path that copy cost more than the rest of this module.
pub(super) async fn settle<F, Fut>(
    first: Result<u64, UpdateError>,
    mut publish: F,
) -> Result<Cas<u64>, UpdateError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, UpdateError>>,
{
    let mut retries = IN_FLIGHT_RETRIES.iter();
    let mut answer = first;
    loop {
        match answer {
            Ok(revision) => return Ok(Cas::Done(revision)),
            Err(e) => match refusal(&e) {
                Some(Refusal::Stale) => return Ok(Cas::Conflict),
                Some(Refusal::InFlight) => match retries.next() {
                    Some(pause) if pause.is_zero() => {}
                    Some(pause) => tokio::time::sleep(*pause).await,
                    None => return Ok(Cas::Conflict),
                },
                None => return Err(e),
            },
        }
        answer = publish().await;
    }
}

/// Whether (and why) the server refused the write over the key's expected revision.
pub(super) fn refusal(e: &UpdateError) -> Option<Refusal> {
    if e.kind() == UpdateErrorKind::WrongLastRevision {
        return Some(Refusal::Stale);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(api) = s.downcast_ref::<jetstream::Error>() {
            return match api.error_code() {
                ErrorCode::STREAM_WRONG_LAST_SEQUENCE => Some(Refusal::Stale),
                ErrorCode::STREAM_WRONG_LAST_SEQUENCE_CONSTANT => Some(Refusal::InFlight),
                _ => None,
            };
        }
        source = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_nats::jetstream::context::{PublishError, PublishErrorKind};

    /// The server's error reply, as the client decodes it from the publish acknowledgement.
    fn api(code: usize, err_code: u64, description: &str) -> jetstream::Error {
        let json = format!(
            "{{\"code\":{code},\"err_code\":{err_code},\"description\":\"{description}\"}}"
        );
        serde_json::from_str(&json).expect("an API error")
    }

    /// What `kv::Store::update` returns for an error the publish acknowledgement carried.
    fn update_error(api: jetstream::Error) -> UpdateError {
        let kind = match api.error_code() {
            ErrorCode::STREAM_WRONG_LAST_SEQUENCE => PublishErrorKind::WrongLastSequence,
            _ => PublishErrorKind::Other,
        };
        PublishError::with_source(kind, api).into()
    }

    #[test]
    fn a_wrong_last_sequence_with_the_current_revision_is_a_conflict() {
        let e = update_error(api(400, 10071, "wrong last sequence: 41"));
        assert_eq!(e.kind(), UpdateErrorKind::WrongLastRevision);
        assert_eq!(refusal(&e), Some(Refusal::Stale));
    }

    #[test]
    fn a_clustered_refusal_while_a_write_of_the_key_is_in_flight_is_recognised() {
        let e = update_error(api(400, 10164, "wrong last sequence"));
        // async-nats does not recognise this one itself: the reason this module exists.
        assert_eq!(e.kind(), UpdateErrorKind::Other);
        assert_eq!(refusal(&e), Some(Refusal::InFlight));
    }

    #[test]
    fn other_refusals_and_failures_are_not_conflicts() {
        for (code, err_code, what) in [
            (503, 10063, "expected stream sequence does not match"),
            (
                503,
                10163,
                "expected last sequence per subject temporarily unavailable",
            ),
            (
                400,
                10193,
                "missing sequence for expected last sequence per subject",
            ),
            (400, 10070, "wrong last msg ID: x"),
            (503, 10039, "jetstream not enabled"),
            (500, 10077, "insufficient resources"),
        ] {
            let e = update_error(api(code, err_code, what));
            assert_eq!(refusal(&e), None, "{err_code} {what}");
        }
        let timed_out: UpdateError = PublishError::new(PublishErrorKind::TimedOut).into();
        assert_eq!(refusal(&timed_out), None);
        let broken: UpdateError = PublishError::new(PublishErrorKind::BrokenPipe).into();
        assert_eq!(refusal(&broken), None);
    }

    /// Answers the successive sends of one compare-and-set from a script, counting them.
    fn scripted(
        answers: Vec<Result<u64, (usize, u64, &'static str)>>,
    ) -> (
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        impl FnMut() -> std::future::Ready<Result<u64, UpdateError>>,
    ) {
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = sent.clone();
        let mut answers = answers.into_iter();
        let publish = move || {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let answer = answers.next().expect("no more sends expected");
            std::future::ready(answer.map_err(|(c, e, d)| update_error(api(c, e, d))))
        };
        (sent, publish)
    }

    /// Sends the first attempt as the backend does, then hands over.
    async fn settle_all<F, Fut>(mut publish: F) -> Result<Cas<u64>, UpdateError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<u64, UpdateError>>,
    {
        let first = publish().await;
        settle(first, publish).await
    }

    const IN_FLIGHT: (usize, u64, &str) = (400, 10164, "wrong last sequence");
    const STALE: (usize, u64, &str) = (400, 10071, "wrong last sequence: 7");

    #[tokio::test]
    async fn a_write_refused_only_while_its_own_predecessor_is_marked_in_flight_goes_through() {
        let (sent, publish) = scripted(vec![Err(IN_FLIGHT), Ok(8)]);
        assert!(matches!(settle_all(publish).await, Ok(Cas::Done(8))));
        assert_eq!(sent.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_write_refused_in_flight_then_stale_is_a_conflict() {
        let (sent, publish) = scripted(vec![Err(IN_FLIGHT), Err(IN_FLIGHT), Err(STALE)]);
        assert!(matches!(settle_all(publish).await, Ok(Cas::Conflict)));
        assert_eq!(sent.load(std::sync::atomic::Ordering::Relaxed), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_refused_in_flight_beyond_every_retry_is_a_conflict() {
        let answers = vec![Err(IN_FLIGHT); IN_FLIGHT_RETRIES.len() + 1];
        let (sent, publish) = scripted(answers);
        assert!(matches!(settle_all(publish).await, Ok(Cas::Conflict)));
        assert_eq!(
            sent.load(std::sync::atomic::Ordering::Relaxed),
            IN_FLIGHT_RETRIES.len() + 1
        );
    }

    #[tokio::test]
    async fn other_failures_are_returned_at_once() {
        let (sent, publish) = scripted(vec![Err((503, 10039, "jetstream not enabled"))]);
        assert!(settle_all(publish).await.is_err());
        assert_eq!(sent.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}

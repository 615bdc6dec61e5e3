//! Which failed writes are a refused compare-and-set. Every write carries the expected last
//! revision of its key (`Nats-Expected-Last-Subject-Sequence`); the server refuses a mismatch in
//! more than one form, and all of them must read as [`Cas::Conflict`](crate::backend::Cas), or
//! contenders on a replicated bucket get errors instead of waiting for the lock.
//!
//! The forms (nats-server's `errors.json`):
//! - 10071 `wrong last sequence: N` (400): the key's last revision is N, not the expected one.
//!   Single servers and stream leaders alike; async-nats reports it as `WrongLastRevision`.
//! - 10164 `wrong last sequence` (400, no number): replicated streams only. The leader checks
//!   the expectation before proposing the write to its peers, and refuses it while another
//!   write of the same key is proposed but not yet applied. That write passed the same check
//!   against the same revision, so ours is bound to be stale: a conflict. async-nats reports it
//!   as a generic publish failure, hence this module.
//!
//! Deliberately NOT conflicts (they say nothing about the key having moved on, and a holder
//! would wrongly conclude it lost its lock): 10063 (a replica's stream sequence mismatch, a
//! cluster reset), 10163 (`expected last sequence per subject temporarily unavailable`, only in
//! 2.11 pre-releases), 10193 (a malformed expectation header), 10070 (message-id expectations,
//! which this protocol does not use). They stay backend errors, like timeouts, whose outcome is
//! unknown.

use async_nats::jetstream::kv::{UpdateError, UpdateErrorKind};
use async_nats::jetstream::{self, ErrorCode};

/// The server's codes for an expected last sequence that does not match.
const WRONG_LAST_SEQUENCE: [ErrorCode; 2] = [
    ErrorCode::STREAM_WRONG_LAST_SEQUENCE,
    ErrorCode::STREAM_WRONG_LAST_SEQUENCE_CONSTANT,
];

/// True when the server refused the write because the key's revision was not the expected one.
pub(super) fn is_refused_cas(e: &UpdateError) -> bool {
    if e.kind() == UpdateErrorKind::WrongLastRevision {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(api) = s.downcast_ref::<jetstream::Error>() {
            return is_wrong_last_sequence(api);
        }
        source = s.source();
    }
    false
}

fn is_wrong_last_sequence(api: &jetstream::Error) -> bool {
    WRONG_LAST_SEQUENCE.contains(&api.error_code())
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
        assert!(is_refused_cas(&e));
    }

    #[test]
    fn a_clustered_refusal_while_another_write_of_the_key_is_in_flight_is_a_conflict() {
        let e = update_error(api(400, 10164, "wrong last sequence"));
        // async-nats does not recognise this one itself: the reason this module exists.
        assert_eq!(e.kind(), UpdateErrorKind::Other);
        assert!(is_refused_cas(&e));
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
            assert!(!is_refused_cas(&e), "{err_code} {what}");
        }
        let timed_out: UpdateError = PublishError::new(PublishErrorKind::TimedOut).into();
        assert!(!is_refused_cas(&timed_out));
        let broken: UpdateError = PublishError::new(PublishErrorKind::BrokenPipe).into();
        assert!(!is_refused_cas(&broken));
    }
}

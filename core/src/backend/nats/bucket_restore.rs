//! Creating the bucket again, above every token already handed out (docs/PROTOCOL-nats.md §6.6).
//!
//! A bucket's stream can vanish under running clients: a server restarted with its storage
//! wiped or lost, an operator's `nats kv del`. Whoever creates it again starts its sequences,
//! and so the fencing tokens, at 1, below tokens that resources have already seen (they refuse
//! them, or worse, a duplicate token is accepted for another holder). A running client knows
//! the highest sequence it has seen, so when it finds the stream missing (after a reconnect, or
//! told by the server's advisory) it creates it at once with the configuration it last read and
//! `first_seq` above that sequence. A client that connects later finds the bucket and binds it.
//! A client that never saw any token, and a stream created again by someone else first, still
//! restart at 1: the protocol page says so.

use async_nats::jetstream::{self, context::GetStreamErrorKind, kv, ErrorCode};
use std::time::Duration;

/// Answers to wait for while a restarted server's JetStream comes up.
const TRIES: u32 = 10;
const PAUSE: Duration = Duration::from_millis(200);

/// Creates the bucket's stream again if it is missing, with sequences starting above
/// `highest` (the highest sequence this client ever saw; 0: none).
pub(super) async fn restore_if_missing(client: async_nats::Client, kv: kv::Store, highest: u64) {
    let js = jetstream::new(client);
    let name = kv.stream.cached_info().config.name.clone();
    for _ in 0..TRIES {
        match js.get_stream(&name).await {
            Ok(_) => return,
            Err(e) if is_not_found(e.kind()) => {
                let mut config = kv.stream.cached_info().config.clone();
                if highest > 0 {
                    config.first_sequence = Some(highest + 1);
                }
                match js.create_stream(config).await {
                    Ok(_) => {
                        tracing::warn!(
                            stream = %name,
                            first_sequence = highest + 1,
                            "the bucket's stream was missing; created it again above every \
                             token this client saw"
                        );
                    }
                    // Someone else created it first (their sequences may restart at 1).
                    Err(e) => tracing::debug!(stream = %name, error = %e, "not re-created"),
                }
                return;
            }
            // JetStream not ready yet after a restart, or the link is down: ask again.
            Err(_) => tokio::time::sleep(PAUSE).await,
        }
    }
}

fn is_not_found(kind: GetStreamErrorKind) -> bool {
    matches!(kind, GetStreamErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

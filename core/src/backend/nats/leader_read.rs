//! Reading a key from its stream leader. Buckets allow direct gets, which any replica of a
//! replicated stream answers, possibly before it applied the latest writes: fine for a hint, but
//! after a compare-and-set found a revision stale, a replica may serve that same revision again.
//! The stream's message-get API is answered by the leader only, which applied every write it
//! acknowledged, so it moves a contender past the revision that failed.

use async_nats::header::NATS_MARKER_REASON;
use async_nats::jetstream::kv::{self, Operation};
use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::LastRawMessageErrorKind;

/// The header with which KV marks deletes and purges.
const KV_OPERATION: &str = "KV-Operation";

/// The key's last entry as the stream leader has it; `None` when the key never existed.
pub(super) async fn last_entry(
    kv: &kv::Store,
    encoded_key: &str,
) -> Result<Option<kv::Entry>, async_nats::jetstream::stream::LastRawMessageError> {
    let subject = format!("{}{}", kv.prefix, encoded_key);
    match kv.stream.get_last_raw_message_by_subject(&subject).await {
        Ok(m) => Ok(Some(kv::Entry {
            bucket: kv.name.clone(),
            key: encoded_key.to_owned(),
            operation: operation(&m),
            revision: m.sequence,
            created: m.time,
            value: m.payload,
            delta: 0,
            seen_current: false,
        })),
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// What the message did to the key, read as the KV client reads it: the operation header, or
/// the reason of a server-written marker (expiry, purge, removal); a plain message is a put.
fn operation(m: &StreamMessage) -> Operation {
    if let Some(op) = m.headers.get(KV_OPERATION) {
        return op.as_str().parse().unwrap_or(Operation::Put);
    }
    match m.headers.get(NATS_MARKER_REASON).map(|r| r.as_str()) {
        Some("MaxAge") | Some("Purge") => Operation::Purge,
        Some("Remove") => Operation::Delete,
        _ => Operation::Put,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fencelock_testkit::NatsServer;

    /// The leader's answer must read puts, deletes and purges exactly as the KV client's own
    /// (direct) read does, or a contender would see a freed key as held or the reverse.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_every_operation_as_the_kv_client_does() {
        let srv = NatsServer::start();
        let client = async_nats::connect(srv.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let kv = js
            .create_key_value(kv::Config {
                bucket: "leader_read".into(),
                history: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(last_entry(&kv, "k").await.unwrap(), None);
        for what in ["put", "delete", "put again", "purge"] {
            match what {
                "put" | "put again" => drop(kv.put("k", what.into()).await.unwrap()),
                "delete" => kv.delete("k").await.unwrap(),
                _ => kv.purge("k").await.unwrap(),
            }
            let direct = kv.entry("k").await.unwrap().expect("an entry");
            let leader = last_entry(&kv, "k").await.unwrap().expect("an entry");
            assert_eq!(leader.operation, direct.operation, "after {what}");
            assert_eq!(leader.revision, direct.revision, "after {what}");
            assert_eq!(leader.value, direct.value, "after {what}");
        }
    }
}

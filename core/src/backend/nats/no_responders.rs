//! Requests nobody answered. A JetStream request answered "503 no responders" reached no
//! subscriber at all: the replicas of a replicated bucket created a moment ago had not
//! subscribed yet, or a stream was between leaders, or being restored (bucket_restore). Nothing
//! received the request, so nothing was applied, and sending it again is safe for reads and
//! compare-and-set writes alike. Such a gap lasts moments on a healthy cluster, so the request
//! is sent again after pauses growing to about 2.5 s in all before the error reaches the caller
//! (who would otherwise see a `Backend` error for a lock that was merely busy).

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use std::future::Future;
use std::time::Duration;

/// Pauses before sending a request again that nobody answered: about 2.5 s in all.
const PAUSES: [Duration; 8] = [
    Duration::from_millis(10),
    Duration::from_millis(20),
    Duration::from_millis(40),
    Duration::from_millis(80),
    Duration::from_millis(160),
    Duration::from_millis(320),
    Duration::from_millis(640),
    Duration::from_millis(1280),
];

/// Sends the request `send` makes until it is answered (with a result or another error), or
/// until nobody answered it after every pause.
pub(super) async fn retrying<T, E, F, Fut>(mut send: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::error::Error + 'static,
{
    let mut pauses = PAUSES.iter();
    loop {
        match send().await {
            Err(e) if is_no_responders(&e) => match pauses.next() {
                Some(pause) => tokio::time::sleep(*pause).await,
                None => return Err(e),
            },
            answered => return answered,
        }
    }
}

/// Whether the error, or one it was caused by, is a request nobody answered. async-nats reports
/// that in a different type per API: a direct get's `ErrorResponse(503, "no responders")` and a
/// request's `NoResponders` say so in their text; a publish (every write) turns it into
/// `StreamNotFound` ("no stream found for given subject"), which it reports only then.
pub(super) fn is_no_responders(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        let unpublished = c
            .downcast_ref::<PublishError>()
            .is_some_and(|p| p.kind() == PublishErrorKind::StreamNotFound);
        if unpublished || c.to_string().contains("no responders") {
            return true;
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_nats::jetstream::{self, kv};
    use fencelock_testkit::NatsServer;
    use std::time::Instant;

    async fn bucket(js: &jetstream::Context, name: &str) -> kv::Store {
        js.create_key_value(kv::Config {
            bucket: name.into(),
            history: 1,
            ..Default::default()
        })
        .await
        .unwrap()
    }

    /// With the bucket's stream gone for a moment (as between a replicated bucket's creation and
    /// its replicas subscribing), a read and a compare-and-set write are answered by nobody; both
    /// go through once the stream is back, and the write lands exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_nobody_answered_go_through_once_the_stream_is_back() {
        let srv = NatsServer::start();
        let js = jetstream::new(async_nats::connect(srv.url()).await.unwrap());
        let kv = bucket(&js, "gap").await;
        js.delete_stream("KV_gap").await.unwrap();

        let read = kv.entry("k").await.unwrap_err();
        assert!(is_no_responders(&read), "{read:?}");
        let write = kv.update("k", "v".into(), 0).await.unwrap_err();
        assert!(is_no_responders(&write), "{write:?}");

        let back = {
            let js = js.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                bucket(&js, "gap").await
            })
        };
        let started = Instant::now();
        let entry = retrying(|| kv.entry("k")).await.unwrap();
        assert_eq!(entry, None);
        assert!(started.elapsed() >= Duration::from_millis(250));
        let revision = retrying(|| kv.update("k", "v".into(), 0)).await.unwrap();
        back.await.unwrap();
        let stored = kv.entry("k").await.unwrap().expect("the write landed");
        assert_eq!(
            (stored.revision, stored.value.as_ref()),
            (revision, &b"v"[..])
        );
    }

    /// Other errors come back at once, untouched: only "nobody answered" proves nothing was
    /// applied.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn other_errors_are_not_retried() {
        let srv = NatsServer::start();
        let js = jetstream::new(async_nats::connect(srv.url()).await.unwrap());
        let kv = bucket(&js, "stale").await;
        kv.put("k", "a".into()).await.unwrap();
        let mut sends = 0;
        let e = retrying(|| {
            sends += 1;
            kv.update("k", "b".into(), 0)
        })
        .await
        .unwrap_err();
        assert!(!is_no_responders(&e), "{e:?}");
        assert_eq!(sends, 1);
    }

    /// A stream that stays away: the error reaches the caller after the pauses, not never.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stream_that_stays_away_fails_after_the_pauses() {
        let srv = NatsServer::start();
        let js = jetstream::new(async_nats::connect(srv.url()).await.unwrap());
        let kv = bucket(&js, "gone").await;
        js.delete_stream("KV_gone").await.unwrap();
        let started = Instant::now();
        let e = retrying(|| kv.entry("k")).await.unwrap_err();
        assert!(is_no_responders(&e), "{e:?}");
        let all: Duration = PAUSES.iter().sum();
        assert!(started.elapsed() >= all, "{:?}", started.elapsed());
    }
}

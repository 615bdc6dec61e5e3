//! `wait`: block until a key is free, without taking it. Driven by the change feed, with the
//! holder's lease on this process's clock as the fallback, like acquiring.

use crate::client::ClientInner;
use crate::error::Result;
use crate::key::Key;
use crate::waiters::{timeout_error, Observer, Woke};
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Waits until `key` is free (released, never held, or its holder's lease ran out) and returns
/// its state.
pub(crate) async fn until_free(
    inner: &Arc<ClientInner>,
    key: Key,
    timeout: Option<Duration>,
) -> Result<Option<Bytes>> {
    inner.check_open(&key)?;
    let started = Instant::now();
    let deadline = crate::options::deadline(timeout);
    let mut obs = Observer::read(inner.keys.clone(), key.clone()).await?;
    // Whether `obs.seen` came from a read (with the state) rather than from the change feed.
    let mut read = true;
    loop {
        if obs.takeable() {
            if read || inner.backend.feed_has_state() {
                return Ok(obs.seen.state.clone());
            }
            // The change feed said "free" but not with which state: read it.
            obs.reload().await?;
            read = true;
            continue;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(timeout_error(&key, "waiting for", Some(started.elapsed())));
        }
        match obs.wait_change(deadline).await? {
            Woke::Recheck => {
                read = false;
                if obs.takeable() && obs.seen.holder.is_some() {
                    obs.reload().await?;
                    read = true;
                }
            }
            Woke::Deadline => {
                return Err(timeout_error(&key, "waiting for", Some(started.elapsed())))
            }
        }
    }
}

//! Operator tools over a namespace: list its keys, and break a lock on purpose.

use crate::backend::{Cas, Held, Holder};
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::key::IntoKey;
use crate::runtime::on_core;

/// Attempts before `break_lock` gives up on a key whose holder keeps writing.
const BREAK_ATTEMPTS: usize = 16;

impl Client {
    /// Keys of the namespace that start with `prefix` (`""`: all) and hold a lock or state,
    /// sorted. Costs a scan of the namespace (NATS: the bucket's subjects; Redis: `SCAN`, on a
    /// Cluster over every primary): for operators and tools, not for hot paths.
    ///
    /// # Errors
    /// `Closed` after [`close`](Self::close); `Backend` when the store fails.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>> {
        if self.is_closed() {
            return Err(Error::closed(None));
        }
        let inner = self.inner().clone();
        let prefix = prefix.to_owned();
        let keys = on_core(async move { inner.backend.list(&prefix).await }).await?;
        let mut names: Vec<String> = keys.into_iter().map(|k| k.as_str().to_owned()).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Frees the lock of `key` whoever holds it, keeping its state, and returns the holder it
    /// took the lock from (`None`: it was free). The holder's next renewal or write is
    /// refused, so its `lost` signal fires; the next acquisition's fencing token is still
    /// greater than the broken holder's. This ignores the lease: check first that the holder
    /// is really gone (or should stop), e.g. by its label.
    ///
    /// # Errors
    /// `InvalidKey` for an empty or over-long key; `Closed` after [`close`](Self::close);
    /// `Backend` when the store fails.
    pub async fn break_lock(&self, key: impl IntoKey) -> Result<Option<Holder>> {
        let key = key.into_key()?;
        self.inner().check_open(&key)?;
        self.inner().keys.forget(&key);
        let inner = self.inner().clone();
        on_core(async move {
            for _ in 0..BREAK_ATTEMPTS {
                let snap = inner.backend.load(&key).await?;
                let Some(h) = snap.holder.clone() else {
                    return Ok(None);
                };
                // Release as the holder, at the revision just read: a compare-and-set, so a
                // holder that renewed meanwhile makes this retry instead of undoing a newer
                // acquisition.
                let held = Held {
                    revision: snap.revision,
                    token: h.token,
                    lock_id: h.lock_id,
                    lease: h.lease,
                    label: h.label.clone(),
                    state: snap.state.clone(),
                };
                match inner.backend.release(&key, &held, snap.state).await {
                    Ok(Cas::Done(_)) => return Ok(Some(h)),
                    Ok(Cas::Conflict) => {}
                    // A release whose outcome the store cannot tell (Redis, when the holder
                    // released by itself just before): if the holder is gone now, look again.
                    Err(e) => {
                        let now = inner.backend.load(&key).await?;
                        if now.holder.is_some_and(|n| n.lock_id == h.lock_id) {
                            return Err(e);
                        }
                    }
                }
            }
            Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "key {:?} changed {BREAK_ATTEMPTS} times while breaking its lock; its \
                     holders are active, so stop them first",
                    key.as_str()
                ),
            )
            .with_key(key.as_str()))
        })
        .await
    }
}

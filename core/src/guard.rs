//! A held lock: its fencing token, its state, compare-and-set writes that a lapsed holder can
//! never make, and the `lost` signal.

use crate::backend::{Cas, Held, LockId};
use crate::client::ClientInner;
use crate::error::{Error, ErrorKind, Result};
use crate::key::Key;
use crate::lease_keeper::{KeepPlan, KeepState};
use crate::runtime::on_core;
use bytes::Bytes;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, OwnedSemaphorePermit};

/// Where a guard stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardStatus {
    /// The lock is held and the lease is running.
    Held,
    /// The lease lapsed or someone else took the lock: writes are refused.
    Lost,
    /// Released by its holder (or by closing the client).
    Released,
}

/// Mutable facts of a held lock, behind a short-lived std mutex.
pub(crate) struct HeldState {
    pub held: Held,
    /// When our last successful write was sent: the lease counts from here, on our clock.
    pub written_at: Instant,
    /// The store epoch `held.revision` was learned in (see [`GuardShared::still_ours`]).
    pub epoch: u64,
    /// The state of a release attempt that got no answer (it may have been applied).
    pub unsure_release: Option<Option<Bytes>>,
    /// Local task permit so other tasks of this client wait in line without touching the store.
    pub permit: Option<OwnedSemaphorePermit>,
}

impl HeldState {
    pub fn deadline(&self) -> Instant {
        self.written_at + self.held.lease
    }
}

pub(crate) struct GuardShared {
    pub id: u64,
    pub key: Key,
    /// When the acquiring write was sent (for the hold-time statistic).
    pub acquired_at: Instant,
    pub client: Arc<ClientInner>,
    pub state: Mutex<HeldState>,
    /// Serialises writes (renewal, put, release) so each starts from the latest revision.
    pub writing: tokio::sync::Mutex<()>,
    pub status: watch::Sender<GuardStatus>,
    /// How the lease keeper treats this lock.
    pub plan: KeepPlan,
    pub keep: KeepState,
    /// The process that acquired the lock. A child forked while it was held inherits the guard's
    /// memory but not the lock: the parent keeps renewing and using it.
    pub pid: u32,
}

impl GuardShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, HeldState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self) -> GuardStatus {
        *self.status.borrow()
    }

    /// The status as the holder must believe it now: a guard whose local deadline passed is
    /// lost even while a renewal is still in flight (its answer may come much later, up to the
    /// store's request timeout, and a renewal that arrives late cannot make the lapse undone for
    /// others: an observer may already have taken over).
    pub fn status_now(&self) -> GuardStatus {
        if self.inherited() {
            // Not marked (that would touch the copied client's tables): only reported.
            return GuardStatus::Lost;
        }
        let status = self.status();
        if status == GuardStatus::Held && Instant::now() >= self.deadline() {
            self.mark_lost();
            return self.status();
        }
        status
    }

    pub fn token(&self) -> u64 {
        self.lock().held.token
    }

    pub fn deadline(&self) -> Instant {
        self.lock().deadline()
    }

    pub fn written_at(&self) -> Instant {
        self.lock().written_at
    }

    /// Moves to a final status, lets the next local task in, and forgets the guard.
    fn finish(&self, status: GuardStatus) {
        let changed = self.status.send_if_modified(|s| {
            if *s == GuardStatus::Held {
                *s = status;
                // Counted before anyone waiting on the status wakes up.
                self.client
                    .stats
                    .finished(self.acquired_at, status == GuardStatus::Lost);
                true
            } else {
                false
            }
        });
        if changed {
            self.lock().permit = None;
            self.client.forget_guard(self.id);
            if status == GuardStatus::Lost {
                tracing::warn!(key = %self.key, token = self.token(), "lock lost");
            }
        }
    }

    pub fn mark_lost(&self) {
        self.finish(GuardStatus::Lost);
    }

    fn expired_error(&self, what: &str) -> Error {
        let token = self.token();
        Error::new(
            ErrorKind::Expired,
            format!(
                "cannot {what} key {:?}: the lock with token {token} is no longer held (its lease \
                 lapsed or another holder took over); acquire it again, and renew more often or \
                 use a longer lease",
                self.key.as_str()
            ),
        )
        .with_key(self.key.as_str())
        .with_token(token)
    }

    fn not_held_error(&self, what: &str) -> Error {
        let token = self.token();
        Error::new(
            ErrorKind::NotHeld,
            format!(
                "cannot {what} key {:?}: the lock with token {token} was already released; \
                 acquire it again",
                self.key.as_str()
            ),
        )
        .with_key(self.key.as_str())
        .with_token(token)
    }

    /// True in a process forked after the lock was acquired: the lock is the parent's.
    pub fn inherited(&self) -> bool {
        self.pid != std::process::id()
    }

    fn inherited_error(&self, what: &str) -> Error {
        let token = self.token();
        Error::new(
            ErrorKind::Expired,
            format!(
                "cannot {what} key {:?}: the lock with token {token} was acquired by process {} \
                 before this process was forked from it, and a forked child does not hold its \
                 parent's locks; acquire the key in this process instead",
                self.key.as_str(),
                self.pid
            ),
        )
        .with_key(self.key.as_str())
        .with_token(token)
    }

    /// Checks the guard may write; a lapsed lease on our own clock counts as lost.
    fn check_writable(&self, what: &str, closing: bool) -> Result<Held> {
        if self.inherited() {
            return Err(self.inherited_error(what));
        }
        if !closing && self.client.is_closed() {
            return Err(Error::closed(Some(self.key.as_str())).with_token(self.token()));
        }
        match self.status() {
            GuardStatus::Released => return Err(self.not_held_error(what)),
            GuardStatus::Lost => return Err(self.expired_error(what)),
            GuardStatus::Held => {}
        }
        let st = self.lock();
        if Instant::now() >= st.deadline() {
            drop(st);
            self.mark_lost();
            return Err(self.expired_error(what));
        }
        Ok(st.held.clone())
    }

    fn check_state(&self, state: &Option<Bytes>) -> Result<()> {
        let max = self.client.backend.max_state_len();
        match state {
            Some(s) if s.len() > max => Err(Error::new(
                ErrorKind::StateTooLarge,
                format!(
                    "state for key {:?} is {} bytes; this server accepts at most {max} bytes of \
                     state per key (raise max_payload on the server, or store a reference to the \
                     data instead)",
                    self.key.as_str(),
                    s.len()
                ),
            )
            .with_key(self.key.as_str())
            .with_token(self.token())),
            _ => Ok(()),
        }
    }

    /// Applies a successful write.
    fn wrote(&self, revision: u64, sent: Instant, state: Option<Option<Bytes>>) {
        let mut st = self.lock();
        st.held.revision = revision;
        st.written_at = sent;
        if let Some(s) = state {
            st.held.state = s;
        }
    }

    /// Whether our entry is still the key's last one, when the store epoch moved since we
    /// learned our revision (a reconnect, or a store found reset). After a reset the same
    /// revision can name another acquisition's entry, and a compare-and-set on it would
    /// overwrite a live holder: so the entry is read first, and it must be ours (same
    /// acquisition id at the same revision). Not ours: the lock is lost.
    async fn still_ours(&self, held: &Held) -> Result<bool> {
        let epoch = self.client.backend.epoch();
        if self.lock().epoch == epoch {
            return Ok(true);
        }
        let snap = self.client.backend.load_authoritative(&self.key).await?;
        let ours = snap.revision == held.revision
            && snap
                .holder
                .as_ref()
                .is_some_and(|h| h.lock_id == held.lock_id);
        if ours {
            self.lock().epoch = epoch;
        } else {
            tracing::warn!(key = %self.key, "the store was reset or rewritten under a held lock");
        }
        Ok(ours)
    }

    /// [`check_writable`](Self::check_writable), then [`still_ours`](Self::still_ours).
    async fn check_ours(&self, what: &str) -> Result<Held> {
        let held = self.check_writable(what, false)?;
        if !self.still_ours(&held).await? {
            self.mark_lost();
            return Err(self.expired_error(what));
        }
        Ok(held)
    }

    /// Renews the lease (used by the keeper and by `refresh`).
    pub async fn refresh(&self) -> Result<()> {
        let _w = self.writing.lock().await;
        let held = self.check_ours("refresh").await?;
        let sent = Instant::now();
        match self.client.backend.refresh(&self.key, &held).await? {
            Cas::Done(rev) => {
                self.wrote(rev, sent, None);
                self.undo_if_lost_meanwhile().await;
                Ok(())
            }
            Cas::Conflict => {
                self.mark_lost();
                Err(self.expired_error("refresh"))
            }
        }
    }

    pub async fn put(&self, state: Option<Bytes>) -> Result<()> {
        self.check_state(&state)?;
        let _w = self.writing.lock().await;
        let held = self.check_ours("write state of").await?;
        let sent = Instant::now();
        match self
            .client
            .backend
            .put(&self.key, &held, state.clone())
            .await?
        {
            Cas::Done(rev) => {
                self.wrote(rev, sent, Some(state));
                self.undo_if_lost_meanwhile().await;
                Ok(())
            }
            Cas::Conflict => {
                self.mark_lost();
                Err(self.expired_error("write state of"))
            }
        }
    }

    /// Releases, writing `state` (`None` keeps the current one). `Ok(false)` when the lease had
    /// lapsed or another holder took over: then `state` was not written (but a lock nobody took
    /// over is freed, see [`free_lapsed`](Self::free_lapsed)).
    ///
    /// A release never reports a write it made as not made. When an earlier attempt got no
    /// answer (it may have been applied) and this one finds the entry moved on, the store is
    /// asked whether the entry is that release; if it cannot tell, the answer is an error
    /// saying the outcome is unknown, never `false`.
    pub async fn release(&self, state: Option<Option<Bytes>>, closing: bool) -> Result<bool> {
        if let Some(s) = &state {
            self.check_state(s)?;
        }
        let _w = self.writing.lock().await;
        let tried = self.lock().unsure_release.clone();
        let held = match self.check_writable("release", closing) {
            Ok(h) if !self.still_ours(&h).await? => {
                // Not our held entry any more (a reset store, or our earlier attempt).
                return self.moved_on(&h, tried.as_ref(), None).await;
            }
            Ok(h) => h,
            Err(e) if e.kind() == ErrorKind::Expired => {
                let held = self.lock().held.clone();
                if let Some(t) = &tried {
                    if let Some(done) = self.find_release(&held, t.as_ref(), None).await? {
                        return Ok(done);
                    }
                }
                let freed = self.free_lapsed().await;
                self.finish(GuardStatus::Released);
                if tried.is_some() && !freed {
                    return Err(self.unknown_outcome());
                }
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        let state = state.unwrap_or_else(|| held.state.clone());
        match self
            .client
            .backend
            .release(&self.key, &held, state.clone())
            .await
        {
            Ok(Cas::Done(snap)) => {
                self.client.keys.remember(&self.key, snap);
                self.finish(GuardStatus::Released);
                Ok(true)
            }
            Ok(Cas::Conflict) => self.moved_on(&held, tried.as_ref(), Some(&state)).await,
            Err(e) => {
                if e.kind() == ErrorKind::Backend {
                    // No answer: the write may have been applied. A retry must find out.
                    self.lock().unsure_release = Some(state);
                }
                Err(e)
            }
        }
    }

    /// The entry is no longer our held one. Without an earlier unanswered attempt, the release
    /// was refused: `false`. With one, it may have been that attempt's own write: the store
    /// tells (`true`), or the outcome is unknown (an error of kind `Backend`).
    async fn moved_on(
        &self,
        held: &Held,
        tried: Option<&Option<Bytes>>,
        now: Option<&Option<Bytes>>,
    ) -> Result<bool> {
        self.client.keys.forget(&self.key);
        let Some(tried) = tried else {
            self.finish(GuardStatus::Released);
            return Ok(false);
        };
        match self.find_release(held, tried.as_ref(), now).await {
            Ok(Some(done)) => Ok(done),
            Ok(None) | Err(_) => {
                self.finish(GuardStatus::Released);
                Err(self.unknown_outcome())
            }
        }
    }

    /// Asks the store whether its entry is our release with `tried` (or `now`, the state of
    /// this attempt); if so the guard is released and the answer is `Some(true)`.
    async fn find_release(
        &self,
        held: &Held,
        tried: Option<&Bytes>,
        now: Option<&Option<Bytes>>,
    ) -> Result<Option<bool>> {
        let backend = &self.client.backend;
        let mut found = backend.released_as(&self.key, held, tried).await?;
        if found.is_none() {
            if let Some(now) = now.filter(|n| n.as_ref() != tried) {
                found = backend.released_as(&self.key, held, now.as_ref()).await?;
            }
        }
        Ok(found.map(|snap| {
            self.client.keys.remember(&self.key, snap);
            self.finish(GuardStatus::Released);
            true
        }))
    }

    fn unknown_outcome(&self) -> Error {
        let token = self.token();
        Error::new(
            ErrorKind::Backend,
            format!(
                "releasing key {:?} (token {token}): the outcome is unknown: an earlier attempt \
                 got no answer and the key has changed since, so whether that attempt wrote its \
                 state cannot be learned; read the key (get) before applying the update again",
                self.key.as_str()
            ),
        )
        .with_key(self.key.as_str())
        .with_token(token)
    }

    /// Frees a lock whose lease lapsed, if nobody took it over meanwhile: one compare-and-set
    /// on our last revision that writes a free entry with the state as stored (never a state
    /// this lapsed holder meant to write). A taker's write changed the revision, so then nothing
    /// is written. Without this, the next caller would wait until the store (or, clock-free,
    /// its own observation) judged the lease over. Best effort: a failure changes nothing.
    /// True when it freed the lock.
    async fn free_lapsed(&self) -> bool {
        let held = self.lock().held.clone();
        if !matches!(self.still_ours(&held).await, Ok(true)) {
            return false;
        }
        let stored = held.state.clone();
        match self.client.backend.release(&self.key, &held, stored).await {
            Ok(Cas::Done(snap)) => {
                self.client.keys.remember(&self.key, snap);
                true
            }
            Ok(Cas::Conflict) => {
                self.client.keys.forget(&self.key);
                false
            }
            Err(e) => {
                tracing::debug!(key = %self.key, error = %e, "freeing a lapsed lock failed");
                false
            }
        }
    }

    /// A write that was in flight when the local deadline passed still went through: the guard
    /// already reported the lock lost (and the caller stopped), so the entry it renewed would
    /// block everyone for a lease. Free it, keeping the state as stored.
    async fn undo_if_lost_meanwhile(&self) {
        if self.status() == GuardStatus::Lost {
            self.free_lapsed().await;
        }
    }

    /// Gives the lock up without writing (a `with_lock` callback outlived its lease).
    pub fn abandon(&self) {
        self.finish(GuardStatus::Released);
    }
}

/// A held lock. Dropping it without [`release`](LockGuard::release) releases it in the
/// background, keeping the state.
pub struct LockGuard {
    pub(crate) shared: Arc<GuardShared>,
    pub(crate) lock_id: LockId,
    pub(crate) lease: Duration,
    pub(crate) initial_state: Option<Bytes>,
}

impl LockGuard {
    /// The key as the caller named it.
    pub fn key(&self) -> &str {
        self.shared.key.as_str()
    }

    /// The fencing token: strictly greater than every earlier acquisition's token of this key.
    /// Pass it to the resource you protect and have it refuse smaller tokens.
    pub fn token(&self) -> u64 {
        self.shared.token()
    }

    /// This acquisition's unique id.
    pub fn lock_id(&self) -> LockId {
        self.lock_id
    }

    /// The lease of this acquisition.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// The state read when the lock was acquired (`None` for a new key).
    pub fn initial_state(&self) -> Option<&Bytes> {
        self.initial_state.as_ref()
    }

    /// The state as last written through this guard (or read at acquisition).
    pub fn state(&self) -> Option<Bytes> {
        self.shared.lock().held.state.clone()
    }

    /// The time left on the lease by this process's clock.
    pub fn remaining(&self) -> Duration {
        self.shared
            .deadline()
            .saturating_duration_since(Instant::now())
    }

    /// Whether the lock is still held, lost, or released. A lease that ran out on this
    /// process's clock reads as lost at once, also while a renewal is still in flight.
    pub fn status(&self) -> GuardStatus {
        self.shared.status_now()
    }

    /// True once the lock was lost (lease lapsed, renewal refused, or broken by someone else).
    pub fn is_lost(&self) -> bool {
        self.status() == GuardStatus::Lost
    }

    /// Resolves when the lock is lost; never resolves if it is released first.
    pub async fn lost(&self) {
        let mut rx = self.shared.status.subscribe();
        let _ = rx.wait_for(|s| *s == GuardStatus::Lost).await;
        if *rx.borrow() != GuardStatus::Lost {
            futures::future::pending::<()>().await;
        }
    }

    /// A receiver of status changes, for bindings that deliver `lost` as a callback or event.
    pub fn status_receiver(&self) -> watch::Receiver<GuardStatus> {
        self.shared.status.subscribe()
    }

    /// Writes `state` while keeping the lock (compare-and-set; `Expired` if no longer held).
    ///
    /// # Errors
    /// `Expired` when the lease lapsed or another holder took over; `NotHeld` after release;
    /// `Closed` after the client was closed; `StateTooLarge` for a state over the backend's
    /// limit; `Backend` when the store fails.
    pub async fn put(&self, state: impl Into<Option<Bytes>>) -> Result<()> {
        let (shared, state) = (self.shared.clone(), state.into());
        let done = on_core(async move { shared.put(state).await }).await;
        self.shared.client.stats.outcome(done)
    }

    /// Renews the lease now.
    ///
    /// # Errors
    /// `Expired` when the lease already lapsed or another holder took over; `NotHeld` after
    /// release; `Closed` after the client was closed; `Backend` when the store fails.
    pub async fn refresh(&self) -> Result<()> {
        let shared = self.shared.clone();
        let renewed = on_core(async move { shared.refresh().await }).await;
        self.shared.client.stats.renewed(&renewed);
        renewed
    }

    /// Releases the lock, writing `state` if given and keeping the current state otherwise.
    /// Returns `false` when the lock had already been lost: then nothing was written.
    ///
    /// # Errors
    /// `NotHeld` when released before; `Closed` after the client was closed; `StateTooLarge`
    /// for a state over the backend's limit; `Backend` when the store fails. A lapsed lease is
    /// not an error: the answer is `false`.
    pub async fn release(&self, state: Option<Bytes>) -> Result<bool> {
        let shared = self.shared.clone();
        let done = on_core(async move { shared.release(state.map(Some), false).await }).await;
        self.shared.client.stats.outcome(done)
    }

    /// Releases the lock and clears its state.
    ///
    /// # Errors
    /// As [`release`](Self::release).
    pub async fn release_clearing_state(&self) -> Result<bool> {
        let shared = self.shared.clone();
        let done = on_core(async move { shared.release(Some(None), false).await }).await;
        self.shared.client.stats.outcome(done)
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("key", &self.key())
            .field("token", &self.token())
            .field("lock_id", &self.lock_id)
            .field("status", &self.status())
            .finish()
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Released or lost: nothing to do (checked first, because `inherited` asks the kernel
        // for the process id, a system call on every release otherwise).
        if self.shared.status() != GuardStatus::Held {
            return;
        }
        // A forked child dropping its copy of a parent's guard must not release the parent's
        // lock (nor touch the parent's connection, whose tasks do not exist here).
        if self.shared.inherited() {
            return;
        }
        if !self.shared.client.is_closed() {
            let shared = self.shared.clone();
            let rt = shared.client.rt.clone();
            rt.spawn(async move {
                if let Err(e) = shared.release(None, false).await {
                    tracing::debug!(key = %shared.key, error = %e, "release on drop failed");
                }
            });
        }
    }
}

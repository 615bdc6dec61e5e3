//! Taking a lock: one local task per key contends at the store; it compare-and-sets on the
//! revision it knows, and otherwise waits on the key's change feed (never polling) until the
//! lock is freed or its holder's lease runs out on this process's clock.

mod take;

use crate::backend::{Acquired, Cas, Held, HoldRequest, LockId};
use crate::client::ClientInner;
use crate::error::{Error, ErrorKind, Result};
use crate::guard::{GuardShared, GuardStatus, HeldState, LockGuard};
use crate::key::Key;
use crate::lease_keeper::{KeepPlan, KeepState};
use crate::options::Resolved;
use crate::waiters::{timeout_error, Observer, Woke};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use take::take;
use tokio::sync::{watch, OwnedSemaphorePermit};

/// Bounds of the wait for the change feed when even the authoritative read returns a revision
/// a compare-and-set already found stale; doubling from the first to the second.
const CONFLICT_BACKOFF_MIN: Duration = Duration::from_millis(2);
const CONFLICT_BACKOFF_MAX: Duration = Duration::from_millis(200);

pub(crate) async fn acquire(
    client: &Arc<ClientInner>,
    key: Key,
    opts: Resolved,
) -> Result<LockGuard> {
    client.check_open(&key)?;
    let started = Instant::now();
    let permit = local_turn(client, &key, &opts).await?;
    let hold = HoldRequest {
        lock_id: LockId::random(),
        lease: opts.lease,
        label: opts.label.clone(),
    };
    // A snapshot from the cache or the change feed may lag the store by a notification.
    let (mut obs, mut fresh) = match client.keys.latest(&key) {
        Some(s) => (Observer::new(client.keys.clone(), key.clone(), s), false),
        None => (
            Observer::read(client.keys.clone(), key.clone()).await?,
            true,
        ),
    };
    if !fresh && obs.unjudged() {
        // A held snapshot from the feed or cache says nothing of how old the lease is; the
        // store can tell, so a lapsed lock is taken at once rather than one lease later.
        obs.reload().await?;
        fresh = true;
    }
    let mut backoff = CONFLICT_BACKOFF_MIN;
    let mut conflicts = 0u32;
    loop {
        if obs.takeable() {
            let sent = Instant::now();
            let epoch = client.backend.epoch();
            match take(client, &key, &obs.seen, &hold).await? {
                Cas::Done(acq) => {
                    client.stats.acquired(started.elapsed());
                    let at = Written { sent, epoch };
                    return Ok(guard(client, key, &hold, acq, at, permit, &opts));
                }
                Cas::Conflict => {
                    conflicts += 1;
                    client.keys.forget(&key);
                    let failed = obs.seen.revision;
                    // The change feed may already know what beat us; else ask the store.
                    match client.keys.latest(&key).filter(|s| s.revision > failed) {
                        Some(newer) => obs.saw(newer),
                        None => {
                            obs.reload().await?;
                            fresh = true;
                        }
                    }
                    if obs.seen.revision == failed && obs.takeable() {
                        move_past_stale(&mut obs, failed, &mut backoff, opts.deadline).await?;
                    } else if conflicts > 1 && obs.takeable() {
                        // Conflict after conflict on snapshots that each looked takeable (a
                        // store whose revisions went back, a busy key): never spin, pause on
                        // the change feed (bounded, doubling) before the next write.
                        pause(&mut obs, &mut backoff, opts.deadline).await?;
                    }
                    if opts.deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(timeout_error(&key, "acquiring", Some(started.elapsed())));
                    }
                    continue;
                }
            }
        }
        if !opts.wait {
            // "Held" must be the store's answer, not a feed that has not yet delivered the
            // release that just happened (a try right after another client's release).
            if !fresh {
                fresh = true;
                obs.reload().await?;
                continue;
            }
            return Err(held_error(&key, &obs));
        }
        if opts.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(timeout_error(&key, "acquiring", Some(started.elapsed())));
        }
        match obs.wait_change(opts.deadline).await? {
            Woke::Recheck => {
                // The lease ran out on our clock: re-read so the takeover targets the latest
                // revision (a missed renewal would otherwise cost a failed compare-and-set).
                if obs.takeable() && obs.seen.holder.is_some() {
                    obs.reload().await?;
                    if !obs.takeable() {
                        continue;
                    }
                }
            }
            Woke::Deadline => {
                return Err(timeout_error(&key, "acquiring", Some(started.elapsed())))
            }
        }
    }
}

/// After a conflict, the read served the very revision the compare-and-set found stale. Two
/// causes, both of replicated stores: a replica that lags answered the read (NATS direct gets
/// are served by any replica), or the write that beat us is agreed on by the cluster but not yet
/// applied (a replicated NATS stream refuses a compare-and-set while another write of the key
/// is in flight; the backend re-sends it for a while, and counts it as a conflict only when
/// that write stays in flight longer). Retrying the compare-and-set on that revision would fail
/// again, and a blind sleep would add its whole length to every handoff. So we first ask the copy that decided
/// the conflict (the stream leader), which has applied every write it acknowledged; if it has
/// not applied the winning write yet, the change feed delivers that write the moment it is
/// applied, so we wait on the feed rather than sleep, bounded by a doubling timer (2..200 ms)
/// because feeds are hints and may miss it. Each round costs a read and a bounded wait: never
/// an error, never a busy loop.
async fn move_past_stale(
    obs: &mut Observer,
    failed: u64,
    backoff: &mut Duration,
    deadline: Option<Instant>,
) -> Result<()> {
    obs.reload_authoritative().await?;
    if obs.seen.revision != failed || !obs.takeable() {
        return Ok(());
    }
    pause(obs, backoff, deadline).await
}

/// Waits for the key's change feed at most `backoff` (and until `deadline`), then doubles it.
async fn pause(
    obs: &mut Observer,
    backoff: &mut Duration,
    deadline: Option<Instant>,
) -> Result<()> {
    let bound = Instant::now() + *backoff;
    let bound = deadline.map_or(bound, |d| d.min(bound));
    if obs.seen.holder.is_some() {
        // A lapsed holder: its lease already ran out on our clock, so the feed wait would end
        // at once. Sleep instead.
        tokio::time::sleep_until(bound.into()).await;
    } else {
        obs.wait_change(Some(bound)).await?;
    }
    *backoff = (*backoff * 2).min(CONFLICT_BACKOFF_MAX);
    Ok(())
}

/// When the acquiring write was sent, and in which store epoch.
struct Written {
    sent: Instant,
    epoch: u64,
}

/// Waits (or, for try-acquire, checks) for this client's turn at `key`.
async fn local_turn(
    client: &Arc<ClientInner>,
    key: &Key,
    opts: &Resolved,
) -> Result<OwnedSemaphorePermit> {
    let gate = client.keys.gate(key);
    if !opts.wait {
        return gate.try_acquire_owned().map_err(|_| {
            Error::new(
                ErrorKind::Held,
                format!(
                    "key {:?} is held by another task of this process; try again after it \
                     releases, or use acquire() with a timeout",
                    key.as_str()
                ),
            )
            .with_key(key.as_str())
        });
    }
    let turn = gate.acquire_owned();
    let permit = match opts.deadline {
        Some(d) => tokio::time::timeout_at(d.into(), turn)
            .await
            .map_err(|_| timeout_error(key, "acquiring", None))?,
        None => turn.await,
    };
    // The gate is never closed.
    permit.map_err(|_| Error::closed(Some(key.as_str())))
}

fn held_error(key: &Key, obs: &Observer) -> Error {
    let who = obs
        .seen
        .holder
        .as_ref()
        .map(|h| format!(" by {} (token {})", h.label, h.token))
        .unwrap_or_default();
    Error::new(
        ErrorKind::Held,
        format!(
            "key {:?} is held{who}; use acquire() with a timeout to wait for it",
            key.as_str()
        ),
    )
    .with_key(key.as_str())
}

#[allow(clippy::too_many_arguments)]
fn guard(
    client: &Arc<ClientInner>,
    key: Key,
    hold: &HoldRequest,
    acq: Acquired,
    at: Written,
    permit: OwnedSemaphorePermit,
    opts: &Resolved,
) -> LockGuard {
    let state = acq.state.clone();
    let (status, _) = watch::channel(GuardStatus::Held);
    let d = &client.defaults;
    let plan = KeepPlan {
        renew_every: opts.renew.then(|| hold.lease.mul_f64(d.renew_fraction)),
        renew_until: d.max_hold.and_then(|m| at.sent.checked_add(m)),
    };
    let shared = Arc::new(GuardShared {
        id: client.next_guard_id(),
        key,
        acquired_at: at.sent,
        client: client.clone(),
        state: Mutex::new(HeldState {
            held: Held {
                revision: acq.revision,
                token: acq.token,
                lock_id: hold.lock_id,
                lease: hold.lease,
                label: hold.label.clone(),
                state: state.clone(),
            },
            written_at: at.sent,
            epoch: at.epoch,
            unsure_release: None,
            permit: Some(permit),
        }),
        writing: tokio::sync::Mutex::new(()),
        status,
        plan,
        keep: KeepState::default(),
        pid: std::process::id(),
    });
    client.track_guard(&shared);
    client.keeper.keep(&shared);
    LockGuard {
        shared,
        lock_id: hold.lock_id,
        lease: hold.lease,
        initial_state: state,
    }
}

//! Plain values handed to Kotlin: who holds a key, what `get` reports, a leadership change.

use std::time::Duration;

/// The holder of a lock as recorded in the store.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Holder {
    /// The acquisition's unique id (32 hex digits).
    pub lock_id: String,
    /// The acquisition's fencing token.
    pub token: u64,
    /// The lease the holder asked for.
    pub lease: Duration,
    /// The holder's label (the candidate name in elections).
    pub label: String,
}

impl From<fencelock::Holder> for Holder {
    fn from(h: fencelock::Holder) -> Self {
        Holder {
            lock_id: h.lock_id.to_string(),
            token: h.token,
            lease: h.lease,
            label: h.label,
        }
    }
}

/// What `get` reports about a key.
#[derive(Debug, Clone, uniffi::Record)]
pub struct KeyInfo {
    /// The stored state (`null` when there is none).
    pub state: Option<Vec<u8>>,
    /// The current holder, `null` when free.
    pub holder: Option<Holder>,
    /// The store's revision of the key (0 when it never existed).
    pub revision: u64,
    /// Time left on the holder's lease by the store's clock, where the store keeps one.
    pub lease_remaining: Option<Duration>,
}

impl From<fencelock::KeyInfo> for KeyInfo {
    fn from(k: fencelock::KeyInfo) -> Self {
        KeyInfo {
            state: k.state.map(|b| b.to_vec()),
            holder: k.holder.map(Holder::from),
            revision: k.revision,
            lease_remaining: k.lease_remaining,
        }
    }
}

/// One item of a leader observation: the leader now (`null` when nobody leads).
#[derive(Debug, Clone, uniffi::Record)]
pub struct LeaderChange {
    /// The leader, or `null`.
    pub leader: Option<Holder>,
}

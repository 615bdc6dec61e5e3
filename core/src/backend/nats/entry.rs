//! The binary format of a fencelock KV entry (format version 1), documented in
//! `docs/PROTOCOL-nats.md`. One entry per key holds both the lock and the state, so that
//! releasing with a new state is a single compare-and-set.

use crate::backend::{Holder, LockId};
use bytes::{BufMut, Bytes, BytesMut};
use std::time::Duration;

/// First byte of every entry, to tell fencelock entries from foreign values.
pub const MAGIC: u8 = b'F';
/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the holder label.
pub const FIXED_HEADER_LEN: usize = 38;
/// Longest holder label recorded (longer labels are truncated at a char boundary).
pub const MAX_LABEL_LEN: usize = 256;

const FLAG_HELD: u8 = 0b01;
const FLAG_HAS_STATE: u8 = 0b10;

/// A decoded entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Present when the lock is held.
    pub holder: Option<Holder>,
    /// The last acquisition's token (kept in free entries too, for operators).
    pub token: u64,
    /// The stored state.
    pub state: Option<Bytes>,
}

/// Why an entry could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Not written by fencelock.
    Foreign,
    /// Written by a newer fencelock.
    NewerVersion(u8),
    /// Cut short.
    Truncated,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Foreign => f.write_str(
                "the value was not written by fencelock (wrong magic byte); another program \
                 writes to this bucket, so give fencelock a namespace of its own",
            ),
            DecodeError::NewerVersion(v) => write!(
                f,
                "the entry uses format version {v}, which this fencelock (format {VERSION}) \
                 cannot read; upgrade fencelock"
            ),
            DecodeError::Truncated => f.write_str("the entry is truncated"),
        }
    }
}

impl std::error::Error for DecodeError {}

fn clip_label(label: &str) -> &str {
    if label.len() <= MAX_LABEL_LEN {
        return label;
    }
    let mut end = MAX_LABEL_LEN;
    while !label.is_char_boundary(end) {
        end -= 1;
    }
    &label[..end]
}

/// Encodes an entry. `token` 0 in a held entry means "the revision of this very write".
pub fn encode(holder: Option<&Holder>, token: u64, state: Option<&Bytes>) -> Bytes {
    let label = holder.map(|h| clip_label(&h.label)).unwrap_or("");
    let state_len = state.map(|s| s.len()).unwrap_or(0);
    let mut buf = BytesMut::with_capacity(FIXED_HEADER_LEN + label.len() + state_len);
    let mut flags = 0;
    if holder.is_some() {
        flags |= FLAG_HELD;
    }
    if state.is_some() {
        flags |= FLAG_HAS_STATE;
    }
    buf.put_u8(MAGIC);
    buf.put_u8(VERSION);
    buf.put_u8(flags);
    buf.put_u8(0);
    buf.put_u64(token);
    let lease_ms = holder
        .map(|h| u64::try_from(h.lease.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    buf.put_u64(lease_ms);
    buf.put_slice(&holder.map(|h| h.lock_id).unwrap_or_default().0);
    // Clipped to MAX_LABEL_LEN above, so it fits in u16.
    buf.put_u16(label.len() as u16);
    buf.put_slice(label.as_bytes());
    if let Some(s) = state {
        buf.put_slice(s);
    }
    buf.freeze()
}

/// Decodes an entry read at `revision`.
pub fn decode(value: &Bytes, revision: u64) -> Result<Entry, DecodeError> {
    let v = value.as_ref();
    if v.first() != Some(&MAGIC) {
        return Err(DecodeError::Foreign);
    }
    if v.len() < 2 {
        return Err(DecodeError::Truncated);
    }
    if v[1] != VERSION {
        return Err(DecodeError::NewerVersion(v[1]));
    }
    if v.len() < FIXED_HEADER_LEN {
        return Err(DecodeError::Truncated);
    }
    let flags = v[2];
    let stored_token = u64::from_be_bytes(v[4..12].try_into().expect("8 bytes"));
    let lease_ms = u64::from_be_bytes(v[12..20].try_into().expect("8 bytes"));
    let mut lock_id = [0u8; 16];
    lock_id.copy_from_slice(&v[20..36]);
    let label_len = u16::from_be_bytes([v[36], v[37]]) as usize;
    let label_end = FIXED_HEADER_LEN + label_len;
    if v.len() < label_end {
        return Err(DecodeError::Truncated);
    }
    let label = String::from_utf8_lossy(&v[FIXED_HEADER_LEN..label_end]).into_owned();
    let held = flags & FLAG_HELD != 0;
    // The acquiring write cannot know its own revision, so it stores 0 and readers substitute.
    let token = if held && stored_token == 0 {
        revision
    } else {
        stored_token
    };
    let holder = held.then(|| Holder {
        lock_id: LockId(lock_id),
        token,
        lease: Duration::from_millis(lease_ms),
        label,
    });
    let state = (flags & FLAG_HAS_STATE != 0).then(|| value.slice(label_end..));
    Ok(Entry {
        holder,
        token,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(token: u64) -> Holder {
        Holder {
            lock_id: LockId([7; 16]),
            token,
            lease: Duration::from_millis(1500),
            label: "host:42".into(),
        }
    }

    #[test]
    fn held_entry_round_trips_and_token_zero_means_own_revision() {
        let state = Bytes::from_static(b"{\"n\":1}");
        let bytes = encode(Some(&holder(0)), 0, Some(&state));
        let e = decode(&bytes, 99).unwrap();
        assert_eq!(e.token, 99);
        assert_eq!(e.holder.unwrap(), holder(99));
        assert_eq!(e.state.unwrap(), state);
    }

    #[test]
    fn free_entry_keeps_last_token_and_distinguishes_empty_from_absent_state() {
        let e = decode(&encode(None, 12, Some(&Bytes::new())), 20).unwrap();
        assert_eq!(e.holder, None);
        assert_eq!(e.token, 12);
        assert_eq!(e.state, Some(Bytes::new()));
        let e = decode(&encode(None, 12, None), 20).unwrap();
        assert_eq!(e.state, None);
    }

    #[test]
    fn foreign_newer_and_truncated_values_are_refused() {
        assert_eq!(
            decode(&Bytes::from_static(b"hello"), 1),
            Err(DecodeError::Foreign)
        );
        let mut v = encode(None, 1, None).to_vec();
        v[1] = 9;
        assert_eq!(
            decode(&Bytes::from(v), 1),
            Err(DecodeError::NewerVersion(9))
        );
        assert_eq!(
            decode(&Bytes::from_static(b"F\x01\x00"), 1),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn long_labels_are_clipped_at_a_char_boundary() {
        let mut h = holder(1);
        h.label = "é".repeat(300);
        let e = decode(&encode(Some(&h), 1, None), 1).unwrap();
        assert!(e.holder.unwrap().label.len() <= MAX_LABEL_LEN);
    }
}

//! Reversible mapping from any UTF-8 key to the NATS KV key alphabet `[-/_=.a-zA-Z0-9]`.
//!
//! Letters, digits, `-`, `/` and `=` stand for themselves; every other byte of the UTF-8 form
//! (including `_` itself and `.`, the subject token separator) becomes `_` and two upper-case hex
//! digits. The result never contains `.`, so it is always a single subject token and never
//! starts or ends with a dot, and it never contains the wildcards `*` or `>`.

/// Encodes a user key for use as a KV key.
pub fn encode(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for &b in key.as_bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'/' || b == b'=' {
            out.push(b as char);
        } else {
            out.push('_');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Decodes a KV key written by [`encode`]; `None` when it is not one.
pub fn decode(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_stays_in_the_kv_alphabet() {
        for key in [
            "simple",
            "jobs/nightly-import",
            "a.b.c",
            "under_score",
            "wild*card>",
            "ünïcödé 🔒",
            "_41",
            " ",
            "=",
        ] {
            let enc = encode(key);
            assert!(
                enc.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-/_=".contains(&b)),
                "{enc}"
            );
            assert_eq!(decode(&enc).as_deref(), Some(key));
        }
        assert_ne!(encode("_41"), encode("A"));
    }

    #[test]
    fn rejects_malformed_escapes() {
        assert_eq!(decode("_4"), None);
        assert_eq!(decode("_zz"), None);
    }
}

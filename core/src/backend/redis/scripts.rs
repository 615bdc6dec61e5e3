//! The Lua scripts of the Redis protocol (see `docs/PROTOCOL-redis.md`). Every script takes
//! KEYS = [lock, meta, state] of one resource (one hash slot) and ARGV[1..2] = [notice channel,
//! user key]; the rest of ARGV is per script. Notices published on the channel are
//! `<rev>\n<A|R|D>\n<lock value, for A>\n<user key>` (acquired, released, deleted). A lock value is
//! `<lock id hex>:<token>:<lease ms>:<label>`; the meta hash holds `rev`, bumped by every write
//! and never reset. An acquisition's fencing token is the `rev` of its acquiring write, so tokens
//! strictly increase per key (with gaps) and one counter serves both purposes.
//!
//! The meta hash also keeps two markers, so that a script run twice (redis-rs repeats a
//! command after a dropped connection; fencelock asks once more after a lost reply) answers
//! the truth: `released` = `<lock id>:<call>:<token>:<rev>` of the last release, and `put` =
//! `<lock id>:<call>:<rev>` of the last state write. `<call>` numbers the calls of one client,
//! so a repeat carries the same number and a later call a higher one.

use redis::Script;
use std::sync::LazyLock;

/// Returns `[lock value, lock pttl, state, rev]`, all read in one atomic step.
pub static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]),
        redis.call('GET', KEYS[3]), redis.call('HGET', KEYS[2], 'rev')}
",
    )
});

/// Gives an expiring state `ARGV[i]` ms more life, unless that is '0' (state keys do not
/// expire) or the state has no expiry (written by a client without object expiry, which is
/// never given one here). Inlined into each script rather than defined as a Lua function:
/// a function definition is a closure created on every run of the script.
macro_rules! keep_state {
    ($ms:literal) => {
        concat!(
            "if ",
            $ms,
            " ~= '0' and redis.call('PTTL', KEYS[3]) >= 0 then redis.call('PEXPIRE', KEYS[3], ",
            $ms,
            ") end\n"
        )
    };
}

/// Writes (mode '1'), deletes ('0') or keeps ('2') the state, with expiry `ms` ('0': none).
macro_rules! write_state {
    ($mode:literal, $value:literal, $ms:literal) => {
        concat!(
            "if ",
            $mode,
            " == '1' then\n",
            "  if ",
            $ms,
            " ~= '0' then redis.call('SET', KEYS[3], ",
            $value,
            ", 'PX', ",
            $ms,
            ")\n",
            "  else redis.call('SET', KEYS[3], ",
            $value,
            ") end\n",
            "elseif ",
            $mode,
            " == '0' then\n",
            "  redis.call('DEL', KEYS[3])\n",
            "else\n  ",
            keep_state!($ms),
            "end\n"
        )
    };
}

/// ARGV[3..6] = lock id, lease ms, label, state hold ms. Publishes a notice (for waiters and
/// observers). Returns `{0}` when held, else `{1, token, rev, state}`. Idempotent: when the
/// lock already carries this lock id, this is a repeat of an acquisition whose reply was lost
/// (a retry, or redis-rs repeating a command after a dropped connection); it answers as the
/// first run did and restarts the lease, so the lease runs from no earlier than the repeat,
/// which is after the client's own deadline started counting. An expiring state is extended so
/// that it outlives the new holder's lease.
pub static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "local held = redis.call('GET', KEYS[1])\n",
        "if held then\n",
        "  if string.sub(held, 1, 32) ~= ARGV[3] then return {0} end\n",
        "  redis.call('PEXPIRE', KEYS[1], ARGV[4])\n  ",
        keep_state!("ARGV[6]"),
        "  local token = tonumber(string.match(held, '^[^:]*:(%d+):'))\n",
        "  return {1, token, tonumber(redis.call('HGET', KEYS[2], 'rev')), redis.call('GET', KEYS[3])}\n",
        "end\n",
        "local n = redis.call('HINCRBY', KEYS[2], 'rev', 1)\n",
        "local rev = string.format('%d', n)\n",
        "local value = ARGV[3] .. ':' .. rev .. ':' .. ARGV[4] .. ':' .. ARGV[5]\n",
        "redis.call('SET', KEYS[1], value, 'PX', ARGV[4])\n",
        keep_state!("ARGV[6]"),
        "redis.call('PUBLISH', ARGV[1], rev .. '\\nA\\n' .. value .. '\\n' .. ARGV[2])\n",
        "return {1, n, n, redis.call('GET', KEYS[3])}\n",
    ))
});

/// Returns 0 unless the lock still carries the caller's lock id (ARGV[3]); leaves the lock
/// value in `v`.
macro_rules! if_ours {
    () => {
        concat!(
            "local v = redis.call('GET', KEYS[1])\n",
            "if not v or string.sub(v, 1, 32) ~= ARGV[3] then return 0 end\n"
        )
    };
}

/// ARGV[3..5] = lock id, lease ms, state hold ms. Restarts the lease and keeps an expiring
/// state alive with it. Returns the new rev, or 0 when the lock is not ours.
pub static REFRESH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        if_ours!(),
        "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n",
        keep_state!("ARGV[5]"),
        "return redis.call('HINCRBY', KEYS[2], 'rev', 1)\n",
    ))
});

// Revisions and tokens go into text (lock values, markers, notices) through
// `string.format('%d', n)`: Lua's own number-to-text conversion (`n .. ''`) prints 15 digits
// and more in exponent notation with 14 significant digits, so from 1e14 on a lock value would
// carry a rounded token that `decode_holder` cannot parse.
//
// bump_with_marker: put and release bump `rev` and write their marker in one `HSET` of both
// fields after an `HGET` of `rev`, rather than `HINCRBY` then `HSET`. The script is atomic, so
// this is the same increment; a write inside a script costs redis-server several times a read
// (the call, the keyspace update and its append-only-file record), and this saves one per
// call. The new value is written as digits (above), which `HINCRBY` (acquire's bump) reads.

/// ARGV[3..8] = lock id, state mode, state, state hold ms, lease ms, call number. Mode '1'
/// writes the state, '0' deletes it, '2' leaves it. Writes the state and restarts the lease.
/// Returns the new rev; 0 when the lock is not ours; the first run's rev for a repeat of the
/// same call; -1 for a delayed duplicate of an earlier call of this acquisition, which must not
/// overwrite what a later call wrote.
pub static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        if_ours!(),
        "local m = redis.call('HGET', KEYS[2], 'put')\n",
        "if m then\n",
        "  local id, call, rev = string.match(m, '^(%x+):(%d+):(%d+)$')\n",
        "  if id == ARGV[3] then\n",
        "    if tonumber(call) == tonumber(ARGV[8]) then return tonumber(rev) end\n",
        "    if tonumber(call) > tonumber(ARGV[8]) then return -1 end\n",
        "  end\n",
        "end\n",
        write_state!("ARGV[4]", "ARGV[5]", "ARGV[6]"),
        "redis.call('PEXPIRE', KEYS[1], ARGV[7])\n",
        "local n = (tonumber(redis.call('HGET', KEYS[2], 'rev')) or 0) + 1\n",
        "local rev = string.format('%d', n)\n",
        "redis.call('HSET', KEYS[2], 'rev', rev, 'put', ARGV[3] .. ':' .. ARGV[8] .. ':' .. rev)\n",
        "return n\n",
    ))
});

/// ARGV[3..8] = lock id, state mode, state, object expiry ms (0: none), call number, the
/// acquisition's token. Writes the state (an unchanged expiring state gets its expiry back),
/// frees the lock, leaves the `released` marker and publishes a notice. Returns the new rev.
/// When the lock is not ours, the marker tells what happened: this very call ran before (a
/// repeat) gives the first run's rev; no release of this or any later acquisition since ours
/// gives 0 (ours was never released: it lapsed or was deleted); anything else gives -1
/// (released by another call, or by us before a later holder's release replaced the marker:
/// the outcome is unknown). The marker's token is the lock value's (the holder's own), read
/// from the value rather than trusted from ARGV. The revision bump and the marker are one
/// `HSET` (see bump_with_marker above).
pub static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "local v = redis.call('GET', KEYS[1])\n",
        "if not v or string.sub(v, 1, 32) ~= ARGV[3] then\n",
        "  local m = redis.call('HGET', KEYS[2], 'released')\n",
        "  if not m then return 0 end\n",
        "  local id, call, token, rev = string.match(m, '^(%x+):(%d+):(%d+):(%d+)$')\n",
        "  if not id then return 0 end\n",
        "  if id == ARGV[3] then\n",
        "    if tonumber(call) == tonumber(ARGV[7]) then return tonumber(rev) end\n",
        "    return -1\n",
        "  end\n",
        "  if tonumber(token) < tonumber(ARGV[8]) then return 0 end\n",
        "  return -1\n",
        "end\n",
        write_state!("ARGV[4]", "ARGV[5]", "ARGV[6]"),
        "redis.call('DEL', KEYS[1])\n",
        "local n = (tonumber(redis.call('HGET', KEYS[2], 'rev')) or 0) + 1\n",
        "local rev = string.format('%d', n)\n",
        "local token = string.match(v, '^[^:]*:(%d+):')\n",
        "redis.call('HSET', KEYS[2], 'rev', rev, 'released', ARGV[3] .. ':' .. ARGV[7] .. ':' .. token .. ':' .. rev)\n",
        "redis.call('PUBLISH', ARGV[1], rev .. '\\nR\\n\\n' .. ARGV[2])\n",
        "return n\n",
    ))
});

/// Deletes lock and state (keeping the fencing counter) and publishes a notice.
pub static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('DEL', KEYS[1], KEYS[3])
local n = redis.call('HINCRBY', KEYS[2], 'rev', 1)
redis.call('PUBLISH', ARGV[1], string.format('%d', n) .. '\nD\n\n' .. ARGV[2])
return n
",
    )
});

//! The Lua scripts of the Redis protocol (see `docs/PROTOCOL-redis.md`). Every script takes
//! KEYS = [lock, meta, state] of one resource (one hash slot) and ARGV[1..2] = [notice channel,
//! user key]; the rest of ARGV is per script. Notices published on the channel are
//! `<rev>\n<A|R|D>\n<lock value, for A>\n<user key>` (acquired, released, deleted). A lock value is
//! `<lock id hex>:<token>:<lease ms>:<label>`; the meta hash holds `rev`, bumped by every write
//! and never reset. An acquisition's fencing token is the `rev` of its acquiring write, so tokens
//! strictly increase per key (with gaps) and one counter serves both purposes.

use redis::Script;
use std::sync::LazyLock;

/// Returns `[lock value, lock pttl, state, rev]`.
pub static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]),
        redis.call('GET', KEYS[3]), redis.call('HGET', KEYS[2], 'rev')}
",
    )
});

/// ARGV[3..5] = lock id, lease ms, label. Publishes a notice (for leader observers).
/// Returns `{0}` when held, else `{1, token, rev, state}`. Idempotent: when the lock already
/// carries this lock id, this is a repeat of an acquisition whose reply was lost (a retry, or
/// redis-rs repeating a command after a dropped connection); it answers as the first run did
/// and restarts the lease, so the lease runs from no earlier than the repeat, which is after
/// the client's own deadline started counting.
pub static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local held = redis.call('GET', KEYS[1])
if held then
  if string.sub(held, 1, 32) ~= ARGV[3] then return {0} end
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  local token = tonumber(string.match(held, '^[^:]*:(%d+):'))
  return {1, token, tonumber(redis.call('HGET', KEYS[2], 'rev')), redis.call('GET', KEYS[3])}
end
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
local token = rev
local value = ARGV[3] .. ':' .. token .. ':' .. ARGV[4] .. ':' .. ARGV[5]
redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[1], rev .. '\nA\n' .. value .. '\n' .. ARGV[2])
return {1, token, rev, redis.call('GET', KEYS[3])}
",
    )
});

/// Returns 0 unless the lock still carries the caller's lock id (ARGV[3]).
const IF_OURS: &str = r"
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 32) ~= ARGV[3] then return 0 end
";

/// ARGV[4] says what to do with the state: '1' writes ARGV[5] (with `PX` ARGV[6] unless it is
/// '0'), '0' deletes it, '2' leaves it as it is.
const WRITE_STATE: &str = r"
if ARGV[4] == '1' then
  if ARGV[6] ~= '0' then redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[6])
  else redis.call('SET', KEYS[3], ARGV[5]) end
elseif ARGV[4] == '0' then
  redis.call('DEL', KEYS[3])
end
";

/// ARGV[3..4] = lock id, lease ms. Returns the new rev, or 0 when the lock is not ours.
pub static REFRESH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{IF_OURS}
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('HINCRBY', KEYS[2], 'rev', 1)
"
    ))
});

/// ARGV[3..7] = lock id, has state (1/0), state, object expiry ms (0: none), lease ms.
/// Writes the state and restarts the lease. Returns the new rev, or 0 when not ours.
pub static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{IF_OURS}{WRITE_STATE}
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return redis.call('HINCRBY', KEYS[2], 'rev', 1)
"
    ))
});

/// ARGV[3..6] = lock id, has state (1/0), state, object expiry ms (0: none). Writes the state,
/// frees the lock and publishes a notice. Returns the new rev, or 0 when not ours.
pub static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{IF_OURS}{WRITE_STATE}
redis.call('DEL', KEYS[1])
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
redis.call('PUBLISH', ARGV[1], rev .. '\nR\n\n' .. ARGV[2])
return rev
"
    ))
});

/// Deletes lock and state (keeping the fencing counter) and publishes a notice.
pub static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('DEL', KEYS[1], KEYS[3])
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
redis.call('PUBLISH', ARGV[1], rev .. '\nD\n\n' .. ARGV[2])
return rev
",
    )
});

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

/// State handling shared by the write scripts. `hold` is the state's expiry while the lock is
/// held (the larger of object expiry and lease, so it cannot lapse between renewals; '0' when
/// state keys do not expire). A state key without expiry is never given one by `keep_state`.
const STATE_FNS: &str = r"
local function keep_state(ms)
  if ms ~= '0' and redis.call('PTTL', KEYS[3]) >= 0 then redis.call('PEXPIRE', KEYS[3], ms) end
end
local function write_state(mode, value, ms)
  if mode == '1' then
    if ms ~= '0' then redis.call('SET', KEYS[3], value, 'PX', ms)
    else redis.call('SET', KEYS[3], value) end
  elseif mode == '0' then
    redis.call('DEL', KEYS[3])
  else
    keep_state(ms)
  end
end
";

/// ARGV[3..6] = lock id, lease ms, label, state hold ms. Publishes a notice (for leader
/// observers). Returns `{0}` when held, else `{1, token, rev, state}`. Idempotent: when the
/// lock already carries this lock id, this is a repeat of an acquisition whose reply was lost
/// (a retry, or redis-rs repeating a command after a dropped connection); it answers as the
/// first run did and restarts the lease, so the lease runs from no earlier than the repeat,
/// which is after the client's own deadline started counting. An expiring state is extended so
/// that it outlives the new holder's lease.
pub static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{STATE_FNS}
local held = redis.call('GET', KEYS[1])
if held then
  if string.sub(held, 1, 32) ~= ARGV[3] then return {{0}} end
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  keep_state(ARGV[6])
  local token = tonumber(string.match(held, '^[^:]*:(%d+):'))
  return {{1, token, tonumber(redis.call('HGET', KEYS[2], 'rev')), redis.call('GET', KEYS[3])}}
end
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
local token = rev
local value = ARGV[3] .. ':' .. token .. ':' .. ARGV[4] .. ':' .. ARGV[5]
redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
keep_state(ARGV[6])
redis.call('PUBLISH', ARGV[1], rev .. '\nA\n' .. value .. '\n' .. ARGV[2])
return {{1, token, rev, redis.call('GET', KEYS[3])}}
"
    ))
});

/// Returns 0 unless the lock still carries the caller's lock id (ARGV[3]); leaves the lock
/// value in `v`.
const IF_OURS: &str = r"
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 32) ~= ARGV[3] then return 0 end
";

/// ARGV[3..5] = lock id, lease ms, state hold ms. Restarts the lease and keeps an expiring
/// state alive with it. Returns the new rev, or 0 when the lock is not ours.
pub static REFRESH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{STATE_FNS}{IF_OURS}
redis.call('PEXPIRE', KEYS[1], ARGV[4])
keep_state(ARGV[5])
return redis.call('HINCRBY', KEYS[2], 'rev', 1)
"
    ))
});

/// ARGV[3..8] = lock id, state mode, state, state hold ms, lease ms, call number. Mode '1'
/// writes the state, '0' deletes it, '2' leaves it. Writes the state and restarts the lease.
/// Returns the new rev; 0 when the lock is not ours; the first run's rev for a repeat of the
/// same call; -1 for a delayed duplicate of an earlier call of this acquisition, which must not
/// overwrite what a later call wrote.
pub static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{STATE_FNS}{IF_OURS}
local m = redis.call('HGET', KEYS[2], 'put')
if m then
  local id, call, rev = string.match(m, '^(%x+):(%d+):(%d+)$')
  if id == ARGV[3] then
    if tonumber(call) == tonumber(ARGV[8]) then return tonumber(rev) end
    if tonumber(call) > tonumber(ARGV[8]) then return -1 end
  end
end
write_state(ARGV[4], ARGV[5], ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
redis.call('HSET', KEYS[2], 'put', ARGV[3] .. ':' .. ARGV[8] .. ':' .. rev)
return rev
"
    ))
});

/// ARGV[3..8] = lock id, state mode, state, object expiry ms (0: none), call number, the
/// acquisition's token. Writes the state (an unchanged expiring state gets its expiry back),
/// frees the lock, leaves the `released` marker and publishes a notice. Returns the new rev.
/// When the lock is not ours, the marker tells what happened: this very call ran before (a
/// repeat) gives the first run's rev; no release of this or any later acquisition since ours
/// gives 0 (ours was never released: it lapsed or was deleted); anything else gives -1
/// (released by another call, or by us before a later holder's release replaced the marker:
/// the outcome is unknown).
pub static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{STATE_FNS}
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 32) ~= ARGV[3] then
  local m = redis.call('HGET', KEYS[2], 'released')
  if not m then return 0 end
  local id, call, token, rev = string.match(m, '^(%x+):(%d+):(%d+):(%d+)$')
  if not id then return 0 end
  if id == ARGV[3] then
    if tonumber(call) == tonumber(ARGV[7]) then return tonumber(rev) end
    return -1
  end
  if tonumber(token) < tonumber(ARGV[8]) then return 0 end
  return -1
end
write_state(ARGV[4], ARGV[5], ARGV[6])
redis.call('DEL', KEYS[1])
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
local token = string.match(v, '^[^:]*:(%d+):')
redis.call('HSET', KEYS[2], 'released', ARGV[3] .. ':' .. ARGV[7] .. ':' .. token .. ':' .. rev)
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

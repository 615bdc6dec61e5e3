// Bad input: wrong types, invalid keys, bad durations, values JSON cannot encode, huge state,
// use after close, double release, another instance's lock. Each is a clear, coded error.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ErrorCodes as CODES, FencelockError, JetstreamDistributedLock, MemoryDistributedLock, RedisDistributedLock } from '../index.mjs'
import native from '../binding.js'
import { useServer, twoInstances, uniqueKey } from './helpers.mjs'

const server = useServer()

/** Asserts a FencelockError with `code` whose message matches `pattern`. */
function coded (code, pattern) {
  return (e) => {
    assert.ok(e instanceof FencelockError, `a FencelockError, got ${e}`)
    assert.equal(e.code, code, e.message)
    if (pattern) assert.match(e.message, pattern)
    return true
  }
}

test('non-string keys are refused by every method', async () => {
  const { a, close } = await twoInstances(server)
  for (const key of [42, undefined, null, {}, ['k'], Symbol('k')]) {
    const code = 'ERR_FENCELOCK_INVALID_KEY'
    await assert.rejects(a.acquireLock(key, 100), coded(code, /key must be a string/))
    await assert.rejects(a.tryAcquireLock(key), coded(code))
    await assert.rejects(a.withLock(key, 100, async () => 1), coded(code))
    await assert.rejects(a.wait(key, 100), coded(code))
    await assert.rejects(a.delete(key), coded(code))
    await assert.rejects(a.get(key), coded(code))
    await assert.rejects(a.campaign(key), coded(code))
  }
  await close()
})

test('empty and over-long keys are refused by the core with its reason', async () => {
  const { a, close } = await twoInstances(server)
  await assert.rejects(a.acquireLock('', 100), coded('ERR_FENCELOCK_INVALID_KEY', /empty/))
  await assert.rejects(a.wait('x'.repeat(2000), 100), coded('ERR_FENCELOCK_INVALID_KEY'))
  // Keys outside the NATS alphabet are fine: the core encodes them.
  const odd = `spaces and ünïcødé / * > ${uniqueKey()}`
  const r = await a.withLock(odd, 1000, async () => 'ok')
  assert.equal(r.value, 'ok')
  assert.equal((await a.wait(odd, 100)).value, 'ok')
  await close()
})

test('negative, NaN and non-number timeouts are refused', async () => {
  const { a, close } = await twoInstances(server)
  const key = uniqueKey()
  await assert.rejects(a.acquireLock(key, -1), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /timeoutMs.*-1/))
  await assert.rejects(a.wait(key, -5), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /timeoutMs/))
  await assert.rejects(a.withLock(key, Number.NaN, async () => 1), coded('ERR_FENCELOCK_INVALID_ARGUMENT'))
  await assert.rejects(a.acquireLock(key, '100'), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /timeoutMs must be a number/))
  await assert.rejects(a.wait(key), coded('ERR_FENCELOCK_INVALID_ARGUMENT'))
  // Zero makes one attempt.
  const w = await a.acquireLock(key, 0)
  assert.equal(await a.releaseLock(key, w), true)
  await close()
})

test('zero, negative and out-of-range lock durations are refused', async () => {
  const { a, close } = await twoInstances(server)
  const key = uniqueKey()
  await assert.rejects(a.acquireLock(key, 100, 0), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /lease/))
  await assert.rejects(a.acquireLock(key, 100, -10), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /lockDuration/))
  await assert.rejects(a.tryAcquireLock(key, 1), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /lease/))
  await assert.rejects(a.withLock(key, 100, async () => 1, 'long'), coded('ERR_FENCELOCK_INVALID_ARGUMENT'))
  // Nothing was left held.
  assert.equal((await a.tryAcquireLock(key)).acquired, true)
  await close()
})

test('values JSON cannot encode are refused and write nothing', async () => {
  const { a, b, close } = await twoInstances(server)
  const key = uniqueKey()
  await a.withLock(key, 1000, async () => ({ ok: 1 }))
  const cyclic = {}
  cyclic.self = cyclic
  for (const bad of [10n, cyclic, () => 1, Symbol('s')]) {
    const w = await a.acquireLock(key, 1000)
    await assert.rejects(a.releaseLock(key, w.update(bad)), coded('ERR_FENCELOCK_INVALID_VALUE', /JSON/))
    // The lock is still held: fix the value and release.
    assert.equal(await a.releaseLock(key, w.update({ ok: 1 })), true)
    await assert.rejects(
      b.withLock(key, 1000, async () => bad),
      coded('ERR_FENCELOCK_INVALID_VALUE', new RegExp(key))
    )
  }
  assert.deepEqual((await a.wait(key, 1000)).value, { ok: 1 })
  await close()
})

test('a value over the server limit is refused with StateTooLarge', async () => {
  const { a, close } = await twoInstances(server)
  const key = uniqueKey()
  const huge = 'x'.repeat(2 * 1024 * 1024)
  await assert.rejects(a.withLock(key, 1000, async () => huge), coded('ERR_FENCELOCK_STATE_TOO_LARGE', /bytes/))
  const w = await a.acquireLock(key, 1000)
  await assert.rejects(a.releaseLock(key, w.update(huge)), coded('ERR_FENCELOCK_STATE_TOO_LARGE'))
  assert.equal(await a.releaseLock(key, w.update('small')), true)
  await close()
})

test('every method fails with ERR_FENCELOCK_CLOSED after close()', async () => {
  const { a, b, close } = await twoInstances(server)
  const key = uniqueKey()
  const w = await a.acquireLock(key, 1000)
  a.close() // not awaited, as Johnny Locke users do: later calls must fail anyway
  const c = 'ERR_FENCELOCK_CLOSED'
  await assert.rejects(a.acquireLock(key, 100), coded(c, /closed/))
  await assert.rejects(a.tryAcquireLock(key), coded(c))
  await assert.rejects(a.withLock(key, 100, async () => 1), coded(c))
  await assert.rejects(a.releaseLock(key, w), coded(c))
  await assert.rejects(a.wait(key, 100), coded(c))
  await assert.rejects(a.delete(key), coded(c))
  await assert.rejects(a.campaign(key), coded(c))
  await a.close() // idempotent
  // Closing released the held lock.
  const w2 = await b.acquireLock(key, 2000)
  assert.equal(await b.releaseLock(key, w2), true)
  await close()
})

test('releasing twice answers false the second time and writes nothing', async () => {
  const { a, close } = await twoInstances(server)
  const key = uniqueKey()
  const w = await a.acquireLock(key, 1000)
  assert.equal(await a.releaseLock(key, w.update('first')), true)
  assert.equal(await a.releaseLock(key, w.update('second')), false)
  assert.equal((await a.wait(key, 100)).value, 'first')
  await close()
})

test("another instance's Writable, a wrong key or a home-made Writable is refused", async () => {
  const { a, b, close } = await twoInstances(server)
  const key = uniqueKey()
  const w = await a.acquireLock(key, 1000)
  await assert.rejects(b.releaseLock(key, w), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /another client/))
  await assert.rejects(a.releaseLock('other', w), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /key/))
  const fake = { value: 1, lockId: w.lockId, update () { return this } }
  await assert.rejects(a.releaseLock(key, fake), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /Writable/))
  await assert.rejects(a.releaseLock(key, null), coded('ERR_FENCELOCK_INVALID_ARGUMENT'))
  assert.equal(await a.releaseLock(key, w), true, 'still held by its owner')
  await close()
})

test('bad callbacks, options and signals are refused', async () => {
  const { a, close } = await twoInstances(server)
  const key = uniqueKey()
  await assert.rejects(a.withLock(key, 100, 'not a function'), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /callback/))
  await assert.rejects(a.acquireLock(key, 100, undefined, 5), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /options/))
  await assert.rejects(a.wait(key, 100, { signal: {} }), coded('ERR_FENCELOCK_INVALID_ARGUMENT', /AbortSignal/))
  await close()
})

test('bad configurations and connection options are refused', async () => {
  const url = server.url
  const c = 'ERR_FENCELOCK_INVALID_ARGUMENT'
  await assert.rejects(JetstreamDistributedLock.create(url), coded(c, /LockConfiguration/))
  await assert.rejects(JetstreamDistributedLock.create(url, { defaultLockDurationMs: 1000 }), coded(c, /namespace/))
  await assert.rejects(JetstreamDistributedLock.create(url, { namespace: 'n', defaultLockDurationMs: 0 }), coded(c, /defaultLockDurationMs/))
  await assert.rejects(JetstreamDistributedLock.create(url, { namespace: 'n', defaultLockDurationMs: -1 }), coded(c))
  await assert.rejects(JetstreamDistributedLock.create(url, { namespace: 'n', defaultLockDurationMs: 1000, objectExpiryMs: -5 }), coded(c, /objectExpiryMs/))
  await assert.rejects(JetstreamDistributedLock.create(url, { namespace: 'n', defaultLockDurationMs: 1000, objectExpiryMs: 10 }), coded(c, /object_expiry/))
  await assert.rejects(JetstreamDistributedLock.create(url, { namespace: 'n', defaultLockDurationMs: 1000, replication: 9 }), coded(c, /replication must be between 1 and 5/))
  await assert.rejects(JetstreamDistributedLock.create(42, { namespace: 'n', defaultLockDurationMs: 1000 }), coded(c, /connectOptions/))
  await assert.rejects(JetstreamDistributedLock.create({ servers: [] }, { namespace: 'n', defaultLockDurationMs: 1000 }), coded(c, /servers/))
  await assert.rejects(JetstreamDistributedLock.create({ servers: url, user: 'u' }, { namespace: 'n', defaultLockDurationMs: 1000 }), coded(c, /user and pass/))
  await assert.rejects(MemoryDistributedLock.create({ namespace: 'n' }), coded(c, /defaultLockDurationMs/))
})

test('an unreachable server is a backend error naming the server', async () => {
  await assert.rejects(
    JetstreamDistributedLock.create({ servers: 'nats://127.0.0.1:1', timeout: 500 }, { namespace: 'n', defaultLockDurationMs: 1000 }),
    coded('ERR_FENCELOCK_BACKEND', /127\.0\.0\.1:1/)
  )
})

test('a stored state that is not JSON is reported, and the lock is not left held', async () => {
  const { a, cfg, close } = await twoInstances(server)
  const key = uniqueKey()
  // Another client (e.g. another language's binding) stored raw bytes.
  const raw = await native.connect({ url: server.url, namespace: cfg.namespace })
  const g = await raw.acquire(key, 1000)
  assert.equal(await g.release(Buffer.from([0xff, 0x00, 0x01])), true)
  await raw.close()
  await assert.rejects(a.acquireLock(key, 1000), coded('ERR_FENCELOCK_INVALID_VALUE', /not JSON/))
  await assert.rejects(a.wait(key, 1000), coded('ERR_FENCELOCK_INVALID_VALUE'))
  await assert.rejects(a.withLock(key, 1000, async () => 1), coded('ERR_FENCELOCK_INVALID_VALUE'))
  // Overwritable once read as nothing else: delete, then the key is fresh.
  assert.equal(await a.delete(key), true)
  const w = await a.acquireLock(key, 1000)
  assert.equal(w.value, null)
  assert.equal(await a.releaseLock(key, w), true)
  await close()
})

test('an option the backend does not use is refused by name, not dropped', async () => {
  const c = 'ERR_FENCELOCK_INVALID_ARGUMENT'
  const cfg = { namespace: 'n', defaultLockDurationMs: 1000 }
  await assert.rejects(RedisDistributedLock.create('redis://127.0.0.1:1', { ...cfg, storage: 'memory' }), coded(c, /option storage is not used by the Redis backend/))
  await assert.rejects(RedisDistributedLock.create('redis://127.0.0.1:1', { ...cfg, clockFree: true }), coded(c, /option clock_free .*Redis/))
  await assert.rejects(MemoryDistributedLock.create({ ...cfg, replication: 2 }), coded(c, /option replication .*memory/))
  await assert.rejects(native.connect({ url: server.url, replicationTimeoutMs: 500 }), (e) => /option replication_timeout .*NATS/.test(e.message))
  await assert.rejects(native.connect({ url: 'memory://', token: 't' }), (e) => /option token .*memory/.test(e.message))
  // Where the backend uses them, the same options connect.
  const lock = await JetstreamDistributedLock.create(server.url, { ...cfg, namespace: `opts-${uniqueKey()}`, replication: 1, storage: 'memory', clockFree: true })
  await lock.close()
})

test("CODES lists every core error kind's code, and only the codes of this layer besides", () => {
  const core = native.errorCodes()
  const own = ['ERR_FENCELOCK_INVALID_VALUE', 'ERR_FENCELOCK_ABORTED', 'ERR_FENCELOCK_OTHER']
  assert.deepEqual([...Object.values(CODES)].sort(), [...core, ...own].sort())
})

test("a backend error keeps the core error's cause chain as err.cause", async () => {
  // Nothing listens on port 1: the message names the server, the cause says why.
  const e = await JetstreamDistributedLock.create({ servers: 'nats://127.0.0.1:1', timeout: 300 }, { namespace: 'n', defaultLockDurationMs: 1000 })
    .then(() => null, (err) => err)
  assert.ok(e instanceof FencelockError, String(e))
  assert.equal(e.code, 'ERR_FENCELOCK_BACKEND')
  assert.ok(e.cause instanceof Error, `a cause, got ${e.cause}`)
  assert.ok(e.cause.message.length > 0)
  assert.ok(!e.message.includes('[cause]'), e.message)
})

// The state rules shared with Python (docs/STATE.md): an empty state reads as null, a withLock
// callback returning undefined keeps the state, stored bytes that are not JSON are an error.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import native from '../binding.js'
import { useServer, twoInstances, uniqueKey } from './helpers.mjs'

const server = useServer()

/** Stores raw bytes under `key`, as a C, Go or Python bytes client would. */
async function storeRaw (cfg, key, bytes) {
  const raw = await native.connect({ url: server.url, namespace: cfg.namespace })
  const g = await raw.acquire(key, 1000)
  assert.equal(await g.release(bytes), true)
  await raw.close()
}

test('an empty stored state reads as null', async () => {
  const { a, cfg, close } = await twoInstances(server)
  const key = uniqueKey()
  await storeRaw(cfg, key, Buffer.alloc(0))
  let seen = 'not called'
  const out = await a.withLock(key, 1000, async (state) => { seen = state; return { n: 1 } })
  assert.equal(seen, null)
  assert.deepEqual(out.value, { n: 1 })
  await storeRaw(cfg, key, Buffer.alloc(0))
  const w = await a.acquireLock(key, 1000)
  assert.equal(w.value, null)
  assert.equal(await a.releaseLock(key, w), true)
  await close()
})

test('a withLock callback returning undefined keeps the state; null stores null', async () => {
  const { a, close } = await twoInstances(server)
  const key = uniqueKey()
  await a.withLock(key, 1000, async () => ({ count: 7 }))
  const kept = await a.withLock(key, 1000, async (state) => { assert.deepEqual(state, { count: 7 }) })
  assert.deepEqual(kept.value, { count: 7 })
  assert.deepEqual((await a.withLock(key, 1000, async (s) => s)).value, { count: 7 })
  const cleared = await a.withLock(key, 1000, async () => null)
  assert.equal(cleared.value, null)
  await close()
})

test('stored bytes that are not JSON are an error, never null, and stay as they were', async () => {
  const { a, cfg, close } = await twoInstances(server)
  const key = uniqueKey()
  await storeRaw(cfg, key, Buffer.from('not json'))
  await assert.rejects(a.withLock(key, 1000, async () => 1), (e) => e.code === 'ERR_FENCELOCK_INVALID_VALUE' && e.message.includes(key))
  const raw = await native.connect({ url: server.url, namespace: cfg.namespace })
  const g = await raw.acquire(key, 1000)
  assert.equal(g.initialState.toString(), 'not json')
  await g.release(null)
  await raw.close()
  await close()
})

/** The bytes stored under `key`, read without locking. */
async function readRaw (cfg, key) {
  const raw = await native.connect({ url: server.url, namespace: cfg.namespace })
  const info = await raw.get(key)
  await raw.close()
  return info.state === null ? null : info.state.toString()
}

test('releaseLock writes a changed value, also one changed in place, and keeps unchanged bytes as stored', async () => {
  const { a, cfg, close } = await twoInstances(server)
  const key = uniqueKey()
  // Nothing stored: releasing the null value stores JSON null (docs/STATE.md).
  let w = await a.acquireLock(key, 1000)
  assert.equal(await a.releaseLock(key, w), true)
  assert.equal(await readRaw(cfg, key), 'null')
  // An object mutated in place is the same reference as the one read: still written.
  w = await a.acquireLock(key, 1000)
  w.update({ n: 1 })
  assert.equal(await a.releaseLock(key, w), true)
  w = await a.acquireLock(key, 1000)
  w.value.n++
  assert.equal(await a.releaseLock(key, w), true)
  assert.equal(await readRaw(cfg, key), '{"n":2}')
  // Stored bytes that differ from the value's JSON (spacing) are rewritten as that JSON.
  await storeRaw(cfg, key, Buffer.from('{ "n": 2 }'))
  w = await a.acquireLock(key, 1000)
  assert.equal(await a.releaseLock(key, w), true)
  assert.equal(await readRaw(cfg, key), '{"n":2}')
  // A value whose JSON is exactly the stored bytes leaves them untouched, and reads the same.
  w = await a.acquireLock(key, 1000)
  assert.deepEqual(w.value, { n: 2 })
  assert.equal(await a.releaseLock(key, w), true)
  assert.equal(await readRaw(cfg, key), '{"n":2}')
  assert.deepEqual((await a.get(key)).value, { n: 2 })
  // lockId is read from the guard on demand: still the acquisition's own id.
  w = await a.acquireLock(key, 1000)
  assert.match(w.lockId, /^[0-9a-f]{32}$/)
  assert.equal(w.lockId, (await a.get(key)).holder.lockId)
  assert.equal(await a.releaseLock(key, w), true)
  await close()
})

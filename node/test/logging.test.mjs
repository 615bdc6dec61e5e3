// The core's log events reach Node: setLogger(fn, { level }), the `fencelock:log`
// diagnostics channel, level filtering, and stopping.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { FencelockError, LOG_CHANNEL, MemoryDistributedLock, setLogger, setLogLevel } from '../index.mjs'
import { sleep } from './helpers.mjs'

// Acquires `key` with a 150 ms lease and waits until the lock is lost: the core logs a
// warning "lock lost" with the key and token.
async function loseALock (lock, key) {
  // The lost signal does not keep Node alive (by design), so a timer does meanwhile.
  const keepAlive = setInterval(() => {}, 1000)
  try {
    const w = await lock.acquireLock(key, 1000, 150)
    await new Promise((resolve) => w.lost.addEventListener('abort', resolve, { once: true }))
    await sleep(50) // the record travels through the event loop
    return w
  } finally {
    clearInterval(keepAlive)
  }
}

test('a lost lock is logged to the logger and the diagnostics channel, with key and token', async () => {
  const lock = await MemoryDistributedLock.create({ namespace: 'log-lost', defaultLockDurationMs: 1000 })
  const records = []
  const published = []
  const onPublish = (r) => published.push(r)
  diagnosticsChannel.subscribe(LOG_CHANNEL, onPublish)
  try {
    setLogger((r) => records.push(r), { level: 'warn' })
    const w = await loseALock(lock, 'k')
    const lost = records.filter((r) => r.message === 'lock lost')
    assert.equal(lost.length, 1, JSON.stringify(records))
    assert.equal(lost[0].level, 'warn')
    assert.match(lost[0].target, /^fencelock/)
    assert.equal(lost[0].fields.key, 'k')
    assert.equal(lost[0].fields.token, String(w.fencingToken))
    assert.ok(published.some((r) => r.message === 'lock lost' && r.fields.key === 'k'))
    assert.ok(records.every((r) => ['error', 'warn'].includes(r.level)), 'nothing below warn')
  } finally {
    setLogger(null)
    diagnosticsChannel.unsubscribe(LOG_CHANNEL, onPublish)
  }
})

test('a level above the event, and setLogger(null), forward nothing', async () => {
  const lock = await MemoryDistributedLock.create({ namespace: 'log-off', defaultLockDurationMs: 1000 })
  const records = []
  setLogger((r) => records.push(r), { level: 'error' })
  await loseALock(lock, 'a')
  assert.deepEqual(records.filter((r) => r.message === 'lock lost'), [])
  setLogger((r) => records.push(r), { level: 'warn' })
  setLogger(null)
  await loseALock(lock, 'b')
  assert.deepEqual(records, [])
})

test('setLogLevel feeds the diagnostics channel alone; a throwing logger does not crash', async () => {
  const lock = await MemoryDistributedLock.create({ namespace: 'log-channel', defaultLockDurationMs: 1000 })
  const published = []
  const onPublish = (r) => published.push(r)
  diagnosticsChannel.subscribe(LOG_CHANNEL, onPublish)
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    setLogLevel('warn')
    await loseALock(lock, 'c')
    assert.ok(published.some((r) => r.message === 'lock lost' && r.fields.key === 'c'))
    setLogger(() => { throw new Error('logger broke') }, { level: 'warn' })
    await loseALock(lock, 'd')
    await sleep(20)
    assert.ok(warnings.some((w) => /logger broke/.test(w.message)), 'the throw is reported as a warning')
  } finally {
    setLogger(null)
    setLogLevel('off')
    process.off('warning', onWarning)
    diagnosticsChannel.unsubscribe(LOG_CHANNEL, onPublish)
  }
})

test('bad logger arguments are refused with a clear error', () => {
  assert.throws(() => setLogger('console'), (e) => e instanceof FencelockError && /function/.test(e.message))
  assert.throws(() => setLogger(() => {}, { level: 'loud' }), (e) => e instanceof FencelockError && /'warn'/.test(e.message))
  assert.throws(() => setLogLevel('verbose'), (e) => e instanceof FencelockError && /log level/.test(e.message))
})

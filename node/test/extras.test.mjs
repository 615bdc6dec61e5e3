// fencelock's additions to the Johnny Locke API: fencing tokens, AbortSignal, the lost
// signal, leader election, error codes, the memory and Redis factories, module formats,
// and the event loop staying free (and the process exiting) around native calls.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import * as esm from '../index.mjs'
import { FencelockError, MemoryDistributedLock, RedisDistributedLock, TimeoutError } from '../index.mjs'
import { useServer, sleep, twoInstances, uniqueKey } from './helpers.mjs'
import { makeCerts, redisServerBinary, startRedis, startRedisCluster } from './servers.mjs'

const server = useServer()
const here = path.dirname(fileURLToPath(import.meta.url))

test('fencing tokens are bigints that increase with every acquisition of a key', async () => {
  const { a, b, close } = await twoInstances(server)
  const key = uniqueKey()
  let last = 0n
  for (let i = 0; i < 4; i++) {
    const inst = i % 2 ? a : b
    const w = await inst.acquireLock(key, 1000)
    assert.equal(typeof w.fencingToken, 'bigint')
    assert.ok(w.fencingToken > last, `${w.fencingToken} > ${last}`)
    last = w.fencingToken
    assert.equal(w.key, key)
    assert.equal(w.status, 'held')
    assert.ok(w.remainingMs > 0 && w.remainingMs <= 5000)
    await inst.releaseLock(key, w)
    assert.equal(w.status, 'released')
  }
  await close()
})

test('an AbortSignal gives up acquireLock, withLock and wait with its reason', async () => {
  const { a, b, close } = await twoInstances(server)
  const key = uniqueKey()
  const held = await a.acquireLock(key, 1000)
  const ac = new AbortController()
  const pending = [
    b.acquireLock(key, 10_000, undefined, { signal: ac.signal }),
    b.withLock(key, 10_000, async () => 'never', undefined, { signal: ac.signal }),
    b.wait(key, 10_000, { signal: ac.signal })
  ]
  await sleep(100)
  const started = Date.now()
  ac.abort()
  for (const p of pending) await assert.rejects(p, (e) => e.name === 'AbortError')
  assert.ok(Date.now() - started < 1000, 'gave up promptly')
  // A custom reason comes back as is; an already aborted signal fails at once.
  const reason = new Error('shutting down')
  await assert.rejects(b.wait(key, 10_000, { signal: AbortSignal.abort(reason) }), (e) => e === reason)
  await assert.rejects(b.acquireLock(key, 10_000, undefined, { signal: AbortSignal.timeout(50) }), (e) => e.name === 'TimeoutError' && !(e instanceof TimeoutError))
  // Nothing was left behind: after the release the other instance gets the lock.
  await a.releaseLock(key, held.update('v'))
  const w = await b.acquireLock(key, 1000, undefined, { signal: new AbortController().signal })
  assert.equal(w.value, 'v')
  await b.releaseLock(key, w)
  await close()
})

test('the lost signal fires when the lease lapses, never after a release', async () => {
  const { a, b, close } = await twoInstances(server)
  const key = uniqueKey()
  const w = await a.acquireLock(key, 1000, 150)
  const fired = []
  w.onLost((reason) => fired.push(reason))
  assert.equal(w.lost.aborted, false)
  await new Promise((resolve) => w.lost.addEventListener('abort', resolve, { once: true }))
  assert.equal(w.status, 'lost')
  assert.equal(w.lost.reason.code, 'ERR_FENCELOCK_EXPIRED')
  await sleep(10)
  assert.equal(fired.length, 1)
  assert.equal(fired[0].code, 'ERR_FENCELOCK_EXPIRED')

  const w2 = await b.acquireLock(key, 1000, 150)
  let fired2 = false
  w2.onLost(() => { fired2 = true })
  await b.releaseLock(key, w2)
  await sleep(300)
  assert.equal(fired2, false)
  assert.equal(w2.lost.aborted, false)
  await close()
})

test('autoRenew keeps a lock past its lease until released', async () => {
  const { a, b, close } = await twoInstances(server, { defaultLockDurationMs: 300, autoRenew: true })
  const key = uniqueKey()
  const w = await a.acquireLock(key, 1000)
  await assert.rejects(b.acquireLock(key, 800), TimeoutError)
  assert.equal(w.status, 'held')
  assert.equal(await a.releaseLock(key, w.update('renewed')), true)
  assert.equal((await b.wait(key, 100)).value, 'renewed')
  await close()
})

test('leader election: one leader, its term, resign and hand-over', async () => {
  const { a, b, close } = await twoInstances(server, { defaultLockDurationMs: 1000 })
  const election = uniqueKey('election')
  assert.equal(await a.leader(election), null)
  const la = await a.campaign(election, { candidate: 'node-a' })
  assert.equal(la.isLeader, true)
  assert.equal(la.key, election)
  assert.equal(typeof la.term, 'bigint')
  assert.equal(await b.tryCampaign(election, { candidate: 'node-b' }), null)
  const seen = await b.leader(election)
  assert.equal(seen.label, 'node-a')
  assert.equal(seen.fencingToken, la.term)
  await assert.rejects(b.campaign(election, { candidate: 'node-b', timeoutMs: 1500 }), TimeoutError)
  assert.equal(la.isLeader, true, 'renewed past its 1 s lease')
  const next = b.campaign(election, { candidate: 'node-b', timeoutMs: 5000 })
  await sleep(50)
  assert.equal(await la.resign(), true)
  assert.equal(la.isLeader, false)
  const lb = await next
  assert.ok(lb.term > la.term)
  assert.equal((await a.leader(election)).label, 'node-b')
  await lb.resign()
  await close()
})

test('every error carries a stable code', async () => {
  const { a, close } = await twoInstances(server)
  const key = uniqueKey()
  const w = await a.acquireLock(key, 1000)
  const errors = await Promise.allSettled([
    a.acquireLock(key, 10),
    a.wait(key, 10),
    a.acquireLock('', 10),
    a.acquireLock(key, -1),
    a.releaseLock(key, w.update(1n))
  ])
  for (const r of errors) {
    assert.equal(r.status, 'rejected')
    assert.ok(r.reason instanceof FencelockError)
    assert.match(r.reason.code, /^ERR_FENCELOCK_[A-Z_]+$/)
    assert.doesNotMatch(r.reason.message, /^\[ERR_/, 'the code prefix is stripped from the message')
  }
  assert.deepEqual(Object.keys(esm.ErrorCodes).length > 10, true)
  await a.releaseLock(key, w.update(1))
  await close()
})

test('stats() counts acquisitions, try misses, timeouts and hold times per instance', async () => {
  const { a, b, close } = await twoInstances(server)
  const key = uniqueKey()
  for (let i = 0; i < 3; i++) {
    await a.releaseLock(key, await a.acquireLock(key, 1000))
  }
  const held = await b.acquireLock(key, 1000)
  assert.equal((await a.tryAcquireLock(key)).acquired, false)
  await assert.rejects(a.acquireLock(key, 100), TimeoutError)
  await b.releaseLock(key, held)
  const s = a.stats()
  assert.equal(s.acquisitions, 3)
  assert.equal(s.tryMisses, 1)
  assert.equal(s.timeouts, 1)
  assert.equal(s.wait.count, 3)
  assert.equal(s.hold.count, 3)
  assert.ok(s.hold.maxMs > 0 && s.hold.totalMs >= s.hold.maxMs)
  assert.equal(s.locksLost, 0)
  assert.equal(s.backendErrors, 0)
  assert.equal(b.stats().acquisitions, 1, 'per instance')
  await close()
  assert.equal(a.stats().acquisitions, 3, 'readable after close')
})

test('MemoryDistributedLock: instances of one namespace share locks in process', async () => {
  const cfg = { namespace: uniqueKey('mem'), defaultLockDurationMs: 1000 }
  const a = await MemoryDistributedLock.create(cfg)
  const b = await MemoryDistributedLock.create(cfg)
  const key = uniqueKey()
  const w = await a.acquireLock(key, 100)
  await assert.rejects(b.acquireLock(key, 50), TimeoutError)
  await a.releaseLock(key, w.update({ mem: true }))
  assert.deepEqual((await b.withLock(key, 100, async (s) => ({ ...s, n: 1 }))).value, { mem: true, n: 1 })
  await a.close()
  await b.close()
})

test('RedisDistributedLock maps ioredis-style options to a URL and names an unreachable server', async () => {
  const cfg = { namespace: 'n', defaultLockDurationMs: 1000 }
  await assert.rejects(RedisDistributedLock.create({ host: '127.0.0.1', port: 1, password: 'p@ss' }, cfg), (e) => {
    assert.ok(e instanceof FencelockError)
    assert.equal(e.code, 'ERR_FENCELOCK_BACKEND')
    assert.match(e.message, /127\.0\.0\.1:1/)
    assert.doesNotMatch(e.message, /p@ss/, 'no password in messages')
    return true
  })
  await assert.rejects(RedisDistributedLock.create({ tls: { ca: '-----BEGIN CERTIFICATE-----' } }, cfg), (e) => {
    assert.equal(e.code, 'ERR_FENCELOCK_INVALID_ARGUMENT')
    assert.match(e.message, /tls\.caFile/, 'the message gives the fix')
    return true
  })
  await assert.rejects(RedisDistributedLock.create({ sentinels: [], name: 'm' }, cfg), (e) => e.code === 'ERR_FENCELOCK_INVALID_ARGUMENT')
  await assert.rejects(RedisDistributedLock.create({ sentinels: [{ port: 1 }] }, cfg), (e) => e.code === 'ERR_FENCELOCK_INVALID_ARGUMENT')
  await assert.rejects(RedisDistributedLock.create([], cfg), (e) => e.code === 'ERR_FENCELOCK_INVALID_ARGUMENT')
  await assert.rejects(RedisDistributedLock.create(7, cfg), (e) => e.code === 'ERR_FENCELOCK_INVALID_ARGUMENT')
  // Sentinel options become a redis+sentinel:// URL: the error names the sentinel, not secrets.
  const sentinel = { sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'mymaster', password: 'p@ss', sentinelPassword: 's3cret' }
  await assert.rejects(RedisDistributedLock.create(sentinel, cfg), (e) => {
    assert.equal(e.code, 'ERR_FENCELOCK_BACKEND')
    assert.match(e.message, /127\.0\.0\.1:1/)
    assert.doesNotMatch(e.message, /p@ss|s3cret/, 'no password in messages')
    return true
  })
})

const noRedis = redisServerBinary() === null ? 'redis-server not installed' : false

test('RedisDistributedLock over TLS: a CA file from tls.caFile, and a clear error without it', { skip: noRedis }, async () => {
  const certs = makeCerts()
  const srv = await startRedis({ tls: certs })
  try {
    const cfg = { namespace: `tls-${randomUUID().slice(0, 8)}`, defaultLockDurationMs: 5000 }
    const lock = await RedisDistributedLock.create({ host: '127.0.0.1', port: srv.port, tls: { caFile: certs.caFile } }, cfg)
    const w = await lock.acquireLock('k', 1000)
    w.update({ over: 'tls' })
    assert.equal(await lock.releaseLock('k', w), true)
    assert.deepEqual((await lock.wait('k', 1000)).value, { over: 'tls' })
    await lock.close()
    // The URL form with the server's own CA works too; without the CA the certificate is refused.
    await assert.rejects(RedisDistributedLock.create({ host: '127.0.0.1', port: srv.port, tls: true }, cfg), (e) => e.code === 'ERR_FENCELOCK_BACKEND')
    await assert.rejects(RedisDistributedLock.create({ host: '127.0.0.1', port: srv.port }, cfg), (e) => e.code === 'ERR_FENCELOCK_BACKEND')
  } finally {
    await srv.stop()
    certs.remove()
  }
})

test('RedisDistributedLock on a Cluster: an array of nodes, keys on every master, exact counts', { skip: noRedis }, async () => {
  const cluster = await startRedisCluster()
  try {
    const cfg = { namespace: `cl-${randomUUID().slice(0, 8)}`, defaultLockDurationMs: 5000 }
    const a = await RedisDistributedLock.create(cluster.nodes, cfg)
    const b = await RedisDistributedLock.create(cluster.nodes.map((n) => `${n.host}:${n.port}`), cfg)
    const keys = Array.from({ length: 6 }, (_, i) => `counter-${i}`)
    await Promise.all(keys.flatMap((key) => [a, b].flatMap((lock) =>
      Array.from({ length: 5 }, () => lock.withLock(key, 10_000, async (v) => (v ?? 0) + 1)))))
    for (const key of keys) assert.equal((await a.wait(key, 1000)).value, 10, key)
    await Promise.all([a.close(), b.close()])
  } finally {
    await cluster.stop()
  }
})

test('require and import load the same classes', () => {
  const require = createRequire(import.meta.url)
  const cjs = require('..')
  assert.equal(cjs.TimeoutError, esm.TimeoutError)
  assert.equal(cjs.JetstreamDistributedLock, esm.JetstreamDistributedLock)
  assert.equal(typeof cjs.JetstreamDistributedLock.create, 'function')
  assert.ok(new esm.TimeoutError('x') instanceof Error)
})

test('the event loop keeps running while a call waits', async () => {
  // Not timed: while b waits for the lock, timers, immediates and another call's I/O must all
  // complete on this thread; a blocked loop would hang here (and the test time out).
  const { a, b, close } = await twoInstances(server)
  const key = uniqueKey()
  const w = await a.acquireLock(key, 1000)
  let settled = false
  const pending = b.acquireLock(key, 30000).finally(() => { settled = true })
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
  assert.equal(settled, false, 'b got the lock while a held it')
  assert.equal((await a.get(key)).holder !== null, true)
  await a.releaseLock(key, w)
  const w2 = await pending
  assert.ok(w2.fencingToken > w.fencingToken)
  await b.releaseLock(key, w2)
  await close()
})

test('worker threads: each drives its own calls, and terminating one with calls pending is safe', async () => {
  const { Worker } = await import('node:worker_threads')
  const key = uniqueKey()
  // Each worker takes the lock, leaves a wait pending and is terminated while it waits: the
  // core may still wake that call after the worker's environment is gone.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { JetstreamDistributedLock } = require(workerData.pkg)
    ;(async () => {
      const lock = await JetstreamDistributedLock.create(workerData.url, { namespace: workerData.ns, defaultLockDurationMs: 300 })
      const w = await lock.acquireLock(workerData.key, 5000)
      lock.wait(workerData.key, 60000).catch(() => {})
      parentPort.postMessage(w.fencingToken)
    })()
  `
  const ns = `wt-${uniqueKey()}`
  const tokens = []
  for (let i = 0; i < 3; i++) {
    const w = new Worker(code, { eval: true, workerData: { pkg: path.resolve(here, '..'), url: server.url, ns, key } })
    tokens.push(await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) }))
    await w.terminate()
  }
  assert.ok(tokens[0] < tokens[1] && tokens[1] < tokens[2], `tokens ${tokens} do not increase`)
  // This thread still works after the workers went away.
  const lock = await server.factory.create(server.url, { namespace: ns, defaultLockDurationMs: 1000 })
  const w = await lock.acquireLock(key, 5000)
  assert.ok(w.fencingToken > tokens[2])
  assert.equal(await lock.releaseLock(key, w), true)
  await lock.close()
})

test('the demo worker increments the shared counter with strictly increasing tokens', async () => {
  const worker = path.join(here, '..', 'demo-worker.mjs')
  const run = (name) => new Promise((resolve) => {
    const p = spawn(process.execPath, [worker, server.url, name, '5'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d) => { out += d })
    p.stderr.on('data', (d) => { out += d })
    p.on('exit', (code) => resolve({ code, out }))
  })
  const results = await Promise.all([run('w1'), run('w2')])
  for (const r of results) assert.equal(r.code, 0, r.out)
  const lines = results.flatMap((r) => r.out.trim().split('\n'))
  assert.equal(lines.length, 10)
  for (const l of lines) assert.match(l, /^w[12] token \d+ count \d+$/)
  const counts = lines.map((l) => Number(l.split(' ').pop())).sort((x, y) => x - y)
  assert.deepEqual(counts, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  const bad = await new Promise((resolve) => {
    const p = spawn(process.execPath, [worker, server.url], { stdio: 'ignore' })
    p.on('exit', resolve)
  })
  assert.notEqual(bad, 0, 'usage errors exit non-zero')
})

test('after close() nothing keeps the process alive', () => {
  const script = path.join(here, 'fixtures', 'exit-after-close.mjs')
  const started = Date.now()
  const r = spawnSync(process.execPath, [script, server.url], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`)
  assert.match(r.stdout, /closed/)
  assert.ok(Date.now() - started < 10_000)
})

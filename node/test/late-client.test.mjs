// A lock whose lease ended is free for every instance at once, also for one that never saw it
// held: the three scenarios of issue 12, on each backend (NATS, Redis, memory).

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { MemoryDistributedLock } from '../index.mjs'
import { backends, sleep, uniqueKey, useServer } from './helpers.mjs'

const memory = { name: 'memory', factory: MemoryDistributedLock, skip: false }

for (const backend of [...backends(), memory]) {
  describe(backend.name, { skip: backend.skip }, () => {
    const server = backend === memory ? { name: 'memory' } : useServer(backend)
    const config = (extra = {}) => ({ namespace: `late-${randomUUID().slice(0, 8)}`, defaultLockDurationMs: 2000, ...extra })
    // Instances are created when the test needs them: a late one never saw the key before.
    const instance = (cfg) => backend === memory
      ? MemoryDistributedLock.create(cfg)
      : backend.factory.create(server.url, cfg)

    test('tryAcquireLock gets a lock whose lease ended before this instance first looked', async () => {
      const cfg = config()
      const a = await instance(cfg)
      const key = uniqueKey()
      const w = await a.acquireLock(key, 1000, 1000)
      assert.equal(await a.releaseLock(key, w.update({ n: 1 })), true)
      const held = await a.acquireLock(key, 1000, 1000)
      await sleep(1300)
      const b = await instance(cfg)
      const got = await b.tryAcquireLock(key)
      assert.equal(got.acquired, true)
      assert.deepEqual(got.value.value, { n: 1 })
      assert.ok(got.value.fencingToken > held.fencingToken)
      assert.equal(await a.releaseLock(key, held.update({ n: 'stale' })), false)
      assert.equal(await b.releaseLock(key, got.value), true)
      await Promise.all([a.close(), b.close()])
    })

    test('acquireLock called late in the default lease gets the lock when the lease ends', async () => {
      const cfg = config() // default lease 2 s
      const a = await instance(cfg)
      const b = await instance(cfg)
      const key = uniqueKey()
      const t0 = performance.now()
      const held = await a.acquireLock(key, 1000) // kept: a collected handle releases its lock
      await sleep(1800 - (performance.now() - t0))
      const w = await b.acquireLock(key, 1000)
      const at = performance.now() - t0
      assert.ok(at >= 1995, `taken over ${at} ms into a 2 s lease`)
      assert.ok(at < 2600, `taken over only at ${at} ms`)
      assert.equal(await b.releaseLock(key, w), true)
      assert.equal(await a.releaseLock(key, held), false)
      await Promise.all([a.close(), b.close()])
    })

    test('after a release that came too late, wait returns the unchanged value at once', async () => {
      const cfg = config()
      const a = await instance(cfg)
      const key = uniqueKey()
      await a.releaseLock(key, (await a.acquireLock(key, 1000, 300)).update({ v: 'old' }))
      const w = await a.acquireLock(key, 1000, 300)
      await sleep(450)
      assert.equal(await a.releaseLock(key, w.update({ v: 'new' })), false)
      const b = await instance(cfg)
      const t = performance.now()
      const r = await b.wait(key, 100)
      assert.deepEqual(r.value, { v: 'old' })
      assert.ok(performance.now() - t < 100)
      await Promise.all([a.close(), b.close()])
    })

    if (backend.name === 'nats') {
      test('clockFree: true keeps the observation rule on a new server', async () => {
        const cfg = config({ clockFree: true })
        const a = await instance(cfg)
        const key = uniqueKey()
        const held = await a.acquireLock(key, 1000, 300) // kept: a collected handle releases its lock
        await sleep(450)
        const b = await instance(cfg)
        assert.equal((await b.tryAcquireLock(key)).acquired, false)
        const t = performance.now()
        const w = await b.acquireLock(key, 2000)
        assert.ok(performance.now() - t >= 250)
        assert.equal(await b.releaseLock(key, w), true)
        assert.equal(await a.releaseLock(key, held), false)
        await Promise.all([a.close(), b.close()])
      })

      test("storage: 'memory' creates a memory bucket; a mismatch with an existing one is refused", async () => {
        const cfg = config({ storage: 'memory' })
        const a = await instance(cfg)
        const key = uniqueKey()
        const w = await a.acquireLock(key, 1000)
        assert.equal(await a.releaseLock(key, w.update({ ok: true })), true)
        await assert.rejects(instance({ ...cfg, storage: 'file' }), (e) => {
          assert.equal(e.code, 'ERR_FENCELOCK_INVALID_ARGUMENT')
          assert.match(e.message, /Memory storage but File was asked for/)
          return true
        })
        const same = await instance(cfg)
        assert.deepEqual((await same.wait(key, 1000)).value, { ok: true })
        await Promise.all([a.close(), same.close()])
      })
    }
  })
}

test('config.storage and config.clockFree are checked', async () => {
  for (const bad of [{ storage: 'disk' }, { storage: 1 }, { clockFree: 'yes' }]) {
    await assert.rejects(MemoryDistributedLock.create({ namespace: 'n', defaultLockDurationMs: 1000, ...bad }), (e) => {
      assert.equal(e.code, 'ERR_FENCELOCK_INVALID_ARGUMENT')
      assert.match(e.message, /config\.(storage|clockFree)/)
      return true
    })
  }
})

// Every Johnny Locke behaviour, against real servers of each backend, with two instances
// standing in for two processes.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { TimeoutError } from '../index.mjs'
import { backends, sleep, twoInstances, uniqueKey, useServer } from './helpers.mjs'

for (const backend of backends()) {
  describe(backend.name, { skip: backend.skip }, () => {
    const server = useServer(backend)

    test('acquireLock returns null for a new object and the stored value otherwise', async () => {
      const { a, close } = await twoInstances(server)
      const key = uniqueKey()
      const w = await a.acquireLock(key, 1000)
      assert.equal(w.value, null)
      assert.match(w.lockId, /^[0-9a-f]{32}$/)
      assert.equal(await a.releaseLock(key, w.update({ n: 1, s: 'x' })), true)
      const w2 = await a.acquireLock(key, 1000)
      assert.deepEqual(w2.value, { n: 1, s: 'x' })
      assert.notEqual(w2.lockId, w.lockId)
      assert.equal(await a.releaseLock(key, w2), true)
      await close()
    })

    test('acquireLock throws TimeoutError while another instance holds the lock', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      const w = await a.acquireLock(key, 1000)
      const started = Date.now()
      await assert.rejects(b.acquireLock(key, 200), (e) => {
        assert.ok(e instanceof TimeoutError)
        assert.ok(e instanceof Error)
        assert.equal(e.name, 'TimeoutError')
        assert.equal(e.code, 'ERR_FENCELOCK_TIMEOUT')
        assert.equal(e.key, key)
        assert.match(e.message, new RegExp(key))
        return true
      })
      assert.ok(Date.now() - started >= 190, 'waited for the timeout')
      await a.releaseLock(key, w)
      await close()
    })

    test('the second instance gets the lock and the updated value after release', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      const w = await a.acquireLock(key, 1000)
      const waiting = b.acquireLock(key, 5000)
      await sleep(100)
      assert.equal(await a.releaseLock(key, w.update('from a')), true)
      const w2 = await waiting
      assert.equal(w2.value, 'from a')
      assert.ok(w2.fencingToken > w.fencingToken)
      await b.releaseLock(key, w2)
      await close()
    })

    test('a lock expires after its lease (default lock duration)', async () => {
      const { a, b, close } = await twoInstances(server, { defaultLockDurationMs: 400 })
      const key = uniqueKey()
      const w = await a.acquireLock(key, 1000)
      await a.releaseLock(key, w.update(1))
      await a.acquireLock(key, 1000) // held and never released
      const started = Date.now()
      const w2 = await b.acquireLock(key, 3000)
      const waited = Date.now() - started
      assert.ok(waited >= 300, `took over only after the lease, waited ${waited} ms`)
      assert.equal(w2.value, 1)
      await b.releaseLock(key, w2)
      await close()
    })

    test('a custom lockDuration is honoured', async () => {
      const { a, b, close } = await twoInstances(server, { defaultLockDurationMs: 30_000 })
      const key = uniqueKey()
      await a.acquireLock(key, 1000, 300)
      await assert.rejects(b.acquireLock(key, 100), TimeoutError)
      const w2 = await b.acquireLock(key, 2000)
      assert.equal(w2.value, null)
      await b.releaseLock(key, w2)
      // tryAcquireLock's lockDuration too: a waiter takes over after 200 ms, not 30 s.
      const t = await a.tryAcquireLock(key, 200)
      assert.equal(t.acquired, true)
      const started = Date.now()
      const w3 = await b.acquireLock(key, 3000)
      assert.ok(Date.now() - started >= 150)
      await b.releaseLock(key, w3)
      await close()
    })

    test('two instances keep data consistent', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      for (let i = 0; i < 6; i++) {
        const inst = i % 2 === 0 ? a : b
        const w = await inst.acquireLock(key, 2000)
        assert.deepEqual(w.value, i === 0 ? null : { i: i - 1 })
        assert.equal(await inst.releaseLock(key, w.update({ i })), true)
      }
      assert.deepEqual((await a.wait(key, 100)).value, { i: 5 })
      assert.deepEqual((await b.wait(key, 100)).value, { i: 5 })
      await close()
    })

    test('tryAcquireLock: acquired true, then false while held', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      const first = await a.tryAcquireLock(key)
      assert.equal(first.acquired, true)
      assert.equal(first.value.value, null)
      const second = await b.tryAcquireLock(key)
      assert.deepEqual(second, { acquired: false, value: undefined })
      assert.equal(await a.releaseLock(key, first.value.update([1, 2])), true)
      const third = await b.tryAcquireLock(key)
      assert.equal(third.acquired, true)
      assert.deepEqual(third.value.value, [1, 2])
      await b.releaseLock(key, third.value)
      await close()
    })

    test('withLock writes the callback result and returns it', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      const r1 = await a.withLock(key, 1000, async (state) => {
        assert.equal(state, null)
        return { count: 1 }
      })
      assert.deepEqual(r1.value, { count: 1 })
      const r2 = await b.withLock(key, 1000, async (state) => ({ count: state.count + 1 }))
      assert.deepEqual(r2.value, { count: 2 })
      await close()
    })

    test('withLock releases the lock when the callback throws, rethrowing its error', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      await a.withLock(key, 1000, async () => 'kept')
      const boom = new Error('boom')
      await assert.rejects(a.withLock(key, 1000, async () => { throw boom }), (e) => e === boom)
      // Synchronous throws too.
      await assert.rejects(a.withLock(key, 1000, () => { throw boom }), (e) => e === boom)
      const t = await b.tryAcquireLock(key)
      assert.equal(t.acquired, true, 'released after the throw')
      assert.equal(t.value.value, 'kept', 'state unchanged')
      await b.releaseLock(key, t.value)
      await close()
    })

    test('a withLock callback that overruns its lease gives TimeoutError and writes nothing', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      await a.withLock(key, 1000, async () => 'before')
      let finished = false
      await assert.rejects(
        a.withLock(key, 1000, async () => {
          await sleep(400)
          finished = true
          return 'too late'
        }, 150),
        (e) => e instanceof TimeoutError && e.code === 'ERR_FENCELOCK_TIMEOUT' && e.key === key
      )
      assert.equal((await b.wait(key, 2000)).value, 'before')
      await sleep(400)
      assert.equal(finished, true)
      assert.equal((await b.wait(key, 2000)).value, 'before', 'the late result was never written')
      await close()
    })

    test('10 concurrent withLock increments over two instances end at exactly 10', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      const runs = Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).withLock(key, 10_000, async (n) => {
          await sleep(5)
          return (n ?? 0) + 1
        })
      )
      const results = await Promise.all(runs)
      assert.deepEqual(results.map((r) => r.value).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      assert.equal((await a.wait(key, 100)).value, 10)
      await close()
    })

    test('wait returns the released value and throws TimeoutError while held', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      assert.equal((await b.wait(key, 100)).value, null, 'a new key is free')
      const w = await a.acquireLock(key, 1000)
      await assert.rejects(b.wait(key, 150), (e) => e instanceof TimeoutError && e.key === key)
      const waiting = b.wait(key, 5000)
      await sleep(50)
      await a.releaseLock(key, w.update({ done: true }))
      assert.deepEqual((await waiting).value, { done: true })
      // wait does not take the lock.
      assert.equal((await a.tryAcquireLock(key)).acquired, true)
      await close()
    })

    test('releaseLock after expiry returns false and keeps the old value', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      await a.withLock(key, 1000, async () => 'old')
      const w = await a.acquireLock(key, 1000, 150)
      await sleep(300)
      assert.equal(await a.releaseLock(key, w.update('new')), false)
      assert.equal((await b.wait(key, 1000)).value, 'old')
      // Also when another instance took over in between.
      const w2 = await a.acquireLock(key, 1000, 150)
      await sleep(200)
      const w3 = await b.acquireLock(key, 1000)
      assert.equal(await a.releaseLock(key, w2.update('stale')), false)
      assert.equal(await b.releaseLock(key, w3.update('fresh')), true)
      assert.equal((await a.wait(key, 1000)).value, 'fresh')
      await close()
    })

    test('delete removes the value and the lock', async () => {
      const { a, b, close } = await twoInstances(server)
      const key = uniqueKey()
      await a.withLock(key, 1000, async () => ({ v: 1 }))
      assert.equal(await a.delete(key), true)
      assert.equal((await b.wait(key, 100)).value, null)
      const w = await b.acquireLock(key, 100)
      assert.equal(w.value, null)
      // Deleting a held lock frees it: the holder's release then writes nothing.
      assert.equal(await a.delete(key), true)
      const w2 = await a.acquireLock(key, 1000)
      assert.equal(await b.releaseLock(key, w.update('stale')), false)
      assert.equal(await a.releaseLock(key, w2.update('ok')), true)
      assert.equal((await b.wait(key, 100)).value, 'ok')
      await close()
    })
  })
}

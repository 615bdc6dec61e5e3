// Contention on a replicated (R3) NATS bucket: the cluster's refusals of a compare-and-set are
// conflicts, so contending tasks wait for the lock and never reject with a backend error.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { JetstreamDistributedLock } from '../index.mjs'
import { startNatsCluster } from './servers.mjs'

const INSTANCES = 2
const TASKS_PER_INSTANCE = 4
const ROUNDS = 10

let cluster
before(async () => { cluster = await startNatsCluster() })
after(async () => { await cluster?.stop() })

test('two instances with several tasks each count exactly on an R3 bucket, without errors', async () => {
  const cfg = { namespace: `r3-${randomUUID().slice(0, 8)}`, defaultLockDurationMs: 10_000, replication: 3 }
  const instances = []
  for (let i = 0; i < INSTANCES; i++) {
    instances.push(await JetstreamDistributedLock.create({ servers: cluster.urls }, cfg))
  }
  const errors = []
  const task = async (lock) => {
    for (let r = 0; r < ROUNDS; r++) {
      try {
        await lock.withLock('counter', 30_000, async (n) => (n ?? 0) + 1)
      } catch (e) {
        errors.push(e)
      }
    }
  }
  try {
    await Promise.all(instances.flatMap((lock) => Array.from({ length: TASKS_PER_INSTANCE }, () => task(lock))))
    assert.deepEqual(errors.map((e) => e.message).slice(0, 3), [])
    const total = INSTANCES * TASKS_PER_INSTANCE * ROUNDS
    const { value } = await instances[0].get('counter')
    assert.equal(value, total)
  } finally {
    await Promise.all(instances.map((lock) => lock.close()))
  }
})

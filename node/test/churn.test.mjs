// Lock churn leaves nothing behind in the native layer (`make soak` measures the memory;
// these tests count native objects through the addon's test-only `_internalCounts()`).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'
import vm from 'node:vm'
import { MemoryDistributedLock } from '../index.mjs'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
const binding = createRequire(import.meta.url)('../binding.js')
const counts = () => binding._internalCounts()

// The memory backend answers on the first poll, so each promise is settled at once and a loop
// of lock cycles never returns to the event loop. Node frees collected guards only from the
// event loop: before the fix, such a loop kept every guard it made (about 1 KiB each).
test('a loop of lock cycles that never yields to the event loop does not keep every guard', async () => {
  const lock = await MemoryDistributedLock.create({ namespace: 'churn-sync', defaultLockDurationMs: 30_000 })
  const before = counts().liveGuards
  const cycles = 4000
  for (let i = 0; i < cycles; i++) {
    const key = `k${i % 64}`
    const w = await lock.acquireLock(key, 1000)
    assert.equal(await lock.releaseLock(key, w), true)
    if (i === 3000) gc() // what GC finds here must be freed while the loop still runs
  }
  const alive = counts().liveGuards - before
  assert.ok(alive < 2000, `${alive} of ${cycles} guards still alive (the loop kept them all)`)
  await lock.close()
})

test('every call settles: no pending call is left after a burst of concurrent calls', async () => {
  const lock = await MemoryDistributedLock.create({ namespace: 'churn-burst', defaultLockDurationMs: 30_000 })
  const calls = []
  for (let i = 0; i < 1000; i++) calls.push(lock.withLock(`k${i % 8}`, 5000, (n) => (n ?? 0) + 1))
  await Promise.all(calls)
  const total = await Promise.all([...Array(8).keys()].map((k) => lock.wait(`k${k}`, 1000)))
  assert.equal(total.reduce((a, r) => a + r.value, 0), 1000)
  assert.equal(counts().pendingCalls, 0)
  await lock.close()
})

// The 257th call in a row that completes at once is settled after an event-loop turn; once it
// is, nothing may keep Node running (a script whose last call was such a one hung at exit).
test('a script whose last call was settled after a loop turn exits', () => {
  const index = fileURLToPath(new URL('../index.mjs', import.meta.url))
  const script = `
    import { MemoryDistributedLock } from ${JSON.stringify(index)}
    const lock = await MemoryDistributedLock.create({ namespace: 'exit', defaultLockDurationMs: 30000 })
    for (let i = 0; i < 257; i++) await lock.get('k')
    console.log('done')`
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' })
  assert.equal(run.stdout.trim(), 'done', run.stderr)
  assert.equal(run.status, 0, `exit status ${run.status} (${run.signal ?? 'no signal'}): the process did not exit by itself`)
})

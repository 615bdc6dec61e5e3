// Soak worker (`make soak`): node --expose-gc soak.mjs URL CYCLES NAMESPACE
// Runs the soak's mixed loop through the Johnny Locke API and prints `rss 10 <KiB>` and
// `rss 100 <KiB>` (after a full GC) at 10 % and 100 % of the cycles, then `ok`. Per 8 cycles:
// 4 acquireLock + releaseLock, 2 withLock increments, 1 tryAcquireLock on a key another client
// holds, 1 wait on a free key (the same mix as every binding's worker).

import { readFileSync } from 'node:fs'
import { JetstreamDistributedLock, RedisDistributedLock, MemoryDistributedLock } from '../index.mjs'

const [url, cyclesArg, ns] = process.argv.slice(2)
const cycles = Number(cyclesArg)
if (!url || !ns || !Number.isInteger(cycles) || cycles < 10) {
  console.error('usage: node --expose-gc soak.mjs URL CYCLES NAMESPACE')
  process.exit(2)
}
const KEYS = 64
const HELD_KEY = 'soak-held'
const TIMEOUT = 10_000

function open () {
  // Renewed, so the key held for the whole run stays held however long the run takes.
  const config = { namespace: ns, defaultLockDurationMs: 30_000, autoRenew: true }
  if (url.startsWith('memory:')) return MemoryDistributedLock.create(config)
  if (url.startsWith('redis')) return RedisDistributedLock.create(url, config)
  return JetstreamDistributedLock.create({ servers: url }, config)
}

// A few full collections with event-loop turns between them, so that objects whose native
// side Node frees from the event loop (finalizers) are gone before RSS is read.
async function mark (percent) {
  for (let k = 0; k < 3; k++) {
    if (typeof global.gc === 'function') global.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const kib = readFileSync('/proc/self/status', 'utf8').match(/^VmRSS:\s+(\d+)/m)[1]
  console.log(`rss ${percent} ${kib}`)
}

async function main () {
  const started = Date.now()
  const client = await open()
  const other = await open()
  const held = await other.acquireLock(HELD_KEY, TIMEOUT)
  for (let i = 0; i < cycles; i++) {
    const key = `soak-${i % KEYS}`
    const step = i % 8
    if (step < 4) {
      const w = await client.acquireLock(key, TIMEOUT)
      if (i % 2 === 0) w.update(i)
      if (!(await client.releaseLock(key, w))) throw new Error(`release of ${key} at cycle ${i} found the lock lost`)
    } else if (step < 6) {
      await client.withLock(key, TIMEOUT, (s) => (typeof s === 'number' ? s : 0) + 1)
    } else if (step === 6) {
      const r = await client.tryAcquireLock(HELD_KEY)
      if (r.acquired) throw new Error('tryAcquireLock took a key another client holds')
    } else {
      await client.wait(key, TIMEOUT)
    }
    if (i + 1 === Math.floor(cycles / 10)) await mark(10)
  }
  await mark(100)
  await other.releaseLock(HELD_KEY, held)
  await client.close()
  await other.close()
  console.log(`ok ${cycles} ${Date.now() - started}`)
}

main().catch((e) => {
  console.error(`soak worker on ${url} failed:`, e)
  process.exit(1)
})

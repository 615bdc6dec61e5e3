// W1-W4 (docs/ARCHITECTURE.md) from Node beside the Rust core's figures, in one run on one server:
//   node bench/bench.mjs [--seconds S] [--url nats://...] [--no-core]
// Starts its own nats-server unless --url is given, runs the core's bench
// (`cargo run --release -p fencelock-bench -- --only W1,W2,W3,W4 --url ...`) against it,
// then the same workloads through this package, and prints one table with the Node/core
// ratio of W1 latency (target <= 1.3), from alternating core and Node W1 runs.

import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import native from '../binding.js'
import { JetstreamDistributedLock } from '../index.mjs'
import { startNats } from '../test/servers.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    url: { type: 'string' },
    'no-core': { type: 'boolean', default: false }
  }
})
const seconds = Number(args.seconds)
const KEYS = 64
const ACQUIRE_TIMEOUT = 30_000

const now = () => performance.now()
const fmtRate = (n, ms) => `${Math.round((n * 1000) / ms)} /s`
const fmtUs = (ms) => `${(ms * 1000).toFixed(0)} us`

async function config () {
  return { namespace: `fencelock_node_bench_${randomUUID().slice(0, 8)}`, defaultLockDurationMs: 30_000 }
}

// W1 through the Johnny Locke API: one loop, acquireLock + releaseLock, 64 rotating keys.
async function w1 (lock, ms) {
  const keys = Array.from({ length: KEYS }, (_, i) => `seq-${i}`)
  const end = now() + ms
  let n = 0
  const start = now()
  while (now() < end) {
    const key = keys[n % KEYS]
    const w = await lock.acquireLock(key, ACQUIRE_TIMEOUT)
    if (!(await lock.releaseLock(key, w))) throw new Error(`W1: release of ${key} reported the lock lost`)
    n++
  }
  return { n, ms: now() - start }
}

// W1 on the addon itself (no JSON, no JS wrapper), to show where time goes.
async function w1Addon (client, ms) {
  const keys = Array.from({ length: KEYS }, (_, i) => `raw-${i}`)
  const end = now() + ms
  let n = 0
  const start = now()
  while (now() < end) {
    const g = await client.acquire(keys[n % KEYS], ACQUIRE_TIMEOUT)
    if (!(await g.release())) throw new Error('W1 (addon): release reported the lock lost')
    n++
  }
  return { n, ms: now() - start }
}

// W2: 2 instances x 8 tasks, withLock increments of one counter; the final value must be exact.
async function w2 (locks, ms) {
  const key = `counter-${randomUUID()}`
  const end = now() + ms
  const start = now()
  const tasks = locks.flatMap((lock) => Array.from({ length: 8 }, async () => {
    let n = 0
    while (now() < end) {
      await lock.withLock(key, ACQUIRE_TIMEOUT, async (v) => (v ?? 0) + 1)
      n++
    }
    return n
  }))
  const counts = await Promise.all(tasks)
  const elapsed = now() - start
  const n = counts.reduce((a, b) => a + b, 0)
  const final = (await locks[0].wait(key, 1000)).value
  if (final !== n) throw new Error(`W2: counter is ${final} after ${n} increments`)
  return { n, ms: elapsed, final }
}

// W3: A holds, B waits in acquireLock; time from A's release call to B's acquire resolving.
async function w3 (a, b, reps) {
  const key = `handoff-${randomUUID()}`
  const lat = []
  let holder = a
  let held = await a.acquireLock(key, ACQUIRE_TIMEOUT)
  for (let i = 0; i < reps; i++) {
    const waiter = holder === a ? b : a
    let acquiredAt
    const waiting = waiter.acquireLock(key, ACQUIRE_TIMEOUT).then((w) => { acquiredAt = now(); return w })
    await new Promise((resolve) => setTimeout(resolve, 20)) // let the waiter settle into its wait
    const releasedAt = now()
    if (!(await holder.releaseLock(key, held))) throw new Error('W3: release reported the lock lost')
    held = await waiting
    lat.push(acquiredAt - releasedAt)
    holder = waiter
  }
  await holder.releaseLock(key, held)
  lat.sort((x, y) => x - y)
  return { p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)] }
}

// W4: 64 tasks on distinct keys over one instance.
async function w4 (lock, ms) {
  const end = now() + ms
  const start = now()
  const counts = await Promise.all(Array.from({ length: KEYS }, async (_, i) => {
    const key = `par-${i}`
    let n = 0
    while (now() < end) {
      const w = await lock.acquireLock(key, ACQUIRE_TIMEOUT)
      if (!(await lock.releaseLock(key, w))) throw new Error(`W4: release of ${key} reported the lock lost`)
      n++
    }
    return n
  }))
  return { n: counts.reduce((a, b) => a + b, 0), ms: now() - start }
}

// The core's own bench on the same server; returns its output and its W1 cycle latency (ms).
function coreBench (url, only = 'W1,W2,W3,W4') {
  const r = spawnSync('cargo', ['run', '--quiet', '--release', '-p', 'fencelock-bench', '--', '--only', only, '--url', url], {
    cwd: path.resolve(here, '../..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24
  })
  if (r.status !== 0) return { output: `(core bench failed with status ${r.status})\n${r.stdout ?? ''}`, w1Ms: null }
  // "W1: 462.1 us per acquire+release vs ...", else the table's "| W1 ... | 2164 cycles/s |".
  const perCycle = /^W1: ([\d.]+) us per acquire\+release/m.exec(r.stdout)
  if (perCycle) return { output: r.stdout, w1Ms: Number(perCycle[1]) / 1000 }
  const rate = /^\|\s*W1[^|]*\|\s*([\d.]+) cycles\/s/m.exec(r.stdout)
  return { output: r.stdout, w1Ms: rate ? 1000 / Number(rate[1]) : null }
}

async function main () {
  const server = args.url ? null : await startNats()
  const url = args.url ?? server.url
  try {
    let core = { output: '(skipped: --no-core)', w1Ms: null }
    if (!args['no-core']) core = coreBench(url)
    console.log('--- Rust core (fencelock-bench) ---')
    console.log(core.output.trim())

    const cfg = await config()
    const a = await JetstreamDistributedLock.create(url, cfg)
    const b = await JetstreamDistributedLock.create(url, cfg)
    const client = await native.connect({ url, namespace: cfg.namespace, renew: false })
    const ms = seconds * 1000
    // Warm up connections, buckets and the JIT before measuring.
    await w1(a, 300)
    await w1Addon(client, 300)
    const r1 = await w1(a, ms)
    const r1a = await w1Addon(client, ms)
    const r2 = await w2([a, b], ms)
    const r3 = await w3(a, b, Math.max(20, Math.round(seconds * 20)))
    const r4 = await w4(a, ms)

    // The machine may be shared: alternate short core and Node W1 runs and compare medians,
    // so both see the same background load.
    const pairs = []
    if (!args['no-core']) {
      for (let i = 0; i < 4; i++) {
        const c = coreBench(url, 'W1').w1Ms
        const n = await w1(a, 3000)
        if (c !== null) pairs.push({ core: c, node: n.ms / n.n })
      }
    }
    await Promise.all([a.close(), b.close(), client.close()])
    const median = (xs) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)]
    const w1Ms = r1.ms / r1.n
    const rows = [
      ['W1 uncontended (JL API)', fmtRate(r1.n, r1.ms), `${fmtUs(w1Ms)} per cycle`],
      ['W1 uncontended (addon)', fmtRate(r1a.n, r1a.ms), `${fmtUs(r1a.ms / r1a.n)} per cycle`],
      ['W2 contended withLock 2x8', fmtRate(r2.n, r2.ms), `final ${r2.final} (exact)`],
      ['W3 handoff', `p50 ${fmtUs(r3.p50)}`, `p99 ${fmtUs(r3.p99)}`],
      ['W4 64 parallel keys', fmtRate(r4.n, r4.ms), '']
    ]
    console.log(`\n--- Node ${process.version} (this package), ${seconds} s per workload, same server ---`)
    console.log('| workload | rate / latency | detail |')
    console.log('|---|---|---|')
    for (const r of rows) console.log(`| ${r.join(' | ')} |`)
    if (core.w1Ms !== null) {
      console.log(`\nW1 latency, long runs above: Node ${fmtUs(w1Ms)} vs core ${fmtUs(core.w1Ms)} = ${(w1Ms / core.w1Ms).toFixed(2)}x`)
    }
    if (pairs.length > 0) {
      for (const p of pairs) console.log(`  alternating pair: core ${fmtUs(p.core)}, Node ${fmtUs(p.node)} = ${(p.node / p.core).toFixed(2)}x`)
      const ratio = median(pairs.map((p) => p.node)) / median(pairs.map((p) => p.core))
      console.log(`W1 latency ratio (medians of ${pairs.length} alternating pairs): ${ratio.toFixed(2)}x (target <= 1.3x): ${ratio <= 1.3 ? 'PASS' : 'MISS'}`)
    } else {
      console.log('W1 ratio: no core figure (core bench skipped or unparsable)')
    }
  } finally {
    await server?.stop()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})

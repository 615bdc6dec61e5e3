// W1-W4 (docs/BENCHMARKS.md) from Node beside the Rust core, in one process, on one server per
// backend:
//   node bench/bench.mjs [--backend nats|redis|all] [--rounds N] [--seconds S] [--w3-reps N]
//                        [--url nats://...] [--redis-url redis://...]
// Starts its own nats-server and redis-server unless given URLs. Each workload runs in rounds;
// in every round the core (the addon's hidden `_benchCore*` functions: `fencelock-bench`'s loops,
// run on the core runtime while the JS thread waits) and this package (the Johnny Locke API)
// each take one turn, the order alternating between rounds, so that load from elsewhere on a
// shared machine hits both alike. A figure is the median over the rounds of the per-round
// Node/core ratio, with its range (min-max).
// Targets (issue 18): W1 latency <= 1.3x the core's, W3 p50 <= 1.2x, W2 and W4 rates >= 0.85x.

import { execSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import native from '../binding.js'
import { JetstreamDistributedLock, RedisDistributedLock } from '../index.mjs'
import { startNats, startRedis, redisServerBinary } from '../test/servers.mjs'

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'all' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '1' },
    'w3-reps': { type: 'string', default: '20' },
    url: { type: 'string' },
    'redis-url': { type: 'string' }
  }
})
const ROUNDS = Number(args.rounds)
const SECONDS = Number(args.seconds)
const W3_REPS = Number(args['w3-reps'])
const KEYS = 64
const W2_TASKS = 8 // per instance, 2 instances, as the core's W2
const W3_SETTLE_MS = 5 // the core's too
const ACQUIRE_TIMEOUT = 30_000

const now = () => performance.now()
const median = (xs) => {
  const s = xs.slice().sort((x, y) => x - y)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const pct = (xs, p) => {
  const s = xs.slice().sort((x, y) => x - y)
  return s[Math.round((s.length - 1) * p)]
}

// W1 through the Johnny Locke API: one loop, acquireLock + releaseLock, 64 rotating keys.
async function w1 (lock, ms) {
  const keys = Array.from({ length: KEYS }, (_, i) => `w1-${i}`)
  const start = now()
  const end = start + ms
  let n = 0
  while (now() < end) {
    const key = keys[n % KEYS]
    const w = await lock.acquireLock(key, ACQUIRE_TIMEOUT)
    if (!(await lock.releaseLock(key, w))) throw new Error(`W1: release of ${key} reported the lock lost`)
    n++
  }
  return { n, ms: now() - start }
}

// W1 on the addon itself (no JSON, no JS wrapper): where the time goes.
async function w1Addon (client, ms) {
  const keys = Array.from({ length: KEYS }, (_, i) => `addon-${i}`)
  const start = now()
  const end = start + ms
  let n = 0
  while (now() < end) {
    const g = await client.acquire(keys[n % KEYS], ACQUIRE_TIMEOUT)
    if (!(await g.release())) throw new Error('W1 (addon): release reported the lock lost')
    n++
  }
  return { n, ms: now() - start }
}

// W2: 2 instances x 8 tasks, withLock increments of one counter; exact at the end.
async function w2 (locks, key, ms) {
  const start = now()
  const end = start + ms
  const counts = await Promise.all(locks.flatMap((lock) => Array.from({ length: W2_TASKS }, async () => {
    let n = 0
    while (now() < end) {
      await lock.withLock(key, ACQUIRE_TIMEOUT, async (v) => (v ?? 0) + 1)
      n++
    }
    return n
  })))
  return { n: counts.reduce((a, b) => a + b, 0), ms: now() - start }
}

// W3: A holds, B waits in acquireLock (settled 5 ms into its wait), A releases; the time from
// A's release call to B's acquireLock resolving. `state` carries the holder across rounds.
async function w3 (state, reps) {
  const { locks, key } = state
  const lat = []
  for (let i = 0; i < reps; i++) {
    const waiter = 1 - state.who
    let acquiredAt
    const waiting = locks[waiter].acquireLock(key, ACQUIRE_TIMEOUT).then((w) => { acquiredAt = now(); return w })
    await new Promise((resolve) => setTimeout(resolve, W3_SETTLE_MS))
    if (acquiredAt !== undefined) throw new Error('W3: the waiter acquired while the lock was held')
    const releasedAt = now()
    if (!(await locks[state.who].releaseLock(key, state.held))) throw new Error('W3: release reported the lock lost')
    state.held = await waiting
    lat.push(acquiredAt - releasedAt)
    state.who = waiter
  }
  return lat
}

// W4: 64 loops on distinct keys over one instance.
async function w4 (lock, ms, prefix = 'w4-') {
  const start = now()
  const end = start + ms
  const counts = await Promise.all(Array.from({ length: KEYS }, async (_, i) => {
    const key = `${prefix}${i}`
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

// One figure per round, for the core and for Node: W1 us per cycle, W2/W4 per second, W3 p50 us.
function core (workload, amount) {
  const r = native._benchCoreRound(workload, amount)
  switch (workload) {
    case 'W1': return { value: (r[1] * 1000) / r[0] }
    case 'W2': return { value: (r.slice(1).reduce((a, b) => a + b, 0) * 1000) / r[0], n: r.slice(1).reduce((a, b) => a + b, 0) }
    case 'W3': return { value: pct(r, 0.5) * 1000, lat: r }
    default: return { value: (r[0] * 1000) / r[1] }
  }
}

const WORKLOADS = [
  { name: 'W1', what: 'W1 uncontended cycle', unit: 'us/cycle', lower: true, target: 1.3 },
  { name: 'W2', what: 'W2 contended withLock 2x8', unit: 'incr/s', lower: false, target: 0.85 },
  { name: 'W3', what: 'W3 handoff p50', unit: 'us', lower: true, target: 1.2 },
  { name: 'W4', what: 'W4 64 parallel keys', unit: 'cycles/s', lower: false, target: 0.85 }
]

async function measure (backend, url) {
  const ns = `fencelock_node_bench_${randomUUID().slice(0, 8)}`
  const create = backend === 'nats'
    ? (cfg) => JetstreamDistributedLock.create(url, cfg)
    : (cfg) => RedisDistributedLock.create(url, cfg)
  const cfg = { namespace: ns, defaultLockDurationMs: 30_000 }
  const a = await create(cfg)
  const b = await create(cfg)
  const client = await native.connect({ url, namespace: ns, renew: false })
  native._benchCoreOpen(url, ns)
  const ms = SECONDS * 1000
  const w2Key = `w2-${randomUUID()}`
  const w3State = { locks: [a, b], key: 'w3', who: 0, held: await a.acquireLock('w3', ACQUIRE_TIMEOUT) }
  let w2Done = 0
  let coreW2Done = 0
  const nodeRound = {
    W1: async () => { const r = await w1(a, ms); return { value: (r.ms * 1000) / r.n } },
    W2: async () => { const r = await w2([a, b], w2Key, ms); w2Done += r.n; return { value: (r.n * 1000) / r.ms } },
    W3: async () => { const lat = await w3(w3State, W3_REPS); return { value: pct(lat, 0.5) * 1000, lat } },
    W4: async () => { const r = await w4(a, ms); return { value: (r.n * 1000) / r.ms } }
  }
  const amount = (w) => (w === 'W3' ? W3_REPS : SECONDS)
  // Warm-up: connections, buckets, change feeds, the JIT.
  for (const { name } of WORKLOADS) {
    const c = core(name, name === 'W3' ? 6 : 0.3)
    if (name === 'W2') coreW2Done += c.n
    await (name === 'W3' ? w3(w3State, 6) : nodeRound[name]())
  }
  await w1Addon(client, 300)
  const rows = []
  const addon = { node: [], addon: [] }
  for (const wl of WORKLOADS) {
    const per = { core: [], node: [], ratio: [], coreLat: [], nodeLat: [] }
    for (let r = 0; r < ROUNDS; r++) {
      let c, n
      for (const coreTurn of (r % 2 === 0 ? [true, false] : [false, true])) {
        if (coreTurn) {
          c = core(wl.name, amount(wl.name))
          if (wl.name === 'W2') coreW2Done += c.n
        } else {
          n = await nodeRound[wl.name]()
        }
      }
      per.core.push(c.value)
      per.node.push(n.value)
      per.ratio.push(n.value / c.value)
      if (c.lat) { per.coreLat.push(...c.lat); per.nodeLat.push(...n.lat) }
    }
    rows.push({ wl, per })
  }
  // Where W1's time goes: the JL API against the bare addon, interleaved too.
  for (let r = 0; r < ROUNDS; r++) {
    const x = await w1(a, ms / 2)
    const y = await w1Addon(client, ms / 2)
    addon.node.push((x.ms * 1000) / x.n)
    addon.addon.push((y.ms * 1000) / y.n)
  }
  await a.releaseLock(w3State.key, w3State.held).catch(() => {})
  w3State.held = null
  const w2Final = (await a.wait(w2Key, 1000)).value
  const coreFinal = native._benchCoreClose()
  await Promise.all([a.close(), b.close(), client.close()])
  return { rows, addon, w2Final, w2Done, coreFinal, coreW2Done }
}

function report (backend, url, m) {
  const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))
  console.log(`\n### ${backend} (${url}): ${ROUNDS} interleaved rounds of ${SECONDS} s (W3: ${W3_REPS} handoffs per round)`)
  console.log('| workload | core (median) | Node (median) | Node/core per round: median (min-max) | target | result |')
  console.log('|---|---|---|---|---|---|')
  let met = 0
  for (const { wl, per } of m.rows) {
    const r = median(per.ratio)
    const ok = wl.lower ? r <= wl.target : r >= wl.target
    met += ok ? 1 : 0
    const target = `${wl.lower ? '<=' : '>='} ${wl.target}x`
    console.log(`| ${wl.what} | ${fmt(median(per.core))} ${wl.unit} | ${fmt(median(per.node))} ${wl.unit} | ` +
      `${r.toFixed(2)}x (${Math.min(...per.ratio).toFixed(2)}-${Math.max(...per.ratio).toFixed(2)}) | ${target} | ${ok ? 'pass' : 'MISS'} |`)
    if (wl.name === 'W3') {
      console.log(`|   W3 p99 over all rounds | ${fmt(pct(per.coreLat, 0.99) * 1000)} us | ${fmt(pct(per.nodeLat, 0.99) * 1000)} us | | | |`)
    }
  }
  const addonRatio = m.addon.addon.map((x, i) => x / m.addon.node[i])
  console.log(`W1 on the bare addon (no JS wrapper): ${fmt(median(m.addon.addon))} us/cycle against ${fmt(median(m.addon.node))} through the API ` +
    `(${median(addonRatio).toFixed(2)}x, interleaved half rounds)`)
  const exact = m.w2Final === m.w2Done && m.coreFinal === m.coreW2Done
  console.log(`W2 counters: Node key ${m.w2Final} after ${m.w2Done} increments, core key ${m.coreFinal} after ${m.coreW2Done}: ${exact ? 'exact' : 'NOT EXACT'}`)
  if (!exact) throw new Error('W2: a counter lost or duplicated increments')
  return met
}

function load () {
  try { return execSync('uptime', { encoding: 'utf8' }).trim() } catch { return 'uptime n/a' }
}

async function main () {
  const backends = args.backend === 'all' ? ['nats', 'redis'] : [args.backend]
  console.log(`fencelock Node bench: Node ${process.version}; load at start: ${load()}`)
  let met = 0
  let total = 0
  for (const backend of backends) {
    if (backend === 'redis' && !args['redis-url'] && !redisServerBinary()) {
      console.log('\n### redis: skipped (no redis-server; set FENCELOCK_REDIS_SERVER)')
      continue
    }
    const own = backend === 'nats'
      ? (args.url ? null : await startNats())
      : (args['redis-url'] ? null : await startRedis())
    const url = backend === 'nats' ? (args.url ?? own.url) : (args['redis-url'] ?? own.url)
    try {
      const m = await measure(backend, url)
      met += report(backend, url, m)
      total += WORKLOADS.length
    } finally {
      await own?.stop()
    }
  }
  console.log(`\n${met} of ${total} figures reach their targets; load at end: ${load()}`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})

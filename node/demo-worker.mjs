#!/usr/bin/env node
// The Node worker of `make demo`: node demo-worker.mjs <nats_url> <worker_name> <iterations>
// Increments the shared counter "demo/counter" <iterations> times under the lock, checking
// that its fencing token is above the one stored by the previous writer (the check a
// protected resource makes). Exits non-zero on any failure.

import { JetstreamDistributedLock } from './index.mjs'

const [url, name, iterationsArg] = process.argv.slice(2)
const iterations = Number(iterationsArg)
if (!url || !name || !Number.isInteger(iterations) || iterations < 0) {
  console.error('usage: demo-worker.mjs <nats_url> <worker_name> <iterations>')
  process.exit(2)
}

const KEY = 'demo/counter'

async function main () {
  const lock = await JetstreamDistributedLock.create(
    { servers: url, name },
    // Renewed like the Rust workers' locks, so a slow machine cannot lapse a lease mid-write.
    { namespace: 'fencelock-demo', defaultLockDurationMs: 30_000, autoRenew: true }
  )
  try {
    for (let i = 0; i < iterations; i++) {
      const held = await lock.acquireLock(KEY, 60_000)
      const state = held.value ?? { count: 0, token: 0 }
      const token = held.fencingToken
      if (token <= BigInt(state.token ?? 0)) {
        throw new Error(`${name}: token ${token} is not above the stored token ${state.token}`)
      }
      const count = Number(state.count ?? 0) + 1
      // Tokens stay far below 2^53, so a JSON number carries them exactly.
      held.update({ count, token: Number(token), worker: name })
      if (!(await lock.releaseLock(KEY, held))) {
        throw new Error(`${name}: lost the lock before writing count ${count}`)
      }
      console.log(`${name} token ${token} count ${count}`)
    }
  } finally {
    await lock.close()
  }
}

main().catch((e) => {
  console.error(`${name}: ${e.code ?? 'error'}: ${e.message}`)
  process.exit(1)
})

// Smoke scenario of the installed npm packages against a real nats-server: create (connect),
// acquire (fencing token), wait for a held key from a second instance, release with a value,
// withLock updating it, the version, and which addon file was loaded.
// Usage: node smoke.mjs NATS_URL EXPECTED_VERSION
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { randomUUID } from 'node:crypto'
import { JetstreamDistributedLock, version } from 'fencelock'

const [url, expected] = process.argv.slice(2)
const require = createRequire(import.meta.url)
assert.equal(version, expected, `version is ${version}, expected ${expected}`)
assert.equal(require('fencelock').version, expected, 'the CommonJS entry reports another version')
const addon = require.resolve('fencelock-linux-x64-gnu')

const config = { namespace: `dist-node-${randomUUID().slice(0, 8)}`, defaultLockDurationMs: 10_000 }
const a = await JetstreamDistributedLock.create({ servers: [url] }, config)
const b = await JetstreamDistributedLock.create({ servers: [url] }, config)
try {
  const handle = await a.acquireLock('job', 5000)
  assert.ok(handle.fencingToken > 0n, `token ${handle.fencingToken}`)
  const waiting = b.wait('job', 10_000)
  assert.equal(await a.releaseLock('job', handle.update({ runs: 1 })), true)
  assert.deepEqual((await waiting).value, { runs: 1 })
  const after = await b.withLock('job', 5000, async (state) => ({ runs: state.runs + 1 }))
  assert.deepEqual(after.value, { runs: 2 })
  const again = await a.acquireLock('job', 5000)
  assert.ok(again.fencingToken > handle.fencingToken, 'tokens must increase')
  assert.deepEqual(again.value, { runs: 2 })
  await a.releaseLock('job', again)
  console.log(`node smoke: fencelock ${version} ok on ${url} (token ${again.fencingToken}, addon ${addon})`)
} finally {
  await a.close()
  await b.close()
}

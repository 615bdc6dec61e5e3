// Shared test setup: real servers per test file, unique namespaces and keys per test, and
// the list of backends the Johnny Locke suite runs against.

import { after, before } from 'node:test'
import { randomUUID } from 'node:crypto'
import { redisServerBinary, startNats, startRedis } from './servers.mjs'
import { JetstreamDistributedLock, RedisDistributedLock } from '../index.mjs'

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const uniqueKey = (prefix = 'k') => `${prefix}-${randomUUID()}`

/**
 * Backends to run shared suites on. NATS always; Redis when redis-server is installed
 * (FENCELOCK_REQUIRE_REDIS=1 makes its absence an error rather than a skip).
 */
export function backends () {
  const list = [{ name: 'nats', start: startNats, factory: JetstreamDistributedLock, skip: false }]
  const haveRedis = redisServerBinary() !== null
  if (!haveRedis && process.env.FENCELOCK_REQUIRE_REDIS === '1') {
    throw new Error('FENCELOCK_REQUIRE_REDIS=1 but redis-server was not found')
  }
  list.push({
    name: 'redis',
    start: startRedis,
    factory: RedisDistributedLock,
    skip: haveRedis ? false : 'redis-server not installed (set FENCELOCK_REDIS_SERVER)'
  })
  return list
}

/** Starts a server for the calling file or suite; `server.url` is valid inside tests. */
export function useServer (backend = backends()[0]) {
  const server = { url: undefined, factory: backend.factory, name: backend.name }
  let handle
  before(async () => {
    if (backend.skip) return
    handle = await backend.start()
    server.url = handle.url
  })
  after(async () => {
    await handle?.stop()
  })
  return server
}

/** Two instances on one namespace (two "processes" sharing locks), closed by `close()`. */
export async function twoInstances (server, config = {}) {
  const cfg = { namespace: `ns-${randomUUID().slice(0, 8)}`, defaultLockDurationMs: 5000, ...config }
  // NATS instances use both forms of connectOptions: the options object and the URL string.
  const first = server.name === 'nats' ? { servers: server.url } : server.url
  const a = await server.factory.create(first, cfg)
  const b = await server.factory.create(server.url, cfg)
  return { a, b, cfg, close: () => Promise.all([a.close(), b.close()]) }
}

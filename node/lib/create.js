'use strict'
// The factories: Johnny Locke's `create(connectOptions, config)` per backend. Each turns the
// connection options and LockConfiguration into the addon's ConnectOptions and connects.
// Leases are not renewed by default (autoRenew: false), so a lock lasts exactly its
// lockDuration unless released, as in Johnny Locke.

const native = require('../binding')
const { fromNative, invalidArgument } = require('./errors')
const { DistributedLock } = require('./distributed-lock')

// Johnny Locke's `replication` counts copies including the primary: NATS stream replicas,
// and for Redis, writes WAIT for (replication - 1) replicas once it is above 1.
function checkConfig (config, backend) {
  if (config === null || typeof config !== 'object') {
    throw invalidArgument('config must be a LockConfiguration object like { namespace, defaultLockDurationMs }')
  }
  const { namespace, defaultLockDurationMs, objectExpiryMs, replication, autoRenew } = config
  if (typeof namespace !== 'string' || namespace === '') throw invalidArgument('config.namespace must be a non-empty string')
  if (typeof defaultLockDurationMs !== 'number' || !(defaultLockDurationMs > 0)) {
    throw invalidArgument('config.defaultLockDurationMs must be a number of milliseconds greater than 0')
  }
  if (objectExpiryMs !== undefined && (typeof objectExpiryMs !== 'number' || !(objectExpiryMs > 0))) {
    throw invalidArgument('config.objectExpiryMs must be a number of milliseconds greater than 0 when set')
  }
  if (replication !== undefined && !Number.isInteger(replication)) throw invalidArgument('config.replication must be an integer')
  if (autoRenew !== undefined && typeof autoRenew !== 'boolean') throw invalidArgument('config.autoRenew must be a boolean')
  return {
    namespace,
    leaseMs: defaultLockDurationMs,
    objectExpiryMs,
    replicas: backend === 'nats' ? replication : undefined,
    replication: backend === 'redis' && replication > 1 ? replication - 1 : undefined,
    renew: autoRenew ?? false
  }
}

async function open (backend, url, auth, config) {
  const options = { url, ...auth, ...checkConfig(config, backend) }
  let client
  try {
    client = await native.connect(options)
  } catch (e) {
    throw fromNative(e)
  }
  return new DistributedLock(client)
}

// nats.js connect() options (servers, token, user/pass, timeout, name) or a URL string.
function natsOptions (connectOptions) {
  if (typeof connectOptions === 'string') return { url: connectOptions, auth: {} }
  if (connectOptions === null || typeof connectOptions !== 'object') {
    throw invalidArgument('connectOptions must be a NATS URL or nats.js-style options like { servers, token, user, pass, timeout }')
  }
  if (typeof connectOptions.jetstream === 'function') {
    throw invalidArgument('pass the NATS connection options (servers, auth), not a nats.js connection: fencelock opens its own')
  }
  const { servers = 'nats://127.0.0.1:4222', token, user, pass, timeout, name } = connectOptions
  const list = Array.isArray(servers) ? servers : [servers]
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && s !== '')) {
    throw invalidArgument('connectOptions.servers must be a server URL or a non-empty array of them')
  }
  for (const [k, v] of Object.entries({ token, user, pass, name })) {
    if (v !== undefined && typeof v !== 'string') throw invalidArgument(`connectOptions.${k} must be a string`)
  }
  if (timeout !== undefined && typeof timeout !== 'number') throw invalidArgument('connectOptions.timeout must be a number of milliseconds')
  return {
    url: list.join(','),
    auth: { token, user, password: pass, connectTimeoutMs: timeout, label: name }
  }
}

// ioredis-style options ({ host, port, username, password, db, tls }) or a URL string.
function redisUrl (connectOptions) {
  if (typeof connectOptions === 'string') return connectOptions
  if (connectOptions === null || typeof connectOptions !== 'object') {
    throw invalidArgument('connectOptions must be a Redis URL or ioredis-style options like { host, port, password }')
  }
  if (typeof connectOptions.duplicate === 'function') {
    throw invalidArgument('pass the Redis URL or connection options, not an ioredis client: fencelock opens its own')
  }
  const { host = '127.0.0.1', port = 6379, username, password, db, tls } = connectOptions
  if (tls) throw invalidArgument('Redis over TLS is not supported yet; connect without tls')
  const auth = password !== undefined
    ? `${encodeURIComponent(username ?? '')}:${encodeURIComponent(password)}@`
    : ''
  return `redis://${auth}${host}:${port}${db !== undefined ? `/${db}` : ''}`
}

const JetstreamDistributedLock = Object.freeze({
  /** Connects to NATS JetStream (KV bucket = namespace, created if missing). */
  async create (connectOptions, config) {
    const { url, auth } = natsOptions(connectOptions)
    return open('nats', url, auth, config)
  }
})

const RedisDistributedLock = Object.freeze({
  /** Connects to Redis (6.2+ or Valkey); the namespace is the key prefix. */
  async create (connectOptions, config) {
    return open('redis', redisUrl(connectOptions), {}, config)
  }
})

const MemoryDistributedLock = Object.freeze({
  /** An in-process store (for unit tests): instances with one namespace share locks. */
  async create (config) {
    return open('memory', 'memory://', {}, config)
  }
})

module.exports = { JetstreamDistributedLock, RedisDistributedLock, MemoryDistributedLock }

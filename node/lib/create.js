'use strict'
// The factories: Johnny Locke's `create(connectOptions, config)` per backend. Each turns the
// connection options and LockConfiguration into the addon's ConnectOptions and connects.
// Leases are not renewed by default (autoRenew: false), so a lock lasts exactly its
// lockDuration unless released, as in Johnny Locke.

const native = require('../binding')
const { fromNative, invalidArgument } = require('./errors')
const { DistributedLock } = require('./distributed-lock')

// Options are passed on as given: the core refuses, by name, one the backend does not use
// (`storage` or `clockFree` on Redis, anything server-related on memory). `replication` means
// what it means everywhere: copies of every write counting the primary (NATS stream replicas;
// Redis writes WAIT for replication - 1 replicas), as in Johnny Locke.
function checkConfig (config) {
  if (config === null || typeof config !== 'object') {
    throw invalidArgument('config must be a LockConfiguration object like { namespace, defaultLockDurationMs }')
  }
  const { namespace, defaultLockDurationMs, objectExpiryMs, replication, replicationTimeoutMs, autoRenew, storage, clockFree } = config
  if (typeof namespace !== 'string' || namespace === '') throw invalidArgument('config.namespace must be a non-empty string')
  if (typeof defaultLockDurationMs !== 'number' || !(defaultLockDurationMs > 0)) {
    throw invalidArgument('config.defaultLockDurationMs must be a number of milliseconds greater than 0')
  }
  if (objectExpiryMs !== undefined && (typeof objectExpiryMs !== 'number' || !(objectExpiryMs > 0))) {
    throw invalidArgument('config.objectExpiryMs must be a number of milliseconds greater than 0 when set')
  }
  if (replication !== undefined && !Number.isInteger(replication)) throw invalidArgument('config.replication must be an integer')
  if (replicationTimeoutMs !== undefined && (typeof replicationTimeoutMs !== 'number' || !(replicationTimeoutMs > 0))) {
    throw invalidArgument('config.replicationTimeoutMs must be a number of milliseconds greater than 0 when set')
  }
  if (autoRenew !== undefined && typeof autoRenew !== 'boolean') throw invalidArgument('config.autoRenew must be a boolean')
  if (storage !== undefined && storage !== 'file' && storage !== 'memory') {
    throw invalidArgument(`config.storage must be 'file' or 'memory', not ${JSON.stringify(storage)}`)
  }
  if (clockFree !== undefined && typeof clockFree !== 'boolean') throw invalidArgument('config.clockFree must be a boolean')
  return {
    namespace,
    leaseMs: defaultLockDurationMs,
    objectExpiryMs,
    replication,
    replicationTimeoutMs,
    renew: autoRenew ?? false,
    storage,
    clockFree
  }
}

async function open (url, auth, config) {
  const options = { url, ...auth, ...checkConfig(config) }
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
  const tls = tlsOptions(connectOptions.tls)
  if (tls.insecure) throw invalidArgument('connectOptions.tls.rejectUnauthorized: false is not supported for NATS; pass tls.caFile instead')
  return {
    url: list.join(','),
    auth: { token, user, password: pass, connectTimeoutMs: timeout, label: name, requireTls: tls.enabled || undefined, ...tls.native }
  }
}

// nats.js-style `tls` (also what RedisDistributedLock takes): `true`/`{}` requires TLS with the
// system's roots; `caFile`, `certFile`, `keyFile` name PEM files; `rejectUnauthorized: false`
// skips certificate checks (Redis only). PEM contents (ioredis' `ca`, `cert`, `key`) are refused
// with the fix, because the core reads certificates from files.
function tlsOptions (tls) {
  if (tls === undefined || tls === false || tls === null) return { enabled: false, insecure: false, native: {} }
  if (tls === true) return { enabled: true, insecure: false, native: {} }
  if (typeof tls !== 'object') throw invalidArgument('connectOptions.tls must be true or an object like { caFile, certFile, keyFile }')
  for (const k of ['ca', 'cert', 'key']) {
    if (tls[k] !== undefined) {
      throw invalidArgument(`connectOptions.tls.${k} (PEM contents) is not supported: write it to a file and pass its path as tls.${k}File`)
    }
  }
  for (const k of ['caFile', 'certFile', 'keyFile']) {
    if (tls[k] !== undefined && typeof tls[k] !== 'string') throw invalidArgument(`connectOptions.tls.${k} must be a file path`)
  }
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw invalidArgument('connectOptions.tls.certFile and tls.keyFile must be given together')
  }
  if (tls.rejectUnauthorized !== undefined && typeof tls.rejectUnauthorized !== 'boolean') {
    throw invalidArgument('connectOptions.tls.rejectUnauthorized must be a boolean')
  }
  return {
    enabled: true,
    insecure: tls.rejectUnauthorized === false,
    native: { tlsCaFile: tls.caFile, tlsCertFile: tls.certFile, tlsKeyFile: tls.keyFile }
  }
}

function hostPort (node, what) {
  if (typeof node === 'string' && node !== '') return node
  if (node !== null && typeof node === 'object') {
    const { host = '127.0.0.1', port } = node
    if (typeof host !== 'string' || !Number.isInteger(port)) throw invalidArgument(`${what} must be { host, port } objects or "host:port" strings`)
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  }
  throw invalidArgument(`${what} must be { host, port } objects or "host:port" strings`)
}

function userInfo (username, password) {
  for (const [k, v] of Object.entries({ username, password })) {
    if (v !== undefined && typeof v !== 'string') throw invalidArgument(`connectOptions.${k} must be a string`)
  }
  return password !== undefined ? `${encodeURIComponent(username ?? '')}:${encodeURIComponent(password)}@` : ''
}

// A Redis URL (passed through), ioredis-style options for one node or a Sentinel group
// (`sentinels` + `name`), or an array of cluster nodes (like ioredis' `new Cluster(nodes)`).
function redisOptions (connectOptions) {
  if (typeof connectOptions === 'string') return { url: connectOptions, native: {} }
  if (Array.isArray(connectOptions)) {
    if (connectOptions.length === 0) throw invalidArgument('the cluster node list is empty')
    return { url: `redis+cluster://${connectOptions.map((n) => hostPort(n, 'cluster nodes')).join(',')}`, native: {} }
  }
  if (connectOptions === null || typeof connectOptions !== 'object') {
    throw invalidArgument('connectOptions must be a Redis URL, ioredis-style options like { host, port, password } or { sentinels, name }, or an array of cluster nodes')
  }
  if (typeof connectOptions.duplicate === 'function') {
    throw invalidArgument('pass the Redis URL or connection options, not an ioredis client: fencelock opens its own')
  }
  const { host = '127.0.0.1', port = 6379, username, password, db, sentinels, name, sentinelUsername, sentinelPassword } = connectOptions
  if (db !== undefined && !Number.isInteger(db)) throw invalidArgument('connectOptions.db must be an integer')
  const tls = tlsOptions(connectOptions.tls)
  const fragment = tls.insecure ? '#insecure' : ''
  const auth = userInfo(username, password)
  if (sentinels !== undefined) {
    if (!Array.isArray(sentinels) || sentinels.length === 0) throw invalidArgument('connectOptions.sentinels must be a non-empty array of { host, port }')
    if (typeof name !== 'string' || name === '') throw invalidArgument('connectOptions.name (the master name the sentinels watch) must be a non-empty string')
    const query = new URLSearchParams()
    if (sentinelUsername !== undefined) query.set('sentinel_username', String(sentinelUsername))
    if (sentinelPassword !== undefined) query.set('sentinel_password', String(sentinelPassword))
    const q = query.size > 0 ? `?${query}` : ''
    const hosts = sentinels.map((n) => hostPort(n, 'connectOptions.sentinels')).join(',')
    const scheme = tls.enabled ? 'rediss+sentinel' : 'redis+sentinel'
    return {
      url: `${scheme}://${auth}${hosts}/${encodeURIComponent(name)}${db !== undefined ? `/${db}` : ''}${q}${fragment}`,
      native: tls.native
    }
  }
  const scheme = tls.enabled ? 'rediss' : 'redis'
  return {
    url: `${scheme}://${auth}${hostPort({ host, port }, 'connectOptions')}${db !== undefined ? `/${db}` : ''}${fragment}`,
    native: tls.native
  }
}

const JetstreamDistributedLock = Object.freeze({
  /** Connects to NATS JetStream (KV bucket = namespace, created if missing). */
  async create (connectOptions, config) {
    const { url, auth } = natsOptions(connectOptions)
    return open(url, auth, config)
  }
})

const RedisDistributedLock = Object.freeze({
  /** Connects to Redis (6.2+ or Valkey); the namespace is the key prefix. */
  async create (connectOptions, config) {
    const { url, native } = redisOptions(connectOptions)
    return open(url, native, config)
  }
})

const MemoryDistributedLock = Object.freeze({
  /** An in-process store (for unit tests): instances with one namespace share locks. */
  async create (config) {
    return open('memory://', {}, config)
  }
})

module.exports = { JetstreamDistributedLock, RedisDistributedLock, MemoryDistributedLock }

'use strict'
// fencelock for Node: the Johnny Locke API (JetstreamDistributedLock.create(...).withLock(...))
// over the Rust core. See index.d.ts for the types and README.md for the differences.

const { JetstreamDistributedLock, RedisDistributedLock, MemoryDistributedLock } = require('./lib/create')
const { CODES, FencelockError, TimeoutError } = require('./lib/errors')
const { ReadableObject, WritableObject } = require('./lib/handles')
const { Leadership } = require('./lib/leader')
const { setLogger, setLogLevel, LOG_CHANNEL } = require('./lib/log')
const binding = require('./binding')

module.exports = {
  JetstreamDistributedLock,
  RedisDistributedLock,
  MemoryDistributedLock,
  FencelockError,
  TimeoutError,
  ErrorCodes: CODES,
  ReadableObject,
  WritableObject,
  Leadership,
  setLogger,
  setLogLevel,
  LOG_CHANNEL,
  // The core's version, e.g. '0.1.0', reported by the native addon (the one version of every
  // fencelock package).
  version: binding.version()
}

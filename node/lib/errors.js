'use strict'
// Error classes and the conversion of native errors. The addon prefixes each message with its
// stable code ("[ERR_FENCELOCK_TIMEOUT] ..."), because napi-rs promises can only reject with
// its own status codes; here the prefix becomes `err.code` and picks the class.

const CODES = Object.freeze({
  TIMEOUT: 'ERR_FENCELOCK_TIMEOUT',
  HELD: 'ERR_FENCELOCK_HELD',
  NOT_HELD: 'ERR_FENCELOCK_NOT_HELD',
  EXPIRED: 'ERR_FENCELOCK_EXPIRED',
  INVALID_KEY: 'ERR_FENCELOCK_INVALID_KEY',
  INVALID_ARGUMENT: 'ERR_FENCELOCK_INVALID_ARGUMENT',
  INVALID_VALUE: 'ERR_FENCELOCK_INVALID_VALUE',
  STATE_TOO_LARGE: 'ERR_FENCELOCK_STATE_TOO_LARGE',
  CLOSED: 'ERR_FENCELOCK_CLOSED',
  BACKEND: 'ERR_FENCELOCK_BACKEND',
  CALLBACK: 'ERR_FENCELOCK_CALLBACK',
  ABORTED: 'ERR_FENCELOCK_ABORTED',
  OTHER: 'ERR_FENCELOCK_OTHER'
})

/** Base class of every fencelock error; `code` is stable across releases. */
class FencelockError extends Error {
  constructor (message, code, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'FencelockError'
    this.code = code
    if (options.key !== undefined) this.key = options.key
  }
}

/**
 * An acquire or wait ran out of time, or a withLock callback outlived its lease.
 * Johnny Locke's TimeoutError, with `code` and `key`.
 */
class TimeoutError extends FencelockError {
  constructor (message, options = {}) {
    super(message, CODES.TIMEOUT, options)
    this.name = 'TimeoutError'
  }
}

const PREFIX = /^\[(ERR_FENCELOCK_[A-Z_]+)\] ([\s\S]*)$/

// The addon's errors are made in the realm that loaded it. Test runners that evaluate this file
// in a `vm` context (Jest) give it another `Error`, so `e instanceof Error` is false for them:
// recognise them by their internal brand instead (true for errors of any realm).
const { isNativeError } = require('node:util').types

/** Converts an error thrown by the addon; other errors pass through unchanged. */
function fromNative (e, key) {
  const m = isNativeError(e) && typeof e.message === 'string' ? PREFIX.exec(e.message) : null
  if (!m) return e
  const [, code, message] = m
  if (code === CODES.TIMEOUT) return new TimeoutError(message, { key })
  return new FencelockError(message, code, { key })
}

/** An argument of the wrong type, before anything reaches the addon. */
function invalidArgument (message) {
  return new FencelockError(message, CODES.INVALID_ARGUMENT)
}

module.exports = { CODES, FencelockError, TimeoutError, fromNative, invalidArgument }

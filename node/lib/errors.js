'use strict'
// Error classes and the conversion of native errors. The addon prefixes each message with its
// stable code ("[ERR_FENCELOCK_TIMEOUT] ..."), because napi-rs promises can only reject with
// its own status codes; here the prefix becomes `err.code` and picks the class.

// One code per core error kind (`ERR_FENCELOCK_` + the kind's name; test/errors.test.mjs
// checks this against the addon's `errorCodes()`), plus the codes only this layer raises:
// INVALID_VALUE (JSON), ABORTED (AbortSignal) and OTHER (a kind newer than this file).
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
const CAUSE_SEPARATOR = '\n[cause] '

// The addon's errors are made in the realm that loaded it. Test runners that evaluate this file
// in a `vm` context (Jest) give it another `Error`, so `e instanceof Error` is false for them:
// recognise them by their internal brand instead (true for errors of any realm).
const { isNativeError } = require('node:util').types

/** Converts an error thrown by the addon; other errors pass through unchanged. */
function fromNative (e, key) {
  const m = isNativeError(e) && typeof e.message === 'string' ? PREFIX.exec(e.message) : null
  if (!m) return e
  const [, code, text] = m
  // The core error's sources follow its message, outermost first (see src/error.rs).
  const [message, ...causes] = text.split(CAUSE_SEPARATOR)
  const cause = causes.reduceRight((inner, msg) => new Error(msg, inner === undefined ? undefined : { cause: inner }), undefined)
  const options = { key, cause }
  if (code === CODES.TIMEOUT) return new TimeoutError(message, options)
  return new FencelockError(message, code, options)
}

/** An argument of the wrong type, before anything reaches the addon. */
function invalidArgument (message) {
  return new FencelockError(message, CODES.INVALID_ARGUMENT)
}

module.exports = { CODES, FencelockError, TimeoutError, fromNative, invalidArgument }

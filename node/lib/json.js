'use strict'
// Values are JSON in this API; the core stores bytes. Failures name the key and the cause.

const { CODES, FencelockError } = require('./errors')

/** JSON bytes of `value`; `undefined` is stored as `null`, like Johnny Locke (but a withLock
 * callback returning `undefined` keeps the state: see docs/STATE.md). */
function encode (value, key) {
  let text
  try {
    text = JSON.stringify(value === undefined ? null : value)
  } catch (e) {
    throw new FencelockError(
      `the value for key ${JSON.stringify(key)} cannot be stored as JSON (${e.message}); ` +
        'store plain objects, arrays, strings, numbers, booleans or null (convert BigInt to a string, break cycles)',
      CODES.INVALID_VALUE,
      { key, cause: e }
    )
  }
  if (text === undefined) {
    throw new FencelockError(
      `the value for key ${JSON.stringify(key)} cannot be stored as JSON (${typeof value} has no JSON form); ` +
        'store plain objects, arrays, strings, numbers, booleans or null',
      CODES.INVALID_VALUE,
      { key }
    )
  }
  return Buffer.from(text)
}

/** The value stored as `bytes`; no state (or an empty one) is `null`. */
function decode (bytes, key) {
  if (bytes == null || bytes.length === 0) return null
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    throw new FencelockError(
      `the state of key ${JSON.stringify(key)} is not JSON (${e.message}); ` +
        'it was written by a client that stores raw bytes; read it with that client',
      CODES.INVALID_VALUE,
      { key, cause: e }
    )
  }
}

module.exports = { encode, decode }

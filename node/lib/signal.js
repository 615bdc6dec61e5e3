'use strict'
// AbortSignal to the addon's CancelToken: one token per call, cancelled by the signal's
// `abort` event, listener removed when the call settles. An aborted call rejects with the
// signal's reason, as fetch() and timers/promises do.

const native = require('../binding')
const { CODES, invalidArgument } = require('./errors')

/**
 * Runs the native call `call(token)` under `signal` (may be undefined: then `call(null)`
 * with no async frame of its own, the common case on every lock cycle), its failures, thrown
 * or rejected, turned into this package's errors by `convert`.
 */
function withSignal (signal, call, convert) {
  const op = (token) => {
    let pending
    try {
      pending = call(token)
    } catch (e) {
      throw convert(e) // argument checks in the addon throw before any promise exists
    }
    return pending.catch((e) => { throw convert(e) })
  }
  // A throw from op(null) reaches the caller's `await` as a rejection would.
  if (signal === undefined || signal === null) return op(null)
  return withAbort(signal, op)
}

async function withAbort (signal, op) {
  if (typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw invalidArgument('options.signal must be an AbortSignal')
  }
  signal.throwIfAborted()
  const token = new native.CancelToken()
  const onAbort = () => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await op(token)
  } catch (e) {
    if (e && e.code === CODES.ABORTED && signal.aborted) throw signal.reason
    throw e
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

module.exports = { withSignal }

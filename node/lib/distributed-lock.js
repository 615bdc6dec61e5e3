'use strict'
// The Johnny Locke IDistributedLock over one native client. Each method checks argument
// types, converts values to and from JSON and native errors to FencelockError/TimeoutError;
// every lock decision is the core's.

const { CODES, FencelockError, fromNative, invalidArgument } = require('./errors')
const { encode, decode } = require('./json')
const { withSignal } = require('./signal')
const { ReadableObject, WritableObject, guardOf } = require('./handles')
const { Leadership, holderOf } = require('./leader')

function checkKey (key) {
  if (typeof key !== 'string') {
    throw new FencelockError(
      `key must be a string, not ${key === null ? 'null' : typeof key}`,
      CODES.INVALID_KEY
    )
  }
}

// Type checks only: ranges (negative, NaN, lease limits) are refused by the addon and core.
function checkMs (name, value, optional) {
  if (optional && (value === undefined || value === null)) return
  if (typeof value !== 'number') {
    throw invalidArgument(`${name} must be a number of milliseconds, not ${value === null ? 'null' : typeof value}`)
  }
}

function checkOptions (options) {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidArgument('options must be an object like { signal }')
  }
  return options || {}
}

class DistributedLock {
  #client
  #closed = false

  /** @param {import('../binding').Client} client */
  constructor (client) {
    this.#client = client
  }

  // Calls after close() fail at once, even while the native close is still running.
  #open (key) {
    if (this.#closed) {
      throw new FencelockError(
        'the fencelock client is closed; create a new client to continue',
        CODES.CLOSED,
        { key }
      )
    }
    return this.#client
  }

  async withLock (key, timeoutMs, callback, lockDuration, options) {
    checkKey(key)
    checkMs('timeoutMs', timeoutMs)
    checkMs('lockDuration', lockDuration, true)
    if (typeof callback !== 'function') throw invalidArgument('callback must be a function')
    const { signal } = checkOptions(options)
    const client = this.#open(key)
    // The callback's own error comes back to the caller as it was thrown, not as a string.
    let thrown = null
    const run = async (state) => {
      try {
        const next = await callback(decode(state, key))
        // No value (undefined) keeps the stored state, as a Python callback returning None
        // does; return null to store JSON null (docs/STATE.md).
        return next === undefined ? null : encode(next, key)
      } catch (e) {
        thrown = { e }
        throw e
      }
    }
    const out = await withSignal(
      signal,
      (token) => client.withLock(key, timeoutMs, lockDuration, run, token),
      (e) => {
        const err = fromNative(e, key)
        return thrown && err.code === CODES.CALLBACK ? thrown.e : err
      }
    )
    return new ReadableObject(decode(out, key))
  }

  async acquireLock (key, timeoutMs, lockDuration, options) {
    checkKey(key)
    checkMs('timeoutMs', timeoutMs)
    checkMs('lockDuration', lockDuration, true)
    const { signal } = checkOptions(options)
    const client = this.#open(key)
    const guard = await withSignal(
      signal,
      (token) => client.acquire(key, timeoutMs, lockDuration, null, token),
      (e) => fromNative(e, key)
    )
    return writable(guard, key)
  }

  async tryAcquireLock (key, lockDuration) {
    checkKey(key)
    checkMs('lockDuration', lockDuration, true)
    const client = this.#open(key)
    let guard
    try {
      guard = await client.tryAcquire(key, lockDuration, null)
    } catch (e) {
      throw fromNative(e, key)
    }
    if (guard === null) return { acquired: false, value: undefined }
    return { acquired: true, value: await writable(guard, key) }
  }

  async releaseLock (key, lockObj) {
    checkKey(key)
    const guard = guardOf(lockObj)
    if (guard === undefined) {
      throw invalidArgument('releaseLock needs the Writable returned by acquireLock or tryAcquireLock')
    }
    if (guard.key !== key) {
      throw invalidArgument(
        `releaseLock was given key ${JSON.stringify(key)} but the lock is on key ${JSON.stringify(guard.key)}`
      )
    }
    const client = this.#open(key)
    // A value whose JSON is the bytes read at acquisition is not written again: the stored
    // state stays byte for byte what it was, and the store is spared a state write.
    const state = WritableObject.unchangedState(lockObj, encode(lockObj.value, key))
    try {
      return await client.release(guard, state)
    } catch (e) {
      const err = fromNative(e, key)
      // Johnny Locke answers false for a lock no longer held, also when released already.
      if (err.code === CODES.NOT_HELD) return false
      throw err
    }
  }

  async wait (key, timeoutMs, options) {
    checkKey(key)
    checkMs('timeoutMs', timeoutMs)
    const { signal } = checkOptions(options)
    const client = this.#open(key)
    const state = await withSignal(
      signal,
      (token) => client.wait(key, timeoutMs, token),
      (e) => fromNative(e, key)
    )
    return new ReadableObject(decode(state, key))
  }

  /** Reads the value and the current holder of `key` without locking (fencelock extra). */
  async get (key) {
    checkKey(key)
    const client = this.#open(key)
    let info
    try {
      info = await client.get(key)
    } catch (e) {
      throw fromNative(e, key)
    }
    return { value: decode(info.state, key), holder: holderOf(info.holder) }
  }

  async delete (key) {
    checkKey(key)
    const client = this.#open(key)
    try {
      await client.delete(key)
    } catch (e) {
      throw fromNative(e, key)
    }
    return true
  }

  /** Campaigns for leadership of `election`, renewed while held (fencelock extra). */
  async campaign (election, options) {
    checkKey(election)
    const { candidate, timeoutMs, signal } = checkOptions(options)
    checkMs('timeoutMs', timeoutMs, true)
    if (candidate !== undefined && typeof candidate !== 'string') throw invalidArgument('candidate must be a string')
    const client = this.#open(election)
    const l = await withSignal(
      signal,
      (token) => client.campaign(election, candidate ?? `pid ${process.pid}`, timeoutMs, token),
      (e) => fromNative(e, election)
    )
    return new Leadership(l)
  }

  /** Becomes leader only if nobody leads now; null otherwise (fencelock extra). */
  async tryCampaign (election, options) {
    checkKey(election)
    const { candidate } = checkOptions(options)
    if (candidate !== undefined && typeof candidate !== 'string') throw invalidArgument('candidate must be a string')
    const client = this.#open(election)
    try {
      const l = await client.tryCampaign(election, candidate ?? `pid ${process.pid}`)
      return l === null ? null : new Leadership(l)
    } catch (e) {
      throw fromNative(e, election)
    }
  }

  /** The current leader of `election`, or null (fencelock extra). */
  async leader (election) {
    checkKey(election)
    const client = this.#open(election)
    try {
      return holderOf(await client.leader(election))
    } catch (e) {
      throw fromNative(e, election)
    }
  }

  /**
   * This instance's lock statistics (fencelock extra): acquisitions, tryMisses, timeouts,
   * wait and hold ({ count, totalMs, maxMs }), renewals, renewalFailures, locksLost,
   * backendErrors. Counters only grow; readable after close() too.
   */
  stats () {
    return this.#client.stats()
  }

  /**
   * Releases every lock this instance holds (keeping their values) and closes the connection.
   * Johnny Locke's close() returns nothing; awaiting this one waits for the releases.
   */
  close () {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    return this.#client.close()
  }
}

// A Writable for a fresh guard; a state that is not JSON releases the lock before throwing.
// Returns the handle itself on the common path (no extra promise per acquisition).
function writable (guard, key) {
  const initial = guard.initialState
  let value
  try {
    value = decode(initial, key)
  } catch (e) {
    return guard.release().catch(() => {}).then(() => { throw e })
  }
  return new WritableObject(value, guard, initial)
}

module.exports = { DistributedLock }

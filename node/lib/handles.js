'use strict'
// The handles Johnny Locke hands out: Readable ({ value }) and Writable ({ value, lockId,
// update }), plus fencelock's extras on Writable: fencingToken, the lost signal, status.
// The native guard of a Writable is kept in a WeakMap so that releaseLock(key, writable)
// releases exactly the lock that writable came from.

const { CODES, FencelockError } = require('./errors')

const guards = new WeakMap()

/** A read-only view of a stored value. */
class ReadableObject {
  constructor (value) {
    this.value = value
  }
}

/** A held lock's value, written back by releaseLock. */
class WritableObject {
  #guard
  #lost
  #initial

  /** @param initial the state bytes read at acquisition (null: none) */
  constructor (value, guard, initial) {
    this.value = value
    this.#guard = guard
    this.#initial = initial
    guards.set(this, guard)
  }

  /** This acquisition's unique id (32 hex characters); read from the guard when asked, as
   * few callers need it and making the string costs every acquisition. */
  get lockId () {
    return this.#guard.lockId
  }

  /** `encoded` (the JSON of `w.value`), or null when it is the state `w` was acquired with:
   * releasing with null keeps the stored state, which then stays byte for byte the same. */
  static unchangedState (w, encoded) {
    const initial = w.#initial
    return initial != null && initial.equals(encoded) ? null : encoded
  }

  /** Sets the value that releaseLock will write; returns this handle. */
  update (value) {
    this.value = value
    return this
  }

  /** The fencing token of this acquisition (strictly increasing per key). */
  get fencingToken () {
    return this.#guard.token
  }

  /** The key this lock is on. */
  get key () {
    return this.#guard.key
  }

  /** 'held', 'lost' (lease lapsed or taken over: writes are refused) or 'released'. */
  get status () {
    return this.#guard.status
  }

  /** Time left on the lease by this process's clock, in ms. */
  get remainingMs () {
    return this.#guard.remainingMs
  }

  /** An AbortSignal that aborts when the lock is lost; never after a release. */
  get lost () {
    if (this.#lost === undefined) {
      const ac = new AbortController()
      const key = this.#guard.key
      const token = this.#guard.token
      this.#guard.onLost(() =>
        ac.abort(new FencelockError(
          `the lock on key ${JSON.stringify(key)} with token ${token} was lost (its lease lapsed or another holder took over)`,
          CODES.EXPIRED,
          { key }
        ))
      )
      // A lock already lost before anyone subscribed: the callback above will not fire.
      if (this.#guard.status === 'lost') {
        ac.abort(new FencelockError(`the lock on key ${JSON.stringify(key)} was lost`, CODES.EXPIRED, { key }))
      }
      this.#lost = ac.signal
    }
    return this.#lost
  }

  /** Calls `callback` once when the lock is lost (see `lost`). */
  onLost (callback) {
    if (typeof callback !== 'function') throw new TypeError('onLost needs a function')
    const signal = this.lost
    if (signal.aborted) queueMicrotask(() => callback(signal.reason))
    else signal.addEventListener('abort', () => callback(signal.reason), { once: true })
  }
}

/** The native guard behind a Writable, or undefined if it did not come from this package. */
function guardOf (writable) {
  return writable !== null && typeof writable === 'object' ? guards.get(writable) : undefined
}

module.exports = { ReadableObject, WritableObject, guardOf }

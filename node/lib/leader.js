'use strict'
// Leader election: leadership of an election key, renewed while held.

const { CODES, FencelockError, fromNative } = require('./errors')

class Leadership {
  #native
  #lost

  constructor (native) {
    this.#native = native
  }

  /** The election key. */
  get key () {
    return this.#native.key
  }

  /** The fencing token of this term (greater than every earlier term's). */
  get term () {
    return this.#native.term
  }

  /** True while this process still leads. */
  get isLeader () {
    return this.#native.isLeader
  }

  /** An AbortSignal that aborts when leadership is lost; never after resign(). */
  get lost () {
    if (this.#lost === undefined) {
      const ac = new AbortController()
      const key = this.key
      this.#native.onLost(() =>
        ac.abort(new FencelockError(`leadership of ${JSON.stringify(key)} was lost`, CODES.EXPIRED, { key }))
      )
      this.#lost = ac.signal
    }
    return this.#lost
  }

  /** Steps down; false if leadership had already been lost. */
  async resign () {
    try {
      return await this.#native.resign()
    } catch (e) {
      throw fromNative(e, this.key)
    }
  }
}

/** Converts a store holder record. */
function holderOf (h) {
  return h ? { lockId: h.lockId, fencingToken: h.token, leaseMs: h.leaseMs, label: h.label } : null
}

module.exports = { Leadership, holderOf }

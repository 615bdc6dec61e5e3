'use strict'
// The core's log events in Node: `setLogger(fn, { level })` and the `fencelock:log`
// diagnostics channel. The native side forwards records at the chosen level and above (none
// until a level is set, so logging costs nothing unless asked for).

const diagnosticsChannel = require('node:diagnostics_channel')
const native = require('../binding')
const { invalidArgument } = require('./errors')

const LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace']
const channel = diagnosticsChannel.channel('fencelock:log')

let logger = null
let level = 'off'

function dispatch (record) {
  if (channel.hasSubscribers) channel.publish(record)
  if (logger === null) return
  try {
    logger(record)
  } catch (e) {
    // A throwing logger must not take the process down from a native callback.
    process.emitWarning(`fencelock: the logger threw: ${e && e.stack ? e.stack : e}`)
  }
}

function apply () {
  if (!native._setLogSink(level === 'off' ? null : dispatch, level)) {
    process.emitWarning('fencelock: another tracing subscriber is installed in this process; fencelock logs cannot be forwarded')
  }
}

function checkLevel (l) {
  if (!LEVELS.includes(l)) throw invalidArgument(`log level must be one of ${LEVELS.map(x => `'${x}'`).join(', ')}, not ${JSON.stringify(l)}`)
}

// setLogger(fn, { level = 'info' }): fn(record) receives { level, target, message, fields }
// for every event at `level` or above. setLogger(null) stops forwarding to a function (the
// diagnostics channel keeps the level set by setLogLevel, if any).
function setLogger (fn, options = {}) {
  if (fn !== null && typeof fn !== 'function') throw invalidArgument('setLogger takes a function (record) => void, or null')
  if (options === null || typeof options !== 'object') throw invalidArgument('setLogger options must be an object like { level: "info" }')
  const l = options.level === undefined ? 'info' : options.level
  checkLevel(l)
  logger = fn
  level = fn === null ? 'off' : l
  apply()
}

// setLogLevel(level): the level of records forwarded to the logger and published on the
// `fencelock:log` diagnostics channel ('off' stops both).
function setLogLevel (l) {
  checkLevel(l)
  level = l
  apply()
}

module.exports = { setLogger, setLogLevel, LOG_CHANNEL: channel.name }

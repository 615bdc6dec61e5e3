// Test runners such as Jest evaluate the package in a `vm` context, where `Error` is not the
// `Error` of the realm that loaded the native addon. Errors must keep their classes there.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import vm from 'node:vm'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')

// Loads the package's JavaScript the way Jest does: every .js file is evaluated inside the
// context (with the context's globals); native addons and Node built-ins come from the host.
function loadInContext (context, entry) {
  const cache = new Map()
  const load = (file) => {
    if (cache.has(file)) return cache.get(file).exports
    const module = { exports: {} }
    cache.set(file, module)
    const wrapper = vm.runInContext(
      `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8')}\n})`,
      context,
      { filename: file }
    )
    const hostRequire = createRequire(file)
    const require = (spec) => {
      if (spec.startsWith('.')) {
        const resolved = hostRequire.resolve(spec)
        if (resolved.endsWith('.js')) return load(resolved)
      }
      return hostRequire(spec)
    }
    wrapper(module.exports, require, module, file, path.dirname(file))
    return module.exports
  }
  return load(entry)
}

test('in a vm context, addon errors become the context realm\'s TimeoutError and FencelockError', async () => {
  const context = vm.createContext({ setTimeout, clearTimeout, setImmediate, clearImmediate, queueMicrotask, process, Buffer, console, AbortController, AbortSignal, TextEncoder, TextDecoder })
  const pkg = loadInContext(context, path.join(root, 'index.js'))
  const ContextError = vm.runInContext('Error', context)
  assert.notEqual(ContextError, Error, 'the context must have an Error of its own')

  const cfg = { namespace: `vm-${process.pid}`, defaultLockDurationMs: 5000 }
  const a = await pkg.MemoryDistributedLock.create(cfg)
  const b = await pkg.MemoryDistributedLock.create(cfg)
  await a.acquireLock('k', 1000)
  await assert.rejects(b.acquireLock('k', 50), (e) => {
    assert.ok(e instanceof pkg.TimeoutError, `got ${Object.prototype.toString.call(e)} ${e && e.constructor && e.constructor.name}: ${e && e.message}`)
    assert.ok(e instanceof pkg.FencelockError)
    assert.ok(e instanceof ContextError)
    assert.equal(e.code, 'ERR_FENCELOCK_TIMEOUT')
    assert.equal(e.key, 'k')
    return true
  })
  await assert.rejects(b.acquireLock('', 50), (e) => {
    assert.ok(e instanceof pkg.FencelockError)
    assert.equal(e.code, 'ERR_FENCELOCK_INVALID_KEY')
    return true
  })
  await Promise.all([a.close(), b.close()])
  await assert.rejects(a.acquireLock('k', 50), (e) => {
    assert.ok(e instanceof pkg.FencelockError)
    assert.equal(e.code, 'ERR_FENCELOCK_CLOSED')
    return true
  })
})

// Real servers for the tests on random loopback ports: nats-server with JetStream (from
// FENCELOCK_NATS_SERVER or the repository's .venv, made by `make -C .. setup`) and
// redis-server (FENCELOCK_REDIS_SERVER or `redis-server` on PATH, e.g. Debian's package).

import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

export function natsServerBinary () {
  const fromEnv = process.env.FENCELOCK_NATS_SERVER
  if (fromEnv && existsSync(fromEnv)) return fromEnv
  const venv = path.resolve(here, '../../.venv/bin/nats-server')
  if (existsSync(venv)) return venv
  throw new Error('nats-server not found: set FENCELOCK_NATS_SERVER or run `make -C .. setup` in the repository root')
}

/** The redis-server binary, or null when there is none. */
export function redisServerBinary () {
  const bin = process.env.FENCELOCK_REDIS_SERVER || 'redis-server'
  return spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0 ? bin : null
}

// Resolves the first match of `pattern` in the process's `stream` output.
function waitForLine (proc, stream, pattern, name) {
  return new Promise((resolve, reject) => {
    let log = ''
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 10 s:\n${log}`)), 10_000)
    proc[stream].setEncoding('utf8')
    const onData = (chunk) => {
      log += chunk
      const m = pattern.exec(log)
      if (m) {
        clearTimeout(timer)
        proc[stream].off('data', onData)
        proc.off('exit', onExit)
        proc[stream].resume()
        resolve(m)
      }
    }
    const onExit = (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code}:\n${log}`))
    }
    proc[stream].on('data', onData)
    proc.on('exit', onExit)
  })
}

function stopper (proc, dir) {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Starts nats-server; resolves { url, stop() } once it listens. */
export async function startNats () {
  const dir = mkdtempSync(path.join(tmpdir(), 'fencelock-node-nats-'))
  const proc = spawn(natsServerBinary(), ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', dir], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
  const m = await waitForLine(proc, 'stderr', /Listening for client connections on 127\.0\.0\.1:(\d+)/, 'nats-server')
  return { url: `nats://127.0.0.1:${m[1]}`, stop: stopper(proc, dir) }
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Starts redis-server on a free port (it cannot pick one itself; retried if raced). */
export async function startRedis () {
  const bin = redisServerBinary()
  if (!bin) throw new Error('redis-server not found: install it or set FENCELOCK_REDIS_SERVER')
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'fencelock-node-redis-'))
    const port = await freePort()
    const proc = spawn(bin, ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'ignore']
    })
    try {
      await waitForLine(proc, 'stdout', /Ready to accept connections/, 'redis-server')
      return { url: `redis://127.0.0.1:${port}`, stop: stopper(proc, dir) }
    } catch (e) {
      await stopper(proc, dir)()
      if (attempt >= 3) throw e
    }
  }
}

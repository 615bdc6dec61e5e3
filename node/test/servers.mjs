// Real servers for the tests on random loopback ports: nats-server with JetStream (from
// FENCELOCK_NATS_SERVER or the repository's .venv, made by `make -C .. setup`) and
// redis-server (FENCELOCK_REDIS_SERVER or `redis-server` on PATH, e.g. Debian's package).

import { spawn, spawnSync } from 'node:child_process'
import { connect as tcpConnect, createServer } from 'node:net'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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

/** Starts nats-server (`args` adds options); resolves { url, port, stop() } once it listens. */
export async function startNats (args = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'fencelock-node-nats-'))
  const proc = spawn(natsServerBinary(), ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', dir, ...args], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
  const m = await waitForLine(proc, 'stderr', /Listening for client connections on 127\.0\.0\.1:(\d+)/, 'nats-server')
  return { url: `nats://127.0.0.1:${m[1]}`, port: Number(m[1]), stop: stopper(proc, dir) }
}

// One request over the NATS text protocol (a readiness probe needing no client library).
function natsRequest (port, subject, payload) {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(port, '127.0.0.1')
    const inbox = '_INBOX.fencelock_node_probe'
    let buf = Buffer.alloc(0)
    let greeted = false
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no reply within 3 s')) }, 3000)
    const done = (fn, v) => { clearTimeout(timer); sock.destroy(); fn(v) }
    sock.on('error', (e) => done(reject, e))
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        const eol = buf.indexOf('\r\n')
        if (eol < 0) return
        const line = buf.subarray(0, eol).toString()
        if (line.startsWith('MSG ')) {
          const len = Number(line.split(' ').at(-1))
          if (buf.length < eol + 2 + len + 2) return
          return done(resolve, buf.subarray(eol + 2, eol + 2 + len).toString())
        }
        buf = buf.subarray(eol + 2)
        if (line.startsWith('-ERR')) return done(reject, new Error(line))
        if (line === 'PING') sock.write('PONG\r\n')
        if (line.startsWith('INFO ') && !greeted) {
          greeted = true
          sock.write(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${inbox} 1\r\n` +
            `PUB ${subject} ${inbox} ${Buffer.byteLength(payload)}\r\n${payload}\r\n`)
        }
      }
    })
  })
}

/**
 * Three routed nats-servers with JetStream, ready once they can place an R3 stream; resolves
 * { url (comma-separated), urls, stop() }.
 */
export async function startNatsCluster () {
  const name = `flnode${randomUUID().slice(0, 8)}`
  const routes = [await freePort(), await freePort(), await freePort()]
  const nodes = []
  try {
    for (const [i, route] of routes.entries()) {
      const peers = routes.filter((p) => p !== route).map((p) => `nats://127.0.0.1:${p}`).join(',')
      nodes.push(await startNats(['-n', `n${i + 1}`, '--cluster_name', name, '--cluster', `nats://127.0.0.1:${route}`, '--routes', peers]))
    }
    const deadline = Date.now() + 30_000
    for (let last = ''; ;) {
      const probe = `fencelock_node_probe_${randomUUID().slice(0, 8)}`
      const config = JSON.stringify({ name: probe, subjects: [`${probe}.>`], num_replicas: 3, storage: 'memory' })
      try {
        const reply = JSON.parse(await natsRequest(nodes[0].port, `$JS.API.STREAM.CREATE.${probe}`, config))
        if (!reply.error) {
          await natsRequest(nodes[0].port, `$JS.API.STREAM.DELETE.${probe}`, '')
          break
        }
        last = JSON.stringify(reply.error)
      } catch (e) {
        last = e.message
      }
      if (Date.now() > deadline) throw new Error(`the nats-server cluster could not place an R3 stream in 30 s: ${last}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const urls = nodes.map((n) => n.url)
    return { url: urls.join(','), urls, stop: () => Promise.all(nodes.map((n) => n.stop())) }
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()))
    throw e
  }
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

/**
 * Starts redis-server on a free port (it cannot pick one itself; retried if raced). `tls`
 * (from `makeCerts`) serves TLS only on that port; `args` adds server options.
 */
export async function startRedis ({ tls, args = [] } = {}) {
  const bin = redisServerBinary()
  if (!bin) throw new Error('redis-server not found: install it or set FENCELOCK_REDIS_SERVER')
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'fencelock-node-redis-'))
    const port = await freePort()
    const listen = tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.serverCert, '--tls-key-file', tls.serverKey,
          '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no']
      : ['--port', String(port)]
    const proc = spawn(bin, ['--bind', '127.0.0.1', ...listen, '--dir', dir, '--save', '', '--appendonly', 'no', ...args], {
      stdio: ['ignore', 'pipe', 'ignore']
    })
    try {
      await waitForLine(proc, 'stdout', /Ready to accept connections/, 'redis-server')
      return { url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, port, stop: stopper(proc, dir) }
    } catch (e) {
      await stopper(proc, dir)()
      if (attempt >= 3) throw e
    }
  }
}

/** A CA and a server certificate for 127.0.0.1, made with the openssl CLI in a temp dir. */
export function makeCerts () {
  const dir = mkdtempSync(path.join(tmpdir(), 'fencelock-node-certs-'))
  const f = (name) => path.join(dir, name)
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n')
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  const steps = [
    ['req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=fencelock test CA'],
    ['req', ...key, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'],
    ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f('server.crt'), '-days', '2', '-extfile', f('san.ext')]
  ]
  for (const args of steps) {
    const r = spawnSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.error?.message ?? r.stderr}`)
  }
  return { caFile: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Three redis-server masters joined into a Cluster with redis-cli; resolves { nodes, stop() }. */
export async function startRedisCluster () {
  const servers = []
  try {
    for (let i = 0; i < 3; i++) {
      servers.push(await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] }))
    }
    const addrs = servers.map((s) => `127.0.0.1:${s.port}`)
    const cli = process.env.FENCELOCK_REDIS_CLI || 'redis-cli'
    const r = spawnSync(cli, ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.error?.message ?? r.stderr}`)
    // Every node must agree before keys of every slot can be served.
    const deadline = Date.now() + 15_000
    for (const s of servers) {
      for (;;) {
        const info = spawnSync(cli, ['-p', String(s.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout ?? ''
        if (info.includes('cluster_state:ok')) break
        if (Date.now() > deadline) throw new Error(`cluster on ${addrs} did not become ready:\n${info}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    return { nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), stop: () => Promise.all(servers.map((s) => s.stop())) }
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop()))
    throw e
  }
}

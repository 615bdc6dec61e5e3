// The version the package reports, and how binding.js finds the native addon: the local build
// in a checkout, else the platform package of the published layout (fencelock-linux-x64-gnu,
// reached through optionalDependencies), refusing an addon of another version.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as esm from '../index.mjs'

const require = createRequire(import.meta.url)
const nodeDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cargoToml = fs.readFileSync(path.join(nodeDir, '..', 'Cargo.toml'), 'utf8')
const workspaceVersion = /\[workspace\.package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(cargoToml)[1]

test('version is the core version of the workspace, from both entry points', () => {
  const cjs = require('../index.js')
  assert.equal(cjs.version, workspaceVersion)
  assert.equal(esm.version, workspaceVersion)
  assert.equal(require('../package.json').version, workspaceVersion)
})

/** A copy of the package as npm installs it from the tarball: JS files, no fencelock.node. */
function installedLayout({ packageVersion, withPlatform = true }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fencelock-layout-'))
  const pkg = path.join(dir, 'node_modules', 'fencelock')
  fs.mkdirSync(pkg, { recursive: true })
  for (const f of ['index.js', 'binding.js', 'package.json']) fs.copyFileSync(path.join(nodeDir, f), path.join(pkg, f))
  fs.cpSync(path.join(nodeDir, 'lib'), path.join(pkg, 'lib'), { recursive: true })
  if (withPlatform) {
    const plat = path.join(dir, 'node_modules', 'fencelock-linux-x64-gnu')
    fs.mkdirSync(plat)
    const manifest = JSON.parse(fs.readFileSync(path.join(nodeDir, 'npm', 'linux-x64-gnu', 'package.json'), 'utf8'))
    fs.writeFileSync(path.join(plat, 'package.json'), JSON.stringify(manifest))
    fs.copyFileSync(path.join(nodeDir, 'fencelock.node'), path.join(plat, manifest.main))
  }
  if (packageVersion) {
    const p = path.join(pkg, 'package.json')
    fs.writeFileSync(p, JSON.stringify({ ...JSON.parse(fs.readFileSync(p, 'utf8')), version: packageVersion }))
  }
  return dir
}

function loadIn(dir) {
  return spawnSync(process.execPath, ['-e', "console.log(require('fencelock').version)"], {
    cwd: dir,
    encoding: 'utf8'
  })
}

const linuxX64Gnu = process.platform === 'linux' && process.arch === 'x64'

test('without a local build the loader takes the platform package', { skip: !linuxX64Gnu }, () => {
  const dir = installedLayout({})
  try {
    const run = loadIn(dir)
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout.trim(), workspaceVersion)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('an addon of another version is refused, naming both versions', { skip: !linuxX64Gnu }, () => {
  const dir = installedLayout({ packageVersion: '9.9.9' })
  try {
    const run = loadIn(dir)
    assert.notEqual(run.status, 0)
    assert.match(run.stderr, new RegExp(`is version ${workspaceVersion.replaceAll('.', '\\.')} but this package is 9\\.9\\.9`))
    assert.match(run.stderr, /fencelock-linux-x64-gnu@9\.9\.9/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a missing platform package is a clear error', { skip: !linuxX64Gnu }, () => {
  const dir = installedLayout({ withPlatform: false })
  try {
    const run = loadIn(dir)
    assert.notEqual(run.status, 0)
    assert.match(run.stderr, /no native addon for linux-x64-gnu: the package fencelock-linux-x64-gnu is not installed/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

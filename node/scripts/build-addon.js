'use strict'
// Builds the native addon with cargo and installs it as ./fencelock.node, which binding.js
// loads. Runs on `npm install` (in this directory, or `npm install <path-to-node>` elsewhere),
// so it needs only Rust's cargo: no prebuilt binaries, no dev dependencies.
// FENCELOCK_NODE_PROFILE=debug builds faster for development; the default is release.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const profile = process.env.FENCELOCK_NODE_PROFILE === 'debug' ? [] : ['--release']
const args = ['build', ...profile, '-p', 'fencelock-node', '--message-format=json-render-diagnostics']

const run = spawnSync('cargo', args, {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
  maxBuffer: 1 << 28
})
if (run.error) {
  console.error(`fencelock: cannot run cargo (${run.error.message}); install Rust (https://rustup.rs) to build the native addon`)
  process.exit(1)
}
if (run.status !== 0) {
  console.error(`fencelock: cargo ${args.join(' ')} failed with status ${run.status}`)
  process.exit(run.status || 1)
}

// cargo names the cdylib per platform (libfencelock_node.so, .dylib, fencelock_node.dll):
// take the file it reports rather than guessing.
let artefact
for (const line of run.stdout.split('\n')) {
  if (!line.startsWith('{')) continue
  const msg = JSON.parse(line)
  if (msg.reason === 'compiler-artifact' && msg.target && msg.target.name === 'fencelock_node') {
    artefact = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || artefact
  }
}
if (!artefact) {
  console.error('fencelock: cargo did not report the fencelock_node library; is node/ a member of the cargo workspace?')
  process.exit(1)
}

// Copy then rename: overwriting a library in place can crash processes that have it loaded.
const dest = path.join(root, 'fencelock.node')
const tmp = `${dest}.${process.pid}.tmp`
fs.copyFileSync(artefact, tmp)
fs.renameSync(tmp, dest)
console.error(`fencelock: built ${path.relative(root, dest)} from ${artefact}`)

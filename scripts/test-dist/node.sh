#!/usr/bin/env bash
# Installs the npm tarballs of `make dist` into an empty npm project, offline (npm --offline:
# the tarballs are everything needed, no registry is asked), checks no native file was built
# (the addon comes from the platform package) and runs node-smoke/smoke.mjs against a real
# nats-server.
#   DIST=<dist dir> FENCELOCK_NATS_URL=nats://127.0.0.1:PORT scripts/test-dist/node.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${DIST:?DIST must name the directory make dist wrote}"
: "${FENCELOCK_NATS_URL:?FENCELOCK_NATS_URL must name a nats-server with JetStream}"
version=$("$here/../version")
main="$DIST/fencelock-$version.tgz"
plat="$DIST/fencelock-linux-x64-gnu-$version.tgz"
for f in "$main" "$plat"; do
  [ -f "$f" ] || { echo "test-dist/node: $f is missing (make dist, scripts/dist/node.sh)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/app"
cd "$work/app"
echo "--- test-dist/node: $(basename "$main") + $(basename "$plat") into an empty project (node $(node -v))"
npm init -y >/dev/null
# A private cache: nothing from the machine's npm cache, and --offline makes any registry
# request an error instead of a download.
npm install --offline --cache "$work/npm-cache" --no-audit --no-fund --loglevel=error "$plat" "$main"
[ ! -e node_modules/fencelock/fencelock.node ] || { echo "test-dist/node: the install built fencelock.node" >&2; exit 1; }
node -e "const o = require('fencelock/package.json').optionalDependencies; \
  if (o['fencelock-linux-x64-gnu'] !== '$version') throw new Error('optionalDependencies: ' + JSON.stringify(o))"
cp "$here/node-smoke/smoke.mjs" .
node smoke.mjs "$FENCELOCK_NATS_URL" "$version"

#!/usr/bin/env bash
# The npm release artifacts, in napi-rs's usual layout, as `npm pack` tarballs:
#   OUTDIR/fencelock-<version>.tgz                   the JS package (no native code)
#   OUTDIR/fencelock-linux-x64-gnu-<version>.tgz     the prebuilt addon for Linux x86-64 glibc
# The main package lists the platform package in optionalDependencies pinned to its own
# version (what `napi prepublish` adds at publish time), so npm installs the addon matching the
# machine; binding.js finds it there. The published main package has no install script and no
# fencelock.node: installing it never runs cargo. (The checkout's package.json keeps the
# install script that builds from source, for `npm install ./node`.)
#   scripts/dist/node.sh OUTDIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: scripts/dist/node.sh OUTDIR" >&2; exit 2; }
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cd "$root"
version=$(scripts/version)
scripts/version --check >/dev/null

# Linked against glibc 2.17's symbols, as the wheel is (scripts/dist/lib/glibc-build.sh).
built="$(scripts/dist/lib/glibc-build.sh -p fencelock-node)/libfencelock_node.so"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The platform package: its manifest and README from node/npm/linux-x64-gnu, the addon stripped.
plat="$work/linux-x64-gnu"
mkdir "$plat"
cp node/npm/linux-x64-gnu/package.json node/npm/linux-x64-gnu/README.md "$plat/"
addon=$(node -p "require('$plat/package.json').main")
strip --strip-unneeded -o "$plat/$addon" "$built"
if readelf -S -W "$plat/$addon" | grep -q '\.debug_'; then
  echo "dist/node.sh: $addon still has debug sections" >&2
  exit 1
fi
scripts/dist/lib/check-glibc.sh "$plat/$addon"

# The main package: the files package.json lists, minus the from-source build.
main="$work/fencelock"
mkdir "$main"
(cd node && cp -r index.js index.mjs index.d.ts binding.js binding.d.ts README.md lib package.json "$main/")
[ -f LICENSE ] && cp LICENSE "$main/" && cp LICENSE "$plat/"
node - "$main/package.json" "$version" <<'JS'
const fs = require('node:fs')
const [file, version] = process.argv.slice(2)
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
// Installing the published package must never build: no install/build scripts, no dev tools.
delete pkg.scripts
delete pkg.devDependencies
pkg.files = pkg.files.filter((f) => f !== 'fencelock.node' && !f.startsWith('scripts/'))
pkg.optionalDependencies = { 'fencelock-linux-x64-gnu': version }
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n')
JS

for dir in "$plat" "$main"; do
  (cd "$dir" && npm pack --silent --pack-destination "$out" >/dev/null)
done
for name in fencelock-linux-x64-gnu fencelock; do
  tgz="$out/$name-$version.tgz"
  [ -f "$tgz" ] || { echo "dist/node.sh: npm pack wrote no $tgz" >&2; exit 1; }
  echo "dist/node.sh: $tgz ($(du -h "$tgz" | cut -f1))"
done
# The main tarball must not carry a native file or a script npm would run on install.
if tar -tzf "$out/fencelock-$version.tgz" | grep -qE '\.node$|scripts/'; then
  echo "dist/node.sh: fencelock-$version.tgz contains a native addon or scripts" >&2
  exit 1
fi

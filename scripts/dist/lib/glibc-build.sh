#!/usr/bin/env bash
# A release build of one crate's library for Linux x86-64, linked by zig (cargo-zigbuild, from
# scripts/dist/requirements.txt) against the symbols of glibc $FENCELOCK_GLIBC (default 2.17),
# the baseline the wheel's manylinux_2_17 tag promises, so the npm addon, the C library and the
# JVM's library load on the same systems the wheel installs on (RHEL/CentOS 7 and later,
# Debian 8+, Ubuntu 14.04+) whatever glibc the build machine has. Linked by the system's
# linker instead, they would need the build machine's glibc (2.34 and later on Debian 12).
# Prints the directory that holds the built library.
#   scripts/dist/lib/glibc-build.sh -p CRATE [more cargo build arguments]
# FENCELOCK_DIST_ZIG=0 builds with the system's linker (the libraries then need the build
# machine's glibc; scripts/dist/lib/check-glibc.sh is told the same through FENCELOCK_GLIBC).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
if [ "${FENCELOCK_DIST_ZIG:-1}" = 0 ]; then
  cargo build --release "$@" >&2
  echo "$target_dir/release"
  exit 0
fi
[ "$(uname -sm)" = "Linux x86_64" ] || {
  echo "dist/glibc-build.sh: builds for Linux x86-64 only (this is $(uname -sm)); FENCELOCK_DIST_ZIG=0 builds for this machine" >&2
  exit 1
}
venv="$root/.venv/bin"
[ -x "$venv/python" ] || make --no-print-directory setup >&2
"$venv/pip" install --quiet -r scripts/dist/requirements.txt >&2
# cargo-zigbuild finds zig through `python -m ziglang`: the venv's python first on PATH.
PATH="$venv:$PATH" "$venv/cargo-zigbuild" zigbuild --release \
  --target "x86_64-unknown-linux-gnu.${FENCELOCK_GLIBC:-2.17}" "$@" >&2
echo "$target_dir/x86_64-unknown-linux-gnu/release"

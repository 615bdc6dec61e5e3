#!/usr/bin/env bash
# Fails when a shared library needs a glibc symbol version newer than $FENCELOCK_GLIBC (default
# 2.17, what scripts/dist/lib/glibc-build.sh links against): the dynamic loader of an older system
# would refuse to load it ("version `GLIBC_2.34' not found").
#   scripts/dist/lib/check-glibc.sh LIBRARY...
set -euo pipefail
if [ "${FENCELOCK_DIST_ZIG:-1}" = 0 ] && [ -z "${FENCELOCK_GLIBC:-}" ]; then
  exit 0  # built by the system's linker for this machine's glibc: nothing to promise
fi
limit="${FENCELOCK_GLIBC:-2.17}"
for lib in "$@"; do
  # The versions the library needs from libc/libm/libpthread... (its .gnu.version_r section).
  newest=$(readelf -V -W "$lib" | grep -oE 'Name: GLIBC_[0-9][0-9.]*' | sed 's/Name: GLIBC_//' \
    | sort -V | tail -1)
  [ -n "$newest" ] || { echo "dist/check-glibc.sh: $lib names no glibc version (not a glibc library?)" >&2; exit 1; }
  if [ "$(printf '%s\n%s\n' "$newest" "$limit" | sort -V | tail -1)" != "$limit" ]; then
    echo "dist/check-glibc.sh: $lib needs GLIBC_$newest, newer than the promised $limit:" >&2
    readelf -V -W "$lib" | grep -oE 'GLIBC_[0-9][0-9.]*' | sort -Vu | tr '\n' ' ' >&2
    echo >&2
    exit 1
  fi
  echo "dist/check-glibc.sh: $(basename "$lib") needs glibc $newest at most (limit $limit)" >&2
done

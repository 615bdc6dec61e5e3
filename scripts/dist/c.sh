#!/usr/bin/env bash
# The C/C++ release artifact: OUTDIR/fencelock-c-<version>-<os>-<arch>.tar.gz, one directory
# fencelock-c-<version>-<os>-<arch>/ laid out as an install prefix (bindings/c/layout.sh):
# lib/libfencelock.so* (SONAME libfencelock.so.<abi>), lib/libfencelock.a, include/,
# lib/pkgconfig/fencelock.pc and lib/cmake/fencelock/ (both relocatable), README.md, LICENSE.
# A release build, without debug info.
#   scripts/dist/c.sh OUTDIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: scripts/dist/c.sh OUTDIR" >&2; exit 2; }
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cd "$root"

# The one version of every package (Cargo.toml's [workspace.package]).
version=$(scripts/version)
[ -n "$version" ] || { echo "dist/c.sh: no version found in Cargo.toml [workspace.package]" >&2; exit 1; }
platform="$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)"
name="fencelock-c-$version-$platform"

# Linked against glibc 2.17's symbols, as the wheel is (scripts/dist/lib/glibc-build.sh).
built=$(scripts/dist/lib/glibc-build.sh -p fencelock-c --lib)
# The tarball ships the committed header: refuse one that differs from the sources.
cargo run -q -p fencelock-c --bin gen-header -- --check

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/$name"
bindings/c/layout.sh --strip "$version" "$built" "$prefix"
soname=$(readelf -d "$prefix/lib/libfencelock.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
sed -e "s|@VERSION@|$version|g" -e "s|@PLATFORM@|$platform|g" -e "s|@ABI@|${soname#libfencelock.so.}|g" \
  -e "s|@MAJOR_MINOR@|$(echo "$version" | cut -d. -f1,2)|g" bindings/c/dist/README.md >"$prefix/README.md"
cp LICENSE "$prefix/LICENSE"

# A release carries no debug info, and the library must not name the build machine's paths
# as its SONAME or an rpath.
for f in "$prefix/lib/libfencelock.so.$version" "$prefix/lib/libfencelock.a"; do
  if readelf -S -W "$f" 2>/dev/null | grep -q '\.debug_'; then
    echo "dist/c.sh: $f still has debug sections" >&2
    exit 1
  fi
done
scripts/dist/lib/check-glibc.sh "$prefix/lib/libfencelock.so.$version"
if readelf -d "$prefix/lib/libfencelock.so.$version" | grep -qE '\((RPATH|RUNPATH)\)'; then
  echo "dist/c.sh: libfencelock.so carries an rpath" >&2
  exit 1
fi

# Reproducible archive: sorted names, no owner, mtime of the last commit.
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
tarball="$out/$name.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
  -C "$work" -cf - "$name" | gzip -9n >"$tarball"
echo "dist/c.sh: $tarball ($(du -h "$tarball" | cut -f1))"

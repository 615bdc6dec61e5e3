#!/usr/bin/env bash
# The JVM release artifacts: OUTDIR/fencelock-<version>.jar (Kotlin/Java API, with the native
# library for linux-x86-64 inside, stripped of debug info) and OUTDIR/fencelock-<version>.pom,
# the Maven coordinates dev.fencelock:fencelock:<version> and the dependencies a build tool
# resolves for it (kotlin-stdlib, kotlinx-coroutines-core, jna). Built by the JVM project's own
# Maven build (what `make -C bindings/jvm jar` runs).
#   scripts/dist/jvm.sh OUTDIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: scripts/dist/jvm.sh OUTDIR" >&2; exit 2; }
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cd "$root"
version=$(scripts/version)
scripts/version --check >/dev/null

# The library linked against glibc 2.17's symbols, as the wheel is (scripts/dist/lib/glibc-build.sh),
# placed where `make -C bindings/jvm jar` puts its own build, then the same Maven package step.
built=$(scripts/dist/lib/glibc-build.sh -p fencelock-jvm --lib)
mkdir -p bindings/jvm/src/main/resources/linux-x86-64
strip --strip-debug -o bindings/jvm/src/main/resources/linux-x86-64/libfencelock_jvm.so \
  "$built/libfencelock_jvm.so"
(cd bindings/jvm && mvn -q -B package -DskipTests) >&2
jar="bindings/jvm/target/fencelock-$version.jar"
[ -f "$jar" ] || { echo "dist/jvm.sh: the Maven build wrote no $jar" >&2; exit 1; }

# The bundled native library: present, and without debug info.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m zipfile -e "$jar" "$work"
lib="$work/linux-x86-64/libfencelock_jvm.so"
[ -f "$lib" ] || { echo "dist/jvm.sh: $jar has no linux-x86-64/libfencelock_jvm.so" >&2; exit 1; }
if readelf -S -W "$lib" | grep -q '\.debug_'; then
  echo "dist/jvm.sh: the library in $jar has debug sections" >&2
  exit 1
fi
scripts/dist/lib/check-glibc.sh "$lib"

cp "$jar" "$out/fencelock-$version.jar"
cp bindings/jvm/pom.xml "$out/fencelock-$version.pom"
echo "dist/jvm.sh: $out/fencelock-$version.jar ($(du -h "$jar" | cut -f1))"
echo "dist/jvm.sh: $out/fencelock-$version.pom"

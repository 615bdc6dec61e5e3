#!/usr/bin/env bash
# Installs the C tarball of `make dist` into a temporary prefix and builds consumers of it the
# way a user would, with no Rust toolchain: a C and a C++ program through
# `pkg-config --cflags --libs fencelock`, the C program again statically through
# `pkg-config --static`, and (when cmake is installed) a CMake project through
# find_package(fencelock). Each runs the smoke scenario (c-smoke/smoke.c) against a real
# nats-server.
#   DIST=<dist dir> FENCELOCK_NATS_URL=nats://127.0.0.1:PORT scripts/test-dist/c.sh
# FENCELOCK_REQUIRE_CMAKE=1 fails instead of skipping the CMake consumer when cmake is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd -P)"
root="$(cd "$here/../.." && pwd)"
: "${DIST:?DIST must name the directory make dist wrote}"
: "${FENCELOCK_NATS_URL:?FENCELOCK_NATS_URL must name a nats-server with JetStream}"
step() { echo "--- test-dist/c: $*"; }
die() { echo "test-dist/c: $*" >&2; exit 1; }

version=$("$root/scripts/version") || die "no version from $root/scripts/version"
name="fencelock-c-$version-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)"
tarball="$DIST/$name.tar.gz"
[ -f "$tarball" ] || { echo "test-dist/c: $tarball is missing (make dist, scripts/dist/c.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
prefix="$work/$name"
mkdir "$work/build"
cp "$here/c-smoke/smoke.c" "$here/c-smoke/smoke.cpp" "$here/c-smoke/CMakeLists.txt" "$work/build/"
cd "$work/build"

step "package $name"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
modversion=$(pkg-config --modversion fencelock)
[ "$modversion" = "$version" ] || die "pkg-config --modversion fencelock is $modversion, expected $version"
lib="$prefix/lib/libfencelock.so.$version"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libfencelock.so.0 ] || die "SONAME is '$soname', expected libfencelock.so.0"
[ "$(readlink "$prefix/lib/libfencelock.so")" = "$soname" ] || die "lib/libfencelock.so does not point to $soname"
! readelf -S -W "$lib" | grep -q '\.debug_' || die "$lib has debug sections"
echo "pkg-config: $(pkg-config --cflags --libs fencelock)"
echo "pkg-config --static: $(pkg-config --static --libs fencelock)"

step "C and C++ through pkg-config (shared)"
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
cc -std=c11 -Wall -Wextra -Werror smoke.c -o smoke $(pkg-config --cflags --libs fencelock)
# shellcheck disable=SC2046
c++ -std=c++17 -Wall -Wextra -Werror smoke.cpp -o smoke_cpp $(pkg-config --cflags --libs fencelock)
# The program names the library by its SONAME, not by a path of the build.
readelf -d smoke | grep -q 'NEEDED.*\[libfencelock\.so\.0\]' || die "smoke does not need libfencelock.so.0"
! readelf -d smoke | grep -qE '\((RPATH|RUNPATH)\)' || die "smoke carries an rpath"
LD_LIBRARY_PATH="$prefix/lib" ./smoke "$FENCELOCK_NATS_URL" "$version" c-shared
LD_LIBRARY_PATH="$prefix/lib" ./smoke_cpp "$FENCELOCK_NATS_URL" "$version" cpp-shared

step "C through pkg-config --static"
# -Bstatic makes the linker take libfencelock.a although libfencelock.so lies beside it; the
# system libraries the archive needs come from Libs.private.
static_libs=$(pkg-config --static --libs fencelock | sed 's/-lfencelock/-Wl,-Bstatic -lfencelock -Wl,-Bdynamic/')
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Wextra -Werror smoke.c -o smoke_static $(pkg-config --cflags fencelock) $static_libs
! readelf -d smoke_static | grep -q 'libfencelock' || die "smoke_static still needs libfencelock.so"
./smoke_static "$FENCELOCK_NATS_URL" "$version" c-static

if command -v cmake >/dev/null; then
  step "CMake: find_package(fencelock $version EXACT CONFIG REQUIRED)"
  cmake -S . -B cmake-build -DCMAKE_PREFIX_PATH="$prefix" -DFENCELOCK_VERSION="$version" >cmake.log 2>&1 ||
    { cat cmake.log >&2; die "cmake configure failed"; }
  cmake --build cmake-build >>cmake.log 2>&1 || { cat cmake.log >&2; die "cmake build failed"; }
  ! readelf -d cmake-build/smoke_static_cmake | grep -q 'libfencelock' || die "smoke_static_cmake needs libfencelock.so"
  LD_LIBRARY_PATH="$prefix/lib" cmake-build/smoke_cpp_cmake "$FENCELOCK_NATS_URL" "$version" cmake-cpp-shared
  cmake-build/smoke_static_cmake "$FENCELOCK_NATS_URL" "$version" cmake-c-static
elif [ "${FENCELOCK_REQUIRE_CMAKE:-}" = 1 ]; then
  die "FENCELOCK_REQUIRE_CMAKE=1 but cmake is not installed"
else
  step "SKIPPED the CMake consumer: cmake is not installed"
fi
step "passed"

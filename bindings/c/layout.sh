#!/usr/bin/env bash
# Lays out an installed libfencelock under a prefix, the one layout shared by `make stage`
# (the in-tree build the C tests and the Go package use), `make install` and the release
# tarball of scripts/dist/c.sh:
#   lib/libfencelock.so.<version>, lib/libfencelock.so.<abi> (the SONAME), lib/libfencelock.so
#   lib/libfencelock.a
#   include/fencelock.h, include/fencelock.hpp
#   lib/pkgconfig/fencelock.pc                (relocatable: paths from ${pcfiledir})
#   lib/cmake/fencelock/fencelockConfig.cmake, fencelockConfigVersion.cmake (relocatable)
#
#   layout.sh [--strip] [--rpath] VERSION CARGO_PROFILE_DIR PREFIX
# --strip removes debug info (release artifacts); --rpath adds -Wl,-rpath,${libdir} to the
# pkg-config Libs, so programs built in the tree run without LD_LIBRARY_PATH (never in a
# release: an installed library is found by the dynamic loader's own rules).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
strip=0 rpath=0
while [ $# -gt 0 ]; do
  case "$1" in
    --strip) strip=1 ;;
    --rpath) rpath=1 ;;
    --*) echo "layout.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 3 ] || { echo "usage: layout.sh [--strip] [--rpath] VERSION CARGO_PROFILE_DIR PREFIX" >&2; exit 2; }
version="$1" built="$2" prefix="$3"
so="$built/libfencelock_c.so" a="$built/libfencelock_c.a"
for f in "$so" "$a"; do
  [ -f "$f" ] || { echo "layout.sh: $f is missing: build it first (cargo build -p fencelock-c --lib)" >&2; exit 1; }
done
# The SONAME is set by build.rs; the symlink the loader follows must carry exactly that name.
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case "$soname" in
  libfencelock.so.*) ;;
  *) echo "layout.sh: $so has SONAME '$soname', expected libfencelock.so.<abi> (build.rs)" >&2; exit 1 ;;
esac

lib="$prefix/lib"
mkdir -p "$lib/pkgconfig" "$lib/cmake/fencelock" "$prefix/include"
rm -f "$lib"/libfencelock.so*
if [ "$strip" = 1 ]; then
  # --strip-unneeded keeps the dynamic symbol table (the exports); the archive keeps its
  # symbols for the static link and loses the debug sections and the LLVM bitcode the Rust
  # standard library carries for Rust's own LTO (a C linker never reads it; ~9 MB).
  strip --strip-unneeded -o "$lib/libfencelock.so.$version" "$so"
  strip --strip-debug -R .llvmbc -R .llvmcmd -o "$lib/libfencelock.a" "$a"
else
  cp "$so" "$lib/libfencelock.so.$version"
  cp "$a" "$lib/libfencelock.a"
fi
chmod 755 "$lib/libfencelock.so.$version"
chmod 644 "$lib/libfencelock.a"
[ "$soname" = "libfencelock.so.$version" ] || ln -s "libfencelock.so.$version" "$lib/$soname"
ln -s "$soname" "$lib/libfencelock.so"
install -m 644 "$root/include/fencelock.h" "$root/include/fencelock.hpp" "$prefix/include/"

extra=""
[ "$rpath" = 0 ] || extra=' -Wl,-rpath,${libdir}'
sed -e "s|@VERSION@|$version|" -e "s|@LIBS_EXTRA@|$extra|" "$here/fencelock.pc.in" >"$lib/pkgconfig/fencelock.pc"
install -m 644 "$here/cmake/fencelockConfig.cmake" "$lib/cmake/fencelock/"
sed -e "s|@VERSION@|$version|" "$here/cmake/fencelockConfigVersion.cmake.in" \
  >"$lib/cmake/fencelock/fencelockConfigVersion.cmake"

#!/usr/bin/env bash
# The Python release artifacts: OUTDIR/fencelock-<version>-cp39-abi3-manylinux_2_17_x86_64.whl
# (one wheel for CPython 3.9 and later: pyo3's stable ABI, abi3-py39) and the sdist
# OUTDIR/fencelock-<version>.tar.gz (builds with Rust through maturin, like `pip install ./python`).
# The wheel is a release build without debug info or symbols (maturin --strip), linked by zig
# (the ziglang package, scripts/dist/requirements.txt) against glibc 2.17's symbols, so it runs
# on any glibc from 2.17 whatever the build machine's glibc; maturin refuses to tag it lower
# than the symbols it needs, and auditwheel must agree with the tag and find no library to
# vendor.
#   scripts/dist/python.sh OUTDIR
# FENCELOCK_MANYLINUX=manylinux_2_28 picks another tag; FENCELOCK_WHEEL_ZIG=0 links with the
# system's linker instead (the tag then follows the build machine's glibc: manylinux_2_34 on
# glibc 2.36).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: scripts/dist/python.sh OUTDIR" >&2; exit 2; }
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cd "$root"
venv="$root/.venv/bin"
make --no-print-directory -C python setup >&2  # maturin (pinned)
"$venv/pip" install --quiet -r scripts/dist/requirements.txt >&2
version=$(scripts/version)
scripts/version --check >/dev/null
if [ "${FENCELOCK_WHEEL_ZIG:-1}" = 0 ]; then
  compat=(--compatibility "${FENCELOCK_MANYLINUX:-off}")
  [ "${FENCELOCK_MANYLINUX:-off}" != off ] || compat=()
else
  compat=(--zig --compatibility "${FENCELOCK_MANYLINUX:-manylinux_2_17}")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The venv first on PATH: maturin finds zig there (python -m ziglang).
PATH="$venv:$PATH" "$venv/maturin" build --release --strip "${compat[@]}" -m python/Cargo.toml \
  -o "$work" >&2
"$venv/maturin" sdist -m python/Cargo.toml -o "$work" >&2

wheel=$(ls "$work"/fencelock-"$version"-*.whl)
sdist=$(ls "$work"/fencelock-"$version".tar.gz)
[ "$(echo "$wheel" | wc -l)" -eq 1 ] || { echo "dist/python.sh: expected one wheel, got: $wheel" >&2; exit 1; }
case "$(basename "$wheel")" in
  *-cp39-abi3-*) ;;
  *) echo "dist/python.sh: $(basename "$wheel") is not a cp39-abi3 wheel (python/Cargo.toml's pyo3 abi3 feature?)" >&2; exit 1 ;;
esac

# auditwheel names the lowest platform tag the wheel's symbols allow and any library it would
# have to vendor; the wheel's own tag must be one it allows, and it must need no vendoring.
show=$("$venv/auditwheel" show "$wheel" 2>&1) || { echo "$show" >&2; exit 1; }
echo "$show" >&2
allowed=$(echo "$show" | tr '\n' ' ' | tr -s ' ' | sed -n 's/.*consistent with the following platform tag: "\([^"]*\)".*/\1/p')
[ -n "$allowed" ] || { echo "dist/python.sh: auditwheel reported no platform tag" >&2; exit 1; }
tag_glibc() { echo "$1" | sed -n 's/.*manylinux_\([0-9]*\)_\([0-9]*\)_x86_64.*/\1 \2/p' | head -1; }
read -r wmaj wmin < <(tag_glibc "$(basename "$wheel")")
read -r amaj amin < <(tag_glibc "$allowed")
if [ "$wmaj" -lt "$amaj" ] || { [ "$wmaj" -eq "$amaj" ] && [ "$wmin" -lt "$amin" ]; }; then
  echo "dist/python.sh: the wheel claims glibc $wmaj.$wmin but auditwheel allows only $allowed" >&2
  exit 1
fi
if echo "$show" | grep -qi 'requires the following external shared libraries\|not allowed\|repair'; then
  echo "dist/python.sh: auditwheel wants libraries vendored into the wheel" >&2
  exit 1
fi

# No debug info in the extension module.
unz="$work/unzipped"
mkdir "$unz"
python3 -m zipfile -e "$wheel" "$unz"
so=$(find "$unz" -name '_native*.so')
if readelf -S -W "$so" | grep -q '\.debug_'; then
  echo "dist/python.sh: $so has debug sections" >&2
  exit 1
fi

cp "$wheel" "$sdist" "$out/"
echo "dist/python.sh: $out/$(basename "$wheel") ($(du -h "$wheel" | cut -f1)), tag allowed by auditwheel: $allowed"
echo "dist/python.sh: $out/$(basename "$sdist") ($(du -h "$sdist" | cut -f1))"

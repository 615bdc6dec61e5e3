#!/usr/bin/env bash
# Installs the wheel of `make dist` into a fresh venv from the file alone (pip --no-index: no
# build, no index) and runs python-smoke/smoke.py against a real nats-server.
#   DIST=<dist dir> FENCELOCK_NATS_URL=nats://127.0.0.1:PORT scripts/test-dist/python.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${DIST:?DIST must name the directory make dist wrote}"
: "${FENCELOCK_NATS_URL:?FENCELOCK_NATS_URL must name a nats-server with JetStream}"
version=$("$here/../version")
shopt -s nullglob
wheels=("$DIST"/fencelock-"$version"-*.whl)
[ ${#wheels[@]} -eq 1 ] || { echo "test-dist/python: expected one fencelock-$version wheel in $DIST, found ${#wheels[@]}" >&2; exit 1; }
python=${FENCELOCK_DIST_PYTHON:-python3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "--- test-dist/python: $(basename "${wheels[0]}") into a fresh venv ($("$python" -V))"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --no-index --disable-pip-version-check "${wheels[0]}"
cp "$here/python-smoke/smoke.py" "$work/"
# Run from the temp dir so `import fencelock` can only find the installed package.
(cd "$work" && "$work/venv/bin/python" -I smoke.py "$FENCELOCK_NATS_URL" "$version")

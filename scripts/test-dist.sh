#!/usr/bin/env bash
# `make test-dist`: installs each artifact of `make dist` the way a user would, with no Rust
# toolchain, and runs a smoke scenario on it against a real nats-server.
#   scripts/test-dist.sh [DIST]          (default: dist)
# Starts the pinned nats-server (root .venv, `make setup`) with JetStream on a free loopback
# port and a temporary store, hides cargo/rustc/rustup from PATH (every directory holding one
# is dropped), then runs every scripts/test-dist/<name>.sh with
#   DIST=<absolute dist dir>  FENCELOCK_NATS_URL=nats://127.0.0.1:<port>
# and prints one result line per script; fails if any script fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dist_arg=${1:-dist}
[ -d "$dist_arg" ] || { echo "test-dist: $dist_arg does not exist; run make dist first" >&2; exit 1; }
DIST="$(cd "$dist_arg" && pwd)"
nats=${FENCELOCK_NATS_SERVER:-$root/.venv/bin/nats-server}
[ -x "$nats" ] || { echo "test-dist: no nats-server at $nats (run make setup)" >&2; exit 1; }

# PATH without the Rust toolchain: what a machine that installs only the artifacts has.
clean_path=
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] || continue
  if [ -e "$d/cargo" ] || [ -e "$d/rustc" ] || [ -e "$d/rustup" ]; then
    echo "test-dist: hiding $d (holds the Rust toolchain) from PATH"
    continue
  fi
  clean_path=${clean_path:+$clean_path:}$d
done
export PATH="$clean_path"
unset CARGO CARGO_HOME RUSTC RUSTUP_HOME RUSTUP_TOOLCHAIN CARGO_TARGET_DIR
if command -v cargo >/dev/null 2>&1 || command -v rustc >/dev/null 2>&1; then
  echo "test-dist: cargo or rustc is still on PATH ($(command -v cargo rustc)); cannot test without Rust" >&2
  exit 1
fi

work=$(mktemp -d)
nats_pid=
cleanup() {
  if [ -n "$nats_pid" ]; then kill "$nats_pid" 2>/dev/null || true; wait "$nats_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$nats" -js -a 127.0.0.1 -p "$port" -sd "$work/store" >"$work/nats.log" 2>&1 &
nats_pid=$!
for _ in $(seq 100); do
  grep -q 'Server is ready' "$work/nats.log" && break
  kill -0 "$nats_pid" 2>/dev/null || { cat "$work/nats.log" >&2; echo "test-dist: nats-server exited" >&2; exit 1; }
  sleep 0.1
done
grep -q 'Server is ready' "$work/nats.log" || { cat "$work/nats.log" >&2; echo "test-dist: nats-server did not start" >&2; exit 1; }
export DIST FENCELOCK_NATS_URL="nats://127.0.0.1:$port"
echo "test-dist: nats-server $("$nats" --version | awk '{print $NF}') on $FENCELOCK_NATS_URL, artifacts in $DIST"

results=()
failed=0
for script in "$root"/scripts/test-dist/*.sh; do
  name=$(basename "$script" .sh)
  echo "=== test-dist/$name"
  start=$(date +%s)
  set +e
  timeout 900 "$script" 2>&1 | tee "$work/$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -eq 0 ]; then status=ok; else status="FAILED (exit $rc)"; failed=1; fi
  # The script's last line (the smoke program's summary, or its error) completes the result.
  last=$(grep -v '^\s*$' "$work/$name.log" | tail -1 | cut -c1-160)
  results+=("$(printf 'test-dist %-7s %-16s %4ss  %s' "$name" "$status" "$(( $(date +%s) - start ))" "$last")")
done
echo "=== test-dist results (no cargo on PATH)"
printf '%s\n' "${results[@]}"
exit "$failed"

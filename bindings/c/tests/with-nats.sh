#!/usr/bin/env bash
# Runs a command next to a fresh JetStream nats-server on a random loopback port, with
# FENCELOCK_URL set to it; stops the server afterwards. The server binary is
# $FENCELOCK_NATS_SERVER (the root Makefile sets it to the pinned .venv build) or nats-server.
set -euo pipefail
bin="${FENCELOCK_NATS_SERVER:-nats-server}"
dir=$(mktemp -d)
"$bin" -a 127.0.0.1 -p -1 -js -sd "$dir/js" >"$dir/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
port=""
for _ in $(seq 200); do
  port=$(sed -n 's/.*Listening for client connections on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/server.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "nats-server ($bin) exited:" >&2; cat "$dir/server.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "nats-server did not report its port" >&2; cat "$dir/server.log" >&2; exit 1; }
export FENCELOCK_URL="nats://127.0.0.1:$port"
"$@"

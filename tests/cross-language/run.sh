#!/usr/bin/env bash
# Cross-language contention: C, Go (and Python, Node and the JVM when their demo workers exist
# and load) worker processes increment one counter kept in the state of "demo/counter" on one
# nats-server. Passes when every count 1..N was written exactly once and fencing tokens
# strictly increase with the count.
#   tests/cross-language/run.sh [iterations per worker, default 20]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
iterations="${1:-20}"
export FENCELOCK_NATS_SERVER="${FENCELOCK_NATS_SERVER:-$root/.venv/bin/nats-server}"

make -s -C "$root/bindings/c" demo-worker >/dev/null
make -s -C "$root/bindings/go" demo-worker >/dev/null

workers=(
  "c-1|$root/target/fencelock-c/demo-worker"
  "c-2|$root/target/fencelock-c/demo-worker"
  "go-1|$root/target/go/fencelock-demo-worker"
  "go-2|$root/target/go/fencelock-demo-worker"
)
# Other bindings join once their workers exist and their module loads the way the worker
# loads it (script directory first on the path); otherwise they are skipped, loudly.
py="$root/.venv/bin/python"
if [ -f "$root/python/demo_worker.py" ] &&
  (cd / && "$py" -c "import fencelock") >/dev/null 2>&1; then
  workers+=("python-1|$py $root/python/demo_worker.py" "python-2|$py $root/python/demo_worker.py")
else
  echo "skipping Python: python/demo_worker.py is missing or its fencelock module does not load"
  [ -z "${FENCELOCK_REQUIRE_ALL_WORKERS:-}" ] || exit 1
fi
if [ -f "$root/node/demo-worker.mjs" ] && node -e "require('$root/node')" >/dev/null 2>&1; then
  workers+=("node-1|node $root/node/demo-worker.mjs" "node-2|node $root/node/demo-worker.mjs")
else
  echo "skipping Node: node/demo-worker.mjs is missing or the fencelock addon does not load"
  [ -z "${FENCELOCK_REQUIRE_ALL_WORKERS:-}" ] || exit 1
fi

if command -v mvn >/dev/null && make -s -C "$root/bindings/jvm" demo-worker >/dev/null 2>&1; then
  workers+=("jvm-1|$root/bindings/jvm/target/demo-worker" "jvm-2|$root/bindings/jvm/target/demo-worker")
else
  echo "skipping the JVM: Maven is missing or bindings/jvm's demo worker does not build"
  [ -z "${FENCELOCK_REQUIRE_ALL_WORKERS:-}" ] || exit 1
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
export workers_spec="$(printf '%s\n' "${workers[@]}")" iterations out

run_workers() {
  local pids=() names=()
  while IFS='|' read -r name cmd; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086 # cmd is "<program> [script]"
    $cmd "$FENCELOCK_URL" "$name" "$iterations" >"$out/$name.out" 2>"$out/$name.err" &
    pids+=("$!")
    names+=("$name")
  done <<<"$workers_spec"
  local failed=0
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      echo "worker ${names[$i]} failed:" >&2
      cat "$out/${names[$i]}.err" >&2
      failed=1
    fi
  done
  return "$failed"
}
export -f run_workers

"$root/bindings/c/tests/with-nats.sh" bash -c run_workers

python3 - "$out" "${#workers[@]}" "$iterations" <<'PY'
import pathlib, re, sys
out, workers, iterations = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
line = re.compile(r"^(\S+) token (\d+) count (\d+)$")
rows = []
for f in sorted(out.glob("*.out")):
    lines = f.read_text().splitlines()
    if len(lines) != iterations:
        sys.exit(f"{f.stem} printed {len(lines)} lines, expected {iterations}")
    for l in lines:
        m = line.match(l)
        if not m:
            sys.exit(f"{f.stem}: unexpected line {l!r}")
        rows.append((int(m[3]), int(m[2]), m[1]))
rows.sort()
expected = workers * iterations
counts = [r[0] for r in rows]
exact = counts == list(range(1, expected + 1))
bad_tokens = [
    f"count {c1} by {w1} has token {t1}, count {c2} by {w2} has token {t2}"
    for (c1, t1, w1), (c2, t2, w2) in zip(rows, rows[1:])
    if t2 <= t1
]
by = {}
for _, _, w in rows:
    by[w] = by.get(w, 0) + 1
print(f"{len(rows)} increments from {workers} processes "
      f"({', '.join(f'{w}: {n}' for w, n in sorted(by.items()))}); "
      f"final count {counts[-1] if counts else 0}, last token {rows[-1][1] if rows else 0}")
if not exact:
    print(f"FAIL: the counts are not exactly 1..{expected}: an update was lost or doubled")
for b in bad_tokens:
    print("FAIL: tokens did not increase:", b)
failed = (not exact) + bool(bad_tokens)
print(f"{2 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY

#!/usr/bin/env bash
# Uses the Go module of `make dist` the way a Go service would, with no Rust toolchain and
# nothing from this checkout: a program in a temporary directory with its own go.mod requires
# github.com/fencelock/fencelock/bindings/go at the version DIST/goproxy holds, the go command
# fetches it from that file-system proxy into an empty module cache, and cgo links it against
# the C tarball of the same version, found through `#cgo pkg-config: fencelock`. The program
# runs the smoke scenario against a real nats-server.
#   DIST=<dist dir> FENCELOCK_NATS_URL=nats://127.0.0.1:PORT scripts/test-dist/go.sh
set -euo pipefail
: "${DIST:?DIST must name the directory make dist wrote}"
: "${FENCELOCK_NATS_URL:?FENCELOCK_NATS_URL must name a nats-server with JetStream}"
step() { echo "--- test-dist/go: $*"; }
die() { echo "test-dist/go: $*" >&2; exit 1; }
command -v go >/dev/null || die "go is not on PATH"

module=github.com/fencelock/fencelock/bindings/go
proxy="$DIST/goproxy"
list="$proxy/$module/@v/list"
[ -f "$list" ] || die "$list is missing (make dist, scripts/dist/go.sh)"
[ "$(wc -l <"$list")" -eq 1 ] || die "$list should name one version"
gover=$(cat "$list")
version=${gover#v}
tarball="$DIST/fencelock-c-$version-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m).tar.gz"
[ -f "$tarball" ] || die "$tarball is missing: the module needs the C library of its version"

work=$(mktemp -d)
cleanup() {
  # The module cache is read-only, as the go command leaves it.
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
tar -xzf "$tarball" -C "$work"
prefix=$(echo "$work"/fencelock-c-*)

# Only the proxy and the tarball: no GOPATH module cache, no workspace, no hand-set cgo flags.
export GOPROXY="file://$proxy" GONOSUMDB=github.com/fencelock/fencelock GOFLAGS=-mod=mod
export GOMODCACHE="$work/modcache" GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=1
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
unset CGO_CFLAGS CGO_LDFLAGS GOPRIVATE GONOPROXY

mkdir "$work/app"
cd "$work/app"
cat >go.mod <<EOF
module example.com/fencelock-dist-smoke

go 1.22

require $module $gover
EOF
cat >main.go <<'EOF'
// The smoke scenario: acquire a fresh key (print the token), write state, release, acquire
// again and expect that state and a higher token; Version() is the expected version.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	fencelock "github.com/fencelock/fencelock/bindings/go"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "smoke: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: smoke <nats_url> <expected_version>")
	}
	url, expected := os.Args[1], os.Args[2]
	if v := fencelock.Version(); v != expected {
		fail("fencelock.Version() is %q, expected %q", v, expected)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := fencelock.Connect(ctx, fencelock.Options{URL: url, Namespace: "fencelock-dist-smoke", Label: "go"})
	if err != nil {
		fail("connect: %v", err)
	}
	defer client.Close()
	key := fmt.Sprintf("dist-smoke/go-%d-%d", os.Getpid(), time.Now().UnixNano())
	state := []byte("written by the first Go holder")

	first, err := client.Acquire(ctx, key)
	if err != nil {
		fail("acquire: %v", err)
	}
	fmt.Printf("go: acquired %s, token %d\n", key, first.Token())
	if err := first.Put(ctx, state); err != nil {
		fail("put: %v", err)
	}
	if err := first.Release(ctx); err != nil {
		fail("release: %v", err)
	}
	second, err := client.Acquire(ctx, key)
	if err != nil {
		fail("re-acquire: %v", err)
	}
	seen := second.InitialState()
	if err := second.Release(ctx); err != nil {
		fail("release: %v", err)
	}
	if err := client.Delete(ctx, key); err != nil {
		fail("delete: %v", err)
	}
	if !bytes.Equal(seen, state) {
		fail("the second holder saw state %q", seen)
	}
	if second.Token() <= first.Token() {
		fail("token %d after %d: not increasing", second.Token(), first.Token())
	}
	fmt.Printf("go: re-acquired, token %d > %d, state kept; fencelock %s\n", second.Token(), first.Token(), fencelock.Version())
}
EOF

step "go build, $module@$gover from $GOPROXY"
go build -o smoke .
dir=$(go list -m -f '{{.Dir}}' "$module")
case "$dir" in
  "$GOMODCACHE"/*) echo "module source: $dir" ;;
  *) die "the module was not taken from the proxy: $dir" ;;
esac
grep -q "^$module $gover h1:" go.sum || die "go.sum has no hash of $module $gover"
readelf -d smoke | grep -q 'NEEDED.*\[libfencelock\.so\.0\]' || die "smoke does not link libfencelock.so.0"

step "run against $FENCELOCK_NATS_URL"
LD_LIBRARY_PATH="$prefix/lib" ./smoke "$FENCELOCK_NATS_URL" "$version"
step "passed"

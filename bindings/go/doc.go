// Package fencelock is the Go binding of fencelock: distributed locks with fencing tokens and
// attached state, on NATS JetStream, Redis or in process.
//
//	import fencelock "github.com/fencelock/fencelock/bindings/go"
//
// It is cgo over libfencelock, the C library of the same version, which cgo finds through
// pkg-config (`#cgo pkg-config: fencelock`): install the C release tarball and point
// PKG_CONFIG_PATH at its lib/pkgconfig (see the README).
package fencelock

package fencelock

// The package links libfencelock (bindings/c): pkg-config finds its header and library, from
// the release tarball (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig), a `make -C bindings/c install`
// or, inside the repository, the staged build the Makefile points PKG_CONFIG_PATH at.

/*
#cgo pkg-config: fencelock
#include <stdint.h>
#include <stdlib.h>
#include "fencelock.h"

*/
import "C"

import (
	"context"
	"errors"
	"time"
	"unsafe"
)

// cString converts s for the duration of a call; free it with the returned function.
func cString(s string) (*C.char, func()) {
	p := C.CString(s)
	return p, func() { C.free(unsafe.Pointer(p)) }
}

// optCString is cString, or NULL for "".
func optCString(s string) (*C.char, func()) {
	if s == "" {
		return nil, func() {}
	}
	return cString(s)
}

// goBytes copies an fl_bytes (nil for none) and frees it.
func goBytes(b *C.fl_bytes) []byte {
	if b == nil {
		return nil
	}
	defer C.fl_bytes_free(&b)
	n := C.fl_bytes_len(b)
	if n == 0 {
		return []byte{}
	}
	return C.GoBytes(unsafe.Pointer(C.fl_bytes_data(b)), C.int(n))
}

// cBytes passes state: nil is "no state", an empty non-nil slice is an empty state.
func cBytes(state []byte) (*C.uint8_t, C.size_t, func()) {
	if state == nil {
		return nil, 0, func() {}
	}
	p := C.CBytes(append(state[:len(state):len(state)], 0)) // never a 0-byte malloc
	return (*C.uint8_t)(p), C.size_t(len(state)), func() { C.free(p) }
}

// millis turns a duration into the C API's milliseconds; negative stays negative so the
// library reports it.
func millis(d time.Duration) C.int64_t {
	if d > 0 && d < time.Millisecond {
		return 1
	}
	return C.int64_t(d / time.Millisecond)
}

// blocking runs a cancellable C call: the context's deadline becomes the timeout and its
// cancellation triggers an fl_cancel from a watcher goroutine.
func blocking(ctx context.Context, call func(timeoutMs C.int64_t, cancel *C.fl_cancel, err **C.fl_error) C.fl_status) error {
	if err := ctx.Err(); err != nil {
		return &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	timeout := C.int64_t(C.FL_WAIT_FOREVER)
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left < 0 {
			left = 0
		}
		timeout = millis(left)
	}
	var cancel *C.fl_cancel
	if st := C.fl_cancel_new(&cancel, nil); st != C.FL_OK {
		return &Error{Status: Status(st), Message: "fencelock: cannot create a cancel token"}
	}
	done := make(chan struct{})
	watcher := make(chan struct{})
	go func() {
		defer close(watcher)
		select {
		case <-ctx.Done():
			// A passed deadline is the core's own timeout (same instant), which reports it as
			// a timeout with the key; only cancellation needs the token.
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				C.fl_cancel_trigger(cancel)
			}
		case <-done:
		}
	}()
	var cerr *C.fl_error
	st := call(timeout, cancel, &cerr)
	close(done)
	<-watcher // the watcher may still trigger: free only after it is gone
	C.fl_cancel_free(&cancel)
	e := check(st, cerr)
	if e == nil {
		return nil
	}
	if _, hasDeadline := ctx.Deadline(); hasDeadline && e.Status == StatusTimeout {
		e.cause = context.DeadlineExceeded
	} else if e.Status == StatusCancelled {
		e.cause = ctx.Err()
	}
	return e
}

// call runs a non-blocking-by-contract C call (one round trip at most).
func call(f func(err **C.fl_error) C.fl_status) error {
	var cerr *C.fl_error
	if e := check(f(&cerr), cerr); e != nil {
		return e
	}
	return nil
}

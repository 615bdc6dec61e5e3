package fencelock

/*
#include <stdint.h>
#include "fencelock.h"

extern int32_t fencelockGoWithLock(void *user_data, const fl_bytes *state, fl_state_out *out);
static fl_status fl_go_with_lock(const fl_client *client, const char *key, int64_t timeout_ms,
                                 const fl_lock_options *opts, const fl_cancel *cancel,
                                 uintptr_t handle, fl_bytes **out_state, fl_error **err) {
  return fl_with_lock(client, key, timeout_ms, opts, cancel, fencelockGoWithLock, (void *)handle,
                      out_state, err);
}
*/
import "C"

import (
	"context"
	"fmt"
	"runtime/cgo"
	"unsafe"
)

// withLockRun is one WithLock call as seen from the C callback.
type withLockRun struct {
	fn       func(state []byte) ([]byte, error)
	err      error // the function's error, wrapped into the returned *Error
	panicked any   // re-panicked on the calling goroutine: a panic must not cross C
	failed   bool
}

func (r *withLockRun) call(state *C.fl_bytes, out *C.fl_state_out) (rc int) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked, r.failed = p, true
			rc = 1
		}
	}()
	var in []byte
	if state != nil {
		in = C.GoBytes(unsafe.Pointer(C.fl_bytes_data(state)), C.int(C.fl_bytes_len(state)))
	}
	next, err := r.fn(in)
	if err != nil {
		r.err, r.failed = err, true
		return 1
	}
	if next != nil {
		p, n, free := cBytes(next)
		defer free()
		if C.fl_state_out_set(out, p, n, nil) != C.FL_OK {
			return 2
		}
	}
	return 0
}

// WithLock acquires key (waiting until ctx is done), runs fn with the current state (nil
// when none), stores the state fn returns (nil keeps it) and releases; it returns the state
// now stored. An error from fn releases the lock unchanged and comes back as ErrCallback
// wrapping it. The lease is not renewed: fn must finish within it (WithLease).
func (c *Client) WithLock(ctx context.Context, key string, fn func(state []byte) ([]byte, error), opts ...LockOption) ([]byte, error) {
	h, done := c.handle()
	defer done()
	k, freeKey := cString(key)
	defer freeKey()
	o, freeOpts := cLockOptions(opts)
	defer freeOpts()
	run := &withLockRun{fn: fn}
	handle := cgo.NewHandle(run)
	defer handle.Delete()
	var b *C.fl_bytes
	err := blocking(ctx, func(t C.int64_t, cancel *C.fl_cancel, e **C.fl_error) C.fl_status {
		return C.fl_go_with_lock(h, k, t, o, cancel, C.uintptr_t(handle), &b, e)
	})
	if run.panicked != nil {
		panic(run.panicked)
	}
	if err != nil {
		if e, ok := err.(*Error); ok && run.err != nil {
			e.cause = run.err
			e.Message = fmt.Sprintf("%s: %v", e.Message, run.err)
		}
		return nil, err
	}
	return goBytes(b), nil
}

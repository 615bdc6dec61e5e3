package fencelock

/*
#include <stdint.h>
#include "fencelock.h"

extern void fencelockGoLost(void *user_data, uint64_t token);
static fl_status fl_go_lock_on_lost(const fl_lock *lock, uintptr_t handle, fl_error **err) {
  return fl_lock_on_lost(lock, fencelockGoLost, (void *)handle, err);
}
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
)

// GuardStatus is where a lock stands.
type GuardStatus int32

// Guard statuses (FL_GUARD_*).
const (
	GuardHeld     GuardStatus = 0
	GuardLost     GuardStatus = 1
	GuardReleased GuardStatus = 2
)

// Lock is a held lock. Safe for concurrent use. A Lock that is garbage collected while
// still held is released in the background; release it explicitly.
type Lock struct {
	client *Client
	l      *C.fl_lock
	key    string
	token  uint64
	id     string

	lostOnce sync.Once
	lost     chan struct{}
	lostH    cgo.Handle
	pinID    uint64 // set once by Lost(); see pin.go
}

func newLock(c *Client, l *C.fl_lock) *Lock {
	lk := &Lock{client: c, l: l, lost: make(chan struct{})}
	var k, id *C.char
	var t C.uint64_t
	C.fl_lock_key(l, &k, nil)
	C.fl_lock_id(l, &id, nil)
	C.fl_lock_token(l, &t, nil)
	lk.key, lk.id, lk.token = C.GoString(k), C.GoString(id), uint64(t)
	runtime.SetFinalizer(lk, func(lk *Lock) {
		C.fl_lock_free(&lk.l) // no lost callback runs after this returns
		if lk.lostH != 0 {
			lk.lostH.Delete()
		}
	})
	return lk
}

// Key is the locked key.
func (l *Lock) Key() string { return l.key }

// Token is the fencing token: strictly greater than every earlier holder's of this key.
func (l *Lock) Token() uint64 { return l.token }

// ID is this acquisition's unique id (32 hex characters).
func (l *Lock) ID() string { return l.id }

func (l *Lock) bytes(f func(out **C.fl_bytes) C.fl_status) []byte {
	var b *C.fl_bytes
	f(&b)
	runtime.KeepAlive(l)
	return goBytes(b)
}

// InitialState is the state read at acquisition (nil when none).
func (l *Lock) InitialState() []byte {
	return l.bytes(func(out **C.fl_bytes) C.fl_status { return C.fl_lock_initial_state(l.l, out, nil) })
}

// State is the state as last written through this lock (or read at acquisition).
func (l *Lock) State() []byte {
	return l.bytes(func(out **C.fl_bytes) C.fl_status { return C.fl_lock_state(l.l, out, nil) })
}

// Status reports held, lost or released.
func (l *Lock) Status() GuardStatus {
	var s C.fl_guard_status
	C.fl_lock_status(l.l, &s, nil)
	runtime.KeepAlive(l)
	return GuardStatus(s)
}

// Remaining is the time left on the lease by this process's clock.
func (l *Lock) Remaining() time.Duration {
	var ms C.uint64_t
	C.fl_lock_remaining_ms(l.l, &ms, nil)
	runtime.KeepAlive(l)
	return time.Duration(ms) * time.Millisecond
}

// Lost is closed when the lock is lost (lease lapsed, renewal refused, broken by someone
// else); never when it is released.
// Once Lost was called, the value stays alive (and held) until lost, released or its
// client closed, even if only the channel is kept.
func (l *Lock) Lost() <-chan struct{} {
	l.lostOnce.Do(func() {
		ch := l.lost
		id := pin(l, l.client)
		l.pinID = id
		// Unpin before closing: whoever wakes on the channel finds the pin gone.
		l.lostH = cgo.NewHandle(func() { unpin(id); close(ch) })
		C.fl_go_lock_on_lost(l.l, C.uintptr_t(l.lostH), nil)
		runtime.KeepAlive(l)
	})
	return l.lost
}

// Put writes state while keeping the lock (nil clears it). ErrLockExpired once lost.
func (l *Lock) Put(ctx context.Context, state []byte) error {
	if err := ctx.Err(); err != nil {
		return &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	p, n, free := cBytes(state)
	defer free()
	defer runtime.KeepAlive(l)
	return call(func(e **C.fl_error) C.fl_status { return C.fl_lock_put(l.l, p, n, e) })
}

// Refresh renews the lease now.
func (l *Lock) Refresh(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	defer runtime.KeepAlive(l)
	return call(func(e **C.fl_error) C.fl_status { return C.fl_lock_refresh(l.l, e) })
}

// Release releases the lock keeping its state (nlock's Release). ErrLockExpired when the
// lock had been lost (nothing was written), ErrLockNotHeld when already released.
func (l *Lock) Release(ctx context.Context) error { return l.ReleaseWithState(ctx, nil) }

// ReleaseWithState releases the lock and stores state (nil keeps the current state).
func (l *Lock) ReleaseWithState(ctx context.Context, state []byte) error {
	if err := ctx.Err(); err != nil {
		return &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	return l.client.release(l, state)
}

func (c *Client) release(l *Lock, state []byte) error {
	h, done := c.handle()
	defer done()
	p, n, free := cBytes(state)
	defer free()
	defer runtime.KeepAlive(l)
	var released C.bool
	if err := call(func(e **C.fl_error) C.fl_status { return C.fl_release(h, l.l, p, n, &released, e) }); err != nil {
		return err
	}
	l.lostOnce.Do(func() {}) // a later Lost() must not pin a released lock again
	unpin(l.pinID)
	if !released {
		return &Error{
			Status:  StatusExpired,
			Message: "fencelock: the lock on key " + quote(l.key) + " was lost before release, so nothing was written",
			Key:     l.key,
			Token:   l.token,
		}
	}
	return nil
}

// Release releases l through this client (the client that acquired it; ErrInvalidArgument
// for a lock of another client), storing state (nil keeps it).
func (c *Client) Release(ctx context.Context, l *Lock, state []byte) error {
	if err := ctx.Err(); err != nil {
		return &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	return c.release(l, state)
}

func quote(s string) string { return "\"" + s + "\"" }

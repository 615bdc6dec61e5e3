package fencelock

/*
#include <stdint.h>
#include "fencelock.h"

extern void fencelockGoLost(void *user_data, uint64_t token);
static fl_status fl_go_leadership_on_lost(const fl_leadership *l, uintptr_t handle,
                                          fl_error **err) {
  return fl_leadership_on_lost(l, fencelockGoLost, (void *)handle, err);
}
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"sync"
)

// Leadership of an election (natslock's AcquireLead), renewed until ReleaseLead or loss.
type Leadership struct {
	client   *Client
	l        *C.fl_leadership
	election string
	term     uint64

	lostOnce sync.Once
	lost     chan struct{}
	lostH    cgo.Handle
	pinID    uint64 // set once by Lost(); see pin.go
}

// AcquireLead campaigns for leadership of election until ctx is done; candidate is
// recorded as the leader's label.
func (c *Client) AcquireLead(ctx context.Context, election, candidate string) (*Leadership, error) {
	h, done := c.handle()
	defer done()
	e, freeE := cString(election)
	defer freeE()
	who, freeWho := cString(candidate)
	defer freeWho()
	var l *C.fl_leadership
	err := blocking(ctx, func(t C.int64_t, cancel *C.fl_cancel, cerr **C.fl_error) C.fl_status {
		return C.fl_campaign(h, e, who, t, cancel, &l, cerr)
	})
	if err != nil {
		return nil, err
	}
	return newLeadership(c, l, election), nil
}

// TryAcquireLead becomes leader only if nobody leads now; ErrLockHeld otherwise.
func (c *Client) TryAcquireLead(ctx context.Context, election, candidate string) (*Leadership, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	h, done := c.handle()
	defer done()
	e, freeE := cString(election)
	defer freeE()
	who, freeWho := cString(candidate)
	defer freeWho()
	var l *C.fl_leadership
	if err := call(func(cerr **C.fl_error) C.fl_status { return C.fl_try_campaign(h, e, who, &l, cerr) }); err != nil {
		return nil, err
	}
	return newLeadership(c, l, election), nil
}

func newLeadership(c *Client, l *C.fl_leadership, election string) *Leadership {
	var term C.uint64_t
	C.fl_leadership_term(l, &term, nil)
	ld := &Leadership{client: c, l: l, election: election, term: uint64(term), lost: make(chan struct{})}
	runtime.SetFinalizer(ld, func(ld *Leadership) {
		C.fl_leadership_free(&ld.l)
		if ld.lostH != 0 {
			ld.lostH.Delete()
		}
	})
	return ld
}

// ReleaseLead steps down (natslock's ReleaseLead). ErrLockExpired when leadership had
// already been lost, ErrLockNotHeld when already released.
func (c *Client) ReleaseLead(ctx context.Context, l *Leadership) error { return l.Resign(ctx) }

// Leader is the current leader of election, nil when nobody leads.
func (c *Client) Leader(ctx context.Context, election string) (*Holder, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	h, done := c.handle()
	defer done()
	e, freeE := cString(election)
	defer freeE()
	var holder *C.fl_holder
	if err := call(func(cerr **C.fl_error) C.fl_status { return C.fl_leader(h, e, &holder, cerr) }); err != nil {
		return nil, err
	}
	return goHolder(holder), nil
}

// Election is the election key.
func (l *Leadership) Election() string { return l.election }

// Term is the fencing token of this leadership, greater than every earlier term.
func (l *Leadership) Term() uint64 { return l.term }

// IsLeader reports whether this process still leads.
func (l *Leadership) IsLeader() bool {
	var b C.bool
	C.fl_leadership_is_leader(l.l, &b, nil)
	runtime.KeepAlive(l)
	return bool(b)
}

// Lost is closed when leadership is lost; stop leading then.
// Once Lost was called, the value stays alive (and held) until lost, released or its
// client closed, even if only the channel is kept.
func (l *Leadership) Lost() <-chan struct{} {
	l.lostOnce.Do(func() {
		ch := l.lost
		id := pin(l, l.client)
		l.pinID = id
		// Unpin before closing: whoever wakes on the channel finds the pin gone.
		l.lostH = cgo.NewHandle(func() { unpin(id); close(ch) })
		C.fl_go_leadership_on_lost(l.l, C.uintptr_t(l.lostH), nil)
		runtime.KeepAlive(l)
	})
	return l.lost
}

// unpinLost lets an unreachable Leadership be collected again once it no longer leads.
func (l *Leadership) unpinLost() {
	l.lostOnce.Do(func() {}) // a later Lost() must not pin again
	unpin(l.pinID)
}

// Resign steps down so another candidate can lead.
func (l *Leadership) Resign(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	defer runtime.KeepAlive(l)
	var resigned C.bool
	if err := call(func(cerr **C.fl_error) C.fl_status { return C.fl_leadership_resign(l.l, &resigned, cerr) }); err != nil {
		return err
	}
	l.unpinLost()
	if !resigned {
		return &Error{Status: StatusExpired, Message: "fencelock: leadership of " + quote(l.election) + " was already lost", Key: l.election, Token: l.term}
	}
	return nil
}

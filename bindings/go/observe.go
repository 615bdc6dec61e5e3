package fencelock

/*
#include <stdint.h>
#include "fencelock.h"

extern void fencelockGoLeader(void *user_data, const fl_holder *leader);
static fl_status fl_go_observe_leader(const fl_client *client, const char *election,
                                      uintptr_t handle, fl_observer **out, fl_error **err) {
  return fl_observe_leader(client, election, fencelockGoLeader, (void *)handle, out, err);
}
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"time"
)

// ObserveLeader sends the current leader of election (nil when nobody leads), then every
// change of leader, until ctx is done; then the channel is closed.
func (c *Client) ObserveLeader(ctx context.Context, election string) (<-chan *Holder, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	h, done := c.handle()
	defer done()
	e, freeE := cString(election)
	defer freeE()
	ch := make(chan *Holder)
	stop := make(chan struct{})
	handle := cgo.NewHandle(func(leader *Holder) {
		select { // never block the observer thread once the observation is over
		case ch <- leader:
		case <-stop:
		}
	})
	var obs *C.fl_observer
	if err := call(func(cerr **C.fl_error) C.fl_status {
		return C.fl_go_observe_leader(h, e, C.uintptr_t(handle), &obs, cerr)
	}); err != nil {
		handle.Delete()
		return nil, err
	}
	go func() {
		<-ctx.Done()
		close(stop)
		C.fl_observer_free(&obs) // no callback runs after this returns
		handle.Delete()
		close(ch)
		runtime.KeepAlive(c) // the client's finalizer must not close it mid-observation
	}()
	return ch, nil
}

// copyHolder copies a borrowed fl_holder (nil for NULL).
func copyHolder(h *C.fl_holder) *Holder {
	if h == nil {
		return nil
	}
	return &Holder{
		Token:  uint64(C.fl_holder_token(h)),
		LockID: C.GoString(C.fl_holder_lock_id(h)),
		Lease:  time.Duration(C.fl_holder_lease_ms(h)) * time.Millisecond,
		Label:  C.GoString(C.fl_holder_label(h)),
	}
}

package fencelock

// C calls these back: a lost notification (on a fencelock thread) and a WithLock function
// (on the calling goroutine's thread). user_data carries a cgo.Handle.

/*
#include <stdint.h>
#include "fencelock.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export fencelockGoLost
func fencelockGoLost(user unsafe.Pointer, token C.uint64_t) {
	if f, ok := cgo.Handle(uintptr(user)).Value().(func()); ok {
		f()
	}
}

//export fencelockGoWithLock
func fencelockGoWithLock(user unsafe.Pointer, state *C.fl_bytes, out *C.fl_state_out) C.int32_t {
	run := cgo.Handle(uintptr(user)).Value().(*withLockRun)
	return C.int32_t(run.call(state, out))
}

//export fencelockGoLeader
func fencelockGoLeader(user unsafe.Pointer, leader *C.fl_holder) {
	if f, ok := cgo.Handle(uintptr(user)).Value().(func(*Holder)); ok {
		f(copyHolder(leader))
	}
}

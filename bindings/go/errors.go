package fencelock

/*
#include "fencelock.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Status mirrors fl_status of include/fencelock.h (checked by TestConstantsMatchHeader).
type Status int32

// Statuses of the C API.
const (
	StatusOK              Status = 0
	StatusTimeout         Status = 1
	StatusHeld            Status = 2
	StatusNotHeld         Status = 3
	StatusExpired         Status = 4
	StatusInvalidKey      Status = 5
	StatusInvalidArgument Status = 6
	StatusStateTooLarge   Status = 7
	StatusClosed          Status = 8
	StatusBackend         Status = 9
	StatusCallback        Status = 10
	StatusCancelled       Status = 11
	StatusInternal        Status = 12
)

// String is the stable name, e.g. "timeout".
func (s Status) String() string { return C.GoString(C.fl_status_name(C.int32_t(s))) }

// Sentinel errors for errors.Is; the nlock names come first.
var (
	// ErrLockHeld: someone else holds the lock (TryAcquire, AcquireLead with TryOnly).
	ErrLockHeld = errors.New("fencelock: lock held by someone else")
	// ErrLockNotHeld: the lock was already released through this handle.
	ErrLockNotHeld = errors.New("fencelock: lock not held")
	// ErrLockAcquireTimeout: the lock did not become free before the context's deadline.
	ErrLockAcquireTimeout = errors.New("fencelock: timed out acquiring the lock")
	// ErrLockExpired: the lease lapsed or another holder took over; writes were refused.
	ErrLockExpired = errors.New("fencelock: lock expired or taken over")
	// ErrInvalidKey: empty, over 1 KiB, or not UTF-8.
	ErrInvalidKey = errors.New("fencelock: invalid key")
	// ErrInvalidArgument: an out-of-range option or a lock of another client.
	ErrInvalidArgument = errors.New("fencelock: invalid argument")
	// ErrStateTooLarge: the state exceeds what the server accepts.
	ErrStateTooLarge = errors.New("fencelock: state too large")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("fencelock: client closed")
	// ErrBackend: the server failed or could not be reached.
	ErrBackend = errors.New("fencelock: backend error")
	// ErrCallback: a WithLock function returned an error.
	ErrCallback = errors.New("fencelock: callback failed")
	// ErrCancelled: the context was cancelled (errors.Is also matches context.Canceled).
	ErrCancelled = errors.New("fencelock: cancelled")
	// ErrInternal: a bug inside fencelock.
	ErrInternal = errors.New("fencelock: internal error")
)

var sentinels = map[Status]error{
	StatusTimeout:         ErrLockAcquireTimeout,
	StatusHeld:            ErrLockHeld,
	StatusNotHeld:         ErrLockNotHeld,
	StatusExpired:         ErrLockExpired,
	StatusInvalidKey:      ErrInvalidKey,
	StatusInvalidArgument: ErrInvalidArgument,
	StatusStateTooLarge:   ErrStateTooLarge,
	StatusClosed:          ErrClosed,
	StatusBackend:         ErrBackend,
	StatusCallback:        ErrCallback,
	StatusCancelled:       ErrCancelled,
	StatusInternal:        ErrInternal,
}

// Error is every error of this package: the status, the library's message (naming the key
// and the fix), and the key and fencing token when known.
type Error struct {
	Status  Status
	Message string
	Key     string
	Token   uint64
	cause   error // the context's error, or a WithLock function's error
}

func (e *Error) Error() string { return e.Message }

// Is matches the sentinel of the status (errors.Is(err, ErrLockHeld)).
func (e *Error) Is(target error) bool { return sentinels[e.Status] == target }

// Unwrap gives the context's error (context.Canceled / DeadlineExceeded) or the error
// returned by a WithLock function.
func (e *Error) Unwrap() error { return e.cause }

// check turns a status and its fl_error into an *Error (nil for FL_OK), freeing the error.
func check(st C.fl_status, cerr *C.fl_error) *Error {
	if st == C.FL_OK {
		return nil
	}
	defer C.fl_error_free(&cerr)
	e := &Error{Status: Status(st), Message: fmt.Sprintf("fencelock: %s", Status(st))}
	if cerr != nil {
		e.Message = C.GoString(C.fl_error_message(cerr))
		if k := C.fl_error_key(cerr); k != nil {
			e.Key = C.GoString(k)
		}
		e.Token = uint64(C.fl_error_token(cerr))
	}
	return e
}

package fencelock

// #include "fencelock.h"
import "C"

import (
	"time"
	"unsafe"
)

// Timing is the count, total and maximum of one kind of duration.
type Timing struct {
	Count uint64
	Total time.Duration
	Max   time.Duration
}

// Mean is Total / Count, or 0 when nothing was recorded.
func (t Timing) Mean() time.Duration {
	if t.Count == 0 {
		return 0
	}
	return t.Total / time.Duration(t.Count)
}

// Stats are one client's lock statistics since it connected; counters only grow, so rates
// come from differences between two reads.
type Stats struct {
	// Acquisitions counts locks acquired (Acquire, TryAcquire, Do, WithLock, AcquireLead...).
	Acquisitions uint64
	// TryMisses counts TryAcquire calls that found the lock held.
	TryMisses uint64
	// Timeouts counts acquisitions (and waits) that gave up at their deadline.
	Timeouts uint64
	// Wait is the time from calling acquire to holding the lock, for successful acquisitions.
	Wait Timing
	// Hold is the time from acquiring to releasing or losing, per lock.
	Hold Timing
	// Renewals counts leases renewed.
	Renewals uint64
	// RenewalFailures counts renewals that failed.
	RenewalFailures uint64
	// LocksLost counts locks lost: lease lapsed, renewal refused, or broken by someone else.
	LocksLost uint64
	// BackendErrors counts operations that failed with a backend (server, network) error.
	BackendErrors uint64
}

func timing(t C.fl_timing) Timing {
	return Timing{
		Count: uint64(t.count),
		Total: time.Duration(t.total_us) * time.Microsecond,
		Max:   time.Duration(t.max_us) * time.Microsecond,
	}
}

// Stats returns the client's lock statistics (no I/O; also after Close).
func (c *Client) Stats() Stats {
	h, done := c.handle()
	defer done()
	var s C.fl_stats
	s.size = C.size_t(unsafe.Sizeof(s))
	C.fl_client_stats(h, &s, nil)
	return Stats{
		Acquisitions:    uint64(s.acquisitions),
		TryMisses:       uint64(s.try_misses),
		Timeouts:        uint64(s.timeouts),
		Wait:            timing(s.wait),
		Hold:            timing(s.hold),
		Renewals:        uint64(s.renewals),
		RenewalFailures: uint64(s.renewal_failures),
		LocksLost:       uint64(s.locks_lost),
		BackendErrors:   uint64(s.backend_errors),
	}
}

package fencelock

import (
	"runtime"
	"testing"
	"time"
)

// collect runs the garbage collector (and so finalizers) a few times.
func collect() {
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

// A caller that keeps only the Lost channel of a leadership (`<-ld.Lost()`) must keep
// leading, and the channel must close when leadership is lost; the finalizer of the
// unreachable Leadership used to resign it and disarm the channel.
func TestLeaderKeptOnlyByItsLostChannel(t *testing.T) {
	c := connect(t, withLease(400*time.Millisecond))
	ctx := ctxTimeout(t, 10*time.Second)
	_ = c.Delete(ctx, "go/pinned-leader")
	ld, err := c.AcquireLead(ctx, "go/pinned-leader", "pinned")
	if err != nil {
		t.Fatal(err)
	}
	term := ld.Term()
	lost := ld.Lost()
	ld = nil
	collect()
	time.Sleep(time.Second) // more than two leases: renewal must go on
	h, err := c.Leader(ctx, "go/pinned-leader")
	if err != nil || h == nil || h.Token != term {
		t.Fatalf("leadership given up once only its channel was kept: %+v %v", h, err)
	}
	if err := c.Delete(ctx, "go/pinned-leader"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(3 * time.Second):
		t.Fatal("the Lost channel did not close after the election key was deleted")
	}
	if n := pinnedCount(c); n != 0 {
		t.Fatalf("%d pins left after the loss", n)
	}
}

// Release, Resign and Close unpin: the pin table empties itself.
func TestLostPinsAreDroppedOnReleaseResignAndClose(t *testing.T) {
	c := connect(t)
	ctx := ctxTimeout(t, 10*time.Second)
	l, err := c.Acquire(ctx, "go/pin-release")
	if err != nil {
		t.Fatal(err)
	}
	l.Lost()
	ld, err := c.AcquireLead(ctx, "go/pin-resign", "x")
	if err != nil {
		t.Fatal(err)
	}
	ld.Lost()
	held, err := c.Acquire(ctx, "go/pin-close")
	if err != nil {
		t.Fatal(err)
	}
	held.Lost()
	if n := pinnedCount(c); n != 3 {
		t.Fatalf("%d pins, want 3", n)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ld.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if n := pinnedCount(c); n != 1 {
		t.Fatalf("%d pins after release and resign, want 1", n)
	}
	l.Lost() // a released lock does not pin again
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := pinnedCount(c); n != 0 {
		t.Fatalf("%d pins after Close", n)
	}
}

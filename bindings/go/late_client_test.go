package fencelock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A lock whose lease ended is free for every client at once, also for one that never saw it
// held (issue 12): the store's clock decides on Redis and nats-server 2.11+.

func lateKey(name string) string { return fmt.Sprintf("go/late/%s/%d", name, time.Now().UnixNano()) }

func noRenew(o *Options) { o.Renew = RenewOff }

func TestLateClientTakesALockWhoseLeaseEnded(t *testing.T) {
	a := connect(t, withLease(500*time.Millisecond), noRenew)
	ctx := ctxTimeout(t, 10*time.Second)
	key := lateKey("try")
	l, err := a.Acquire(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Put(ctx, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	b := connect(t)
	l2, err := b.TryAcquire(ctx, key)
	if err != nil {
		t.Fatalf("the lease ended 200 ms ago, yet: %v", err)
	}
	if l2.Token() <= l.Token() || string(l2.InitialState()) != "kept" {
		t.Fatalf("token %d after %d, state %q", l2.Token(), l.Token(), l2.InitialState())
	}
	if err := l2.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLateAcquirerGetsTheLockWhenTheLeaseEnds(t *testing.T) {
	a := connect(t, withLease(time.Second), noRenew)
	b := connect(t)
	key := lateKey("acquire")
	t0 := time.Now()
	if _, err := a.Acquire(ctxTimeout(t, 5*time.Second), key); err != nil {
		t.Fatal(err)
	}
	time.Sleep(900*time.Millisecond - time.Since(t0))
	l, err := b.Acquire(ctxTimeout(t, 700*time.Millisecond), key)
	if err != nil {
		t.Fatalf("the lease ends 100 ms into this acquire, yet: %v", err)
	}
	if at := time.Since(t0); at < time.Second || at >= 1500*time.Millisecond {
		t.Fatalf("taken over %v into a 1 s lease", at)
	}
	_ = l.Release(context.Background())
}

func TestWaitReturnsAtOnceAfterAReleaseThatCameTooLate(t *testing.T) {
	a := connect(t, withLease(300*time.Millisecond), noRenew)
	ctx := ctxTimeout(t, 10*time.Second)
	key := lateKey("wait")
	l, err := a.Acquire(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.ReleaseWithState(ctx, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if l, err = a.Acquire(ctx, key); err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond)
	if err := l.ReleaseWithState(ctx, []byte("new")); !errors.Is(err, ErrLockExpired) {
		t.Fatalf("late release: %v", err)
	}
	b := connect(t)
	started := time.Now()
	state, err := b.Wait(ctxTimeout(t, 100*time.Millisecond), key)
	if err != nil || string(state) != "old" {
		t.Fatalf("wait: %q %v", state, err)
	}
	if d := time.Since(started); d >= 100*time.Millisecond {
		t.Fatalf("wait took %v", d)
	}
}

func TestClockFreeKeepsTheObservationRule(t *testing.T) {
	if !strings.HasPrefix(testURL, "nats") {
		t.Skip("clock-free is a NATS option")
	}
	clockFree := func(o *Options) { o.ClockFree = true }
	a := connect(t, withLease(300*time.Millisecond), noRenew, clockFree)
	key := lateKey("clock-free")
	if _, err := a.Acquire(ctxTimeout(t, 5*time.Second), key); err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond)
	b := connect(t, clockFree)
	if _, err := b.TryAcquire(ctxTimeout(t, 5*time.Second), key); !errors.Is(err, ErrLockHeld) {
		t.Fatalf("a clock-free client that never saw the lock took it: %v", err)
	}
	started := time.Now()
	l, err := b.Acquire(ctxTimeout(t, 2*time.Second), key)
	if err != nil || time.Since(started) < 250*time.Millisecond {
		t.Fatalf("acquire after %v: %v", time.Since(started), err)
	}
	_ = l.Release(context.Background())
}

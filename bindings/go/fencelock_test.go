package fencelock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func connect(t *testing.T, opts ...func(*Options)) *Client {
	t.Helper()
	o := Options{URL: testURL, Namespace: "go-tests", Label: "go-test"}
	for _, f := range opts {
		f(&o)
	}
	c, err := Connect(context.Background(), o)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func withLease(d time.Duration) func(*Options) { return func(o *Options) { o.Lease = d } }

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestAcquireReleaseKeepsStateAndTokensIncrease(t *testing.T) {
	c := connect(t)
	ctx := ctxTimeout(t, 10*time.Second)
	key := "go/acquire"
	if err := c.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	l, err := c.Acquire(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if l.Key() != key || len(l.ID()) != 32 || l.Token() == 0 || l.InitialState() != nil {
		t.Fatalf("bad lock: key %q id %q token %d state %q", l.Key(), l.ID(), l.Token(), l.InitialState())
	}
	if l.Status() != GuardHeld || l.Remaining() <= 0 {
		t.Fatalf("status %v remaining %v", l.Status(), l.Remaining())
	}
	if err := l.Put(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := l.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := c.Get(ctx, key)
	if err != nil || string(info.State) != "one" || info.Holder == nil || info.Holder.Token != l.Token() ||
		info.Holder.Label != "go-test" || info.Holder.LockID != l.ID() || info.Revision == 0 {
		t.Fatalf("get: %+v %v", info, err)
	}
	if err := l.ReleaseWithState(ctx, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if l.Status() != GuardReleased {
		t.Fatalf("status after release %v", l.Status())
	}
	// Double release: ErrLockNotHeld, with the key and token.
	err = l.Release(ctx)
	var fe *Error
	if !errors.Is(err, ErrLockNotHeld) || !errors.As(err, &fe) || fe.Key != key || fe.Token != l.Token() {
		t.Fatalf("double release: %v", err)
	}
	if err := l.Put(ctx, []byte("x")); !errors.Is(err, ErrLockNotHeld) {
		t.Fatalf("put after release: %v", err)
	}
	l2, err := c.Acquire(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if l2.Token() <= l.Token() || string(l2.InitialState()) != "two" {
		t.Fatalf("second holder: token %d after %d, state %q", l2.Token(), l.Token(), l2.InitialState())
	}
	// An empty state is a state; nil keeps.
	if err := l2.ReleaseWithState(ctx, []byte{}); err != nil {
		t.Fatal(err)
	}
	if info, _ := c.Get(ctx, key); info.State == nil || len(info.State) != 0 {
		t.Fatalf("empty state read back as %#v", info.State)
	}
}

func TestTryAcquireHeldAndDo(t *testing.T) {
	a, b := connect(t), connect(t)
	ctx := ctxTimeout(t, 10*time.Second)
	l, err := a.TryAcquire(ctx, "go/try")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryAcquire(ctx, "go/try"); !errors.Is(err, ErrLockHeld) {
		t.Fatalf("try while held: %v", err)
	}
	ran := false
	executed, err := b.Do(ctx, "go/try", func(context.Context) error { ran = true; return nil })
	if executed || ran || err != nil {
		t.Fatalf("Do while held: executed %v ran %v err %v", executed, ran, err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	executed, err = b.Do(ctx, "go/try", func(context.Context) error { ran = true; return nil })
	if !executed || !ran || err != nil {
		t.Fatalf("Do when free: executed %v ran %v err %v", executed, ran, err)
	}
	boom := errors.New("boom")
	executed, err = b.Do(ctx, "go/try", func(context.Context) error { return boom })
	if !executed || !errors.Is(err, boom) {
		t.Fatalf("Do with failing fn: %v %v", executed, err)
	}
	// Do released the lock even though fn failed.
	if l, err := a.TryAcquire(ctx, "go/try"); err != nil {
		t.Fatalf("after Do: %v", err)
	} else {
		_ = l.Release(ctx)
	}
}

func TestContextDeadlineIsAcquireTimeout(t *testing.T) {
	c := connect(t)
	held, err := c.Acquire(ctxTimeout(t, 5*time.Second), "go/timeout")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(context.Background())
	start := time.Now()
	_, err = c.Acquire(ctxTimeout(t, 150*time.Millisecond), "go/timeout")
	if !errors.Is(err, ErrLockAcquireTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ErrLockAcquireTimeout wrapping DeadlineExceeded, got %v", err)
	}
	if el := time.Since(start); el < 100*time.Millisecond || el > 3*time.Second {
		t.Fatalf("timeout took %v", el)
	}
	if _, err := c.Wait(ctxTimeout(t, 100*time.Millisecond), "go/timeout"); !errors.Is(err, ErrLockAcquireTimeout) {
		t.Fatalf("wait: %v", err)
	}
}

func TestCancellationAbortsTheWait(t *testing.T) {
	c := connect(t)
	held, err := c.Acquire(ctxTimeout(t, 5*time.Second), "go/cancel")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err = c.Acquire(ctx, "go/cancel") // no deadline: waits until cancelled
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("want ErrCancelled wrapping context.Canceled, got %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("cancellation took %v", el)
	}
	// Already-cancelled contexts fail before calling in.
	if _, err := c.Acquire(ctx, "go/cancel"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	if _, err := c.WithLock(ctx, "go/cancel", func(s []byte) ([]byte, error) { return s, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled WithLock: %v", err)
	}
	// The key still works after a cancelled waiter.
	if err := held.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := c.Acquire(ctxTimeout(t, 5*time.Second), "go/cancel")
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Release(context.Background())
}

func TestExpiredLeaseRefusesWrites(t *testing.T) {
	c := connect(t)
	ctx := ctxTimeout(t, 5*time.Second)
	l, err := c.Acquire(ctx, "go/expired", WithLease(150*time.Millisecond), WithRenew(false))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := l.Put(ctx, []byte("late")); !errors.Is(err, ErrLockExpired) || errors.Is(err, ErrLockNotHeld) {
		t.Fatalf("put after lease: %v", err)
	}
	if err := l.ReleaseWithState(ctx, []byte("late")); !errors.Is(err, ErrLockExpired) {
		t.Fatalf("release after lease: %v", err)
	}
	if info, _ := c.Get(ctx, "go/expired"); string(info.State) == "late" {
		t.Fatal("a lapsed holder's state was written")
	}
}

func TestLostChannelClosesWhenBroken(t *testing.T) {
	c := connect(t, withLease(300*time.Millisecond))
	ctx := ctxTimeout(t, 5*time.Second)
	l, err := c.Acquire(ctx, "go/lost")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := c.Acquire(ctx, "go/kept")
	if err != nil {
		t.Fatal(err)
	}
	lost, keptLost := l.Lost(), kept.Lost()
	if err := c.Delete(ctx, "go/lost"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(3 * time.Second):
		t.Fatal("Lost() did not close after the lock was broken")
	}
	if l.Status() != GuardLost {
		t.Fatalf("status %v", l.Status())
	}
	if err := kept.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-keptLost:
		t.Fatal("a released lock reported lost")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestWithLockCallbackErrorsAndPanics(t *testing.T) {
	c := connect(t)
	ctx := ctxTimeout(t, 10*time.Second)
	_ = c.Delete(ctx, "go/with")
	inc := func(s []byte) ([]byte, error) {
		n := 0
		fmt.Sscan(string(s), &n)
		return []byte(fmt.Sprint(n + 1)), nil
	}
	for want := 1; want <= 3; want++ {
		got, err := c.WithLock(ctx, "go/with", inc)
		if err != nil || string(got) != fmt.Sprint(want) {
			t.Fatalf("with_lock %d: %q %v", want, got, err)
		}
	}
	bad := errors.New("validation failed")
	_, err := c.WithLock(ctx, "go/with", func([]byte) ([]byte, error) { return nil, bad })
	if !errors.Is(err, ErrCallback) || !errors.Is(err, bad) || !strings.Contains(err.Error(), "validation failed") {
		t.Fatalf("callback error: %v", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Fatalf("panic not propagated: %v", p)
			}
		}()
		_, _ = c.WithLock(ctx, "go/with", func([]byte) ([]byte, error) { panic("kaboom") })
	}()
	// nil keeps the state; the lock was released after the failures.
	got, err := c.WithLock(ctx, "go/with", func([]byte) ([]byte, error) { return nil, nil })
	if err != nil || string(got) != "3" {
		t.Fatalf("keep state: %q %v", got, err)
	}
}

func TestGoroutinesContendForAnExactCount(t *testing.T) {
	clients := []*Client{connect(t), connect(t)}
	ctx := ctxTimeout(t, 60*time.Second)
	const key, goroutines, iterations = "go/counter", 8, 25
	_ = clients[0].Delete(ctx, key)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*iterations)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(c *Client) {
			defer wg.Done()
			for i := 0; i < iterations; i++ {
				l, err := c.Acquire(ctx, key)
				if err != nil {
					errs <- err
					return
				}
				var count, stored uint64
				fmt.Sscan(string(l.InitialState()), &count, &stored)
				if l.Token() <= stored {
					errs <- fmt.Errorf("token %d not above stored %d", l.Token(), stored)
				}
				if err := l.ReleaseWithState(ctx, []byte(fmt.Sprintf("%d %d", count+1, l.Token()))); err != nil {
					errs <- err
				}
			}
		}(clients[g%2])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	info, err := clients[0].Get(ctx, key)
	var count uint64
	fmt.Sscan(string(info.State), &count)
	if err != nil || count != goroutines*iterations {
		t.Fatalf("final count %d (want %d), err %v", count, goroutines*iterations, err)
	}
}

func TestLeaderElection(t *testing.T) {
	a, b := connect(t, withLease(300*time.Millisecond)), connect(t, withLease(300*time.Millisecond))
	ctx := ctxTimeout(t, 10*time.Second)
	_ = a.Delete(ctx, "go/election")
	if h, err := a.Leader(ctx, "go/election"); h != nil || err != nil {
		t.Fatalf("leader of a new election: %v %v", h, err)
	}
	la, err := a.AcquireLead(ctx, "go/election", "node-a")
	if err != nil {
		t.Fatal(err)
	}
	if !la.IsLeader() || la.Term() == 0 || la.Election() != "go/election" {
		t.Fatal("not leading after AcquireLead")
	}
	if h, _ := b.Leader(ctx, "go/election"); h == nil || h.Label != "node-a" || h.Token != la.Term() {
		t.Fatalf("leader seen by b: %+v", h)
	}
	if _, err := b.TryAcquireLead(ctx, "go/election", "node-b"); !errors.Is(err, ErrLockHeld) {
		t.Fatalf("try while led: %v", err)
	}
	if _, err := b.AcquireLead(ctxTimeout(t, 100*time.Millisecond), "go/election", "node-b"); !errors.Is(err, ErrLockAcquireTimeout) {
		t.Fatalf("campaign timeout: %v", err)
	}
	time.Sleep(700 * time.Millisecond) // renewed past its 300 ms lease
	if !la.IsLeader() {
		t.Fatal("leadership lapsed despite renewal")
	}
	got := make(chan *Leadership)
	go func() {
		lb, err := b.AcquireLead(ctx, "go/election", "node-b")
		if err != nil {
			t.Error(err)
		}
		got <- lb
	}()
	time.Sleep(100 * time.Millisecond)
	if err := a.ReleaseLead(ctx, la); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseLead(ctx, la); !errors.Is(err, ErrLockNotHeld) {
		t.Fatalf("second ReleaseLead: %v", err)
	}
	lb := <-got
	if lb == nil || lb.Term() <= la.Term() {
		t.Fatal("b did not take over with a later term")
	}
	lost := lb.Lost()
	_ = a.Delete(ctx, "go/election")
	select {
	case <-lost:
	case <-time.After(3 * time.Second):
		t.Fatal("leadership loss not reported")
	}
}

func TestBadInput(t *testing.T) {
	c := connect(t)
	ctx := ctxTimeout(t, 10*time.Second)
	for _, key := range []string{"", strings.Repeat("k", 1100), "\xff\xfe"} {
		if _, err := c.Acquire(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("key %.10q: %v", key, err)
		}
		if _, err := c.Get(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("get %.10q: %v", key, err)
		}
	}
	for _, lease := range []time.Duration{-time.Second, time.Millisecond} {
		if _, err := c.Acquire(ctx, "go/bad", WithLease(lease)); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("lease %v: %v", lease, err)
		}
	}
	for _, o := range []Options{
		{URL: "bogus://x"},
		{URL: testURL, Lease: -time.Second},
		{URL: testURL, Lease: 5 * time.Millisecond},
		{URL: testURL, User: "only-user"},
		{URL: "nats://127.0.0.1:1", Replication: 9}, // NATS stream replicas are 1 to 5
		{URL: testURL, Replication: -1},
		{URL: testURL, Storage: 7},
		{URL: testURL, RenewFraction: 2},
		{URL: testURL, Namespace: "no {braces} or spaces"}, // refused by every backend
	} {
		if _, err := Connect(ctx, o); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("options %+v: %v", o, err)
		}
	}
	if _, err := Connect(ctx, Options{URL: "nats://127.0.0.1:1", ConnectTimeout: 300 * time.Millisecond}); !errors.Is(err, ErrBackend) {
		t.Errorf("unreachable server: %v", err)
	}
	l, err := c.Acquire(ctx, "go/bad")
	if err != nil {
		t.Fatal(err)
	}
	huge := bytes.Repeat([]byte("x"), c.MaxStateLen()+1)
	if err := l.Put(ctx, huge); !errors.Is(err, ErrStateTooLarge) {
		t.Errorf("huge state: %v", err)
	}
	other := connect(t)
	if err := other.Release(ctx, l, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("release through another client: %v", err)
	}
	if err := c.Release(ctx, l, nil); err != nil {
		t.Errorf("release through its own client: %v", err)
	}
	// Use after close.
	l2, err := c.Acquire(ctx, "go/bad")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := c.Acquire(ctx, "go/bad"); !errors.Is(err, ErrClosed) {
		t.Errorf("acquire after close: %v", err)
	}
	if err := l2.Put(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("put after close: %v", err)
	}
	if l2.Status() != GuardReleased {
		t.Errorf("close did not release: %v", l2.Status())
	}
}

func TestMemoryBackend(t *testing.T) {
	c, err := Connect(context.Background(), Options{URL: "memory://", Namespace: "go-mem"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxTimeout(t, 5*time.Second)
	got, err := c.WithLock(ctx, "m", func([]byte) ([]byte, error) { return []byte("v"), nil })
	if err != nil || string(got) != "v" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestObserveLeader(t *testing.T) {
	c := connect(t)
	ctx := ctxTimeout(t, 10*time.Second)
	_ = c.Delete(ctx, "go/observed")
	octx, stop := context.WithCancel(ctx)
	changes, err := c.ObserveLeader(octx, "go/observed")
	if err != nil {
		t.Fatal(err)
	}
	next := func() *Holder {
		t.Helper()
		select {
		case h := <-changes:
			return h
		case <-time.After(3 * time.Second):
			t.Fatal("no leadership change reported")
			return nil
		}
	}
	if h := next(); h != nil {
		t.Fatalf("first report should be nobody, got %+v", h)
	}
	lead, err := c.AcquireLead(ctx, "go/observed", "watched")
	if err != nil {
		t.Fatal(err)
	}
	if h := next(); h == nil || h.Label != "watched" || h.Token != lead.Term() {
		t.Fatalf("leader report: %+v", h)
	}
	if err := c.ReleaseLead(ctx, lead); err != nil {
		t.Fatal(err)
	}
	if h := next(); h != nil {
		t.Fatalf("after resign: %+v", h)
	}
	stop()
	for range changes { // closes once the observer stopped
	}
	if _, err := c.ObserveLeader(ctx, ""); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("invalid election: %v", err)
	}
}

func TestStatsCountAcquisitionsMissesAndTimeouts(t *testing.T) {
	c, other := connect(t), connect(t)
	ctx := ctxTimeout(t, 10*time.Second)
	for i := 0; i < 3; i++ {
		l, err := c.Acquire(ctx, "go/stats")
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	held, err := other.Acquire(ctx, "go/stats")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TryAcquire(ctx, "go/stats"); !errors.Is(err, ErrLockHeld) {
		t.Fatalf("try while held: %v", err)
	}
	if _, err := c.Acquire(ctxTimeout(t, 100*time.Millisecond), "go/stats"); !errors.Is(err, ErrLockAcquireTimeout) {
		t.Fatalf("acquire while held: %v", err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	if s.Acquisitions != 3 || s.TryMisses != 1 || s.Timeouts != 1 {
		t.Fatalf("counts: %+v", s)
	}
	if s.Wait.Count != 3 || s.Hold.Count != 3 || s.Hold.Max <= 0 || s.Hold.Mean() > s.Hold.Max {
		t.Fatalf("timings: %+v", s)
	}
	if s.LocksLost != 0 || s.BackendErrors != 0 {
		t.Fatalf("nothing lost or failed: %+v", s)
	}
	if got := other.Stats().Acquisitions; got != 1 {
		t.Fatalf("per client: %d", got)
	}
}

// An option the backend does not use is refused by name, never silently dropped.
func TestUnusedOptionsAreRefused(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		o    Options
		want []string
	}{
		{Options{URL: "memory://", Token: "secret"}, []string{"token", "memory"}},
		{Options{URL: "memory://", Replication: 2}, []string{"replication", "memory"}},
		{Options{URL: "redis://127.0.0.1:1", Storage: StorageMemory}, []string{"storage", "Redis"}},
		{Options{URL: "redis://127.0.0.1:1", ClockFree: true}, []string{"clock_free", "Redis"}},
		{Options{URL: "nats://127.0.0.1:1", ReplicationTimeout: time.Second}, []string{"replication_timeout", "NATS"}},
	} {
		_, err := Connect(ctx, c.o)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("options %+v: %v, want ErrInvalidArgument", c.o, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("options %+v: %q does not name %q", c.o, err.Error(), w)
			}
		}
	}
}

package fencelock

/*
#include <stdlib.h>
#include "fencelock.h"
*/
import "C"

import (
	"context"
	"runtime"
	"time"
)

// Storage of a new NATS bucket.
type Storage int32

// Storage values (FL_STORAGE_*).
const (
	StorageDefault Storage = 0
	StorageFile    Storage = 1
	StorageMemory  Storage = 2
)

// Renew selects automatic lease renewal.
type Renew int32

// Renew values (FL_RENEW_*).
const (
	RenewDefault Renew = 0
	RenewOn      Renew = 1
	RenewOff     Renew = 2
)

// Options configure a client; zero values take the library defaults.
type Options struct {
	// URL picks the backend: "nats://host:port" (comma-separated for a cluster), Redis
	// ("redis://", "rediss://", "redis+sentinel://host:26379/<master>",
	// "redis+cluster://host:port,...") or "memory://".
	URL string
	// Namespace is the NATS KV bucket or Redis key prefix holding the locks (default
	// "fencelock").
	Namespace string
	Token     string
	User      string
	Password  string
	CredsFile string
	// TLS files (PEM).
	TLSRootCert, TLSClientCert, TLSClientKey string
	RequireTLS                               bool
	// ConnectTimeout defaults to 5 s, or to the time left on Connect's context.
	ConnectTimeout time.Duration
	// Lease is the default lease of acquisitions (default 30 s, nlock's).
	Lease        time.Duration
	ObjectExpiry time.Duration
	// Replication is the number of copies of every write, counting the primary (0: the
	// default, 1). NATS: the replicas of a new bucket's stream (1 to 5). Redis: each write
	// waits (WAIT) until Replication-1 replicas acknowledged it, at most ReplicationTimeout.
	Replication        int
	ReplicationTimeout time.Duration
	// Storage of a new NATS bucket.
	Storage       Storage
	Renew         Renew
	RenewFraction float64
	MaxHold       time.Duration
	// Label is recorded with every lock (default "pid <n>").
	Label string
	// ClockFree (NATS) judges lease expiry by observation alone also on nats-server 2.11+,
	// where the server's clock decides by default: a client then takes over a lock only after
	// seeing it unchanged for a whole lease. Servers before 2.11 always work this way.
	ClockFree bool
}

// Client is a connection to a backend plus a namespace. Safe for concurrent use.
type Client struct {
	// Freed only by the finalizer, so a call can never use a freed handle; Close makes the
	// handle report ErrClosed instead.
	c *C.fl_client
}

// Connect connects a client.
func Connect(ctx context.Context, o Options) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	var frees []func()
	str := func(s string) *C.char {
		p, f := optCString(s)
		frees = append(frees, f)
		return p
	}
	defer func() {
		for _, f := range frees {
			f()
		}
	}()
	connectTimeout := o.ConnectTimeout
	if d, ok := ctx.Deadline(); ok && connectTimeout == 0 {
		connectTimeout = time.Until(d)
		if connectTimeout <= 0 {
			connectTimeout = time.Millisecond
		}
	}
	url, freeURL := cString(o.URL)
	defer freeURL()
	opts := (*C.fl_client_options)(C.calloc(1, C.sizeof_fl_client_options))
	defer C.free(unsafePointer(opts))
	opts.url = url
	opts.namespace_name = str(o.Namespace)
	opts.token = str(o.Token)
	opts.user = str(o.User)
	opts.password = str(o.Password)
	opts.creds_file = str(o.CredsFile)
	opts.tls_root_cert = str(o.TLSRootCert)
	opts.tls_client_cert = str(o.TLSClientCert)
	opts.tls_client_key = str(o.TLSClientKey)
	opts.require_tls = C.bool(o.RequireTLS)
	opts.connect_timeout_ms = millis(connectTimeout)
	opts.lease_ms = millis(o.Lease)
	opts.object_expiry_ms = millis(o.ObjectExpiry)
	opts.replication = C.int32_t(o.Replication)
	opts.replication_timeout_ms = millis(o.ReplicationTimeout)
	opts.storage = C.fl_storage(o.Storage)
	opts.renew = C.fl_renew(o.Renew)
	opts.renew_fraction = C.double(o.RenewFraction)
	opts.max_hold_ms = millis(o.MaxHold)
	opts.label = str(o.Label)
	opts.clock_free = C.bool(o.ClockFree)
	c := &Client{}
	if err := call(func(e **C.fl_error) C.fl_status { return C.fl_client_connect(opts, &c.c, e) }); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(c, func(c *Client) { C.fl_client_free(&c.c) })
	return c, nil
}

// handle returns the C client and a function to defer that keeps c (and so the handle)
// alive until the call returned.
func (c *Client) handle() (*C.fl_client, func()) {
	return c.c, func() { runtime.KeepAlive(c) }
}

// Close releases every lock the client holds (keeping their state) and closes the
// connection. Later calls fail with ErrClosed. Idempotent.
func (c *Client) Close() error {
	h, done := c.handle()
	defer done()
	err := call(func(e **C.fl_error) C.fl_status { return C.fl_client_close(h, e) })
	unpinClient(c)
	return err
}

// MaxStateLen is the largest state the server accepts, in bytes.
func (c *Client) MaxStateLen() int {
	h, done := c.handle()
	defer done()
	var n C.size_t
	C.fl_client_max_state_len(h, &n, nil)
	return int(n)
}

// LockOption adjusts one acquisition.
type LockOption func(*lockOptions)

type lockOptions struct {
	lease time.Duration
	renew Renew
	label string
}

// WithLease sets the lease of this acquisition.
func WithLease(d time.Duration) LockOption { return func(o *lockOptions) { o.lease = d } }

// WithRenew turns automatic renewal on or off for this acquisition.
func WithRenew(on bool) LockOption {
	return func(o *lockOptions) {
		o.renew = RenewOff
		if on {
			o.renew = RenewOn
		}
	}
}

// WithLabel sets the holder label recorded with this acquisition.
func WithLabel(l string) LockOption { return func(o *lockOptions) { o.label = l } }

// cLockOptions builds fl_lock_options in C memory; free with the returned function.
func cLockOptions(opts []LockOption) (*C.fl_lock_options, func()) {
	var o lockOptions
	for _, f := range opts {
		f(&o)
	}
	if o.lease < 0 {
		o.lease = -time.Millisecond // reported by the library as out of range
	}
	p := (*C.fl_lock_options)(C.calloc(1, C.sizeof_fl_lock_options))
	p.lease_ms = millis(o.lease)
	p.renew = C.fl_renew(o.renew)
	label, freeLabel := optCString(o.label)
	p.label = label
	return p, func() { freeLabel(); C.free(unsafePointer(p)) }
}

// Acquire waits for the lock on key until ctx is done (nlock's Acquire). A context deadline
// gives ErrLockAcquireTimeout; cancellation gives ErrCancelled (and context.Canceled).
func (c *Client) Acquire(ctx context.Context, key string, opts ...LockOption) (*Lock, error) {
	h, done := c.handle()
	defer done()
	k, freeKey := cString(key)
	defer freeKey()
	o, freeOpts := cLockOptions(opts)
	defer freeOpts()
	var l *C.fl_lock
	err := blocking(ctx, func(t C.int64_t, cancel *C.fl_cancel, e **C.fl_error) C.fl_status {
		return C.fl_acquire(h, k, t, o, cancel, &l, e)
	})
	if err != nil {
		return nil, err
	}
	return newLock(c, l), nil
}

// TryAcquire takes the lock only if it is free now; ErrLockHeld otherwise.
func (c *Client) TryAcquire(ctx context.Context, key string, opts ...LockOption) (*Lock, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	h, done := c.handle()
	defer done()
	k, freeKey := cString(key)
	defer freeKey()
	o, freeOpts := cLockOptions(opts)
	defer freeOpts()
	var l *C.fl_lock
	if err := call(func(e **C.fl_error) C.fl_status { return C.fl_try_acquire(h, k, o, &l, e) }); err != nil {
		return nil, err
	}
	return newLock(c, l), nil
}

// Do runs fn only if the lock on key is free right now, then releases it (nlock's Do).
// executed is false when someone else held the lock. fn's context is cancelled if the lock
// is lost while it runs.
func (c *Client) Do(ctx context.Context, key string, fn func(ctx context.Context) error) (executed bool, err error) {
	l, err := c.TryAcquire(ctx, key)
	if err != nil {
		if isStatus(err, StatusHeld) {
			return false, nil
		}
		return false, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-l.Lost():
			cancel()
		case <-runCtx.Done():
		}
	}()
	fnErr := fn(runCtx)
	relErr := l.Release(context.WithoutCancel(ctx))
	if fnErr != nil {
		return true, fnErr
	}
	return true, relErr
}

// Wait waits until key is free and returns its state (nil when none). Takes no lock.
func (c *Client) Wait(ctx context.Context, key string) ([]byte, error) {
	h, done := c.handle()
	defer done()
	k, freeKey := cString(key)
	defer freeKey()
	var b *C.fl_bytes
	err := blocking(ctx, func(t C.int64_t, cancel *C.fl_cancel, e **C.fl_error) C.fl_status {
		return C.fl_wait(h, k, t, cancel, &b, e)
	})
	if err != nil {
		return nil, err
	}
	return goBytes(b), nil
}

// Holder is who holds a lock (or leads an election).
type Holder struct {
	Token  uint64
	LockID string
	Lease  time.Duration
	Label  string
}

func goHolder(h *C.fl_holder) *Holder {
	if h == nil {
		return nil
	}
	defer C.fl_holder_free(&h)
	return copyHolder(h)
}

// KeyInfo is what Get reports.
type KeyInfo struct {
	State    []byte
	Holder   *Holder
	Revision uint64
}

// Get reads the state and holder of key without locking.
func (c *Client) Get(ctx context.Context, key string) (KeyInfo, error) {
	if err := ctx.Err(); err != nil {
		return KeyInfo{}, &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	h, done := c.handle()
	defer done()
	k, freeKey := cString(key)
	defer freeKey()
	var b *C.fl_bytes
	var holder *C.fl_holder
	var rev C.uint64_t
	if err := call(func(e **C.fl_error) C.fl_status { return C.fl_get(h, k, &b, &holder, &rev, e) }); err != nil {
		return KeyInfo{}, err
	}
	return KeyInfo{State: goBytes(b), Holder: goHolder(holder), Revision: uint64(rev)}, nil
}

// Delete removes the lock and state of key; a holder loses its lock.
func (c *Client) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return &Error{Status: StatusCancelled, Message: "fencelock: " + err.Error(), cause: err}
	}
	h, done := c.handle()
	defer done()
	k, freeKey := cString(key)
	defer freeKey()
	return call(func(e **C.fl_error) C.fl_status { return C.fl_delete(h, k, e) })
}

func isStatus(err error, s Status) bool {
	e, ok := err.(*Error)
	return ok && e.Status == s
}

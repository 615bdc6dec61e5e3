// Command fencelock-soak-worker is the Go worker of `make soak`:
// fencelock-soak-worker URL CYCLES NAMESPACE.
//
// It runs the soak's mixed loop and prints "rss 10 <KiB>" and "rss 100 <KiB>" (after a
// garbage collection) at 10 % and 100 % of the cycles, then "ok". Per 8 cycles: 4 acquire +
// release, 2 WithLock increments, 1 TryAcquire on a key another client holds, 1 Wait on a
// free key (the same mix as every binding's worker). Any failure exits 1.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	fencelock "github.com/fencelock/fencelock/bindings/go"
)

const (
	keys    = 64
	heldKey = "soak-held"
	timeout = 10 * time.Second
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: fencelock-soak-worker URL CYCLES NAMESPACE")
		os.Exit(2)
	}
	url, ns := os.Args[1], os.Args[3]
	cycles, err := strconv.Atoi(os.Args[2])
	if err != nil || cycles < 10 {
		fail("CYCLES", fmt.Errorf("%q is not a number of at least 10", os.Args[2]))
	}
	started := time.Now()
	ctx := context.Background()
	client, err := fencelock.Connect(ctx, fencelock.Options{URL: url, Namespace: ns})
	if err != nil {
		fail("connect", err)
	}
	other, err := fencelock.Connect(ctx, fencelock.Options{URL: url, Namespace: ns})
	if err != nil {
		fail("connect", err)
	}
	held, err := acquire(other, heldKey)
	if err != nil {
		fail("acquire the held key", err)
	}
	for i := 0; i < cycles; i++ {
		if err := cycle(client, i); err != nil {
			fail(fmt.Sprintf("cycle %d", i), err)
		}
		if i+1 == cycles/10 {
			mark(10)
		}
	}
	mark(100)
	if err := held.Release(ctx); err != nil {
		fail("release the held key", err)
	}
	client.Close()
	other.Close()
	fmt.Printf("ok %d %d\n", cycles, time.Since(started).Milliseconds())
}

func acquire(c *fencelock.Client, key string) (*fencelock.Lock, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Acquire(ctx, key)
}

func cycle(c *fencelock.Client, i int) error {
	key := fmt.Sprintf("soak-%d", i%keys)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	switch step := i % 8; {
	case step < 4:
		lock, err := c.Acquire(ctx, key)
		if err != nil {
			return err
		}
		if i%2 == 0 {
			return lock.ReleaseWithState(ctx, []byte(strconv.Itoa(i)))
		}
		return lock.Release(ctx)
	case step < 6:
		_, err := c.WithLock(ctx, key, func(state []byte) ([]byte, error) {
			n, _ := strconv.Atoi(string(state))
			return []byte(strconv.Itoa(n + 1)), nil
		})
		return err
	case step == 6:
		lock, err := c.TryAcquire(ctx, heldKey)
		if err == nil {
			_ = lock.Release(ctx)
			return errors.New("TryAcquire took a key another client holds")
		}
		if !errors.Is(err, fencelock.ErrLockHeld) {
			return err
		}
		return nil
	default:
		_, err := c.Wait(ctx, key)
		return err
	}
}

// mark prints RSS after a collection that also returns freed heap pages to the OS, so the figure
// is what the process keeps, not what Go's heap has not scavenged yet.
func mark(percent int) {
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fail("read RSS", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			fmt.Printf("rss %d %s\n", percent, strings.Fields(rest)[0])
		}
		if rest, ok := strings.CutPrefix(s.Text(), "Threads:"); ok {
			// For a reader of the raw output: Go's own memory, apart from the C side's.
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Printf("info %d%%: %s threads, Go runtime %d KiB (heap in use %d KiB)\n",
				percent, strings.Fields(rest)[0], m.Sys>>10, m.HeapInuse>>10)
		}
	}
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "fencelock-soak-worker: %s: %v\n", what, err)
	os.Exit(1)
}

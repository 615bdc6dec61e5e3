// Command fencelock-demo-worker is the Go worker of `make demo` and of the cross-language
// test: fencelock-demo-worker <nats_url> <worker_name> <iterations>.
//
// Each iteration acquires "demo/counter" in namespace "fencelock-demo" (60 s timeout), reads
// the state {"count":N,"token":T,...} (none: 0, 0), checks that its fencing token is above T,
// releases writing {"count":N+1,"token":<its token>,"worker":<name>} and prints
// "<name> token <T> count <N+1>". Any failure exits 1.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	fencelock "github.com/fencelock/fencelock/bindings/go"
)

type counter struct {
	Count  uint64 `json:"count"`
	Token  uint64 `json:"token"`
	Worker string `json:"worker"`
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: fencelock-demo-worker <nats_url> <worker_name> <iterations>")
		os.Exit(2)
	}
	url, name := os.Args[1], os.Args[2]
	iterations, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fail(name, "iterations", err)
	}
	client, err := fencelock.Connect(context.Background(), fencelock.Options{URL: url, Namespace: "fencelock-demo", Label: name})
	if err != nil {
		fail(name, "connect", err)
	}
	defer client.Close()
	for i := 0; i < iterations; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		lock, err := client.Acquire(ctx, "demo/counter")
		cancel()
		if err != nil {
			fail(name, "acquire", err)
		}
		var state counter
		if s := lock.InitialState(); s != nil {
			if err := json.Unmarshal(s, &state); err != nil {
				fail(name, "parse state "+strconv.Quote(string(s)), err)
			}
		}
		if lock.Token() <= state.Token {
			fail(name, "fencing", fmt.Errorf("token %d is not above the stored %d", lock.Token(), state.Token))
		}
		next, _ := json.Marshal(counter{Count: state.Count + 1, Token: lock.Token(), Worker: name})
		if err := lock.ReleaseWithState(context.Background(), next); err != nil {
			fail(name, "release", err)
		}
		fmt.Printf("%s token %d count %d\n", name, lock.Token(), state.Count+1)
	}
}

func fail(name, what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %s: %v\n", name, what, err)
	os.Exit(1)
}

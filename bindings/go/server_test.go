package fencelock

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

var testURL string

// TestMain runs the tests against $FENCELOCK_URL, or against a nats-server it starts on a
// random loopback port ($FENCELOCK_NATS_SERVER, else nats-server on PATH).
func TestMain(m *testing.M) {
	if u := os.Getenv("FENCELOCK_URL"); u != "" {
		testURL = u
		os.Exit(m.Run())
	}
	bin := os.Getenv("FENCELOCK_NATS_SERVER")
	if bin == "" {
		bin = "nats-server"
	}
	dir, err := os.MkdirTemp("", "fencelock-go-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", dir)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot start %s (set FENCELOCK_NATS_SERVER): %v\n", bin, err)
		os.Exit(2)
	}
	port := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Listening for client connections on 127\.0\.0\.1:(\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				port <- m[1]
			}
		}
	}()
	select {
	case p := <-port:
		testURL = "nats://127.0.0.1:" + p
	case <-time.After(10 * time.Second):
		fmt.Fprintln(os.Stderr, "nats-server did not report its port")
		_ = cmd.Process.Kill()
		os.Exit(2)
	}
	code := m.Run()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

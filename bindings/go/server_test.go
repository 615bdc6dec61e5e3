package fencelock

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testURL string

// TestMain runs the tests against $FENCELOCK_URL, or against a server it starts on a random
// loopback port: nats-server ($FENCELOCK_NATS_SERVER, else nats-server on PATH), or
// redis-server when FENCELOCK_TEST_BACKEND=redis ($FENCELOCK_REDIS_SERVER, else on PATH).
func TestMain(m *testing.M) {
	if u := os.Getenv("FENCELOCK_URL"); u != "" {
		testURL = u
		os.Exit(m.Run())
	}
	if os.Getenv("FENCELOCK_TEST_BACKEND") == "redis" {
		os.Exit(withRedis(m))
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

// withRedis runs the tests against a redis-server started on a free loopback port.
func withRedis(m *testing.M) int {
	bin := os.Getenv("FENCELOCK_REDIS_SERVER")
	if bin == "" {
		bin = "redis-server"
	}
	dir, err := os.MkdirTemp("", "fencelock-go-redis-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	// redis-server cannot pick a port itself: take a free one and hand it over.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--dir", dir, "--save", "", "--appendonly", "no")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot start %s (set FENCELOCK_REDIS_SERVER): %v\n", bin, err)
		return 2
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	ready := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- struct{}{}
			}
		}
	}()
	select {
	case <-ready:
		testURL = "redis://127.0.0.1:" + port
	case <-time.After(10 * time.Second):
		fmt.Fprintln(os.Stderr, "redis-server did not become ready on port "+port)
		return 2
	}
	return m.Run()
}

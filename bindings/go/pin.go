package fencelock

import "sync"

// A lock or leadership whose Lost channel was handed out must stay alive while it is held:
// the caller may keep only the channel (`<-ld.Lost()`), and the finalizer of an unreachable
// Lock or Leadership releases it, so the channel would never close and the lock would be
// given up behind the caller's back. Lost() pins its owner here until the lock is lost
// (the lost callback unpins), released or resigned, or its client is closed. The lost
// callback knows only the pin's id, so the pin table is the only strong reference.
type pinEntry struct {
	owner  any
	client *Client
}

var pins = struct {
	sync.Mutex
	next uint64
	m    map[uint64]pinEntry
}{m: map[uint64]pinEntry{}}

// pin keeps owner alive until unpin(id) or unpinClient(client); returns the id.
func pin(owner any, client *Client) uint64 {
	pins.Lock()
	defer pins.Unlock()
	pins.next++
	pins.m[pins.next] = pinEntry{owner: owner, client: client}
	return pins.next
}

// unpin lets the owner be collected again; id 0 (never pinned) is ignored.
func unpin(id uint64) {
	if id == 0 {
		return
	}
	pins.Lock()
	delete(pins.m, id)
	pins.Unlock()
}

// unpinClient drops every pin of a closed client: its locks were released by Close.
func unpinClient(c *Client) {
	pins.Lock()
	defer pins.Unlock()
	for id, e := range pins.m {
		if e.client == c {
			delete(pins.m, id)
		}
	}
}

// pinnedCount is for tests: how many pins client c holds (the table must empty itself).
func pinnedCount(c *Client) int {
	pins.Lock()
	defer pins.Unlock()
	n := 0
	for _, e := range pins.m {
		if e.client == c {
			n++
		}
	}
	return n
}

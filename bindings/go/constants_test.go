package fencelock

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// Every FL_* constant of the committed header must have a Go twin with the same value, and
// every Go twin must exist in the header.
func TestConstantsMatchHeader(t *testing.T) {
	text, err := os.ReadFile("../../include/fencelock.h")
	if err != nil {
		t.Fatal(err)
	}
	goValues := map[string]int64{
		"FL_OK": int64(StatusOK), "FL_TIMEOUT": int64(StatusTimeout), "FL_HELD": int64(StatusHeld),
		"FL_NOT_HELD": int64(StatusNotHeld), "FL_EXPIRED": int64(StatusExpired),
		"FL_INVALID_KEY": int64(StatusInvalidKey), "FL_INVALID_ARGUMENT": int64(StatusInvalidArgument),
		"FL_STATE_TOO_LARGE": int64(StatusStateTooLarge), "FL_CLOSED": int64(StatusClosed),
		"FL_BACKEND": int64(StatusBackend), "FL_CALLBACK": int64(StatusCallback),
		"FL_CANCELLED": int64(StatusCancelled), "FL_INTERNAL": int64(StatusInternal),
		"FL_GUARD_HELD": int64(GuardHeld), "FL_GUARD_LOST": int64(GuardLost),
		"FL_GUARD_RELEASED":  int64(GuardReleased),
		"FL_STORAGE_DEFAULT": int64(StorageDefault), "FL_STORAGE_FILE": int64(StorageFile),
		"FL_STORAGE_MEMORY": int64(StorageMemory),
		"FL_RENEW_DEFAULT":  int64(RenewDefault), "FL_RENEW_ON": int64(RenewOn), "FL_RENEW_OFF": int64(RenewOff),
		"FL_WAIT_FOREVER": -1,
	}
	re := regexp.MustCompile(`(?m)^\s*(?:#define\s+)?(FL_[A-Z_]+)\s*=?\s*(-?\d+),?\s*$`)
	found := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(text), -1) {
		name := m[1]
		v, _ := strconv.ParseInt(m[2], 10, 64)
		found[name] = true
		want, ok := goValues[name]
		if !ok {
			t.Errorf("header constant %s = %d has no Go twin", name, v)
		} else if want != v {
			t.Errorf("%s: header %d, Go %d", name, v, want)
		}
	}
	for name := range goValues {
		if !found[name] {
			t.Errorf("Go constant for %s is not in the header", name)
		}
	}
	if len(found) < len(goValues) {
		t.Errorf("parsed %d header constants, expected %d", len(found), len(goValues))
	}
	for s := StatusOK; s <= StatusInternal; s++ {
		if s.String() == "unknown" || s.String() == "" {
			t.Errorf("status %d has no name", s)
		}
	}
}

// Every status the C layer reports (one per core error kind, checked against the core's list by
// the C binding's tests, plus cancelled and internal) has a sentinel for errors.Is.
func TestEveryStatusHasASentinel(t *testing.T) {
	for s := StatusOK + 1; s <= StatusInternal; s++ {
		if sentinels[s] == nil {
			t.Errorf("status %d (%s) has no sentinel error", s, s)
		}
	}
	if len(sentinels) != int(StatusInternal) {
		t.Errorf("%d sentinels for %d error statuses", len(sentinels), StatusInternal)
	}
}

// Package runid names a run so that its resources can be told apart from other runs' in a shared
// lab. A run id carries the time the run started ("20261123t221400-ab12cd"), so that the sweep at
// the start of a run deletes only what is old enough to be a leftover, never what a concurrent
// run with the same name prefix is still using.
package runid

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

const layout = "20060102t150405"

// New returns a fresh run id for a run started at now (UTC).
func New(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format(layout) + "-" + hex.EncodeToString(b[:])
}

// StartedAt reads the start time of the run that created a resource named
// prefix + run id + "-" + anything. ok is false for names not made by this scheme.
func StartedAt(name, prefix string) (t time.Time, ok bool) {
	rest, found := strings.CutPrefix(name, prefix)
	if !found || len(rest) < len(layout)+1+6 {
		return time.Time{}, false
	}
	t, err := time.Parse(layout, rest[:len(layout)])
	if err != nil || rest[len(layout)] != '-' {
		return time.Time{}, false
	}
	if _, err := hex.DecodeString(rest[len(layout)+1 : len(layout)+7]); err != nil {
		return time.Time{}, false
	}
	return t, true
}

// Stale says whether a resource is a leftover to sweep: its name has the prefix and either its
// run started more than olderThan before now, or olderThan is 0 (sweep everything with the prefix,
// including names this scheme did not make).
func Stale(name, prefix string, olderThan time.Duration, now time.Time) bool {
	if prefix == "" || !strings.HasPrefix(name, prefix) {
		return false
	}
	if olderThan <= 0 {
		return true
	}
	started, ok := StartedAt(name, prefix)
	return ok && now.Sub(started) > olderThan
}

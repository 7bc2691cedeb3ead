// Package runid names a run so that its resources can be told apart from other runs' in a shared
// lab. Every resource a run creates is named by one grammar:
//
//	prefix  run-id                  "-" spec part
//	hwcert- 20261123t221400-ab12cd  -   numa-p1-3-flavor1
//
// The run id carries the time the run started, so that the sweep at the start of a run deletes
// only what is old enough to be a leftover. Names are matched by the whole grammar, never by
// string prefix alone: with prefixes "hwcert-" and "hwcert-ci-" on one lab, "hwcert-ci-2026…" is
// not a name of prefix "hwcert-" (after "hwcert-" comes "ci-", not a run id).
package runid

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

const (
	layout = "20060102t150405"
	// Len is the length of a run id: the start time, '-', six hex digits.
	Len = len(layout) + 1 + 6
)

// New returns a fresh run id for a run started at now (UTC).
func New(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format(layout) + "-" + hex.EncodeToString(b[:])
}

// Name is a resource name read by the grammar.
type Name struct {
	Prefix, RunID, Spec string
	Started             time.Time
}

// Parse reads name as prefix + run id + "-" + spec part; ok is false for any other name.
func Parse(name, prefix string) (n Name, ok bool) {
	rest, found := strings.CutPrefix(name, prefix)
	if prefix == "" || !found || len(rest) < Len+2 || rest[Len] != '-' {
		return Name{}, false
	}
	id := rest[:Len]
	started, ok := ParseID(id)
	if !ok {
		return Name{}, false
	}
	return Name{Prefix: prefix, RunID: id, Spec: rest[Len+1:], Started: started}, true
}

// ParseID reads a run id's start time; ok is false for anything that is not a run id.
func ParseID(id string) (started time.Time, ok bool) {
	if len(id) != Len || id[len(layout)] != '-' {
		return time.Time{}, false
	}
	t, err := time.Parse(layout, id[:len(layout)])
	if err != nil {
		return time.Time{}, false
	}
	if _, err := hex.DecodeString(id[len(layout)+1:]); err != nil {
		return time.Time{}, false
	}
	return t, true
}

// StartedAt reads the start time of the run that created a resource of the grammar.
func StartedAt(name, prefix string) (time.Time, bool) {
	n, ok := Parse(name, prefix)
	return n.Started, ok
}

// Stale says whether a resource is a leftover to sweep: its name is of the grammar with this
// prefix and its run started more than olderThan before now (olderThan 0: any run's).
func Stale(name, prefix string, olderThan time.Duration, now time.Time) bool {
	n, ok := Parse(name, prefix)
	return ok && now.Sub(n.Started) > olderThan
}

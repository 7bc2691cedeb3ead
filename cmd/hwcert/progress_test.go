package main

import (
	"strings"
	"testing"
)

// A spec's steps are printed live between its start and end lines, with the process running it.
func TestProgressPrintsSteps(t *testing.T) {
	var w strings.Builder
	p := newProgress(&w, 1, false)
	p.event(specEvent{Kind: "start", Text: "numa gpu, required", Process: 2})
	p.event(specEvent{Kind: "step", Text: "numa gpu, required", Process: 2, Reason: "server hwcert-x-vm1: BUILD (spawning)", Seconds: 1.25})
	p.event(specEvent{Kind: "end", Text: "numa gpu, required", Process: 2, State: "passed", Seconds: 3})
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != 3 || lines[1] != "  [p2] server hwcert-x-vm1: BUILD (spawning) (1.2s)" {
		t.Fatalf("progress:\n%s", w.String())
	}
}

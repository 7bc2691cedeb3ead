package main

import (
	"strings"
	"testing"
	"time"
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

// In one process a spec running past the threshold is reported with the step it is on, once per
// interval, and not after it ended.
func TestProgressReportsAStuckSpec(t *testing.T) {
	var w strings.Builder
	p := newProgress(&w, 2, false)
	p.event(specEvent{Kind: "start", Text: "numa gpu, required", Process: 1})
	p.event(specEvent{Kind: "step", Text: "numa gpu, required", Process: 1, Reason: "server vm1: BUILD (spawning)"})
	start := p.running[1].since
	p.reportStuck(start.Add(30*time.Second), time.Minute)
	if w.Len() != len("▶ start   numa gpu, required  [p1]\n")+len("  [p1] server vm1: BUILD (spawning) (0.0s)\n") {
		t.Fatalf("reported before the threshold:\n%s", w.String())
	}
	p.reportStuck(start.Add(61*time.Second), time.Minute)
	if !strings.Contains(w.String(), "… waiting numa gpu, required  (running 1m1s)\n    step: server vm1: BUILD (spawning)") {
		t.Fatalf("no stuck report past the threshold:\n%s", w.String())
	}
	n := w.Len()
	p.reportStuck(start.Add(90*time.Second), time.Minute)
	if w.Len() != n {
		t.Fatalf("reported twice within one interval:\n%s", w.String())
	}
	p.event(specEvent{Kind: "end", Text: "numa gpu, required", Process: 1, State: "passed", Seconds: 100})
	n = w.Len()
	p.reportStuck(start.Add(10*time.Minute), time.Minute)
	if w.Len() != n {
		t.Fatalf("a spec that ended was reported:\n%s", w.String())
	}
}

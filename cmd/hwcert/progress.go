package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/framework"
)

// What a person watching a run sees: one line when a spec starts and one when it ends (state,
// elapsed, done/total and an ETA from the specs so far), the steps inside specs, and what a spec
// stuck past the threshold is waiting for. Workers of a parallel run post their events to the
// parent (progressPath on its parallel server), which prints them in one stream; a run in one
// process prints them itself.

const progressPath = "/hwcert/progress"

// specEvent is one thing a spec did, as a worker tells it.
type specEvent struct {
	Kind    string  `json:"kind"` // start, step, end
	Text    string  `json:"text"`
	Process int     `json:"process"`
	State   string  `json:"state,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
	Reason  string  `json:"reason,omitempty"` // skip or failure message, first line; a step's text
}

// progress prints the events of a run.
type progress struct {
	out   io.Writer
	color bool
	total int
	start time.Time

	mu   sync.Mutex
	done int
	// running is, per process, the spec running and its last step, for the stuck reports of a
	// run in one process (a parallel run's come from Ginkgo's progress reports of the workers).
	running map[int]*runningSpec
}

type runningSpec struct {
	text, step      string
	since, stepFrom time.Time
	reported        time.Time
}

func newProgress(out io.Writer, total int, color bool) *progress {
	return &progress{out: out, color: color, total: total, start: time.Now()}
}

// colorWanted says whether to colour: only on a terminal, never with --no-color or NO_COLOR
// (https://no-color.org: set to anything non-empty).
func colorWanted(out io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

const (
	ansiGreen, ansiRed, ansiYellow, ansiCyan, ansiReset = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[36m", "\x1b[0m"
)

func (p *progress) paint(code, s string) string {
	if !p.color {
		return s
	}
	return code + s + ansiReset
}

func (p *progress) event(e specEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case "start":
		if p.running == nil {
			p.running = map[int]*runningSpec{}
		}
		now := time.Now()
		p.running[e.Process] = &runningSpec{text: e.Text, since: now, stepFrom: now, reported: now}
		fmt.Fprintf(p.out, "%s %s  [p%d]\n", p.paint(ansiCyan, "▶ start  "), e.Text, e.Process)
	case "step":
		if r := p.running[e.Process]; r != nil {
			r.step, r.stepFrom = e.Reason, time.Now()
		}
		// The process tells the steps of specs running at once apart; its start line names the spec.
		fmt.Fprintf(p.out, "  [p%d] %s (%.1fs)\n", e.Process, e.Reason, e.Seconds)
	case "end":
		delete(p.running, e.Process)
		p.done++
		code := map[string]string{"passed": ansiGreen, "failed": ansiRed, "skipped": ansiYellow}[e.State]
		if code == "" {
			code = ansiRed
		}
		line := fmt.Sprintf("%s %s  (%.1fs) [%d/%d%s]", p.paint(code, fmt.Sprintf("%-9s", e.State)), e.Text, e.Seconds, p.done, p.total, p.eta())
		if e.Reason != "" {
			line += "\n    " + e.Reason
		}
		fmt.Fprintln(p.out, line)
	}
}

// eta extrapolates from the specs done so far.
func (p *progress) eta() string {
	if p.done == 0 || p.done >= p.total {
		return ""
	}
	per := time.Since(p.start) / time.Duration(p.done)
	return ", ETA " + (per * time.Duration(p.total-p.done)).Round(time.Second).String()
}

// specEnded is the parallel server's view of a finished spec; the end line comes from the
// worker's own event, which also carries the skip reason.
func (p *progress) specEnded(types.SpecReport) {}

// stuck prints Ginkgo's progress report of a spec that ran past the poll-progress threshold:
// where it is and what it waits for.
func (p *progress) stuck(r types.ProgressReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "%s %s  (running %s)\n", p.paint(ansiYellow, "… waiting"), strings.Join(append(slices.Clone(r.ContainerHierarchyTexts), r.LeafNodeText), " "), time.Since(r.SpecStartTime).Round(time.Second))
	if r.CurrentStepText != "" {
		fmt.Fprintf(p.out, "    step: %s (since %s)\n", r.CurrentStepText, time.Since(r.CurrentStepStartTime).Round(time.Second))
	}
	if r.CurrentNodeType != types.NodeTypeInvalid {
		for _, g := range r.Goroutines {
			if g.IsSpecGoroutine {
				for _, c := range g.Stack {
					if c.Highlight {
						fmt.Fprintf(p.out, "    at %s (%s:%d)\n", c.Function, c.Filename, c.Line)
					}
				}
			}
		}
	}
}

// watch prints, every interval until stop is closed, each spec that has run for an interval
// since its start or its last report, with the step it is on: what a person needs to see when
// a run seems to hang in one process.
func (p *progress) watch(interval time.Duration, stop <-chan struct{}) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			p.reportStuck(now, interval)
		}
	}
}

func (p *progress) reportStuck(now time.Time, interval time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, proc := range slices.Sorted(maps.Keys(p.running)) {
		r := p.running[proc]
		if now.Sub(r.reported) < interval {
			continue
		}
		r.reported = now
		fmt.Fprintf(p.out, "%s %s  (running %s)\n", p.paint(ansiYellow, "… waiting"), r.text, now.Sub(r.since).Round(time.Second))
		if r.step != "" {
			fmt.Fprintf(p.out, "    step: %s (since %s)\n", r.step, now.Sub(r.stepFrom).Round(time.Second))
		}
	}
}

// registerProgress makes this process report its specs' starts, steps and ends to send.
func registerProgress(send func(specEvent)) {
	framework.SetStepHook(func(step string) {
		r := CurrentSpecReport()
		send(specEvent{Kind: "step", Text: r.FullText(), Process: r.ParallelProcess, Reason: step, Seconds: time.Since(r.StartTime).Seconds()})
	})
	ReportBeforeEach(func(r SpecReport) {
		if r.State == types.SpecStateSkipped {
			return // filtered out: never started
		}
		send(specEvent{Kind: "start", Text: r.FullText(), Process: r.ParallelProcess})
	})
	ReportAfterEach(func(r SpecReport) {
		if r.State == types.SpecStateSkipped && r.Failure.Message == "" {
			return // filtered out
		}
		send(specEvent{Kind: "end", Text: r.FullText(), Process: r.ParallelProcess, State: r.State.String(),
			Seconds: r.RunTime.Seconds(), Reason: firstLine(r.Failure.Message)})
	})
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// postProgress sends events to the parent of a parallel run; a lost event costs a line of
// progress, never the run.
func postProgress(host string) func(specEvent) {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(e specEvent) {
		b, err := json.Marshal(e)
		if err != nil {
			return
		}
		if resp, err := client.Post(host+progressPath, "application/json", bytes.NewReader(b)); err == nil {
			resp.Body.Close()
		}
	}
}

// summarize prints the end of a run: counts by state, the failed specs with their failure, and
// the skips grouped by reason with how many specs each.
func summarize(w io.Writer, r types.Report) {
	counts := map[string]int{}
	skips := map[string]int{}
	var failed []types.SpecReport
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			if s.State.Is(types.SpecStateFailureStates) {
				failed = append(failed, s)
			}
			continue
		}
		if s.State == types.SpecStateSkipped && s.Failure.Message == "" {
			counts["not selected"]++
			continue
		}
		counts[s.State.String()]++
		switch {
		case s.State == types.SpecStateSkipped:
			skips[firstLine(s.Failure.Message)]++
		case s.State.Is(types.SpecStateFailureStates):
			failed = append(failed, s)
		}
	}
	var parts []string
	for _, st := range []string{"passed", "failed", "skipped", "pending", "panicked", "interrupted", "aborted", "timedout", "not selected"} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	fmt.Fprintf(w, "hwcert: %s\n", strings.Join(parts, ", "))
	for _, s := range failed {
		fmt.Fprintf(w, "  FAILED %s\n    %s\n    at %s\n", s.FullText(), strings.ReplaceAll(strings.TrimSpace(s.Failure.Message), "\n", "\n    "), s.Failure.Location)
	}
	if len(skips) == 0 {
		return
	}
	reasons := make([]string, 0, len(skips))
	for k := range skips {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if skips[reasons[i]] != skips[reasons[j]] {
			return skips[reasons[i]] > skips[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	fmt.Fprintln(w, "hwcert: skipped specs by reason:")
	for _, k := range reasons {
		fmt.Fprintf(w, "  %4d  %s\n", skips[k], k)
	}
}

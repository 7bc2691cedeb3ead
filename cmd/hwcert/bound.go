package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/framework/hostlock"
)

// bound is the least wall time the lab allowed the run that was just done: a host is held by
// one spec at a time, so no schedule finishes before the host held longest in total is done,
// nor before the total of all holds spread over every host.
type bound struct {
	Wall         time.Duration // the larger of the two below
	BusiestHost  string
	BusiestHeld  time.Duration
	TotalHeld    time.Duration
	Hosts, Holds int
}

// runBound reads the holds recorded in a run's report (hostlock.EntryHold).
func runBound(r types.Report, hosts int) (bound, error) {
	perHost := map[string]time.Duration{}
	var b bound
	for _, s := range r.SpecReports {
		for _, e := range s.ReportEntries {
			if e.Name != hostlock.EntryHold {
				continue
			}
			var h hostlock.Hold
			if err := json.Unmarshal([]byte(e.Value.AsJSON), &h); err != nil {
				return bound{}, fmt.Errorf("report entry %s of spec %q: %w", e.Name, s.FullText(), err)
			}
			d := time.Duration(h.Seconds * float64(time.Second))
			perHost[h.Host] += d
			b.TotalHeld += d
			b.Holds++
		}
	}
	b.Hosts = max(hosts, len(perHost))
	names := make([]string, 0, len(perHost))
	for h := range perHost {
		names = append(names, h)
	}
	slices.Sort(names)
	for _, h := range names {
		if perHost[h] > b.BusiestHeld {
			b.BusiestHost, b.BusiestHeld = h, perHost[h]
		}
	}
	b.Wall = b.BusiestHeld
	if b.Hosts > 0 {
		b.Wall = max(b.Wall, b.TotalHeld/time.Duration(b.Hosts))
	}
	return b, nil
}

func (b bound) String() string {
	if b.Holds == 0 {
		return "no spec held a host"
	}
	return fmt.Sprintf("the lab's bound %s (%d host holds, %s in all over %d hosts; busiest %s held %s)",
		b.Wall.Round(100*time.Millisecond), b.Holds, b.TotalHeld.Round(100*time.Millisecond), b.Hosts, b.BusiestHost, b.BusiestHeld.Round(100*time.Millisecond))
}

// withoutHolds keeps the hold entries out of the JUnit report, which stays small for CI.
func withoutHolds(r types.Report) types.Report {
	r.SpecReports = slices.Clone(r.SpecReports)
	for i, sr := range r.SpecReports {
		r.SpecReports[i].ReportEntries = slices.DeleteFunc(slices.Clone(sr.ReportEntries), func(e types.ReportEntry) bool {
			return e.Name == hostlock.EntryHold
		})
	}
	return r
}

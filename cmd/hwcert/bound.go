package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/framework/hostlock"
	"github.com/hwcert/hwcert/framework/openstack"
)

// bound is the least wall time the lab and the run's processes allowed the run that was just
// done. A lease (one slot of a host's devices or dedicated CPUs, or all of them) is held by one
// spec at a time, so the specs that ran in parallel took at least as long as the lease held
// longest in total, and at least their total run time over the processes; Serial specs run
// alone, after them.
type bound struct {
	Wall          time.Duration // Serial + the larger of BusiestHeld and Spread
	BusiestLease  string
	BusiestHeld   time.Duration
	Spread        time.Duration // the parallel specs' total run time over the processes
	Serial        time.Duration
	Holds, Leases int
}

// runBound reads the holds recorded in a run's report (hostlock.EntryHold) and its specs' run
// times.
func runBound(r types.Report, procs int) (bound, error) {
	perLease := map[string]time.Duration{}
	var b bound
	var parallel time.Duration
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped || s.State == types.SpecStatePending {
			continue
		}
		if s.IsSerial {
			b.Serial += s.RunTime
		} else {
			parallel += s.RunTime
		}
		for _, e := range s.ReportEntries {
			if e.Name != hostlock.EntryHold {
				continue
			}
			var h hostlock.Hold
			if err := json.Unmarshal([]byte(e.Value.AsJSON), &h); err != nil {
				return bound{}, fmt.Errorf("report entry %s of spec %q: %w", e.Name, s.FullText(), err)
			}
			b.Holds++
			if s.IsSerial {
				continue
			}
			for _, l := range h.Leases {
				perLease[l] += time.Duration(h.Seconds * float64(time.Second))
			}
		}
	}
	b.Leases = len(perLease)
	for _, l := range slices.Sorted(maps.Keys(perLease)) {
		if perLease[l] > b.BusiestHeld {
			b.BusiestLease, b.BusiestHeld = l, perLease[l]
		}
	}
	b.Spread = parallel / time.Duration(max(procs, 1))
	b.Wall = b.Serial + max(b.BusiestHeld, b.Spread)
	return b, nil
}

func (b bound) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
	if b.Holds == 0 {
		return fmt.Sprintf("the run's bound %s (no spec held a host)", r(b.Wall))
	}
	return fmt.Sprintf("the run's bound %s (Serial specs %s, then the larger of the busiest lease %s held %s and the parallel specs' time over the processes %s; %d holds of %d leases)",
		r(b.Wall), r(b.Serial), strings.TrimPrefix(b.BusiestLease, openstack.LeasePrefix), r(b.BusiestHeld), r(b.Spread), b.Holds, b.Leases)
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

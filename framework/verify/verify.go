// Package verify judges a placement against what was asked for: the right number of devices of
// the right vendor/product and function for each alias, nothing else attached, and — when the
// guest has a NUMA topology — the devices and pinned pCPUs on the host NUMA nodes or sockets the
// NUMA affinity policy demands, as Nova enforces it (nova/pci/stats.py
// _filter_pools_for_numa_cells). It is pure: a Request and a placement.Placement in, a Verdict
// with reasons out.
package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hwcert/hwcert/framework/cpuset"
	"github.com/hwcert/hwcert/framework/placement"
)

// Verdict is the judgement of one placement.
type Verdict struct {
	OK bool
	// Reasons say, for each failed check, what was expected and what was found.
	Reasons []string
	// Notes are observations that do not fail the verdict (e.g. locality under preferred).
	Notes []string
	// Expected and Found are one-line summaries of the request and the placement.
	Expected, Found string
}

// checker accumulates reasons and notes.
type checker struct {
	req     Request
	p       *placement.Placement
	reasons []string
	notes   []string
}

func (c *checker) fail(format string, args ...any) {
	c.reasons = append(c.reasons, fmt.Sprintf(format, args...))
}

func (c *checker) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// Check judges p against req.
func Check(req Request, p *placement.Placement) Verdict {
	c := &checker{req: req, p: p}
	v := Verdict{Expected: summarizeRequest(req)}
	if p == nil {
		v.Found = "no placement"
		v.Reasons = []string{"no placement to check (the domain was not inspected)"}
		return v
	}
	v.Found = summarizePlacement(p)
	if !c.validRequest() {
		v.Reasons, v.Notes = c.reasons, c.notes
		return v
	}
	as := c.assign()
	c.checkFunctions(as)
	c.checkNUMA(as)
	v.Reasons, v.Notes = c.reasons, c.notes
	v.OK = len(v.Reasons) == 0
	return v
}

// Disjoint returns an error naming every host device both placements have: two VMs must never
// share a passed-through device.
func Disjoint(a, b *placement.Placement) error {
	if a == nil || b == nil {
		return nil
	}
	var shared []string
	for _, d := range a.Devices {
		if _, ok := b.Device(d.Address); ok {
			shared = append(shared, d.Address.String())
		}
	}
	if len(shared) == 0 {
		return nil
	}
	return fmt.Errorf("%s attached to both %s and %s", strings.Join(shared, ", "), nameOf(a), nameOf(b))
}

// DisjointPCPUs returns an error naming every pCPU two dedicated guests on the same host are both
// pinned to: a dedicated pCPU belongs to one guest at a time.
func DisjointPCPUs(a, b *placement.Placement) error {
	if a == nil || b == nil {
		return nil
	}
	var shared []int
	for _, cpu := range a.PCPUs {
		if slices.Contains(b.PCPUs, cpu) {
			shared = append(shared, cpu)
		}
	}
	if len(shared) == 0 {
		return nil
	}
	return fmt.Errorf("dedicated CPUs: pCPUs %s are pinned by both %s (%s) and %s (%s)",
		cpuset.Format(shared), nameOf(a), cpuset.Format(a.PCPUs), nameOf(b), cpuset.Format(b.PCPUs))
}

func nameOf(p *placement.Placement) string {
	if p.Domain != "" {
		return p.Domain
	}
	return p.UUID
}

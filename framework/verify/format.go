// How verdicts read: the summaries, device and node lists the reasons are built from. The
// golden files under testdata/ pin this wording, so a change here is a reviewed golden update.

package verify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hwcert/hwcert/framework/cpuset"
	"github.com/hwcert/hwcert/framework/placement"
)

// String is a readable multi-line form for failure messages and logs.
func (v Verdict) String() string {
	var b strings.Builder
	if v.OK {
		b.WriteString("verdict: OK\n")
	} else {
		b.WriteString("verdict: FAILED\n")
	}
	fmt.Fprintf(&b, "expected: %s\n", v.Expected)
	fmt.Fprintf(&b, "found:    %s\n", v.Found)
	if len(v.Reasons) > 0 {
		b.WriteString("reasons:\n")
		for _, r := range v.Reasons {
			fmt.Fprintf(&b, "  - %s\n", r)
		}
	}
	if len(v.Notes) > 0 {
		b.WriteString("notes:\n")
		for _, n := range v.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// joinDevices writes one entry per device, comma-separated.
func joinDevices(ds []placement.Device, entry func(placement.Device) string) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = entry(d)
	}
	return strings.Join(s, ", ")
}

func addrList(ds []placement.Device) string {
	return joinDevices(ds, func(d placement.Device) string { return d.Address.String() })
}

func colonList(ds []placement.Device) string {
	if len(ds) == 0 {
		return ""
	}
	return ": " + addrList(ds)
}

// fmtNodes writes a node (or socket) list as "[0 1]", "[]" when empty.
func fmtNodes(n []int) string { return fmt.Sprint(n) }

func nodeOf(d placement.Device) string {
	if d.NUMANode == nil {
		return "no NUMA node"
	}
	return "node " + strconv.Itoa(*d.NUMANode)
}

func describeDevice(d placement.Device) string {
	return fmt.Sprintf("%s (%s, %s)", d.ID(), d.Function, nodeOf(d))
}

func devNodes(ds []placement.Device) string {
	return joinDevices(ds, func(d placement.Device) string { return d.Address.String() + " on " + nodeOf(d) })
}

func describeCells(p *placement.Placement) string {
	if len(p.GuestCells) == 0 {
		return fmt.Sprintf("memory bound to host nodes %s without guest NUMA cells", fmtNodes(p.HostNodes))
	}
	s := make([]string, len(p.GuestCells))
	for i, c := range p.GuestCells {
		s[i] = fmt.Sprintf("%d→node %s", c.ID, orDash(cpuset.Format(c.HostNodes)))
	}
	return plural(len(p.GuestCells), "node") + " (" + strings.Join(s, ", ") + ")"
}

func describePins(p *placement.Placement) string {
	if len(p.VCPUPins) == 0 {
		return "no vcpupin"
	}
	var s []string
	for v := 0; v < max(p.VCPUs, len(p.VCPUPins)); v++ {
		cpus, ok := p.VCPUPins[v]
		if !ok {
			s = append(s, fmt.Sprintf("%d→unpinned", v))
			continue
		}
		s = append(s, fmt.Sprintf("%d→%s", v, cpuset.Format(cpus)))
	}
	return "vcpupin " + strings.Join(s, " ")
}

func pcpuNodes(p *placement.Placement) string {
	var ns []int
	for _, cpu := range p.PCPUs {
		if n, ok := p.PCPUNodes[cpu]; ok {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	ns = slices.Compact(ns)
	if len(ns) == 1 {
		return "host node " + strconv.Itoa(ns[0])
	}
	return "host nodes " + fmtNodes(ns)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func summarizeRequest(r Request) string {
	var parts []string
	for _, ar := range r.Aliases {
		e := ar.Entry
		if !e.PassthroughSupported {
			parts = append(parts, fmt.Sprintf("%s:%d → no device (passthrough unsupported)", e.Alias, ar.Count))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s:%d → %d× %s (%s), policy %s", e.Alias, ar.Count, ar.Count, e.ID(), e.Function, r.PolicyFor(e)))
	}
	if len(parts) == 0 {
		parts = append(parts, "no PCI devices")
	}
	guest := "no guest NUMA topology requested (policies apply only if the guest has one)"
	if n := r.EffectiveNUMANodes(); n > 0 {
		guest = "guest with " + plural(n, "NUMA node")
		if r.Dedicated {
			guest += ", dedicated CPUs"
		}
		guest += ", affinity " + r.affinity()
	}
	return strings.Join(parts, "; ") + "; " + guest
}

func summarizePlacement(p *placement.Placement) string {
	s := plural(len(p.Devices), "device")
	if len(p.Devices) > 0 {
		s += " (" + joinDevices(p.Devices, func(d placement.Device) string {
			return fmt.Sprintf("%s %s %s %s", d.Address, d.ID(), d.Function, nodeOf(d))
		}) + ")"
	}
	if !p.HasNUMATopology {
		s += "; guest without NUMA topology"
	} else {
		s += "; guest NUMA " + describeCells(p)
	}
	switch {
	case p.Pinned:
		s += "; pinned to pCPUs " + cpuset.Format(p.PCPUs)
	case len(p.PCPUs) > 0:
		s += "; floating over pCPUs " + cpuset.Format(p.PCPUs)
	}
	return s
}

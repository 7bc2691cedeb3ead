package verify

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hwcert/hwcert/framework/cpuset"
	"github.com/hwcert/hwcert/framework/placement"
)

// Table renders a placement as two compact tables (devices; guest NUMA cells), the evidence a
// failure message shows next to the reasons.
func Table(p *placement.Placement) string {
	if p == nil {
		return "(no placement)\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "domain %s (%s)\n", orDash(p.Domain), orDash(p.UUID))
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "DEVICE\tID\tFUNCTION\tPF\tNODE\tSOCKET\tDRIVER")
	if len(p.Devices) == 0 {
		fmt.Fprintln(w, "(none)\t\t\t\t\t\t")
	}
	for _, d := range p.Devices {
		pf := "-"
		if d.PF != nil {
			pf = d.PF.String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Address, d.ID(), d.Function, pf, optInt(d.NUMANode), optInt(d.Socket), orDash(d.Driver))
	}
	w.Flush()
	if !p.HasNUMATopology {
		b.WriteString("guest NUMA: none")
		if len(p.PCPUs) > 0 {
			b.WriteString("; vcpupin " + cpuset.Format(p.PCPUs))
		}
		b.WriteString("\n")
		return b.String()
	}
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "GUEST CELL\tHOST NODE\tSOCKET\tVCPUS\tPCPUS\tPCPU NODES")
	for _, c := range p.GuestCells {
		var sockets, pnodes []int
		for _, n := range c.HostNodes {
			if s, ok := p.NodeSocket[n]; ok {
				sockets = append(sockets, s)
			}
		}
		for _, cpu := range c.PCPUs {
			if n, ok := p.PCPUNodes[cpu]; ok {
				pnodes = append(pnodes, n)
			}
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", c.ID, orDash(cpuset.Format(c.HostNodes)), orDash(cpuset.Format(sockets)),
			orDash(cpuset.Format(c.VCPUs)), orDash(cpuset.Format(c.PCPUs)), orDash(cpuset.Format(pnodes)))
	}
	w.Flush()
	pin := "not pinned"
	if p.Pinned {
		pin = "every vCPU pinned to one pCPU"
	}
	nodes := "host nodes " + orDash(cpuset.Format(p.HostNodes))
	if len(p.HostNodes) == 1 {
		nodes = "host node " + strconv.Itoa(p.HostNodes[0])
	}
	fmt.Fprintf(&b, "memory on %s; %s\n", nodes, pin)
	return b.String()
}

func optInt(v *int) string {
	if v == nil {
		return "-"
	}
	return strconv.Itoa(*v)
}

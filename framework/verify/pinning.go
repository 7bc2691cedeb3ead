// Dedicated CPUs proven from the host side (vcpupin against the host capabilities).

package verify

import (
	"maps"
	"slices"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/cpuset"
)

// checkPinning proves dedicated CPUs from the host side: each vCPU on exactly one pCPU of its own,
// inside cpu_dedicated_set when the harness knows it, each pCPU on the host node its guest cell's
// memory is bound to, and — for required/socket — some
// vCPU on the device's node or socket (the KubeVirt way: device node ∩ vcpupin).
func (c *checker) checkPinning(as []*assignment) {
	p := c.p
	if !p.Pinned {
		c.fail("dedicated CPUs: expected each of the %s pinned to exactly one pCPU, found %s", plural(p.VCPUs, "vCPU"), describePins(p))
		return
	}
	pinnedBy := map[int]int{} // pCPU -> the first vCPU pinned to it
	for _, v := range slices.Sorted(maps.Keys(p.VCPUPins)) {
		cpu := p.VCPUPins[v][0]
		if other, dup := pinnedBy[cpu]; dup {
			c.fail("dedicated CPUs: vCPUs %d and %d are both pinned to pCPU %d, expected a pCPU of its own for each vCPU", other, v, cpu)
			continue
		}
		pinnedBy[cpu] = v
		if c.req.CPUDedicatedSet != nil && !slices.Contains(c.req.CPUDedicatedSet, cpu) {
			c.fail("dedicated CPUs: vCPU %d is pinned to pCPU %d, outside the host's cpu_dedicated_set %s", v, cpu, cpuset.Format(c.req.CPUDedicatedSet))
		}
	}
	for _, cell := range p.GuestCells {
		if len(cell.HostNodes) == 0 {
			continue // already reported
		}
		for _, v := range cell.VCPUs {
			for _, cpu := range p.VCPUPins[v] {
				n, ok := p.PCPUNodes[cpu]
				switch {
				case !ok:
					c.fail("dedicated CPUs: vCPU %d is pinned to pCPU %d, which the host capabilities do not list", v, cpu)
				case !slices.Contains(cell.HostNodes, n):
					c.fail("dedicated CPUs: vCPU %d (guest cell %d) is pinned to pCPU %d on host node %d, expected host node %s", v, cell.ID, cpu, n, cpuset.Format(cell.HostNodes))
				}
			}
		}
	}
	for _, a := range as {
		if !a.ar.Entry.PassthroughSupported {
			continue
		}
		for _, d := range a.devs {
			if d.NUMANode == nil {
				continue // reported by the policy check where it matters
			}
			switch a.policy {
			case vocab.PolicyRequired:
				if !slices.ContainsFunc(p.PCPUs, func(cpu int) bool { n, ok := p.PCPUNodes[cpu]; return ok && n == *d.NUMANode }) {
					c.fail("%s (required): no vCPU is pinned to host node %d where %s is; pCPUs %s are on %s",
						a.ar.Entry.Alias, *d.NUMANode, d.Address, cpuset.Format(p.PCPUs), pcpuNodes(p))
				}
			case vocab.PolicySocket:
				if d.Socket == nil {
					continue
				}
				if !slices.ContainsFunc(p.PCPUs, func(cpu int) bool {
					n, ok := p.PCPUNodes[cpu]
					s, sok := p.NodeSocket[n]
					return ok && sok && s == *d.Socket
				}) {
					c.fail("%s (socket): no vCPU is pinned to socket %d where %s is; pCPUs %s are on %s",
						a.ar.Entry.Alias, *d.Socket, d.Address, cpuset.Format(p.PCPUs), pcpuNodes(p))
				}
			}
		}
	}
}

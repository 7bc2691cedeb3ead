// The guest NUMA topology and each alias's NUMA affinity policy, as Nova enforces them.

package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/cpuset"
	"github.com/hwcert/hwcert/framework/placement"
)

// checkNUMA checks the guest NUMA topology, the policy of each alias and the pinning.
func (c *checker) checkNUMA(as []*assignment) {
	p := c.p
	want := c.req.EffectiveNUMANodes()
	switch {
	case want == 0 && !p.HasNUMATopology:
		if len(c.req.Aliases) > 0 {
			c.note("guest has no NUMA topology: Nova does not enforce any PCI NUMA affinity policy")
		}
		return
	case want == 0:
		// The request names no NUMA topology, but something else in the flavor or image
		// (hugepages, vPMEM) gave the guest one, and then Nova enforces the policy against it.
		c.note("guest NUMA topology: the request names none (no hw:numa_nodes or dedicated CPUs), found %s (hugepages?); policies judged against it", describeCells(p))
		want = len(p.GuestCells)
	case !p.HasNUMATopology:
		c.fail("guest NUMA topology: expected %s, found none (no numatune or guest NUMA cells in the domain)", plural(want, "node"))
		return
	}
	if len(p.GuestCells) != want {
		c.fail("guest NUMA topology: expected %s, found %s", plural(want, "node"), describeCells(p))
	}
	cellNodes := map[int]int{} // host node -> guest cell using it
	for _, cell := range p.GuestCells {
		switch len(cell.HostNodes) {
		case 0:
			c.fail("guest NUMA cell %d: expected a numatune memnode binding it to one host node, found none", cell.ID)
		case 1:
			if other, dup := cellNodes[cell.HostNodes[0]]; dup {
				c.fail("guest NUMA cells %d and %d: expected distinct host NUMA nodes, both are on host node %d", other, cell.ID, cell.HostNodes[0])
			}
			cellNodes[cell.HostNodes[0]] = cell.ID
		default:
			c.fail("guest NUMA cell %d: expected one host NUMA node, found nodes %s", cell.ID, cpuset.Format(cell.HostNodes))
		}
	}
	c.checkMemoryBinding()
	if !c.req.Dedicated {
		c.checkSharedFloat()
	}
	for _, a := range as {
		if a.ar.Entry.PassthroughSupported && len(a.devs) > 0 {
			c.checkPolicy(a)
		}
	}
	if c.req.affinity() == vocab.AffinityPerGuestNode {
		c.checkPerGuestNode(as)
	}
	if c.req.Dedicated {
		c.checkPinning(as)
	}
}

func (c *checker) checkPolicy(a *assignment) {
	p := c.p
	e := a.ar.Entry
	nodes := p.HostNodes
	tag := fmt.Sprintf("%s (%s)", e.Alias, a.policy)
	switch a.policy {
	case vocab.PolicyRequired:
		for _, d := range a.devs {
			switch {
			case d.NUMANode == nil:
				c.fail("%s: %s has no NUMA node, expected it on one of the guest's host nodes %s", tag, d.Address, fmtNodes(nodes))
			case !slices.Contains(nodes, *d.NUMANode):
				c.fail("%s: %s is on host node %d, expected one of the guest's host nodes %s", tag, d.Address, *d.NUMANode, fmtNodes(nodes))
			}
		}
	case vocab.PolicyLegacy:
		for _, d := range a.devs {
			if d.NUMANode != nil && !slices.Contains(nodes, *d.NUMANode) {
				c.fail("%s: %s is on host node %d, expected one of the guest's host nodes %s or no NUMA information", tag, d.Address, *d.NUMANode, fmtNodes(nodes))
			}
		}
	case vocab.PolicyPreferred:
		c.checkPreferred(a, tag, nodes)
	case vocab.PolicySocket:
		// Nova (nova/pci/stats.py _filter_pools_for_numa_cells) serves socket from the devices
		// strictly local to the guest's nodes when there are enough, socket information or not;
		// only a device beyond those is filtered by socket, and then every host cell needs one
		// (_filter_pools_for_socket_affinity).
		var remote []placement.Device
		for _, d := range a.devs {
			if d.NUMANode == nil || !slices.Contains(nodes, *d.NUMANode) {
				remote = append(remote, d)
			}
		}
		if len(remote) == 0 {
			return
		}
		if len(p.NodesWithoutSocket) > 0 {
			c.fail("%s: %s not on the guest's host nodes %s, and host nodes %s have no single socket in the host capabilities (CPUs on several sockets, or none): Nova meets the socket policy on such a host with local devices only",
				tag, addrList(remote), fmtNodes(nodes), fmtNodes(p.NodesWithoutSocket))
			return
		}
		sockets, missing := c.guestSockets(nodes)
		if len(missing) > 0 {
			c.fail("%s: host nodes %s have no socket information in the host capabilities, expected sockets for every guest host node", tag, fmtNodes(missing))
			return
		}
		for _, d := range remote {
			switch {
			case d.NUMANode == nil:
				c.fail("%s: %s has no NUMA node, expected it on the socket of one of the guest's host nodes (sockets %s)", tag, d.Address, fmtNodes(sockets))
			case d.Socket == nil:
				c.fail("%s: %s is on host node %d, which has no socket information, expected sockets %s", tag, d.Address, *d.NUMANode, fmtNodes(sockets))
			case !slices.Contains(sockets, *d.Socket):
				c.fail("%s: %s is on socket %d (host node %d), expected one of the guest's sockets %s", tag, d.Address, *d.Socket, *d.NUMANode, fmtNodes(sockets))
			}
		}
	}
}

// checkPerGuestNode is the StarlingX document's reading, "an eligible host NUMA node is required
// for each virtual NUMA node in the instance", as the mock lab and a StarlingX lab configured for
// it apply it: over the devices of every request whose policy asks for locality (required,
// legacy, socket — not preferred), each guest NUMA cell needs at least one device affine to its
// host node under that request's policy (required: on the node; legacy: on the node or without
// NUMA information, which legacy accepts from anywhere; socket: on the node's socket).
func (c *checker) checkPerGuestNode(as []*assignment) {
	type affine struct {
		d      placement.Device
		policy string
	}
	var devs []affine
	var aliases []string
	for _, a := range as {
		if !a.ar.Entry.PassthroughSupported || a.want == 0 || a.policy == vocab.PolicyPreferred {
			continue
		}
		aliases = append(aliases, fmt.Sprintf("%s (%s)", a.ar.Entry.Alias, a.policy))
		for _, d := range a.devs {
			devs = append(devs, affine{d, a.policy})
		}
	}
	if len(aliases) == 0 {
		return
	}
	var all []placement.Device
	for _, x := range devs {
		all = append(all, x.d)
	}
	for _, cell := range c.p.GuestCells {
		sockets, _ := c.guestSockets(cell.HostNodes)
		covered := slices.ContainsFunc(devs, func(x affine) bool {
			d := x.d
			switch x.policy {
			case vocab.PolicyLegacy:
				return d.NUMANode == nil || slices.Contains(cell.HostNodes, *d.NUMANode)
			case vocab.PolicySocket:
				return d.Socket != nil && slices.Contains(sockets, *d.Socket)
			default:
				return d.NUMANode != nil && slices.Contains(cell.HostNodes, *d.NUMANode)
			}
		})
		if !covered {
			c.fail("%s, per-guest-node: guest NUMA cell %d (host node %s) has no affine device, expected one for each guest NUMA node; devices: %s",
				strings.Join(aliases, ", "), cell.ID, cpuset.Format(cell.HostNodes), devNodes(all))
		}
	}
}

// guestSockets maps host nodes to their sockets; missing lists nodes without socket info.
func (c *checker) guestSockets(nodes []int) (sockets, missing []int) {
	for _, n := range nodes {
		s, ok := c.p.NodeSocket[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		sockets = append(sockets, s)
	}
	slices.Sort(sockets)
	return slices.Compact(sockets), missing
}

// checkPreferred: preferred takes a local device whenever one is free, and falls back to a device
// without NUMA information or on another node only when not enough local ones were
// (nova/pci/stats.py: the strictly affine pools first). With Request.Free unknown, a remote device
// is only noted.
func (c *checker) checkPreferred(a *assignment, tag string, nodes []int) {
	local := func(d placement.Device) bool { return d.NUMANode != nil && slices.Contains(nodes, *d.NUMANode) }
	got := 0
	for _, d := range a.devs {
		switch {
		case local(d):
			got++
			c.note("%s: %s is local (host node %d)", tag, d.Address, *d.NUMANode)
		case d.NUMANode == nil:
			c.note("%s: %s has no NUMA information (accepted when no local device was free)", tag, d.Address)
		default:
			c.note("%s: %s is on host node %d, not local to the guest's host nodes %s (accepted when no local device was free)", tag, d.Address, *d.NUMANode, fmtNodes(nodes))
		}
	}
	if c.req.Free == nil {
		return
	}
	var free []placement.Device
	for _, d := range c.req.Free {
		if local(d) && d.Function == a.ar.Entry.Function && a.ar.Entry.Matches(d.VendorID, d.ProductID) {
			free = append(free, d)
		}
	}
	if want := min(a.want, len(free)); got < want {
		c.fail("%s: %d of %s local to the guest's host nodes %s, expected %d: %s were free there; attached %s",
			tag, got, plural(len(a.devs), "device"), fmtNodes(nodes), want, addrList(free), devNodes(a.devs))
	}
}

// checkMemoryBinding: Nova binds each guest cell's memory to its host node, strictly
// (numatune/memnode mode strict), and the whole domain's memory to the union of those nodes
// (numatune/memory). libvirt's restrictive mode binds as strictly through cgroups.
func (c *checker) checkMemoryBinding() {
	p := c.p
	strict := func(mode string) bool { return mode == "strict" || mode == "restrictive" }
	for _, cell := range p.GuestCells {
		if len(cell.HostNodes) > 0 && !strict(cell.MemMode) {
			c.fail("guest NUMA cell %d: memnode mode %q, expected strict (or restrictive): the cell's memory may leave host node %s", cell.ID, cell.MemMode, cpuset.Format(cell.HostNodes))
		}
	}
	switch {
	case p.MemoryNodes == nil:
		c.fail("guest memory: expected numatune <memory> binding it to host nodes %s, found none: the memory is not bound", fmtNodes(p.HostNodes))
	case !slices.Equal(p.MemoryNodes, p.HostNodes):
		c.fail("guest memory: numatune memory nodeset %s, expected the union of the guest cells' host nodes %s", cpuset.Format(p.MemoryNodes), fmtNodes(p.HostNodes))
	case !strict(p.MemoryMode):
		c.fail("guest memory: numatune memory mode %q, expected strict (or restrictive)", p.MemoryMode)
	}
}

// checkSharedFloat: a shared-CPU guest with a NUMA topology has each vCPU float over the CPUs of
// its cell's host node only (Nova writes a vcpupin of the node's CPUs for every vCPU).
func (c *checker) checkSharedFloat() {
	p := c.p
	for _, cell := range p.GuestCells {
		if len(cell.HostNodes) == 0 {
			continue // reported
		}
		for _, v := range cell.VCPUs {
			pins, ok := p.VCPUPins[v]
			if !ok {
				c.fail("shared CPUs: vCPU %d (guest cell %d) has no vcpupin, expected it to float over the CPUs of host node %s only", v, cell.ID, cpuset.Format(cell.HostNodes))
				continue
			}
			var off []int
			for _, cpu := range pins {
				if n, ok := p.PCPUNodes[cpu]; !ok || !slices.Contains(cell.HostNodes, n) {
					off = append(off, cpu)
				}
			}
			if len(off) > 0 {
				c.fail("shared CPUs: vCPU %d (guest cell %d) floats over pCPUs %s, of which %s are not on host node %s; expected only that node's CPUs",
					v, cell.ID, cpuset.Format(pins), cpuset.Format(off), cpuset.Format(cell.HostNodes))
			}
		}
	}
}

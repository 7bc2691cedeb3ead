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
		for _, d := range a.devs {
			switch {
			case d.NUMANode == nil:
				c.note("%s: %s has no NUMA information (accepted)", tag, d.Address)
			case !slices.Contains(nodes, *d.NUMANode):
				c.note("%s: %s is on host node %d, not local to the guest's host nodes %s (accepted)", tag, d.Address, *d.NUMANode, fmtNodes(nodes))
			default:
				c.note("%s: %s is local (host node %d)", tag, d.Address, *d.NUMANode)
			}
		}
	case vocab.PolicySocket:
		sockets, missing := c.guestSockets(nodes)
		if len(missing) > 0 {
			c.fail("%s: host nodes %s have no socket information in the host capabilities, expected sockets for every guest host node", tag, fmtNodes(missing))
			return
		}
		for _, d := range a.devs {
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

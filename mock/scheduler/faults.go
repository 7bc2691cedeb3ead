package scheduler

import (
	"slices"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/novaspec"
)

// The faults (vocab.Faults) are the lies of the lab. Under a fault the API still reports success;
// only what the domain shows (Placement.Devices, Placement.Cells) lies, and the claims follow the
// lie so that no device is ever given twice.

// ignorePolicy applies vocab.FaultIgnorePolicy: the `required` PCI NUMA policy is treated as
// `preferred`. It acts on the requests, before any host is tried, so that a host the real
// policy would reject can be chosen.
func (s *Scheduler) ignorePolicy(reqs []novaspec.PCIRequest) {
	if !s.faults[vocab.FaultIgnorePolicy] {
		return
	}
	for i := range reqs {
		if reqs[i].Policy == vocab.PolicyRequired {
			reqs[i].Policy = vocab.PolicyPreferred
		}
	}
}

// applyFaults makes the claim lie as the enabled faults say, keeping the claims equal to what the
// placement shows: a device swapped out is freed, a device swapped in is taken.
func (s *Scheduler) applyFaults(h *hostState, w *want, c *claim) {
	// vocab.FaultNUMAMisplace: for a guest with a NUMA topology, devices come from a host node
	// that is not one of the guest's nodes whenever the host has free matching devices there.
	if s.faults[vocab.FaultNUMAMisplace] && w.topo != nil {
		h.misplace(w, c, func(novaspec.PCIRequest) bool { return true })
	}
	// vocab.FaultPreferredRemote: the same, only for requests under preferred, which Nova must
	// still serve locally while it can.
	if s.faults[vocab.FaultPreferredRemote] && w.topo != nil {
		h.misplace(w, c, func(r novaspec.PCIRequest) bool { return r.Policy == vocab.PolicyPreferred })
	}
	// vocab.FaultWrongDevice: one attached device is replaced by a free device of another product.
	if s.faults[vocab.FaultWrongDevice] && len(c.devices) > 0 {
		h.wrongDevice(c)
	}
	// vocab.FaultDropHostdev: one requested device is missing from the domain (and its claim is
	// released).
	if s.faults[vocab.FaultDropHostdev] && len(c.devices) > 0 {
		last := c.devices[len(c.devices)-1]
		h.freeDevice(last.dev)
		c.devices = c.devices[:len(c.devices)-1]
	}
	// vocab.FaultExtraHostdev: one more device of the first request's product is attached.
	if s.faults[vocab.FaultExtraHostdev] && len(c.devices) > 0 {
		h.extraDevice(w, c)
	}
}

// misplace swaps each device for a free device answering the same request on a host node none
// of the guest's cells is on, where there is one.
func (h *hostState) misplace(w *want, c *claim, which func(novaspec.PCIRequest) bool) {
	guestNodes := make([]int, 0, len(c.cells))
	for _, cc := range c.cells {
		guestNodes = append(guestNodes, cc.node.id)
	}
	for i, held := range c.devices {
		if held.req >= len(w.reqs) || !which(w.reqs[held.req]) {
			continue
		}
		for pi, p := range h.pools {
			if p.free == 0 || !p.hasNode || slices.Contains(guestNodes, p.node) || !p.matches(w.reqs[held.req].Specs) ||
				(p.typ == vocab.TypePF && !w.wantsPF[held.req]) {
				continue
			}
			d := h.firstFree(h.pools[pi].devs)
			h.freeDevice(held.dev)
			h.takeDevice(d, c.server)
			c.devices[i].dev = d
			break
		}
	}
}

func (h *hostState) firstFree(devs []int) int {
	for _, d := range devs {
		if h.available(d) {
			return d
		}
	}
	return -1
}

// wrongDevice swaps the first device for a free device of another vendor/product on the host:
// a VF if there is one, else any other function, exposed or not.
func (h *hostState) wrongDevice(c *claim) {
	orig := &h.inv.Devices[c.devices[0].dev]
	best := -1
	for i := range h.inv.Devices {
		d := &h.inv.Devices[i]
		if !h.available(i) || (d.VendorID == orig.VendorID && d.ProductID == orig.ProductID) {
			continue
		}
		if best < 0 || (d.Type == vocab.TypeVF && h.inv.Devices[best].Type != vocab.TypeVF) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	h.freeDevice(c.devices[0].dev)
	h.takeDevice(best, c.server)
	c.devices[0].dev = best
}

// extraDevice attaches one more free device of the first device's vendor/product, preferring an
// exposed one.
func (h *hostState) extraDevice(w *want, c *claim) {
	first := &h.inv.Devices[c.devices[0].dev]
	best := -1
	for i := range h.inv.Devices {
		d := &h.inv.Devices[i]
		if !h.available(i) || d.VendorID != first.VendorID || d.ProductID != first.ProductID {
			continue
		}
		if best < 0 || (d.Exposed && !h.inv.Devices[best].Exposed) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	h.takeDevice(best, c.server)
	c.devices = append(c.devices, heldDevice{dev: best, req: len(w.reqs)})
}

// lieInDomain applies the faults that lie only in what the domain XML shows — pins and memory
// binding — while the claims stay true (no pCPU is held twice).
func (s *Scheduler) lieInDomain(h *hostState, c *claim, p *Placement) {
	if !p.NUMA {
		return
	}
	if p.Dedicated && len(p.Cells) > 0 && len(p.Cells[0].PCPUs) > 0 {
		cell := &p.Cells[0]
		node := cell.HostNode
		switch {
		// vocab.FaultPCPUOverlap: vCPU 0 on a pCPU another dedicated guest of the host holds.
		case s.faults[vocab.FaultPCPUOverlap]:
			if cpu, ok := s.othersPCPU(h, c, node); ok {
				cell.PCPUs[0] = cpu
			}
		// vocab.FaultPCPUOutsideSet: vCPU 0 on a CPU of its node outside cpu_dedicated_set.
		case s.faults[vocab.FaultPCPUOutsideSet]:
			if cpu, ok := h.cpuWhere(func(cpu lab.CPU) bool { return cpu.Node == node && !h.inv.Dedicated[cpu.ID] }); ok {
				cell.PCPUs[0] = cpu
			}
		// vocab.FaultPCPUWrongNode: vCPU 0 on a CPU of another node.
		case s.faults[vocab.FaultPCPUWrongNode]:
			if cpu, ok := h.cpuWhere(func(cpu lab.CPU) bool { return cpu.Node != node && h.inv.Dedicated[cpu.ID] }); ok {
				cell.PCPUs[0] = cpu
			}
		}
	}
	// vocab.FaultSharedFloatWide: shared vCPUs float over the whole host's shared set.
	if s.faults[vocab.FaultSharedFloatWide] && !p.Dedicated {
		for i := range p.Cells {
			p.Cells[i].PCPUs = slices.Clone(h.shared)
		}
	}
	// vocab.FaultMemnodeLoose, FaultMemoryNodesetWide, FaultNUMAUnbound: the memory binding.
	if s.faults[vocab.FaultMemnodeLoose] {
		p.MemNodeMode = "preferred"
	}
	if s.faults[vocab.FaultMemoryNodesetWide] {
		for _, n := range h.nodes {
			p.MemoryNodes = append(p.MemoryNodes, n.id)
		}
		slices.Sort(p.MemoryNodes)
	}
	if s.faults[vocab.FaultNUMAUnbound] {
		p.Unbound = true
	}
}

// othersPCPU is a pCPU pinned by another server's claim on the host, on node when there is one.
func (s *Scheduler) othersPCPU(h *hostState, c *claim, node int) (int, bool) {
	found, ok := 0, false
	for _, o := range s.claims {
		if o == c || o.host != h {
			continue
		}
		for _, cc := range o.cells {
			if len(cc.pcpus) == 0 {
				continue
			}
			if cc.node.id == node {
				return cc.pcpus[0], true
			}
			found, ok = cc.pcpus[0], true
		}
	}
	return found, ok
}

// cpuWhere is the first host CPU satisfying pred.
func (h *hostState) cpuWhere(pred func(lab.CPU) bool) (int, bool) {
	for _, cpu := range h.inv.CPUs {
		if pred(cpu) {
			return cpu.ID, true
		}
	}
	return 0, false
}

// cannotApply says why a fault has nothing to lie with on this lab ("" when it has): a lab that
// silently stayed honest would make the fault matrix prove nothing.
func (s *Scheduler) cannotApply(fault string) string {
	any := func(pred func(h *hostState) bool) bool { return slices.ContainsFunc(s.hosts, pred) }
	twoNodes := func(h *hostState) bool { return len(h.nodes) >= 2 }
	switch fault {
	case vocab.FaultNUMAMisplace, vocab.FaultPreferredRemote:
		if !any(func(h *hostState) bool { return twoNodes(h) && h.exposedTotal > 0 }) {
			return "no host has two NUMA nodes and devices exposed for passthrough, so no device can be taken from a remote node"
		}
	case vocab.FaultPCPUWrongNode, vocab.FaultMemoryNodesetWide, vocab.FaultSharedFloatWide:
		if !any(twoNodes) {
			return "every host has a single NUMA node, so there is no other node to pin, bind or float to"
		}
	case vocab.FaultPCPUOutsideSet:
		if !any(func(h *hostState) bool { return len(h.inv.Dedicated) < len(h.inv.CPUs) }) {
			return "no host's cpu_dedicated_set leaves a CPU out, so there is no CPU outside it to pin to"
		}
	case vocab.FaultVFNodeMismatch:
		if !any(func(h *hostState) bool {
			return twoNodes(h) && slices.ContainsFunc(h.inv.Devices, func(d lab.Device) bool { return d.Type == vocab.TypeVF && d.NUMANode != nil })
		}) {
			return "no host has a VF with a NUMA node and a second NUMA node to report it on"
		}
	case vocab.FaultWrongDevice, vocab.FaultDropHostdev, vocab.FaultExtraHostdev:
		if !any(func(h *hostState) bool { return h.exposedTotal > 0 }) {
			return "no host has a device exposed for passthrough"
		}
	}
	return ""
}

package scheduler

import (
	"slices"

	"github.com/hwcert/hwcert/mock/lab"
)

// applyFaults makes the claim lie as the enabled faults say, keeping the claims equal to what the
// placement shows: a device swapped out is freed, a device swapped in is taken.
// ignore-policy acts earlier, on the requests (see Schedule).
func (s *Scheduler) applyFaults(h *hostState, w *want, c *claim) {
	if s.faults[FaultNUMAMisplace] && w.topo != nil {
		h.misplace(w, c)
	}
	if s.faults[FaultWrongDevice] && len(c.devices) > 0 {
		h.wrongDevice(c)
	}
	if s.faults[FaultDropHostdev] && len(c.devices) > 0 {
		last := c.devices[len(c.devices)-1]
		h.freeDevice(last.dev)
		c.devices = c.devices[:len(c.devices)-1]
	}
	if s.faults[FaultExtraHostdev] && len(c.devices) > 0 {
		h.extraDevice(w, c)
	}
}

// misplace swaps each device for a free device answering the same request on a host node none
// of the guest's cells is on, where there is one.
func (h *hostState) misplace(w *want, c *claim) {
	guestNodes := make([]int, 0, len(c.cells))
	for _, cc := range c.cells {
		guestNodes = append(guestNodes, cc.node.id)
	}
	for i, held := range c.devices {
		if held.req >= len(w.reqs) {
			continue
		}
		for pi, p := range h.pools {
			if p.free == 0 || !p.hasNode || slices.Contains(guestNodes, p.node) || !p.matches(w.reqs[held.req].Specs) ||
				(p.typ == lab.TypePF && !w.wantsPF[held.req]) {
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
		if h.owner[d] == "" {
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
		if h.owner[i] != "" || (d.VendorID == orig.VendorID && d.ProductID == orig.ProductID) {
			continue
		}
		if h.familyBusy(i) {
			continue // a PF whose VFs are in use, or a VF whose PF is: not free in any real sense
		}
		if best < 0 || (d.Type == lab.TypeVF && h.inv.Devices[best].Type != lab.TypeVF) {
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

// familyBusy reports whether the device's PF or one of its VFs is held.
func (h *hostState) familyBusy(i int) bool {
	d := &h.inv.Devices[i]
	if d.Parent != nil {
		if pi, ok := h.index(*d.Parent); ok && h.owner[pi] != "" {
			return true
		}
	}
	for _, vf := range d.VFs {
		if vi, ok := h.index(vf); ok && h.owner[vi] != "" {
			return true
		}
	}
	return false
}

func (h *hostState) index(a lab.Address) (int, bool) {
	i, ok := h.byAddr[a]
	return i, ok
}

// extraDevice attaches one more free device of the first device's vendor/product, preferring an
// exposed one.
func (h *hostState) extraDevice(w *want, c *claim) {
	first := &h.inv.Devices[c.devices[0].dev]
	best := -1
	for i := range h.inv.Devices {
		d := &h.inv.Devices[i]
		if h.owner[i] != "" || d.VendorID != first.VendorID || d.ProductID != first.ProductID || h.familyBusy(i) {
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

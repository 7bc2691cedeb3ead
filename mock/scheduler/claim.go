package scheduler

import (
	"slices"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/novaspec"
)

// claim is everything one server holds on its host.
type claim struct {
	server      string
	host        *hostState
	vcpus       int
	sharedVCPUs int
	mem         int
	cells       []cellClaim
	devices     []heldDevice // in Placement.Devices order
}

type cellClaim struct {
	node      *nodeState
	guest     novaspec.GuestCell
	numaMem   int   // memory counted on the node
	shared    int   // shared vCPUs counted on the node
	pcpus     []int // pCPUs of guest.Dedicated, index for index
	claimed   []int // every pinned CPU (pcpus, isolated siblings, emulator)
	emulator  []int
	nodeIndex int
}

type heldDevice struct {
	dev   int // index into the inventory's devices
	req   int // index of the PCI request it answers; len(requests) for a device a fault added
	alias string
}

// claim books a plan for server: host and node counters, pinned CPUs, and the devices (the
// lowest free addresses of each pool in the plan).
func (h *hostState) claim(server string, w *want, p *plan) *claim {
	c := &claim{server: server, host: h, vcpus: w.vcpus, sharedVCPUs: w.sharedVCPUs, mem: w.mem}
	h.vcpusUsed += w.vcpus
	h.sharedUsed += w.sharedVCPUs
	h.memUsed += w.mem
	h.running++
	if w.topo != nil {
		for ci, gc := range w.topo.Cells {
			n := h.nodes[p.nodes[ci]]
			fit := p.fits[ci]
			cc := cellClaim{node: n, guest: gc, numaMem: gc.MemoryMB, shared: len(gc.Shared), nodeIndex: p.nodes[ci],
				pcpus: slices.Clone(fit.pcpus), claimed: slices.Clone(fit.claimed), emulator: slices.Clone(fit.emulator)}
			n.memUsed += cc.numaMem
			n.sharedUsed += cc.shared
			for _, cpu := range cc.claimed {
				h.pinned[cpu] = true
			}
			n.pcpuFree -= len(cc.claimed)
			h.pcpuFree -= len(cc.claimed)
			c.cells = append(c.cells, cc)
		}
	}
	for _, t := range p.takes {
		pl := h.pools[t.pool]
		got := 0
		for _, d := range pl.devs {
			if got == t.n {
				break
			}
			if h.available(d) {
				h.takeDevice(d, server)
				c.devices = append(c.devices, heldDevice{dev: d, req: t.req, alias: w.reqs[t.req].Alias})
				got++
			}
		}
	}
	// Takes are grouped by request already except for the per-guest-node first picks; keep
	// Placement.Devices in request order.
	slices.SortStableFunc(c.devices, func(a, b heldDevice) int { return a.req - b.req })
	return c
}

// available says whether a device can be claimed: nobody holds it, and no relative holds it
// either. Nova's PciDevice.claim makes the VFs of a claimed PF unclaimable, and the PF of a
// claimed VF; PciDeviceStats._handle_device_dependents takes them out of the pools, and
// PciDevice.free gives them back when the last relative is freed.
func (h *hostState) available(d int) bool { return h.owner[d] == "" && h.blocked[d] == 0 }

// takeDevice marks a device as held by server, its relatives as unclaimable, and keeps the pool
// counts in step (a pool counts its available devices).
func (h *hostState) takeDevice(d int, server string) {
	if h.available(d) {
		h.poolDelta(d, -1)
	}
	h.owner[d] = server
	for _, r := range h.family[d] {
		if h.available(r) {
			h.poolDelta(r, -1)
		}
		h.blocked[r]++
	}
}

// freeDevice returns a device, and its relatives once nothing else of the family is held.
func (h *hostState) freeDevice(d int) {
	if h.owner[d] == "" {
		return
	}
	h.owner[d] = ""
	if h.available(d) {
		h.poolDelta(d, 1)
	}
	for _, r := range h.family[d] {
		h.blocked[r]--
		if h.available(r) {
			h.poolDelta(r, 1)
		}
	}
}

func (h *hostState) poolDelta(d, n int) {
	if pi := h.devPool[d]; pi >= 0 {
		h.pools[pi].free += n
		h.exposedFree += n
	}
}

// unclaim undoes claim (and whatever faults changed in it).
func (h *hostState) unclaim(c *claim) {
	h.vcpusUsed -= c.vcpus
	h.sharedUsed -= c.sharedVCPUs
	h.memUsed -= c.mem
	h.running--
	for _, cc := range c.cells {
		cc.node.memUsed -= cc.numaMem
		cc.node.sharedUsed -= cc.shared
		for _, cpu := range cc.claimed {
			h.pinned[cpu] = false
		}
		cc.node.pcpuFree += len(cc.claimed)
		h.pcpuFree += len(cc.claimed)
	}
	for _, d := range c.devices {
		h.freeDevice(d.dev)
	}
}

// placement renders a claim as what the domain shows.
func (h *hostState) placement(w *want, c *claim) *Placement {
	p := &Placement{Host: h.name}
	if w.topo == nil {
		p.SharedCPUs = slices.Clone(h.shared)
	} else {
		p.NUMA = true
		p.Dedicated = w.topo.CPUPolicy == vocab.CPUDedicated
		for i, cc := range c.cells {
			cell := Cell{ID: i, HostNode: cc.node.id, VCPUs: cc.guest.VCPUs(), MemoryMB: cc.guest.MemoryMB}
			switch w.topo.CPUPolicy {
			case vocab.CPUDedicated:
				// Guest.Dedicated is sorted and holds every vCPU of the cell, so pcpus align with VCPUs.
				cell.PCPUs = slices.Clone(cc.pcpus)
			case vocab.CPUMixed:
				cell.PCPUs = slices.Clone(cc.node.shared)
				cell.DedicatedVCPUs = slices.Clone(cc.guest.Dedicated)
				cell.DedicatedPCPUs = slices.Clone(cc.pcpus)
			default:
				cell.PCPUs = slices.Clone(cc.node.shared)
			}
			p.EmulatorPCPUs = append(p.EmulatorPCPUs, cc.emulator...)
			p.Cells = append(p.Cells, cell)
		}
	}
	for _, d := range c.devices {
		p.Devices = append(p.Devices, AssignedDevice{Address: h.inv.Devices[d.dev].Address, Alias: d.alias})
	}
	return p
}

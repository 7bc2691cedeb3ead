// Package placement turns what a hypervisor says about one VM — its libvirt domain XML, the node
// device XML of each passed-through PCI device, and the host capabilities XML — into a typed
// Placement: which devices the guest has, on which host NUMA node and socket they sit, which host
// nodes and pCPUs the guest runs on. It is pure (strings in, values out) and parses with
// libvirtxml; nothing is grepped. Judging a placement is package verify's job.
package placement

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/hwcert/hwcert/framework/cpuset"
)

// Placement is where one guest and its PCI devices landed on the host.
type Placement struct {
	Domain string // libvirt domain name (OS-EXT-SRV-ATTR:instance_name)
	UUID   string // domain UUID (the server id)

	// Devices are the host PCI devices passed through, in domain XML order.
	Devices []Device

	// HasNUMATopology is true when the guest has a NUMA topology (guest cells or numatune),
	// the precondition for Nova to enforce any PCI NUMA affinity policy.
	HasNUMATopology bool
	// GuestCells are the guest NUMA cells in guest order; empty without a NUMA topology.
	GuestCells []GuestCell
	// HostNodes are the host NUMA nodes the guest cells are bound to (the union of the memnode
	// nodesets), sorted: the "guest's host nodes" of Nova's PCI NUMA affinity. The domain-wide
	// <memory nodeset> is kept apart in MemoryNodes, so that a widened nodeset cannot make a
	// remote device look local.
	HostNodes []int
	// MemoryNodes and MemoryMode are numatune/memory's nodeset (sorted) and mode; empty when the
	// domain has none.
	MemoryNodes []int  `json:",omitempty"`
	MemoryMode  string `json:",omitempty"`

	// VCPUs is the number of guest vCPUs (<vcpu>).
	VCPUs int
	// VCPUPins maps each pinned vCPU to its pCPU set (cputune/vcpupin).
	VCPUPins map[int][]int
	// PCPUs is the union of every vcpupin cpuset, sorted.
	PCPUs []int
	// Pinned is true when every vCPU has a vcpupin of exactly one pCPU (hw:cpu_policy=dedicated).
	Pinned bool

	// PCPUNodes maps each host CPU to its NUMA node, NodeSocket each host NUMA node to its
	// socket; both from the host capabilities. A node whose CPUs carry no socket id is absent.
	PCPUNodes  map[int]int
	NodeSocket map[int]int
	// NodesWithoutSocket are the host NUMA nodes the capabilities give no single socket (CPUs on
	// several sockets, no socket ids, memory only), sorted. Nova refuses the socket policy on
	// every device of a host with such a node (nova/pci/stats.py _filter_pools_for_socket_affinity).
	NodesWithoutSocket []int `json:",omitempty"`
}

// Device is one passed-through host PCI device.
type Device struct {
	Address   Address
	VendorID  string // 4 lowercase hex digits, e.g. "8086"
	ProductID string // 4 lowercase hex digits, e.g. "37c9"
	// Function is "pf" (has virt_functions), "vf" (has phys_function) or "pci", as Nova's
	// libvirt driver classifies devices.
	Function string
	// PF is the parent physical function of a VF.
	PF *Address
	// PFNUMANode is the NUMA node the PF's own node device reports, for a VF; a VF sits where its
	// PF sits, so a difference is a lie of the host.
	PFNUMANode *int `json:",omitempty"`
	// NUMANode is the host NUMA node; nil when libvirt reports none (sysfs numa_node -1).
	NUMANode *int
	// Socket is the socket of NUMANode according to the host capabilities; nil when unknown.
	Socket *int
	Driver string // host driver bound to the device (e.g. vfio-pci)
	Name   string // node device name (pci_0000_3d_01_2)
	// VendorName, ProductName and Class (0x0b4000) are what libvirt reports, for the inventory
	// to show; no verdict reads them, so they stay out of a placement's JSON (and its goldens).
	VendorName  string `json:"-"`
	ProductName string `json:"-"`
	Class       string `json:"-"`
}

// ID is "vendor:product".
func (d Device) ID() string { return d.VendorID + ":" + d.ProductID }

// GuestCell is one guest NUMA cell.
type GuestCell struct {
	ID        int
	HostNodes []int // numatune memnode nodeset for this cell
	// MemMode is the memnode's mode (strict, restrictive, preferred, interleave); empty when the
	// cell has no memnode.
	MemMode string `json:",omitempty"`
	VCPUs   []int  // guest vCPUs of the cell (cpu/numa/cell@cpus)
	PCPUs   []int  // union of the vcpupin cpusets of those vCPUs
}

// Device finds an attached device by address.
func (p *Placement) Device(a Address) (Device, bool) {
	for _, d := range p.Devices {
		if d.Address == a {
			return d, true
		}
	}
	return Device{}, false
}

// HostdevAddresses lists the host PCI addresses a domain passes through, in document order:
// <hostdev mode='subsystem' type='pci'> and <interface type='hostdev'> (SR-IOV NICs), matched by
// source/address. The inspector uses it to know which node devices to fetch.
func HostdevAddresses(domainXML string) ([]Address, error) {
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(domainXML); err != nil {
		return nil, fmt.Errorf("domain XML: %w", err)
	}
	return hostdevAddresses(&dom)
}

func hostdevAddresses(dom *libvirtxml.Domain) ([]Address, error) {
	if dom.Devices == nil {
		return nil, nil
	}
	var out []Address
	seen := map[Address]bool{}
	add := func(what string, src *libvirtxml.DomainHostdevSubsysPCISource) error {
		if src == nil || src.Address == nil {
			return fmt.Errorf("domain %s: %s: no source/address", dom.Name, what)
		}
		a, err := addressFrom(fmt.Sprintf("domain %s: %s source", dom.Name, what), src.Address.Domain, src.Address.Bus, src.Address.Slot, src.Address.Function)
		if err != nil {
			return err
		}
		if seen[a] {
			return fmt.Errorf("domain %s: %s: host device %s is passed through twice", dom.Name, what, a)
		}
		seen[a] = true
		out = append(out, a)
		return nil
	}
	for i, h := range dom.Devices.Hostdevs {
		if h.SubsysPCI == nil {
			continue // USB, SCSI, mdev...: not PCI passthrough
		}
		if h.Address != nil && h.Address.Unassigned != nil {
			// <address type='unassigned'/>: libvirt detaches the device from the host (to keep an
			// IOMMU group together) but gives it to the guest nowhere; it is not passed through.
			continue
		}
		if err := add(fmt.Sprintf("hostdev[%d]", i), h.SubsysPCI.Source); err != nil {
			return nil, err
		}
	}
	for i, n := range dom.Devices.Interfaces {
		if n.Source == nil || n.Source.Hostdev == nil {
			continue
		}
		if n.Source.Hostdev.PCI == nil {
			continue // a USB hostdev interface
		}
		if err := add(fmt.Sprintf("interface[%d] type='hostdev'", i), n.Source.Hostdev.PCI); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Build assembles the placement of one domain. nodeDevs holds the node device XML of every
// address HostdevAddresses returns and of the PF of every VF among them (see PFAddress);
// capsXML is the host's capabilities XML.
func Build(domainXML string, nodeDevs map[Address]string, capsXML string) (*Placement, error) {
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(domainXML); err != nil {
		return nil, fmt.Errorf("domain XML: %w", err)
	}
	host, err := ParseCapabilities(capsXML)
	if err != nil {
		return nil, err
	}
	p := &Placement{Domain: dom.Name, UUID: dom.UUID, PCPUNodes: host.CPUNode, NodeSocket: host.NodeSocket, NodesWithoutSocket: host.NodesWithoutSocket()}
	addrs, err := hostdevAddresses(&dom)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		x, ok := nodeDevs[a]
		if !ok || strings.TrimSpace(x) == "" {
			return nil, fmt.Errorf("hostdev %s: no node device XML given", a)
		}
		d, err := nodeDeviceAt(a, x, host)
		if err != nil {
			return nil, err
		}
		if d.PF != nil {
			px, ok := nodeDevs[*d.PF]
			if !ok || strings.TrimSpace(px) == "" {
				return nil, fmt.Errorf("hostdev %s: no node device XML given for its PF %s", a, *d.PF)
			}
			pf, err := nodeDeviceAt(*d.PF, px, host)
			if err != nil {
				return nil, fmt.Errorf("PF of hostdev %s: %w", a, err)
			}
			d.PFNUMANode = pf.NUMANode
		}
		p.Devices = append(p.Devices, d)
	}
	if err := p.readCPUAndNUMA(&dom); err != nil {
		return nil, fmt.Errorf("domain %s: %w", dom.Name, err)
	}
	return p, nil
}

// nodeDeviceAt reads the node device XML given for the hostdev at a and locates its socket.
func nodeDeviceAt(a Address, x string, host *Host) (Device, error) {
	d, ok, err := ParseNodeDevice(x)
	if err != nil {
		return Device{}, fmt.Errorf("hostdev %s: %w", a, err)
	}
	if !ok {
		return Device{}, fmt.Errorf("hostdev %s: node device %s has no capability type='pci'", a, d.Name)
	}
	if d.Address != a {
		return Device{}, fmt.Errorf("hostdev %s: node device XML given is for %s (%s)", a, d.Address, d.Name)
	}
	d.Socket = host.SocketOf(d.NUMANode)
	return d, nil
}

// readCPUAndNUMA fills the vCPU, pinning and guest NUMA fields from the domain.
func (p *Placement) readCPUAndNUMA(dom *libvirtxml.Domain) error {
	if dom.VCPU != nil {
		p.VCPUs = int(dom.VCPU.Value)
	}
	p.VCPUPins = map[int][]int{}
	if dom.CPUTune != nil {
		for _, pin := range dom.CPUTune.VCPUPin {
			cpus, err := cpuset.Parse(pin.CPUSet)
			if err != nil {
				return fmt.Errorf("vcpupin vcpu=%d: %w", pin.VCPU, err)
			}
			if len(cpus) == 0 {
				return fmt.Errorf("vcpupin vcpu=%d: empty cpuset", pin.VCPU)
			}
			if p.VCPUs > 0 && int(pin.VCPU) >= p.VCPUs {
				return fmt.Errorf("vcpupin vcpu=%d: the domain has only %d vCPUs", pin.VCPU, p.VCPUs)
			}
			if _, dup := p.VCPUPins[int(pin.VCPU)]; dup {
				return fmt.Errorf("vcpupin vcpu=%d: pinned twice", pin.VCPU)
			}
			p.VCPUPins[int(pin.VCPU)] = cpus
			p.PCPUs = append(p.PCPUs, cpus...)
		}
	}
	p.PCPUs = sortedSet(p.PCPUs)
	p.Pinned = p.VCPUs > 0 && len(p.VCPUPins) == p.VCPUs
	for _, cpus := range p.VCPUPins {
		if len(cpus) != 1 {
			p.Pinned = false
		}
	}

	memnodes := map[int][]int{}
	memModes := map[int]string{}
	if nt := dom.NUMATune; nt != nil {
		if nt.Memory != nil {
			nodes, err := cpuset.Parse(nt.Memory.Nodeset)
			if err != nil {
				return fmt.Errorf("numatune memory nodeset: %w", err)
			}
			p.MemoryNodes = sortedSet(nodes)
			// libvirt's default mode is strict and it writes it out; an absent mode reads as such.
			p.MemoryMode = cmp.Or(nt.Memory.Mode, "strict")
		}
		for _, mn := range nt.MemNodes {
			nodes, err := cpuset.Parse(mn.Nodeset)
			if err != nil {
				return fmt.Errorf("numatune memnode cellid=%d: %w", mn.CellID, err)
			}
			if len(nodes) == 0 {
				return fmt.Errorf("numatune memnode cellid=%d: empty nodeset", mn.CellID)
			}
			if _, dup := memnodes[int(mn.CellID)]; dup {
				return fmt.Errorf("numatune memnode cellid=%d: listed twice", mn.CellID)
			}
			memnodes[int(mn.CellID)] = nodes
			memModes[int(mn.CellID)] = cmp.Or(mn.Mode, "strict")
			p.HostNodes = append(p.HostNodes, nodes...)
		}
	}
	p.HostNodes = sortedSet(p.HostNodes)

	if dom.CPU != nil && dom.CPU.Numa != nil {
		seenVCPU := map[int]int{}
		for i, c := range dom.CPU.Numa.Cell {
			id := i
			if c.ID != nil {
				id = int(*c.ID)
			}
			vcpus, err := cpuset.Parse(c.CPUs)
			if err != nil {
				return fmt.Errorf("guest NUMA cell %d cpus: %w", id, err)
			}
			for _, v := range vcpus {
				if other, dup := seenVCPU[v]; dup {
					return fmt.Errorf("guest NUMA cell %d: vCPU %d is also in cell %d", id, v, other)
				}
				seenVCPU[v] = id
			}
			for _, prev := range p.GuestCells {
				if prev.ID == id {
					return fmt.Errorf("guest NUMA cell %d: listed twice", id)
				}
			}
			gc := GuestCell{ID: id, VCPUs: vcpus, HostNodes: memnodes[id], MemMode: memModes[id]}
			for _, v := range vcpus {
				gc.PCPUs = append(gc.PCPUs, p.VCPUPins[v]...)
			}
			gc.PCPUs = sortedSet(gc.PCPUs)
			p.GuestCells = append(p.GuestCells, gc)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(memnodes)) {
		if !slices.ContainsFunc(p.GuestCells, func(c GuestCell) bool { return c.ID == id }) {
			return fmt.Errorf("numatune memnode cellid=%d: the guest has no NUMA cell %d", id, id)
		}
	}
	p.HasNUMATopology = len(p.GuestCells) > 0 || len(memnodes) > 0 || p.MemoryNodes != nil
	return nil
}

func sortedSet(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// PFAddress is the PF of a node device that is a VF, read as Build reads it; the inspector uses
// it to fetch the PF's node device too.
func PFAddress(nodeDevXML string) (*Address, error) {
	d, _, err := ParseNodeDevice(nodeDevXML)
	if err != nil {
		return nil, err
	}
	return d.PF, nil
}

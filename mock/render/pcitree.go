package render

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
)

// The PCI hierarchy of a host as libvirt's node devices show it: on a real server no card hangs
// off `computer` directly. Each PCI domain has a host bridge at DDDD:00:00.0, every bus with cards
// on it sits behind a PCIe root port on bus 0, and a card's parent is that root port (a VF's is
// its PF's root port, as in sysfs: /sys/devices/pci0000:00/0000:00:01.0/0000:3d:01.2). The lab
// only names the cards, so the bridges are derived from their addresses: root ports take the
// free bus-0 slots in bus order, their IOMMU groups follow the lab's, and a port's NUMA node is
// its cards' node.

// Bridge is a PCI host bridge or root port the topology adds above the lab's devices.
type Bridge struct {
	Address lab.Address
	// RootPort is false for the host bridge at DDDD:00:00.0.
	RootPort bool
	// Secondary is the bus behind a root port.
	Secondary  uint
	NUMANode   *int
	IOMMUGroup int
}

// PCITopology places every PCI device of a host under its bridge.
type PCITopology struct {
	Bridges []Bridge // in address order
	port    map[[2]uint]int
	inv     *lab.HostInventory
}

// maxRootPorts is how many functions bus 0 offers root ports: slots 1-31, functions 0-7.
const maxRootPorts = 31 * 8

// HostPCITopology derives the bridges of inv's devices. It fails only when a domain has more
// buses than bus 0 can hold root ports.
func HostPCITopology(inv *lab.HostInventory) (*PCITopology, error) {
	t := &PCITopology{port: map[[2]uint]int{}, inv: inv}
	if inv == nil {
		return t, nil
	}
	used := map[lab.Address]bool{}
	group := 0
	buses := map[uint][]uint{}    // domain -> downstream buses
	nodes := map[[2]uint][]*int{} // (domain, bus) -> NUMA nodes of its cards
	for i := range inv.Devices {
		d := &inv.Devices[i]
		used[d.Address] = true
		group = max(group, d.IOMMUGroup+1)
		bus := t.bus(d)
		if _, ok := buses[d.Address.Domain]; !ok {
			buses[d.Address.Domain] = nil
		}
		if bus != 0 && !slices.Contains(buses[d.Address.Domain], bus) {
			buses[d.Address.Domain] = append(buses[d.Address.Domain], bus)
		}
		k := [2]uint{d.Address.Domain, bus}
		nodes[k] = append(nodes[k], d.NUMANode)
	}
	domains := make([]uint, 0, len(buses))
	for dom := range buses {
		domains = append(domains, dom)
	}
	slices.Sort(domains)
	for _, dom := range domains {
		hb := lab.Address{Domain: dom}
		if !used[hb] {
			t.Bridges = append(t.Bridges, Bridge{Address: hb, IOMMUGroup: group})
			used[hb] = true
			group++
		}
		slices.Sort(buses[dom])
		free := 0
		for _, bus := range buses[dom] {
			var a lab.Address
			for ; ; free++ {
				if free >= maxRootPorts {
					return nil, fmt.Errorf("render: host %s: PCI domain %04x has more buses than bus 0 has root port functions (%d)", inv.Host.Name, dom, maxRootPorts)
				}
				a = lab.Address{Domain: dom, Slot: uint(1 + free/8), Function: uint(free % 8)}
				if !used[a] {
					break
				}
			}
			free++
			used[a] = true
			t.Bridges = append(t.Bridges, Bridge{Address: a, RootPort: true, Secondary: bus,
				NUMANode: commonNode(nodes[[2]uint{dom, bus}]), IOMMUGroup: group})
			group++
		}
	}
	slices.SortFunc(t.Bridges, func(a, b Bridge) int { return compareAddr(a.Address, b.Address) })
	for i, b := range t.Bridges {
		if b.RootPort {
			t.port[[2]uint{b.Address.Domain, b.Secondary}] = i
		}
	}
	return t, nil
}

func compareAddr(a, b lab.Address) int {
	return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.Bus, b.Bus), cmp.Compare(a.Slot, b.Slot), cmp.Compare(a.Function, b.Function))
}

// bus is the bus whose root port a device sits behind: a VF's is its PF's.
func (t *PCITopology) bus(d *lab.Device) uint {
	if d.Type == vocab.TypeVF && d.Parent != nil {
		return d.Parent.Bus
	}
	return d.Address.Bus
}

// commonNode is the NUMA node all of a port's cards share, nil when they have none or differ.
func commonNode(ns []*int) *int {
	if len(ns) == 0 || ns[0] == nil {
		return nil
	}
	for _, n := range ns[1:] {
		if n == nil || *n != *ns[0] {
			return nil
		}
	}
	v := *ns[0]
	return &v
}

// rootPort is the root port above d, or nil for a device on bus 0.
func (t *PCITopology) rootPort(d *lab.Device) *Bridge {
	i, ok := t.port[[2]uint{d.Address.Domain, t.bus(d)}]
	if !ok {
		return nil
	}
	return &t.Bridges[i]
}

// Parent is the node device name of d's parent: its root port, or computer on bus 0.
func (t *PCITopology) Parent(d *lab.Device) string {
	if p := t.rootPort(d); p != nil {
		return p.Address.NodeDevName()
	}
	return ComputerDevice
}

// sysfsPath is d's directory under /sys/devices: below its root port's when it has one.
func (t *PCITopology) sysfsPath(d *lab.Device) string {
	a := d.Address
	if p := t.rootPort(d); p != nil {
		return fmt.Sprintf("/sys/devices/pci%04x:00/%s/%s", a.Domain, p.Address, a)
	}
	return fmt.Sprintf("/sys/devices/pci%04x:00/%s", a.Domain, a)
}

// BridgeXML renders a host bridge or root port as `virsh nodedev-dumpxml` shows one of an Intel
// Xeon Scalable host: bound to pcieport (a root port) or no driver (the host bridge), a PCI
// bridge class, its own IOMMU group and, for a root port, its NUMA node and PCIe link.
func BridgeXML(b Bridge) string {
	a := b.Address
	w := &writer{}
	w.open("<device>")
	w.line("<name>%s</name>", a.NodeDevName())
	w.line("<path>/sys/devices/pci%04x:00/%s</path>", a.Domain, a)
	w.line("<parent>%s</parent>", ComputerDevice)
	if b.RootPort {
		w.open("<driver>")
		w.line("<name>pcieport</name>")
		w.close("driver")
	}
	w.open("<capability type='pci'>")
	class, product, name := "0x060000", 0x2020, "Sky Lake-E DMI3 Registers"
	if b.RootPort {
		class, product, name = "0x060400", 0x2030+int(a.Function), fmt.Sprintf("Sky Lake-E PCI Express Root Port %c", 'A'+rune(a.Function))
	}
	w.line("<class>%s</class>", class)
	w.line("<domain>%d</domain>", a.Domain)
	w.line("<bus>%d</bus>", a.Bus)
	w.line("<slot>%d</slot>", a.Slot)
	w.line("<function>%d</function>", a.Function)
	w.line("<product id='0x%04x'>%s</product>", product, name)
	w.line("<vendor id='0x8086'>Intel Corporation</vendor>")
	w.open("<iommuGroup number='%d'>", b.IOMMUGroup)
	w.line("%s", pciAddr(a.Domain, a.Bus, a.Slot, a.Function))
	w.close("iommuGroup")
	if b.RootPort {
		if b.NUMANode != nil {
			w.line("<numa node='%d'/>", *b.NUMANode)
		}
		w.open("<pci-express>")
		w.line("<link validity='cap' port='%d' speed='8' width='16'/>", a.Slot)
		w.line("<link validity='sta' speed='8' width='16'/>")
		w.close("pci-express")
	}
	w.close("capability")
	w.close("device")
	return w.String()
}

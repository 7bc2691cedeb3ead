package lab

import (
	"fmt"
	"strconv"
	"strings"
)

// Address is a PCI address (domain:bus:slot.function).
type Address struct {
	Domain   uint
	Bus      uint
	Slot     uint
	Function uint
}

// ParseAddress reads "0000:3d:00.1" (the domain may be omitted: "3d:00.1").
func ParseAddress(s string) (Address, error) {
	bad := func(why string) (Address, error) {
		return Address{}, fmt.Errorf("PCI address %q: %s (expected DDDD:BB:SS.F, e.g. 0000:3d:01.2)", s, why)
	}
	rest, fn, ok := strings.Cut(s, ".")
	if !ok {
		return bad("no function after '.'")
	}
	parts := strings.Split(rest, ":")
	if len(parts) == 2 {
		parts = append([]string{"0000"}, parts...)
	}
	if len(parts) != 3 {
		return bad("wrong number of ':'-separated fields")
	}
	var vals [4]uint64
	limits := [4]uint64{0xffff, 0xff, 0x1f, 0x7}
	for i, p := range append(parts, fn) {
		v, err := strconv.ParseUint(p, 16, 32)
		if err != nil || p == "" {
			return bad(fmt.Sprintf("%q is not hexadecimal", p))
		}
		if v > limits[i] {
			return bad(fmt.Sprintf("%q is out of range (max %#x)", p, limits[i]))
		}
		vals[i] = v
	}
	return Address{uint(vals[0]), uint(vals[1]), uint(vals[2]), uint(vals[3])}, nil
}

// String renders the canonical form, 0000:3d:01.2.
func (a Address) String() string {
	return fmt.Sprintf("%04x:%02x:%02x.%x", a.Domain, a.Bus, a.Slot, a.Function)
}

// NodeDevName is the libvirt node device name, pci_0000_3d_01_2.
func (a Address) NodeDevName() string {
	return fmt.Sprintf("pci_%04x_%02x_%02x_%x", a.Domain, a.Bus, a.Slot, a.Function)
}

// next is the address of the following function: functions 0-7, then the next slot, as VFs are laid out.
func (a Address) next() Address {
	a.Function++
	if a.Function > 7 {
		a.Function = 0
		a.Slot++
		if a.Slot > 0x1f {
			a.Slot = 0
			a.Bus++
		}
	}
	return a
}

// Device is one PCI function of a host, flattened: PFs, their VFs and plain PCI devices alike.
type Device struct {
	Address     Address
	Type        string // vocab.TypePCI, vocab.TypePF or vocab.TypeVF
	VendorID    string // lower-case hex, 4 digits
	ProductID   string
	VendorName  string
	ProductName string
	Class       string
	Driver      string
	// NUMANode is nil for a device without NUMA information.
	NUMANode   *int
	IOMMUGroup int
	// Parent is the PF of a VF.
	Parent *Address
	// VFs are the VFs of a PF.
	VFs []Address
	// Exposed is true when [pci] device_spec lets Nova pass the device through.
	Exposed bool
}

// CPU is one host logical CPU.
type CPU struct {
	ID       int
	Node     int
	Socket   int
	Core     int
	Siblings []int // thread siblings including the CPU itself
}

// HostInventory is a host expanded into what the scheduler and the fake libvirtd need.
type HostInventory struct {
	Host    *Host
	Devices []Device // in address order
	CPUs    []CPU    // in id order
	// Dedicated and Shared are the CPU ids Nova may pin to, and may float shared vCPUs over.
	Dedicated, Shared map[int]bool
	byAddr            map[Address]int
}

// Device returns the device at addr.
func (h *HostInventory) Device(addr Address) (*Device, bool) {
	i, ok := h.byAddr[addr]
	if !ok {
		return nil, false
	}
	return &h.Devices[i], true
}

// Node returns the NUMA node with the given id.
func (h *Host) Node(id int) (*NUMANode, bool) {
	for i := range h.NUMANodes {
		if h.NUMANodes[i].ID == id {
			return &h.NUMANodes[i], true
		}
	}
	return nil, false
}

// Sockets returns the distinct socket ids of the host, in order.
func (h *Host) Sockets() []int {
	seen := map[int]bool{}
	var out []int
	for _, n := range h.NUMANodes {
		if !seen[n.Socket] {
			seen[n.Socket] = true
			out = append(out, n.Socket)
		}
	}
	return out
}

// Package lab is the data model of a simulated StarlingX/OpenStack lab: compute hosts with their
// sockets, NUMA nodes, CPUs and PCI devices, and the Nova configuration that decides which of
// those devices can be passed through and under which alias. A lab is data, loaded from YAML
// (fixtures/labs/*.yaml); everything else in the mock (scheduler, API, fake libvirtd) reads it.
package lab

import (
	"fmt"
	"time"
)

// Lab is one simulated cloud.
type Lab struct {
	// Name identifies the lab in reports and generated configs.
	Name string `json:"name"`
	// Region is the Keystone region of every endpoint (default RegionOne).
	Region string `json:"region,omitempty"`
	Nova   Nova   `json:"nova"`
	Hosts  []Host `json:"hosts"`
	// Images served by the minimal Glance (default: one image named "cirros").
	Images []Image `json:"images,omitempty"`
	// BootLatency is how long a server stays in BUILD before it turns ACTIVE or ERROR.
	BootLatency Duration `json:"boot_latency,omitempty"`
	// Faults are the lies the lab tells, names from vocab.Faults (mock/scheduler applies them);
	// `hwcert mock --fault` adds more.
	Faults []string `json:"faults,omitempty"`
	// Chaos are the plumbing faults the lab suffers (package mock/chaos: api-5xx:0.1, seed:7);
	// `hwcert mock --chaos` adds more.
	Chaos []string `json:"chaos,omitempty"`
}

// Nova is the part of nova.conf (and of the API) that decides PCI passthrough behaviour.
type Nova struct {
	// MaxMicroversion is the highest compute API microversion served (default 2.104).
	MaxMicroversion string `json:"max_microversion,omitempty"`
	// Aliases are the [pci] alias entries, one per JSON object in nova.conf.
	Aliases []Alias `json:"aliases"`
	// DeviceSpec is [pci] device_spec: the devices exposed for passthrough. A device matches an
	// entry when every field the entry sets matches. Empty means no device is exposed.
	DeviceSpec []DeviceSpec `json:"device_spec"`
	// PCINUMAAffinity chooses how PCI NUMA affinity is judged for multi-node guests, one of
	// vocab.Readings: vocab.AffinityUpstream (default), the device must be local to one of the
	// guest's host NUMA nodes; vocab.AffinityPerGuestNode, the StarlingX document's reading, a
	// local device for each guest node.
	PCINUMAAffinity string `json:"pci_numa_affinity,omitempty"`
	// ReportInPlacement is [pci] report_in_placement (Nova's default false). When true,
	// nova-compute refuses to start on a host whose device_spec exposes both a PF and its VFs,
	// so the lab is refused; when false Nova exposes both and claims keep them apart (a claimed PF
	// makes its VFs unclaimable and a claimed VF its PF).
	ReportInPlacement bool `json:"report_in_placement,omitempty"`
	// PackNUMACells is [compute] packing_host_numa_cells_allocation_strategy (Nova's default
	// false, spread): when true a guest's cells go to the most used host cells first. Either way
	// host cells with free PCI devices come first for a guest requesting PCI, last for one that
	// does not.
	PackNUMACells bool `json:"packing_host_numa_cells_allocation_strategy,omitempty"`
	// CPUAllocationRatio bounds shared (unpinned) vCPUs per host CPU (default 16).
	CPUAllocationRatio float64 `json:"cpu_allocation_ratio,omitempty"`
}

// Alias is one `[pci] alias` entry. Entries sharing a name are ORed, as in Nova.
type Alias struct {
	Name       string `json:"name"`
	VendorID   string `json:"vendor_id"`
	ProductID  string `json:"product_id"`
	DeviceType string `json:"device_type,omitempty"` // one of vocab.DeviceTypes, or empty (any)
	NUMAPolicy string `json:"numa_policy,omitempty"` // one of vocab.Policies; empty is legacy
}

// DeviceSpec is one `[pci] device_spec` entry.
type DeviceSpec struct {
	VendorID  string `json:"vendor_id,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	// Address is Nova's address glob (nova/pci/devspec.py PciAddressGlobSpec), read field by
	// field: "0000:3d:*", ":3d:01.", "0000:3D:00.0"; a '*' or empty field is any value, others are
	// hex numbers. An exact PF address also exposes the PF's VFs.
	Address string `json:"address,omitempty"`
}

// Image is a Glance image.
type Image struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Host is one compute host.
type Host struct {
	Name string `json:"name"`
	// AvailabilityZone of the host (default "nova").
	AvailabilityZone string     `json:"availability_zone,omitempty"`
	NUMANodes        []NUMANode `json:"numa_nodes"`
	// PCIDevices are physical devices; SR-IOV PFs list their VFs in VFs.
	PCIDevices []PCIDevice `json:"pci_devices,omitempty"`
	// CPUDedicatedSet is [compute] cpu_dedicated_set as a cpuset ("2-7,10-15"); default: every CPU.
	CPUDedicatedSet string `json:"cpu_dedicated_set,omitempty"`
	// CPUSharedSet is [compute] cpu_shared_set; default: every CPU.
	CPUSharedSet string `json:"cpu_shared_set,omitempty"`
}

// NUMANode is one host NUMA cell.
type NUMANode struct {
	ID     int `json:"id"`
	Socket int `json:"socket"`
	// MemoryMB available to guests on this node.
	MemoryMB int `json:"memory_mb"`
	// Cores lists the node's physical cores, each a cpuset of its thread siblings ("0,16").
	Cores []string `json:"cores"`
	// CoreSockets, when set, gives the socket of each core (same order as Cores) for a node whose
	// CPUs span several sockets (NUMA off or node interleaving in the BIOS, nested labs); Socket
	// is then ignored. Nova gives such a node no socket, so the socket policy cannot be met on the
	// host but with strictly local devices.
	CoreSockets []int `json:"core_sockets,omitempty"`
}

// Spans says whether the node's cores sit on several sockets.
func (n *NUMANode) Spans() bool {
	for _, s := range n.CoreSockets {
		if s != n.CoreSockets[0] {
			return true
		}
	}
	return false
}

// PCIDevice is a physical PCI function as the host sees it.
type PCIDevice struct {
	Address     string `json:"address"` // 0000:3d:00.0
	VendorID    string `json:"vendor_id"`
	ProductID   string `json:"product_id"`
	VendorName  string `json:"vendor_name,omitempty"`
	ProductName string `json:"product_name,omitempty"`
	Class       string `json:"class"` // 0x0b4000
	Driver      string `json:"driver,omitempty"`
	// NUMANode is the device's node; nil means the device has no NUMA information (sysfs -1).
	NUMANode   *int `json:"numa_node"`
	IOMMUGroup *int `json:"iommu_group,omitempty"`
	// VFs, when set, makes this device an SR-IOV physical function.
	VFs *VFs `json:"vfs,omitempty"`
}

// VFs describes the virtual functions of a PF. Count 0 is an SR-IOV capable device with no VFs
// enabled (a GPU such as the Tesla T4): libvirt shows its virt_functions capability, so Nova
// reports it as type-PF, and Address and ProductID are not needed. VF addresses are consecutive from Address
// (function 0-7, then the next slot), as the kernel lays them out.
type VFs struct {
	Count       int    `json:"count"`
	Address     string `json:"address"` // address of the first VF
	ProductID   string `json:"product_id"`
	ProductName string `json:"product_name,omitempty"`
	Driver      string `json:"driver,omitempty"`
}

// Duration is a time.Duration that reads "2s" from YAML.
type Duration struct{ time.Duration }

// UnmarshalJSON accepts a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("duration %s: expected a quoted Go duration such as \"2s\"", s)
	}
	v, err := time.ParseDuration(s[1 : len(s)-1])
	if err != nil {
		return fmt.Errorf("duration %s: %w", s, err)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

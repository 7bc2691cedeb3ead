// Package scheduler is the mock's Nova: it turns a flavor's extra specs into PCI requests and a
// guest NUMA topology, and places them on a host exactly as Nova's PciPassthroughFilter and
// NUMATopologyFilter would (nova/pci/stats.py, nova/virt/hardware.py), claiming devices and pCPUs
// until the server is deleted. Faults (see Options) make it lie in specific, documented ways.
package scheduler

import (
	"errors"

	"github.com/hwcert/hwcert/mock/lab"
)

// ErrNoValidHost is wrapped by Schedule when no host fits. The API turns it into the server fault
// "No valid host was found. There are not enough hosts available." with code 500.
var ErrNoValidHost = errors.New("No valid host was found. There are not enough hosts available.")

// Request is one server to place.
type Request struct {
	// ServerID owns the claims (the server UUID); Release frees them.
	ServerID string
	VCPUs    int
	MemoryMB int
	// ExtraSpecs are the flavor's extra specs (pci_passthrough:alias, hw:numa_nodes,
	// hw:cpu_policy, hw:pci_numa_affinity_policy, hw:mem_page_size, hw:numa_cpus.N, hw:numa_mem.N).
	ExtraSpecs map[string]string
	// Host, when set, restricts scheduling to that host (2.74 `host`, or AZ "zone:HOST").
	// The API has already checked that it exists.
	Host string
	// AvailabilityZone, when set, restricts scheduling to hosts of that zone.
	AvailabilityZone string
}

// Placement is where a server landed and what its libvirt domain shows.
type Placement struct {
	Host string
	// NUMA is true when the guest has a NUMA topology (hw:numa_nodes, dedicated CPUs, hugepages).
	NUMA bool
	// Dedicated is true for hw:cpu_policy=dedicated: every vCPU pinned to its own pCPU.
	Dedicated bool
	// Cells are the guest NUMA cells in guest order; empty without a NUMA topology.
	Cells []Cell
	// SharedCPUs are the pCPUs shared vCPUs float over when the guest has no NUMA topology
	// (the host's cpu_shared_set), rendered as <vcpu cpuset=...>.
	SharedCPUs []int
	// Devices are the PCI devices attached to the domain, in request order. Under a fault this is
	// what the lab lies about (see Options.Faults); claims always stay consistent with it.
	Devices []AssignedDevice
	// EmulatorPCPUs is the pCPU reserved for the emulator threads with
	// hw:emulator_threads_policy=isolate (rendered as <emulatorpin>); empty otherwise.
	EmulatorPCPUs []int
}

// Cell is one guest NUMA cell and the host NUMA node it landed on.
type Cell struct {
	ID       int   // guest cell id, from 0
	HostNode int   // host NUMA node id
	VCPUs    []int // guest vCPU ids in this cell
	// PCPUs are the host CPUs of this cell's vCPUs: for dedicated guests one pCPU per vCPU
	// (same index as VCPUs); for shared guests the node's shared CPUs, floated over.
	PCPUs    []int
	MemoryMB int
	// DedicatedVCPUs and DedicatedPCPUs are set only for hw:cpu_policy=mixed: the guest vCPUs of
	// this cell that are pinned (hw:cpu_dedicated_mask) and their pCPUs, index for index. The
	// cell's other vCPUs float over PCPUs (the node's shared CPUs).
	DedicatedVCPUs []int
	DedicatedPCPUs []int
}

// AssignedDevice is one PCI device attached to a server.
type AssignedDevice struct {
	Address lab.Address
	// Alias is the alias name of the request the device answers ("" for a device a fault added).
	Alias string
}

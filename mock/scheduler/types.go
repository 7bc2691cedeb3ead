// Package scheduler is the mock's Nova: it turns a flavor's extra specs into PCI requests and a
// guest NUMA topology, and places them on a host exactly as Nova's PciPassthroughFilter and
// NUMATopologyFilter would (nova/pci/stats.py, nova/virt/hardware.py), claiming devices and pCPUs
// until the server is deleted. Faults (see Options) make it lie in specific, documented ways.
//
// What is modelled, in Nova's order: the PCI requests and guest NUMA topology come from
// mock/novaspec; hosts are tried in lab order (a server without PCI requests tries hosts without
// free passthrough devices first, as PCIWeigher does) and the first that passes wins, which keeps
// tests reproducible. On a host: the VCPU (|cpu_shared_set| x cpu_allocation_ratio), PCPU
// (cpu_dedicated_set) and memory totals; PciPassthroughFilter (the requests without NUMA); then
// for a guest with a NUMA topology numa_fit_instance_to_host: host cells sorted as Nova spreads
// (or, with packing_host_numa_cells_allocation_strategy, packs) them (free memory, CPU use, then
// cells with free PCI devices first when PCI is requested), every
// permutation of distinct host cells tried, each cell checked for memory (no overcommit), shared
// vCPUs (the cell's shared CPUs x ratio, never more vCPUs than shared CPUs) and pinned vCPUs (one
// free dedicated pCPU each, by thread policy, plus the isolated emulator thread on cell 0), and
// the PCI requests applied with the NUMA policy (nova/pci/stats.py: spec, then NUMA affinity, then
// unrequested PFs dropped; strictly local devices used whenever there are enough). Claims follow
// PciDevice.claim: a held PF makes its VFs unclaimable and a held VF its PF.
//
// The per-guest-node reading (vocab.AffinityPerGuestNode) is the StarlingX document's sentence "an
// eligible host NUMA node is required for each virtual NUMA node". Chosen interpretation: over
// the devices of all requests whose policy is required, legacy or socket, every guest cell's host
// node must have at least one device that is affine to it under that request's policy (required:
// on the node; legacy: on the node or without NUMA information, since legacy accepts such a
// device from any node; socket: on a node of the same socket). preferred requests are exempt, and
// requests of count 0 need nothing. Devices are picked to cover uncovered nodes first, then as
// upstream.
//
// Simplifications: memory is never overcommitted (ram_allocation_ratio 1.0) and hugepages are
// taken from the node's memory (the lab has no page pools); when cpu_dedicated_set and
// cpu_shared_set overlap (the lab default is every CPU in both, which real Nova refuses) pinned and
// floating vCPUs are counted separately; resources:PCPU/VCPU extra specs and images are not read.
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
	// MemNodeMode and MemoryMode are the numatune modes of the memnodes and of the domain-wide
	// memory ("" is strict, what Nova writes); MemoryNodes, when set, is the domain-wide memory
	// nodeset (nil: the union of the cells' nodes); Unbound leaves numatune out. Only faults set them.
	MemNodeMode, MemoryMode string
	MemoryNodes             []int
	Unbound                 bool
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

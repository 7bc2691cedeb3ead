// Package vocab holds the words the harness and the mock lab both use: Nova's PCI NUMA affinity
// policies and device types, the two readings of PCI NUMA affinity, the catalog's device
// functions, the flavor extra spec keys, and the mock's fault names with what each one makes the
// lab lie about. It holds names only — no parsing, no validation, no logic — because the two
// sides must not share code: a parser or scheduler bug both sides shared would make the mock and
// the verdict agree on a wrong answer. Each side checks these words in its own way.
package vocab

// PCI NUMA affinity policies, as Nova names them (hw:pci_numa_affinity_policy, an alias's
// numa_policy).
const (
	PolicyRequired  = "required"
	PolicyLegacy    = "legacy"
	PolicyPreferred = "preferred"
	PolicySocket    = "socket"
)

// Policies lists every policy, in the order help texts show them.
var Policies = []string{PolicyRequired, PolicyLegacy, PolicyPreferred, PolicySocket}

// Readings of PCI NUMA affinity for guests with several NUMA nodes.
const (
	// AffinityUpstream is Nova's code: a device local to one of the guest's host NUMA nodes.
	AffinityUpstream = "upstream"
	// AffinityPerGuestNode is the StarlingX document: a local device for each guest NUMA node.
	AffinityPerGuestNode = "per-guest-node"
)

// Readings lists both readings, the default first.
var Readings = []string{AffinityUpstream, AffinityPerGuestNode}

// Nova's PCI device types (an alias's device_type, the dev_type of a PCI device).
const (
	TypePCI = "type-PCI"
	TypePF  = "type-PF"
	TypeVF  = "type-VF"
)

// DeviceTypes lists Nova's device types.
var DeviceTypes = []string{TypePCI, TypePF, TypeVF}

// Device functions, as the device catalog names what kind of PCI function an alias's device is
// (and as Nova's libvirt driver classifies node devices).
const (
	FunctionPF  = "pf"  // SR-IOV physical function (node device capability virt_functions)
	FunctionVF  = "vf"  // SR-IOV virtual function (node device capability phys_function)
	FunctionPCI = "pci" // anything else
)

// Flavor extra spec keys the harness sets and the mock's Nova reads.
const (
	SpecPCIAlias      = "pci_passthrough:alias"
	SpecPCINUMAPolicy = "hw:pci_numa_affinity_policy"
	SpecNUMANodes     = "hw:numa_nodes"
	SpecCPUPolicy     = "hw:cpu_policy"
)

// Values of hw:cpu_policy.
const (
	CPUShared    = "shared"
	CPUDedicated = "dedicated"
	CPUMixed     = "mixed"
)

// Names of the lies the mock lab can be told to commit while its API reports success. The
// harness's fault matrix proves each is caught by the specs labelled for it.
const (
	FaultNUMAMisplace = "numa-misplace"
	FaultWrongDevice  = "wrong-device"
	FaultDropHostdev  = "drop-hostdev"
	FaultExtraHostdev = "extra-hostdev"
	FaultIgnorePolicy = "ignore-policy"

	FaultPCPUOverlap       = "pcpu-overlap"
	FaultPCPUOutsideSet    = "pcpu-outside-dedicated-set"
	FaultPCPUWrongNode     = "pcpu-wrong-node"
	FaultSharedFloatWide   = "shared-float-wide"
	FaultMemnodeLoose      = "memnode-loose"
	FaultMemoryNodesetWide = "memory-nodeset-wide"
	FaultNUMAUnbound       = "numa-unbound"
	FaultPreferredRemote   = "preferred-remote"
	FaultVFNodeMismatch    = "vf-node-mismatch"
)

// Fault is one lie of the mock and what it makes the lab do.
type Fault struct {
	Name string
	// Lie completes "the lab ..." in one line.
	Lie string
}

// Faults lists every fault, in the order help texts show them.
var Faults = []Fault{
	{FaultNUMAMisplace, "takes devices from a NUMA node not local to the guest, where the host has one"},
	{FaultWrongDevice, "attaches a device of another product instead of a requested one"},
	{FaultDropHostdev, "leaves one requested device out of the domain XML"},
	{FaultExtraHostdev, "attaches one device more than requested"},
	{FaultIgnorePolicy, "treats the 'required' PCI NUMA affinity policy as 'preferred'"},
	{FaultPCPUOverlap, "pins a dedicated guest's vCPU to a pCPU another dedicated guest on the host holds"},
	{FaultPCPUOutsideSet, "pins a dedicated guest's vCPU to a CPU outside cpu_dedicated_set"},
	{FaultPCPUWrongNode, "pins a dedicated guest's vCPU to a CPU of another NUMA node than its cell's"},
	{FaultSharedFloatWide, "lets a shared-CPU NUMA guest's vCPUs float over every shared CPU of the host"},
	{FaultMemnodeLoose, "binds each guest cell's memory with mode 'preferred' instead of 'strict'"},
	{FaultMemoryNodesetWide, "widens the domain's numatune memory nodeset to every host NUMA node"},
	{FaultNUMAUnbound, "writes no numatune at all for a guest with a NUMA topology"},
	{FaultPreferredRemote, "takes a remote device under 'preferred' while a local one is free"},
	{FaultVFNodeMismatch, "reports each VF's node device on another NUMA node than its PF's"},
}

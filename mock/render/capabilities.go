package render

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hwcert/hwcert/mock/cpuset"
	"github.com/hwcert/hwcert/mock/lab"
)

// Page sizes (KiB) a modern x86_64 host reports; only 4 KiB pages are populated by default.
var pageSizesKiB = []int{4, 2048, 1048576}

// topology is the host CPU topology derived from the inventory, in the terms libvirt reports it.
type topology struct {
	nodes   []lab.NUMANode // sorted by id
	cpus    map[int][]lab.CPU
	coreID  map[int]int // CPU id -> core id, unique within its socket as in sysfs
	sockets int         // sockets per NUMA node (libvirt's historic virNodeInfo meaning)
	cores   int         // cores per socket per node
	threads int         // threads per core
}

func hostTopology(inv *lab.HostInventory) (*topology, error) {
	if inv == nil || inv.Host == nil {
		return nil, errors.New("render: host inventory is nil")
	}
	if len(inv.Host.NUMANodes) == 0 || len(inv.CPUs) == 0 {
		return nil, fmt.Errorf("render: host %s: no NUMA nodes or CPUs in the inventory", inv.Host.Name)
	}
	t := &topology{cpus: map[int][]lab.CPU{}, coreID: map[int]int{}}
	t.nodes = slices.Clone(inv.Host.NUMANodes)
	slices.SortFunc(t.nodes, func(a, b lab.NUMANode) int { return a.ID - b.ID })
	for _, c := range inv.CPUs {
		t.cpus[c.Node] = append(t.cpus[c.Node], c)
		t.threads = max(t.threads, len(c.Siblings))
	}
	// sysfs core ids are unique within a socket; a socket split into several NUMA nodes
	// (sub-NUMA clustering) continues the numbering in the next node.
	next := map[int]int{}
	for _, n := range t.nodes {
		base := next[n.Socket]
		for _, c := range t.cpus[n.ID] {
			t.coreID[c.ID] = base + c.Core
		}
		next[n.Socket] = base + len(n.Cores)
		t.cores = max(t.cores, len(n.Cores))
	}
	socketsPerNode := map[int]map[int]bool{}
	for _, c := range inv.CPUs {
		if socketsPerNode[c.Node] == nil {
			socketsPerNode[c.Node] = map[int]bool{}
		}
		socketsPerNode[c.Node][c.Socket] = true
	}
	for _, s := range socketsPerNode {
		t.sockets = max(t.sockets, len(s))
	}
	return t, nil
}

// distance is the SLIT value between two nodes: local, same package (sub-NUMA), remote.
func distance(a, b lab.NUMANode) int {
	switch {
	case a.ID == b.ID:
		return 10
	case a.Socket == b.Socket:
		return 11
	default:
		return 21
	}
}

// CapabilitiesXML renders `virsh capabilities` of the host: its UUID, CPU (x86_64 with topology),
// NUMA cells with memory, pages, distances and CPUs (socket_id/die_id/core_id/siblings), security
// models and a minimal hvm guest section.
func CapabilitiesXML(inv *lab.HostInventory) (string, error) {
	t, err := hostTopology(inv)
	if err != nil {
		return "", err
	}
	w := &writer{}
	w.open("<capabilities>")
	w.b.WriteString("\n")
	w.open("<host>")
	w.line("<uuid>%s</uuid>", HostUUID(inv.Host.Name))
	w.open("<cpu>")
	w.line("<arch>x86_64</arch>")
	w.line("<model>Skylake-Server-IBRS</model>")
	w.line("<vendor>Intel</vendor>")
	w.line("<topology sockets='%d' dies='1' cores='%d' threads='%d'/>", t.sockets, t.cores, t.threads)
	for _, f := range []string{"ds", "acpi", "ss", "ht", "tm", "pbe", "dtes64", "monitor", "vmx", "pdcm", "invtsc"} {
		w.line("<feature name='%s'/>", f)
	}
	for _, p := range pageSizesKiB {
		w.line("<pages unit='KiB' size='%d'/>", p)
	}
	w.close("cpu")
	w.open("<power_management>")
	w.line("<suspend_mem/>")
	w.close("power_management")
	w.line("<iommu support='yes'/>")
	w.open("<migration_features>")
	w.line("<live/>")
	w.open("<uri_transports>")
	w.line("<uri_transport>tcp</uri_transport>")
	w.line("<uri_transport>rdma</uri_transport>")
	w.close("uri_transports")
	w.close("migration_features")
	w.open("<topology>")
	w.open("<cells num='%d'>", len(t.nodes))
	for _, n := range t.nodes {
		memKiB := uint64(n.MemoryMB) * 1024
		w.open("<cell id='%d'>", n.ID)
		w.line("<memory unit='KiB'>%d</memory>", memKiB)
		for _, p := range pageSizesKiB {
			count := uint64(0)
			if p == 4 {
				count = memKiB / 4
			}
			w.line("<pages unit='KiB' size='%d'>%d</pages>", p, count)
		}
		w.open("<distances>")
		for _, o := range t.nodes {
			w.line("<sibling id='%d' value='%d'/>", o.ID, distance(n, o))
		}
		w.close("distances")
		cpus := t.cpus[n.ID]
		w.open("<cpus num='%d'>", len(cpus))
		for _, c := range cpus {
			w.line("<cpu id='%d' socket_id='%d' die_id='0' core_id='%d' siblings='%s'/>", c.ID, c.Socket, t.coreID[c.ID], cpuset.Format(c.Siblings))
		}
		w.close("cpus")
		w.close("cell")
	}
	w.close("cells")
	w.close("topology")
	w.open("<secmodel>")
	w.line("<model>none</model>")
	w.line("<doi>0</doi>")
	w.close("secmodel")
	w.open("<secmodel>")
	w.line("<model>dac</model>")
	w.line("<doi>0</doi>")
	w.line("<baselabel type='kvm'>+64055:+108</baselabel>")
	w.line("<baselabel type='qemu'>+64055:+108</baselabel>")
	w.close("secmodel")
	w.close("host")
	w.b.WriteString("\n")
	w.open("<guest>")
	w.line("<os_type>hvm</os_type>")
	w.open("<arch name='x86_64'>")
	w.line("<wordsize>64</wordsize>")
	w.line("<emulator>%s</emulator>", emulator)
	w.line("<machine maxCpus='255'>%s</machine>", machine)
	w.line("<machine canonical='%s' maxCpus='255'>pc</machine>", machine)
	w.line("<machine maxCpus='288'>pc-q35-7.2</machine>")
	w.line("<machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>")
	w.line("<domain type='qemu'/>")
	w.line("<domain type='kvm'/>")
	w.close("arch")
	w.open("<features>")
	w.line("<acpi default='on' toggle='yes'/>")
	w.line("<apic default='on' toggle='no'/>")
	w.line("<cpuselection/>")
	w.line("<deviceboot/>")
	w.line("<disksnapshot default='on' toggle='no'/>")
	w.close("features")
	w.close("guest")
	w.b.WriteString("\n")
	w.close("capabilities")
	return w.String(), nil
}

// The QEMU of Debian bookworm, which libvirt 9.0 ships with.
const (
	emulator = "/usr/bin/qemu-system-x86_64"
	machine  = "pc-i440fx-7.2"
)

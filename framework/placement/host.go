package placement

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/hwcert/hwcert/framework/cpuset"
)

// Host is the NUMA topology of a compute host as its capabilities XML describes it.
// ParseCapabilities is the harness's one reader of that XML: the inventory chooses hosts with it
// and Build judges placements with it, so choosing a host and judging the verdict cannot disagree
// about that host.
type Host struct {
	// Nodes are the NUMA cell ids, sorted, memory-only cells (CXL, HBM) included.
	Nodes []int
	// Cells are the NUMA cells, in Nodes order.
	Cells []HostCell
	// NodeSocket maps each NUMA cell to the socket of its CPUs. A cell is absent when its CPUs
	// carry no socket_id, it has no CPUs, or its CPUs sit on several sockets (NUMA off or node
	// interleaving in the BIOS, nested labs): Nova then gives the cell no socket and carries on
	// (nova/virt/libvirt/driver.py _get_host_numa_topology), and the socket policy cannot be met.
	NodeSocket map[int]int
	// SpanningCells are the cells whose CPUs sit on several sockets, sorted; Nova logs a warning
	// for them.
	SpanningCells []int
	// CPUNode maps each host CPU to its NUMA cell.
	CPUNode map[int]int
}

// HostCell is one host NUMA cell.
type HostCell struct {
	ID int
	// MemoryKiB is the cell's memory; 0 when the cell has no <memory>.
	MemoryKiB uint64
	// CPUs are the cell's logical CPUs sorted by id; empty for a memory-only cell.
	CPUs []HostCPU
}

// HostCPU is one logical host CPU.
type HostCPU struct {
	ID int
	// Socket and Core are socket_id and core_id; nil when libvirt gives none (old libvirt, the
	// test driver).
	Socket, Core *int
	// Siblings are the thread siblings, the CPU itself included, from the siblings attribute;
	// nil when libvirt gives none.
	Siblings []int
}

// SocketOf is the socket of a NUMA node, nil when node is nil or the capabilities give the node no
// socket. Build and the inventory both locate a device's socket with it.
func (h *Host) SocketOf(node *int) *int {
	if node == nil {
		return nil
	}
	if s, ok := h.NodeSocket[*node]; ok {
		return &s
	}
	return nil
}

// NodesWithoutSocket are the host's NUMA nodes that have no socket in NodeSocket, sorted.
func (h *Host) NodesWithoutSocket() []int {
	var out []int
	for _, n := range h.Nodes {
		if _, ok := h.NodeSocket[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// ParseCapabilities reads a host capabilities XML (virConnectGetCapabilities). Capabilities
// without a NUMA topology (the test driver with a custom file) give a Host without nodes; its
// maps are empty, never nil.
func ParseCapabilities(capsXML string) (*Host, error) {
	if strings.TrimSpace(capsXML) == "" {
		return nil, errors.New("host capabilities XML: empty")
	}
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(capsXML); err != nil {
		return nil, fmt.Errorf("host capabilities XML: %w", err)
	}
	h := &Host{NodeSocket: map[int]int{}, CPUNode: map[int]int{}}
	if caps.Host.NUMA == nil || caps.Host.NUMA.Cells == nil {
		return h, nil
	}
	for _, c := range caps.Host.NUMA.Cells.Cells {
		cell, err := readCell(c)
		if err != nil {
			return nil, fmt.Errorf("host capabilities XML: %w", err)
		}
		if slices.Contains(h.Nodes, cell.ID) {
			return nil, fmt.Errorf("host capabilities XML: NUMA cell %d is listed twice, expected unique cell ids", cell.ID)
		}
		sockets := map[int]bool{}
		for _, cpu := range cell.CPUs {
			if prev, dup := h.CPUNode[cpu.ID]; dup {
				return nil, fmt.Errorf("host capabilities XML: CPU %d is listed in NUMA cells %d and %d", cpu.ID, prev, cell.ID)
			}
			h.CPUNode[cpu.ID] = cell.ID
			if cpu.Socket != nil {
				sockets[*cpu.Socket] = true
			}
		}
		// Nova takes a cell's socket only when all its CPUs agree on one.
		switch len(sockets) {
		case 1:
			for s := range sockets {
				h.NodeSocket[cell.ID] = s
			}
		case 0:
		default:
			h.SpanningCells = append(h.SpanningCells, cell.ID)
		}
		h.Nodes = append(h.Nodes, cell.ID)
		h.Cells = append(h.Cells, cell)
	}
	slices.Sort(h.Nodes)
	slices.Sort(h.SpanningCells)
	slices.SortFunc(h.Cells, func(a, b HostCell) int { return cmp.Compare(a.ID, b.ID) })
	return h, nil
}

// readCell reads one <cell>; errors name the cell.
func readCell(c libvirtxml.CapsHostNUMACell) (HostCell, error) {
	cell := HostCell{ID: c.ID}
	if c.Memory != nil {
		kib, err := toKiB(c.Memory.Size, c.Memory.Unit)
		if err != nil {
			return HostCell{}, fmt.Errorf("NUMA cell %d memory: %w", c.ID, err)
		}
		cell.MemoryKiB = kib
	}
	if c.CPUS == nil {
		return cell, nil // memory-only node (e.g. CXL, HBM)
	}
	for _, x := range c.CPUS.CPUs {
		if slices.ContainsFunc(cell.CPUs, func(y HostCPU) bool { return y.ID == x.ID }) {
			return HostCell{}, fmt.Errorf("NUMA cell %d: CPU %d is listed twice, expected unique CPU ids", c.ID, x.ID)
		}
		cpu := HostCPU{ID: x.ID, Socket: x.SocketID, Core: x.CoreID}
		if x.Siblings != "" {
			sib, err := cpuset.Parse(x.Siblings)
			if err != nil {
				return HostCell{}, fmt.Errorf("NUMA cell %d CPU %d siblings: %w", c.ID, x.ID, err)
			}
			cpu.Siblings = sib
		}
		cell.CPUs = append(cell.CPUs, cpu)
	}
	slices.SortFunc(cell.CPUs, func(a, b HostCPU) int { return cmp.Compare(a.ID, b.ID) })
	return cell, nil
}

// unitBytes are the memory units libvirt accepts (virScaleInteger, case-insensitive); an empty
// unit is KiB, the default of <memory> elements. libvirt writes capabilities in KiB: the rest is
// for hand-written XML.
var unitBytes = map[string]uint64{
	"b": 1, "bytes": 1,
	"": 1 << 10, "k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

func toKiB(size uint64, unit string) (uint64, error) {
	m, ok := unitBytes[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("unit %q: expected b, KiB, MiB, GiB, TiB (or KB, MB, GB, TB)", unit)
	}
	if size > math.MaxUint64/m {
		return 0, fmt.Errorf("%d %s: expected a size below 2^64 bytes", size, unit)
	}
	return size * m / 1024, nil
}

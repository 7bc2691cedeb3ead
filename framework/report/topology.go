package report

import (
	"cmp"
	"slices"

	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/placement"
)

// hostTopology is a host as the picture draws it: sockets → NUMA nodes → cores (thread siblings)
// and memory, and the PCI devices worth drawing on each node (catalog devices, and the PFs of
// catalog VFs), devices without NUMA information apart.
type hostTopology struct {
	Name    string
	Sockets []socketView
	// NoNUMA are the device groups whose device has no NUMA node.
	NoNUMA []deviceGroup
	// Others counts the PCI functions not drawn (no catalog alias, not the PF of one).
	Others int
}

type socketView struct {
	ID    *int // nil: the capabilities give these nodes no socket
	Nodes []nodeView
}

type nodeView struct {
	ID        int
	MemoryKiB uint64
	// Cores are the node's CPUs grouped by thread siblings, in CPU order.
	Cores   [][]int
	Devices []deviceGroup
}

// deviceGroup is a PF with its VFs, or a device on its own (Parent nil for VFs whose PF the
// host does not list).
type deviceGroup struct {
	Parent *inventory.Device
	VFs    []inventory.Device
}

func topologyOf(h inventory.Host) hostTopology {
	t := hostTopology{Name: h.Name}
	groups, others := deviceGroups(h.Devices)
	t.Others = others
	nodeOf := func(g deviceGroup) *int {
		if g.Parent != nil {
			return g.Parent.NUMANode
		}
		return g.VFs[0].NUMANode
	}
	bySocket := map[int]int{} // socket id → index in t.Sockets
	noSocket := -1
	for _, c := range h.Cells {
		n := nodeView{ID: c.ID, MemoryKiB: c.MemoryKiB, Cores: cores(c.CPUs)}
		for _, g := range groups {
			if node := nodeOf(g); node != nil && *node == c.ID {
				n.Devices = append(n.Devices, g)
			}
		}
		s, ok := h.NodeSocket[c.ID]
		idx := noSocket
		if ok {
			i, seen := bySocket[s]
			if !seen {
				i = len(t.Sockets)
				bySocket[s] = i
				t.Sockets = append(t.Sockets, socketView{ID: &s})
			}
			idx = i
		} else if noSocket < 0 {
			noSocket = len(t.Sockets)
			idx = noSocket
			t.Sockets = append(t.Sockets, socketView{})
		}
		t.Sockets[idx].Nodes = append(t.Sockets[idx].Nodes, n)
	}
	for _, g := range groups {
		node := nodeOf(g)
		if node == nil || !slices.Contains(h.Nodes, *node) {
			t.NoNUMA = append(t.NoNUMA, g)
		}
	}
	slices.SortStableFunc(t.Sockets, func(a, b socketView) int {
		if a.ID == nil || b.ID == nil {
			return cmp.Compare(boolInt(a.ID == nil), boolInt(b.ID == nil))
		}
		return cmp.Compare(*a.ID, *b.ID)
	})
	return t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cores groups CPUs by their thread siblings; a CPU libvirt gives no siblings is a core alone.
func cores(cpus []placement.HostCPU) [][]int {
	var out [][]int
	seen := map[int]bool{}
	for _, c := range cpus {
		if seen[c.ID] {
			continue
		}
		core := []int{c.ID}
		for _, s := range c.Siblings {
			if s != c.ID && slices.ContainsFunc(cpus, func(x placement.HostCPU) bool { return x.ID == s }) {
				core = append(core, s)
			}
		}
		slices.Sort(core)
		for _, id := range core {
			seen[id] = true
		}
		out = append(out, core)
	}
	return out
}

// deviceGroups picks the devices worth drawing and groups VFs under their PF.
func deviceGroups(devs []inventory.Device) (groups []deviceGroup, others int) {
	byPF := map[placement.Address][]inventory.Device{}
	for _, d := range devs {
		if d.Function == "vf" && d.PF != nil && len(d.Aliases) > 0 {
			byPF[*d.PF] = append(byPF[*d.PF], d)
		}
	}
	drawn := map[placement.Address]bool{}
	for _, d := range devs {
		vfs := byPF[d.Address]
		switch {
		case len(vfs) > 0 || (len(d.Aliases) > 0 && d.Function != "vf"):
			g := deviceGroup{Parent: &d, VFs: vfs}
			groups = append(groups, g)
			drawn[d.Address] = true
			for _, v := range vfs {
				drawn[v.Address] = true
			}
		}
	}
	for pf, vfs := range byPF {
		if !drawn[pf] {
			groups = append(groups, deviceGroup{VFs: vfs})
			for _, v := range vfs {
				drawn[v.Address] = true
			}
		}
	}
	slices.SortFunc(groups, func(a, b deviceGroup) int { return groupAddr(a).Compare(groupAddr(b)) })
	for _, d := range devs {
		if !drawn[d.Address] {
			others++
		}
	}
	return groups, others
}

func groupAddr(g deviceGroup) placement.Address {
	if g.Parent != nil {
		return g.Parent.Address
	}
	return g.VFs[0].Address
}

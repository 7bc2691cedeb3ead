package lab

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
)

// CheckFault returns an error naming the fault and the known ones when name is not one of
// vocab.Faults. The names are shared with the harness; checking them is the mock's own job.
func CheckFault(name string) error {
	names := make([]string, 0, len(vocab.Faults))
	for _, f := range vocab.Faults {
		if f.Name == name {
			return nil
		}
		names = append(names, f.Name)
	}
	return fmt.Errorf("fault %q: unknown; expected one of %s", name, strings.Join(names, ", "))
}

// ApplyFaults makes the inventories the fake libvirtd reports from lie as the faults about the
// hosts themselves say: under vocab.FaultVFNodeMismatch each VF's node device names the next NUMA
// node of its host rather than its PF's, as broken firmware can. The scheduler keeps its own,
// true inventories, so it still places by the PF's node.
func ApplyFaults(invs map[string]*HostInventory, faults []string) {
	if !slices.Contains(faults, vocab.FaultVFNodeMismatch) {
		return
	}
	for _, inv := range invs {
		nodes := inv.Host.NUMANodes
		if len(nodes) < 2 {
			continue
		}
		for i := range inv.Devices {
			d := &inv.Devices[i]
			if d.Type != vocab.TypeVF || d.NUMANode == nil {
				continue
			}
			at := slices.IndexFunc(nodes, func(n NUMANode) bool { return n.ID == *d.NUMANode })
			next := nodes[(at+1)%len(nodes)].ID
			d.NUMANode = &next
		}
	}
}

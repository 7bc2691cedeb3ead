// Package inventory is what a lab has, discovered from libvirt rather than configured: per compute
// host its NUMA nodes and sockets and the PCI devices that match catalog aliases. Specs ask it where
// a request can be met, and skip when nothing can meet it.
package inventory

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/placement"
)

// Inventory is what the lab has, discovered rather than configured: the compute hosts Nova lists,
// and for each the NUMA nodes and PCI devices its libvirtd reports, matched to catalog aliases by
// vendor/product ID. Specs ask it where a request can be met and skip when it cannot.
type Inventory struct {
	Hosts []Host // sorted by name
	// DeviceSpecMirrored is true when MarkExposed was given the config's [pci] device_spec mirror,
	// so Exposed says what Nova exposes rather than "not known to be hidden".
	DeviceSpecMirrored bool
}

// Host is one compute host.
type Host struct {
	Name string
	// Host is the NUMA topology exactly as placement reads it for verdicts (Nodes, Cells,
	// NodeSocket, CPUNode), so the host a spec picks and the placement it judges agree.
	placement.Host
	Devices []Device // in address order
}

// Device is one PCI function of a host, read by placement.ParseNodeDevice; Socket comes from the
// host topology as in a placement.
type Device struct {
	placement.Device
	// Aliases are the catalog aliases whose IDs and function match the device.
	Aliases []string
	// Exposed is true when the lab's [pci] device_spec, as the harness config mirrors it, lets
	// Nova pass the device through (every device, when the config mirrors none). Host predicates
	// and counts see exposed devices only, so specs never aim at a card Nova does not offer.
	Exposed bool
}

// Build assembles an inventory from libvirt's answers: for each host the PCI node device
// XMLs (name → XML) and the capabilities XML. It is pure, so it is tested without a lab.
func Build(cat *catalog.Catalog, pci map[string]map[string]string, caps map[string]string) (*Inventory, error) {
	inv := &Inventory{}
	hosts := slices.Sorted(maps.Keys(pci))
	for _, h := range hosts {
		topo, err := placement.ParseCapabilities(caps[h])
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", h, err)
		}
		hi := Host{Name: h, Host: *topo}
		for _, n := range slices.Sorted(maps.Keys(pci[h])) {
			pd, ok, err := placement.ParseNodeDevice(pci[h][n])
			if err != nil {
				return nil, fmt.Errorf("host %s: node device %s: %w", h, n, err)
			}
			if !ok {
				continue // not a PCI device
			}
			pd.Socket = topo.SocketOf(pd.NUMANode)
			hi.Devices = append(hi.Devices, Device{Device: pd, Aliases: aliasesOf(cat, pd), Exposed: true})
		}
		slices.SortFunc(hi.Devices, func(a, b Device) int { return a.Address.Compare(b.Address) })
		inv.Hosts = append(inv.Hosts, hi)
	}
	return inv, nil
}

// aliasesOf are the catalog aliases whose IDs and function match d.
func aliasesOf(cat *catalog.Catalog, d placement.Device) []string {
	if cat == nil {
		return nil
	}
	var out []string
	for _, e := range cat.Match(d.VendorID, d.ProductID) {
		if e.Function == d.Function {
			out = append(out, e.Alias)
		}
	}
	return out
}

// Host returns the named host.
func (inv *Inventory) Host(name string) (*Host, bool) {
	for i := range inv.Hosts {
		if inv.Hosts[i].Name == name {
			return &inv.Hosts[i], true
		}
	}
	return nil, false
}

// MarkExposed marks the devices [pci] device_spec exposes (see config.DeviceSpec); with no
// entries every device stays exposed.
func (inv *Inventory) MarkExposed(spec []config.DeviceSpec) {
	if len(spec) == 0 {
		return
	}
	inv.DeviceSpecMirrored = true
	for i := range inv.Hosts {
		for j := range inv.Hosts[i].Devices {
			d := &inv.Hosts[i].Devices[j]
			a := d.Address
			var pf *[4]uint
			if d.PF != nil {
				pf = &[4]uint{d.PF.Domain, d.PF.Bus, d.PF.Slot, d.PF.Function}
			}
			d.Exposed = slices.ContainsFunc(spec, func(s config.DeviceSpec) bool {
				return s.Matches(d.VendorID, d.ProductID, [4]uint{a.Domain, a.Bus, a.Slot, a.Function}, pf)
			})
		}
	}
}

// DevicesFor are the host's exposed devices for an alias.
func (h *Host) DevicesFor(alias string) []Device {
	var out []Device
	for _, d := range h.AllDevicesFor(alias) {
		if d.Exposed {
			out = append(out, d)
		}
	}
	return out
}

// AllDevicesFor are the host's devices for an alias, exposed or not.
func (h *Host) AllDevicesFor(alias string) []Device {
	var out []Device
	for _, d := range h.Devices {
		if slices.Contains(d.Aliases, alias) {
			out = append(out, d)
		}
	}
	return out
}

// WhyNoValidHost explains a "no valid host" Nova gave a request for these alias counts on this
// host, when the inventory says the host fits it: then the lab's [pci] device_spec or alias, not
// the harness, is the likely cause. It is "" when the inventory does not say the request fits.
func (h *Host) WhyNoValidHost(want map[string]int) string {
	if len(want) == 0 {
		return ""
	}
	aliases := slices.Sorted(maps.Keys(want))
	for _, a := range aliases {
		if h.Count(a) < want[a] {
			return ""
		}
	}
	return fmt.Sprintf("the inventory says host %s fits the request, yet Nova found no valid host there: "+
		"the likely cause is the lab's [pci] device_spec or alias not matching the harness config (nova.device_spec) "+
		"or the device catalog; the inventory rows:\n%s", h.Name, h.Rows(aliases...))
}

// Rows are the inventory rows of the host's devices for the aliases, one line each (address,
// aliases, node, exposure), for failure messages.
func (h *Host) Rows(aliases ...string) string {
	var b strings.Builder
	for _, d := range h.Devices {
		if !slices.ContainsFunc(aliases, func(a string) bool { return slices.Contains(d.Aliases, a) }) {
			continue
		}
		node := "-"
		if d.NUMANode != nil {
			node = fmt.Sprint(*d.NUMANode)
		}
		exposed := "exposed"
		if !d.Exposed {
			exposed = "not in device_spec"
		}
		fmt.Fprintf(&b, "  %s %s %s %s node %s %s\n", h.Name, d.Address, d.ID(), strings.Join(d.Aliases, ","), node, exposed)
	}
	return b.String()
}

// Count is the number of the host's devices for an alias.
func (h *Host) Count(alias string) int { return len(h.DevicesFor(alias)) }

// CountOnNode is the number of devices for an alias on a NUMA node; node nil counts devices
// without NUMA information.
func (h *Host) CountOnNode(alias string, node *int) int {
	n := 0
	for _, d := range h.DevicesFor(alias) {
		if (node == nil && d.NUMANode == nil) || (node != nil && d.NUMANode != nil && *d.NUMANode == *node) {
			n++
		}
	}
	return n
}

// NodesWith are the NUMA nodes holding at least count devices for the alias, sorted.
func (h *Host) NodesWith(alias string, count int) []int {
	var out []int
	for _, n := range h.Nodes {
		if h.CountOnNode(alias, &n) >= count {
			out = append(out, n)
		}
	}
	return out
}

// Count is the number of devices for an alias in the whole lab.
func (inv *Inventory) Count(alias string) int {
	n := 0
	for i := range inv.Hosts {
		n += inv.Hosts[i].Count(alias)
	}
	return n
}

// MaxOnHost is the largest number of devices for the alias any single host has.
func (inv *Inventory) MaxOnHost(alias string) int {
	m := 0
	for i := range inv.Hosts {
		m = max(m, inv.Hosts[i].Count(alias))
	}
	return m
}

// HostsWhere returns the names of the hosts satisfying pred, in name order.
func (inv *Inventory) HostsWhere(pred func(h *Host) bool) []string {
	var out []string
	for i := range inv.Hosts {
		if pred(&inv.Hosts[i]) {
			out = append(out, inv.Hosts[i].Name)
		}
	}
	return out
}

// HasDevices is a host predicate: at least count devices for the alias.
func HasDevices(alias string, count int) func(h *Host) bool {
	return func(h *Host) bool { return h.Count(alias) >= count }
}

// Summary is a one-line-per-host description of the exposed devices, for logs and skip reasons.
func (inv *Inventory) Summary() string {
	var b strings.Builder
	for _, h := range inv.Hosts {
		fmt.Fprintf(&b, "%s: nodes %v", h.Name, h.Nodes)
		counts := map[string][]string{}
		var aliases []string
		hidden := 0
		for _, d := range h.Devices {
			if !d.Exposed && len(d.Aliases) > 0 {
				hidden++
				continue
			}
			for _, a := range d.Aliases {
				if _, ok := counts[a]; !ok {
					aliases = append(aliases, a)
				}
				node := "-"
				if d.NUMANode != nil {
					node = fmt.Sprint(*d.NUMANode)
				}
				counts[a] = append(counts[a], node)
			}
		}
		for _, a := range aliases {
			fmt.Fprintf(&b, "; %s×%d (nodes %s)", a, len(counts[a]), strings.Join(counts[a], ","))
		}
		if hidden > 0 {
			fmt.Fprintf(&b, "; %d catalog devices not in device_spec", hidden)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// CountWithNUMA is the number of the host's devices for an alias that have NUMA information.
func (h *Host) CountWithNUMA(alias string) int {
	n := 0
	for _, d := range h.DevicesFor(alias) {
		if d.NUMANode != nil {
			n++
		}
	}
	return n
}

// HasLocalDevices is a host predicate: at least count devices for the alias with NUMA information.
func HasLocalDevices(alias string, count int) func(h *Host) bool {
	return func(h *Host) bool { return h.CountWithNUMA(alias) >= count }
}

// HasDevicesOnNodes is a host predicate: devices for the alias on at least n distinct NUMA nodes.
func HasDevicesOnNodes(alias string, n int) func(h *Host) bool {
	return func(h *Host) bool { return len(h.NodesWith(alias, 1)) >= n }
}

// OnlyNoNUMADevices is a host predicate: the host has devices for the alias and none of them has
// NUMA information.
func OnlyNoNUMADevices(alias string) func(h *Host) bool {
	return func(h *Host) bool { return h.Count(alias) > 0 && h.CountWithNUMA(alias) == 0 }
}

// HasNodes is a host predicate: at least n NUMA nodes.
func HasNodes(n int) func(h *Host) bool {
	return func(h *Host) bool { return len(h.Nodes) >= n }
}

// All combines host predicates.
func All(preds ...func(h *Host) bool) func(h *Host) bool {
	return func(h *Host) bool {
		for _, p := range preds {
			if !p(h) {
				return false
			}
		}
		return true
	}
}

// Package report turns a discovered inventory into what `hwcert inventory` shows: per compute host
// its NUMA nodes and catalog devices, per catalog alias where its devices are and which spec
// families can run on the lab (with the specs' own skip reasons), and warnings for what would
// surprise a run. The Report is the stable `--output json` document (schema below, documented in
// README.md); Table is the terminal view of the same data. It is pure: the inventory comes from
// suite.Discover, the code the suites use.
package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/needs"
)

// Schema names the JSON document's version; a change that breaks readers changes it.
const Schema = "hwcert.inventory/v1"

// Report is the inventory of one lab.
type Report struct {
	Schema string `json:"schema"`
	// Compute is what the compute API says about itself; nil when it was not asked.
	Compute *Compute `json:"compute,omitempty"`
	// PCINUMAAffinity is the reading the lab is expected to follow (config expect.pci_numa_affinity).
	PCINUMAAffinity string   `json:"pci_numa_affinity"`
	Hosts           []Host   `json:"hosts"`
	Aliases         []Alias  `json:"aliases"`
	Warnings        []string `json:"warnings"`
}

// Compute is the compute API's microversion range.
type Compute struct {
	MinMicroversion string `json:"min_microversion"`
	MaxMicroversion string `json:"max_microversion"`
}

// Host is one compute host.
type Host struct {
	Name      string `json:"name"`
	NUMANodes []Node `json:"numa_nodes"`
	// CPUDedicatedSet is [compute] cpu_dedicated_set as the config mirrors it (nova.cpu_dedicated_set);
	// nil when the config does not say (neither Nova's API nor libvirt reports it).
	CPUDedicatedSet *string `json:"cpu_dedicated_set"`
	// Devices are the PCI devices matching a catalog alias, in address order.
	Devices []Device `json:"devices"`
}

// Node is one host NUMA node.
type Node struct {
	ID int `json:"id"`
	// Socket is nil when libvirt gives the node's CPUs no socket id, or the node has no CPUs.
	Socket    *int  `json:"socket"`
	MemoryMiB int   `json:"memory_mib"`
	CPUs      []CPU `json:"cpus"`
}

// CPU is one logical host CPU.
type CPU struct {
	ID int `json:"id"`
	// Siblings are its thread siblings, itself included; empty when libvirt gives none.
	Siblings []int `json:"siblings"`
}

// Device is one PCI function.
type Device struct {
	Address     string `json:"address"`
	VendorID    string `json:"vendor_id"`
	ProductID   string `json:"product_id"`
	VendorName  string `json:"vendor_name"`
	ProductName string `json:"product_name"`
	Class       string `json:"class"`
	// Function is pf, vf or pci.
	Function string `json:"function"`
	// ParentPF is the address of a VF's physical function, "" otherwise.
	ParentPF string `json:"parent_pf,omitempty"`
	// NUMANode is nil when the device has no NUMA information.
	NUMANode *int   `json:"numa_node"`
	Driver   string `json:"driver"`
	// Exposed says whether Nova's [pci] device_spec exposes the device; nil when unknown.
	Exposed *bool    `json:"exposed"`
	Aliases []string `json:"aliases"`
}

// Alias is one catalog alias and what the lab has for it.
type Alias struct {
	Alias     string `json:"alias"`
	ID        string `json:"id"` // vendor:product
	Function  string `json:"function"`
	Supported bool   `json:"passthrough_supported"`
	Optional  bool   `json:"optional"`
	// Devices counts the devices Nova exposes for the alias; Unexposed those libvirt shows that the
	// config's [pci] device_spec mirror keeps out (specs never aim at them).
	Devices   int `json:"devices"`
	Unexposed int `json:"unexposed"`
	// Placement is, per host with devices, the count on each NUMA node ("none" for devices
	// without NUMA information).
	Placement []AliasHost `json:"placement"`
	// Families are the spec families of a supported alias; empty for an unsupported one, whose
	// specs only prove that a request for it fails.
	Families []Family `json:"families"`
}

// AliasHost is where an alias's devices are on one host.
type AliasHost struct {
	Host  string         `json:"host"`
	Nodes map[string]int `json:"nodes"`
}

// Family is one spec family and whether it can run on the lab.
type Family struct {
	Name   string `json:"name"`
	CanRun bool   `json:"can_run"`
	// Reason is the skip reason of its specs when they cannot run.
	Reason string   `json:"reason,omitempty"`
	Hosts  []string `json:"hosts,omitempty"`
}

// Build assembles the report from an inventory, the catalog, the reading of PCI NUMA affinity
// the lab is expected to follow and the config's cpu_dedicated_set per host.
func Build(inv *inventory.Inventory, cat *catalog.Catalog, reading string, dedicated map[string]string) *Report {
	r := &Report{Schema: Schema, PCINUMAAffinity: reading, Hosts: []Host{}, Aliases: []Alias{}, Warnings: []string{}}
	for _, h := range inv.Hosts {
		rh := host(h, inv.DeviceSpecMirrored)
		if set, ok := dedicated[h.Name]; ok {
			rh.CPUDedicatedSet = &set
		}
		r.Hosts = append(r.Hosts, rh)
	}
	for _, e := range cat.Entries() {
		r.Aliases = append(r.Aliases, alias(inv, e, reading))
	}
	r.Warnings = warnings(inv, cat)
	return r
}

func host(h inventory.Host, mirrored bool) Host {
	out := Host{Name: h.Name, NUMANodes: []Node{}, Devices: []Device{}}
	for _, c := range h.Cells {
		n := Node{ID: c.ID, Socket: h.SocketOf(&c.ID), MemoryMiB: int(c.MemoryKiB / 1024), CPUs: []CPU{}}
		for _, cpu := range c.CPUs {
			n.CPUs = append(n.CPUs, CPU{ID: cpu.ID, Siblings: append([]int{}, cpu.Siblings...)})
		}
		out.NUMANodes = append(out.NUMANodes, n)
	}
	for _, d := range h.Devices {
		if !listed(d, mirrored) {
			continue
		}
		out.Devices = append(out.Devices, device(d, mirrored))
	}
	return out
}

// listed says whether the inventory shows a device: those matching a catalog alias, and those
// the config's [pci] device_spec mirror exposes.
func listed(d inventory.Device, mirrored bool) bool {
	return len(d.Aliases) > 0 || (mirrored && d.Exposed)
}

// exposed is whether Nova exposes the device for passthrough, by the config's [pci] device_spec
// mirror; nil (unknown) when the config mirrors none.
func exposed(d inventory.Device, mirrored bool) *bool {
	if !mirrored {
		return nil
	}
	return &d.Exposed
}

func device(d inventory.Device, mirrored bool) Device {
	out := Device{
		Address: d.Address.String(), VendorID: d.VendorID, ProductID: d.ProductID,
		VendorName: d.VendorName, ProductName: d.ProductName, Class: d.Class,
		Function: d.Function, NUMANode: d.NUMANode, Driver: d.Driver, Exposed: exposed(d, mirrored),
		Aliases: append([]string{}, d.Aliases...),
	}
	if d.PF != nil {
		out.ParentPF = d.PF.String()
	}
	return out
}

func alias(inv *inventory.Inventory, e catalog.Entry, reading string) Alias {
	a := Alias{Alias: e.Alias, ID: e.ID(), Function: e.Function, Supported: e.PassthroughSupported,
		Optional: e.Optional, Devices: inv.Count(e.Alias), Placement: []AliasHost{}, Families: []Family{}}
	for i := range inv.Hosts {
		a.Unexposed += len(inv.Hosts[i].AllDevicesFor(e.Alias)) - inv.Hosts[i].Count(e.Alias)
	}
	for i := range inv.Hosts {
		h := &inv.Hosts[i]
		devs := h.DevicesFor(e.Alias)
		if len(devs) == 0 {
			continue
		}
		ah := AliasHost{Host: h.Name, Nodes: map[string]int{}}
		for _, d := range devs {
			ah.Nodes[nodeName(d.NUMANode)]++
		}
		a.Placement = append(a.Placement, ah)
	}
	if !e.PassthroughSupported {
		return a
	}
	for _, f := range needs.Families(e.Alias, reading) {
		hosts, reason := f.Need.Hosts(inv)
		a.Families = append(a.Families, Family{Name: f.Name, CanRun: reason == "", Reason: reason, Hosts: hosts})
	}
	return a
}

func nodeName(n *int) string {
	if n == nil {
		return "none"
	}
	return fmt.Sprint(*n)
}

// warnings are what would surprise a run, in a stable order.
func warnings(inv *inventory.Inventory, cat *catalog.Catalog) []string {
	out := []string{}
	for _, h := range inv.Hosts {
		for _, c := range h.Cells {
			if len(c.CPUs) > 0 && h.SocketOf(&c.ID) == nil {
				out = append(out, fmt.Sprintf("%s: NUMA node %d: libvirt gives its CPUs no socket, so the socket policy cannot be judged there", h.Name, c.ID))
			}
		}
		for _, d := range h.Devices {
			if !listed(d, inv.DeviceSpecMirrored) {
				continue
			}
			if d.NUMANode == nil {
				out = append(out, fmt.Sprintf("%s: %s (%s) has no NUMA information: the required and socket policies never place it", h.Name, d.Address, strings.Join(d.Aliases, ", ")))
			}
			if len(d.Aliases) > 1 {
				out = append(out, fmt.Sprintf("%s: %s matches %d aliases (%s): a flavor naming any of them may get it", h.Name, d.Address, len(d.Aliases), strings.Join(d.Aliases, ", ")))
			}
		}
	}
	for _, e := range cat.Entries() {
		// An alias whose passthrough is not supported is only ever refused: Nova not exposing its
		// devices (StarlingX keeps QAT PFs out of device_spec) is what the lab should do.
		if inv.Count(e.Alias) == 0 && !e.Optional && e.PassthroughSupported {
			out = append(out, fmt.Sprintf("alias %s (%s): the catalog has it, the lab exposes no device for it: its specs skip", e.Alias, e.ID()))
		}
	}
	return out
}

// nodesText is "0×4, 1×4" for an alias's placement on one host, nodes in order, none last.
func (a AliasHost) nodesText() string {
	keys := slices.SortedFunc(maps.Keys(a.Nodes), func(x, y string) int {
		switch {
		case x == y:
			return 0
		case x == "none":
			return 1
		case y == "none":
			return -1
		}
		if len(x) != len(y) {
			return len(x) - len(y)
		}
		return strings.Compare(x, y)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("node %s ×%d", k, a.Nodes[k])
	}
	return strings.Join(parts, ", ")
}

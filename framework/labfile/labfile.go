// Package labfile writes a mock lab file (the format of fixtures/labs/*.yaml) that mirrors a lab
// the harness discovered, so the lab can be replayed without hardware: hosts, NUMA nodes with
// their sockets, memory and thread siblings, the catalog devices with their PF/VF links and NUMA
// nodes, and a Nova section built from the catalog. The types here are the harness's own: the
// harness and the mock share no code, and the round-trip test (mock → inventory → lab file →
// mock → inventory) proves the two agree on the format.
package labfile

import (
	"fmt"
	"slices"

	"sigs.k8s.io/yaml"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/cpuset"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/placement"
)

// Options are what the inventory does not hold.
type Options struct {
	// Name of the lab in the file.
	Name string
	// MaxMicroversion is the compute API's maximum microversion; "" leaves the mock's default.
	MaxMicroversion string
	// PCINUMAAffinity is the reading the lab follows (config expect.pci_numa_affinity).
	PCINUMAAffinity string
	// Image, when set, is the image the config boots; the replayed lab serves it under the same
	// name and id, so the same config works against both.
	Image *Image
	// DeviceSpec is the config's mirror of the lab's [pci] device_spec; empty exposes the devices
	// of every supported catalog alias, as the shipped labs do.
	DeviceSpec []config.DeviceSpec
	// CPUDedicatedSet is the config's cpu_dedicated_set per host, written into the lab's hosts.
	CPUDedicatedSet map[string]string
}

// Image is a Glance image.
type Image struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type labFile struct {
	Name   string  `json:"name"`
	Nova   nova    `json:"nova"`
	Hosts  []host  `json:"hosts"`
	Images []Image `json:"images,omitempty"`
}

type nova struct {
	MaxMicroversion string       `json:"max_microversion,omitempty"`
	PCINUMAAffinity string       `json:"pci_numa_affinity,omitempty"`
	Aliases         []alias      `json:"aliases"`
	DeviceSpec      []deviceSpec `json:"device_spec"`
}

type alias struct {
	Name       string `json:"name"`
	VendorID   string `json:"vendor_id"`
	ProductID  string `json:"product_id"`
	DeviceType string `json:"device_type,omitempty"`
	NUMAPolicy string `json:"numa_policy,omitempty"`
}

type deviceSpec struct {
	VendorID  string `json:"vendor_id,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	Address   string `json:"address,omitempty"`
}

type host struct {
	Name            string      `json:"name"`
	NUMANodes       []numaNode  `json:"numa_nodes"`
	CPUDedicatedSet string      `json:"cpu_dedicated_set,omitempty"`
	PCIDevices      []pciDevice `json:"pci_devices,omitempty"`
}

type numaNode struct {
	ID       int      `json:"id"`
	Socket   int      `json:"socket"`
	MemoryMB int      `json:"memory_mb"`
	Cores    []string `json:"cores"`
	// CoreSockets gives each core's socket for a node whose CPUs sit on several sockets.
	CoreSockets []int `json:"core_sockets,omitempty"`
}

type pciDevice struct {
	Address     string `json:"address"`
	VendorID    string `json:"vendor_id"`
	ProductID   string `json:"product_id"`
	VendorName  string `json:"vendor_name,omitempty"`
	ProductName string `json:"product_name,omitempty"`
	Class       string `json:"class"`
	Driver      string `json:"driver,omitempty"`
	NUMANode    *int   `json:"numa_node,omitempty"`
	VFs         *vfs   `json:"vfs,omitempty"`
}

type vfs struct {
	Count       int    `json:"count"`
	Address     string `json:"address"`
	ProductID   string `json:"product_id"`
	ProductName string `json:"product_name,omitempty"`
	Driver      string `json:"driver,omitempty"`
}

// Write renders the lab file. What the mock's format cannot express (a NUMA node without CPUs or
// socket, VFs of one PF that are not consecutive or differ in product, driver or node) is an
// error naming the host and the device or node, rather than a file that replays another lab.
func Write(inv *inventory.Inventory, cat *catalog.Catalog, o Options) ([]byte, error) {
	f := labFile{Name: o.Name, Nova: novaSection(cat, o)}
	if o.Image != nil {
		f.Images = []Image{*o.Image}
	}
	for _, h := range inv.Hosts {
		lh, err := labHost(h)
		if err != nil {
			return nil, fmt.Errorf("lab file: host %s: %w", h.Name, err)
		}
		lh.CPUDedicatedSet = o.CPUDedicatedSet[h.Name]
		f.Hosts = append(f.Hosts, lh)
	}
	out, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("lab file: %w", err)
	}
	header := fmt.Sprintf("# Mock lab %q captured by `hwcert inventory --write-lab`: replay it with `hwcert run --lab FILE`.\n", o.Name)
	return append([]byte(header), out...), nil
}

// novaSection is [pci] alias from the catalog's aliases (optional ones only exist where an
// operator added them, which the cloud's API does not tell) and [pci] device_spec.
func novaSection(cat *catalog.Catalog, o Options) nova {
	n := nova{MaxMicroversion: o.MaxMicroversion, PCINUMAAffinity: o.PCINUMAAffinity, Aliases: []alias{}}
	for _, e := range cat.Entries() {
		if e.Optional {
			continue
		}
		n.Aliases = append(n.Aliases, alias{Name: e.Alias, VendorID: e.VendorID, ProductID: e.ProductID, DeviceType: e.NovaDeviceType, NUMAPolicy: e.NUMAPolicy})
	}
	n.DeviceSpec = deviceSpecs(cat, o.DeviceSpec)
	return n
}

// deviceSpecs is the config's [pci] device_spec when it mirrors one (the lab then exposes what the
// real one does), else the devices of every supported alias, as the shipped labs do.
func deviceSpecs(cat *catalog.Catalog, mirror []config.DeviceSpec) []deviceSpec {
	out := []deviceSpec{}
	if len(mirror) > 0 {
		for _, s := range mirror {
			out = append(out, deviceSpec{VendorID: s.VendorID, ProductID: s.ProductID, Address: s.Address})
		}
		return out
	}
	for _, e := range cat.Supported() {
		if e.Optional {
			continue
		}
		s := deviceSpec{VendorID: e.VendorID, ProductID: e.ProductID}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func labHost(h inventory.Host) (host, error) {
	out := host{Name: h.Name}
	for _, c := range h.Cells {
		n, err := labNode(h, c)
		if err != nil {
			return host{}, err
		}
		out.NUMANodes = append(out.NUMANodes, n)
	}
	devs, err := pciDevices(h)
	if err != nil {
		return host{}, err
	}
	out.PCIDevices = devs
	return out, nil
}

// labNode writes one NUMA node. A node whose CPUs sit on several sockets (Nova gives it no socket)
// gets each core's socket; a node without CPUs or without socket ids cannot be expressed.
func labNode(h inventory.Host, c placement.HostCell) (numaNode, error) {
	n := numaNode{ID: c.ID, MemoryMB: int(c.MemoryKiB / 1024), Cores: cores(c)}
	if len(c.CPUs) == 0 {
		return n, fmt.Errorf("NUMA node %d has no CPUs, which a mock lab cannot express", c.ID)
	}
	if s := h.SocketOf(&c.ID); s != nil {
		n.Socket = *s
		return n, nil
	}
	socketOf := map[int]int{}
	for _, cpu := range c.CPUs {
		if cpu.Socket == nil {
			return n, fmt.Errorf("NUMA node %d: CPU %d has no socket id, which a mock lab cannot express", c.ID, cpu.ID)
		}
		socketOf[cpu.ID] = *cpu.Socket
	}
	for _, core := range n.Cores {
		first, err := cpuset.Parse(core)
		if err != nil {
			return n, fmt.Errorf("NUMA node %d: core %q: %w", c.ID, core, err)
		}
		n.CoreSockets = append(n.CoreSockets, socketOf[first[0]])
	}
	n.Socket = n.CoreSockets[0]
	return n, nil
}

// cores are the node's thread-sibling groups, in order of their first CPU; a CPU without
// siblings is a core of its own.
func cores(c placement.HostCell) []string {
	var out []string
	seen := map[int]bool{}
	for _, cpu := range c.CPUs {
		if seen[cpu.ID] {
			continue
		}
		group := cpu.Siblings
		if len(group) == 0 {
			group = []int{cpu.ID}
		}
		for _, s := range group {
			seen[s] = true
		}
		out = append(out, cpuset.Format(group))
	}
	return out
}

// pciDevices are the devices a catalog alias matches, the PFs of such VFs, and every VF of such
// PFs (the lab format describes VFs with their PF).
func pciDevices(h inventory.Host) ([]pciDevice, error) {
	byAddr := map[placement.Address]inventory.Device{}
	vfsOf := map[placement.Address][]inventory.Device{}
	for _, d := range h.Devices {
		byAddr[d.Address] = d
		if d.PF != nil {
			vfsOf[*d.PF] = append(vfsOf[*d.PF], d)
		}
	}
	keep := map[placement.Address]bool{}
	for _, d := range h.Devices {
		if len(d.Aliases) == 0 {
			continue
		}
		if d.PF != nil {
			if _, ok := byAddr[*d.PF]; !ok {
				return nil, fmt.Errorf("VF %s: its PF %s is not among the host's node devices", d.Address, d.PF)
			}
			keep[*d.PF] = true
			continue
		}
		keep[d.Address] = true
	}
	var out []pciDevice
	for _, d := range h.Devices {
		if !keep[d.Address] {
			continue
		}
		pd := pciDevice{Address: d.Address.String(), VendorID: d.VendorID, ProductID: d.ProductID, VendorName: d.VendorName,
			ProductName: d.ProductName, Class: d.Class, Driver: d.Driver, NUMANode: d.NUMANode}
		if d.Function == vocab.FunctionPF || len(vfsOf[d.Address]) > 0 {
			v, err := vfBlock(d, vfsOf[d.Address])
			if err != nil {
				return nil, err
			}
			pd.VFs = v
		}
		out = append(out, pd)
	}
	return out, nil
}

// vfBlock describes a PF's VFs as the lab format does: a count from a first address, laid out
// consecutively (function 0-7, then the next slot), all alike.
func vfBlock(pf inventory.Device, vs []inventory.Device) (*vfs, error) {
	if len(vs) == 0 {
		return nil, fmt.Errorf("PF %s has no VFs among the host's node devices; a mock lab PF needs at least one", pf.Address)
	}
	slices.SortFunc(vs, func(a, b inventory.Device) int { return a.Address.Compare(b.Address) })
	first := vs[0]
	want := first.Address
	for _, v := range vs {
		if v.Address != want {
			return nil, fmt.Errorf("PF %s: VF %s follows %s; a mock lab lays VFs out consecutively (expected %s)", pf.Address, v.Address, prevOf(vs, v), want)
		}
		if v.VendorID != pf.VendorID || v.ProductID != first.ProductID || v.Driver != first.Driver || !sameNode(v.NUMANode, pf.NUMANode) {
			return nil, fmt.Errorf("PF %s: VF %s differs from VF %s or the PF in vendor, product, driver or NUMA node; a mock lab's VFs are alike", pf.Address, v.Address, first.Address)
		}
		want = nextAddress(want)
	}
	return &vfs{Count: len(vs), Address: first.Address.String(), ProductID: first.ProductID, ProductName: first.ProductName, Driver: first.Driver}, nil
}

func prevOf(vs []inventory.Device, v inventory.Device) string {
	i := slices.IndexFunc(vs, func(x inventory.Device) bool { return x.Address == v.Address })
	if i <= 0 {
		return "the PF"
	}
	return vs[i-1].Address.String()
}

// nextAddress is where the kernel puts the next VF: the next function, then the next slot.
func nextAddress(a placement.Address) placement.Address {
	if a.Function < 7 {
		a.Function++
		return a
	}
	a.Function = 0
	if a.Slot < 0x1f {
		a.Slot++
		return a
	}
	a.Slot = 0
	a.Bus++
	return a
}

func sameNode(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

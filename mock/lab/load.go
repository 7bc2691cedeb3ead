package lab

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/config/yamlpos"
	"github.com/hwcert/hwcert/mock/chaos"
	"github.com/hwcert/hwcert/mock/cpuset"
)

// DefaultMaxMicroversion is the newest compute API microversion of current Nova.
const DefaultMaxMicroversion = "2.104"

var (
	hexID        = regexp.MustCompile(`^[0-9a-fA-F]{4}$`)
	microversion = regexp.MustCompile(`^2\.(0|[1-9][0-9]*)$`)
	hostName     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$`)
	pciClass     = regexp.MustCompile(`^0x[0-9a-fA-F]{6}$`)
)

// Load reads and validates a lab file. Errors name the file and the offending field.
func Load(file string) (*Lab, error) {
	data, err := readLabFile(file)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return Parse(file, data)
}

// Parse reads and validates a lab from YAML; name is used in error messages.
func Parse(name string, data []byte) (*Lab, error) {
	var l Lab
	if err := oneDocument(data); err != nil {
		return nil, fmt.Errorf("lab %s: %w", name, err)
	}
	doc := yamlpos.Parse(data)
	if err := yaml.UnmarshalStrict(data, &l); err != nil {
		return nil, fmt.Errorf("lab %s: %w", name, doc.Annotate(err))
	}
	l.setDefaults()
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("lab %s: %w", name, doc.Annotate(err))
	}
	return &l, nil
}

func (l *Lab) setDefaults() {
	if l.Region == "" {
		l.Region = "RegionOne"
	}
	if l.Nova.MaxMicroversion == "" {
		l.Nova.MaxMicroversion = DefaultMaxMicroversion
	}
	if l.Nova.PCINUMAAffinity == "" {
		l.Nova.PCINUMAAffinity = vocab.AffinityUpstream
	}
	if l.Nova.CPUAllocationRatio == 0 {
		l.Nova.CPUAllocationRatio = 16
	}
	if len(l.Images) == 0 {
		l.Images = []Image{{ID: "6f1bb4a3-2f7c-4d0e-9b58-8a3f6f4c0001", Name: "cirros"}}
	}
	for i := range l.Hosts {
		if l.Hosts[i].AvailabilityZone == "" {
			l.Hosts[i].AvailabilityZone = "nova"
		}
	}
	for i := range l.Nova.Aliases {
		a := &l.Nova.Aliases[i]
		a.Name = strings.TrimSpace(a.Name)
		a.VendorID = strings.ToLower(a.VendorID)
		a.ProductID = strings.ToLower(a.ProductID)
	}
}

// fieldErr formats "field: value: problem".
func fieldErr(field string, value any, format string, args ...any) error {
	return fmt.Errorf("%s: %v: %s", field, value, fmt.Sprintf(format, args...))
}

// Validate checks the whole lab and returns every problem found, each naming its field.
func (l *Lab) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if l.Name == "" {
		add(errors.New("name: must not be empty"))
	}
	if !microversion.MatchString(l.Nova.MaxMicroversion) {
		add(fieldErr("nova.max_microversion", l.Nova.MaxMicroversion, "expected 2.N, e.g. 2.104"))
	}
	if l.Nova.PCINUMAAffinity != vocab.AffinityUpstream && l.Nova.PCINUMAAffinity != vocab.AffinityPerGuestNode {
		add(fieldErr("nova.pci_numa_affinity", l.Nova.PCINUMAAffinity, "expected %q or %q", vocab.AffinityUpstream, vocab.AffinityPerGuestNode))
	}
	if l.Nova.CPUAllocationRatio < 0 {
		add(fieldErr("nova.cpu_allocation_ratio", l.Nova.CPUAllocationRatio, "must be positive"))
	}
	if l.BootLatency.Duration < 0 {
		add(fieldErr("boot_latency", l.BootLatency, "must not be negative"))
	}
	add(validateAliases(l.Nova.Aliases))
	for i, s := range l.Nova.DeviceSpec {
		f := fmt.Sprintf("nova.device_spec[%d]", i)
		if s.VendorID == "" && s.ProductID == "" && s.Address == "" {
			add(fieldErr(f, "{}", "an entry must set vendor_id, product_id or address"))
		}
		if s.VendorID != "" && !hexID.MatchString(s.VendorID) {
			add(fieldErr(f+".vendor_id", s.VendorID, "expected 4 hex digits"))
		}
		if s.ProductID != "" && !hexID.MatchString(s.ProductID) {
			add(fieldErr(f+".product_id", s.ProductID, "expected 4 hex digits"))
		}
		if s.Address != "" {
			if _, err := parseAddressGlob(s.Address); err != nil {
				add(fieldErr(f+".address", s.Address, "%v", err))
			}
		}
	}
	imgs := map[string]bool{}
	for i, im := range l.Images {
		if im.ID == "" || im.Name == "" {
			add(fieldErr(fmt.Sprintf("images[%d]", i), im, "id and name are required"))
		}
		if imgs[im.Name] {
			add(fieldErr(fmt.Sprintf("images[%d].name", i), im.Name, "duplicate image name"))
		}
		imgs[im.Name] = true
	}
	for _, f := range l.Faults {
		if err := CheckFault(f); err != nil {
			add(fmt.Errorf("faults: %w", err))
		}
	}
	if _, err := chaos.Parse(l.Chaos); err != nil {
		add(fmt.Errorf("chaos: %w", err))
	}
	if len(l.Hosts) == 0 {
		add(errors.New("hosts: a lab needs at least one compute host"))
	}
	names := map[string]bool{}
	for i := range l.Hosts {
		h := &l.Hosts[i]
		f := fmt.Sprintf("hosts[%d]", i)
		if !hostName.MatchString(h.Name) {
			add(fieldErr(f+".name", h.Name, "expected a host name (letters, digits, '.', '-')"))
		}
		if names[h.Name] {
			add(fieldErr(f+".name", h.Name, "duplicate host name"))
		}
		names[h.Name] = true
		inv, err := h.Inventory(l.Nova.DeviceSpec)
		if err != nil {
			add(fmt.Errorf("%s (%s): %w", f, h.Name, err))
		} else if l.Nova.ReportInPlacement {
			add(pfAndVFsExposed(f, h.Name, inv))
		}
	}
	return errors.Join(errs...)
}

// pfAndVFsExposed is nova-compute's refusal to start, with [pci] report_in_placement = True,
// when a PF and its VFs are both exposed (nova/compute/pci_placement_translator.py).
func pfAndVFsExposed(field, host string, inv *HostInventory) error {
	for _, d := range inv.Devices {
		if d.Type == vocab.TypeVF && d.Exposed {
			if pf, ok := inv.Device(*d.Parent); ok && pf.Exposed {
				return fmt.Errorf("%s (%s): %w", field, host, fieldErr("nova.device_spec", pf.Address,
					"exposes both the PF and its VF %s, which nova-compute refuses with nova.report_in_placement: true "+
						"(\"Either the parent PF or its children VFs can be configured.\")", d.Address))
			}
		}
	}
	return nil
}

func validateAliases(aliases []Alias) error {
	var errs []error
	byName := map[string]Alias{}
	for i, a := range aliases {
		f := fmt.Sprintf("nova.aliases[%d]", i)
		if a.Name == "" || len(a.Name) > 256 {
			errs = append(errs, fieldErr(f+".name", a.Name, "expected 1-256 characters"))
		}
		// Nova 32.0.0 (and 31.3.1) refuses to start with an alias lacking vendor/product ids.
		if a.VendorID == "" || a.ProductID == "" {
			errs = append(errs, fieldErr(f, a.Name, "The PCI alias(es) %s does not have vendor_id and product_id fields set.", a.Name))
		}
		if a.VendorID != "" && !hexID.MatchString(a.VendorID) {
			errs = append(errs, fieldErr(f+".vendor_id", a.VendorID, "expected 4 hex digits"))
		}
		if a.ProductID != "" && !hexID.MatchString(a.ProductID) {
			errs = append(errs, fieldErr(f+".product_id", a.ProductID, "expected 4 hex digits"))
		}
		switch a.DeviceType {
		case "", vocab.TypePCI, vocab.TypePF, vocab.TypeVF:
		default:
			errs = append(errs, fieldErr(f+".device_type", a.DeviceType, "expected type-PCI, type-PF or type-VF"))
		}
		switch a.NUMAPolicy {
		case "", vocab.PolicyLegacy, vocab.PolicyPreferred, vocab.PolicyRequired, vocab.PolicySocket:
		default:
			errs = append(errs, fieldErr(f+".numa_policy", a.NUMAPolicy, "expected legacy, preferred, required or socket"))
		}
		if prev, ok := byName[a.Name]; ok {
			if prev.NUMAPolicy != a.NUMAPolicy {
				errs = append(errs, fieldErr(f, a.Name, "NUMA policy mismatch with an earlier entry of the same name"))
			}
			if prev.DeviceType != a.DeviceType {
				errs = append(errs, fieldErr(f, a.Name, "Device type mismatch with an earlier entry of the same name"))
			}
		}
		byName[a.Name] = a
	}
	return errors.Join(errs...)
}

// Inventory expands and validates a host: CPUs from the NUMA nodes' cores, devices from the PCI
// devices and their VFs, exposure from the device spec.
func (h *Host) Inventory(spec []DeviceSpec) (*HostInventory, error) {
	// Sizes are known up front; preallocating matters for generated 1,000-host labs.
	nCPU, nDev := 0, len(h.PCIDevices)
	for _, n := range h.NUMANodes {
		nCPU += 2 * len(n.Cores)
	}
	for _, p := range h.PCIDevices {
		if p.VFs != nil && p.VFs.Count > 0 && p.VFs.Count <= 256 {
			nDev += p.VFs.Count
		}
	}
	inv := &HostInventory{Host: h, Dedicated: make(map[int]bool, nCPU), Shared: make(map[int]bool, nCPU),
		byAddr: make(map[Address]int, nDev), Devices: make([]Device, 0, nDev), CPUs: make([]CPU, 0, nCPU)}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	if len(h.NUMANodes) == 0 {
		add(errors.New("numa_nodes: a host needs at least one NUMA node"))
	}
	nodeIDs := map[int]bool{}
	seenCPU := map[int]bool{}
	for i, n := range h.NUMANodes {
		f := fmt.Sprintf("numa_nodes[%d]", i)
		if n.ID < 0 || nodeIDs[n.ID] {
			add(fieldErr(f+".id", n.ID, "expected a unique non-negative node id"))
		}
		nodeIDs[n.ID] = true
		if n.Socket < 0 {
			add(fieldErr(f+".socket", n.Socket, "expected a non-negative socket id"))
		}
		if n.MemoryMB <= 0 {
			add(fieldErr(f+".memory_mb", n.MemoryMB, "expected a positive amount of memory"))
		}
		if len(n.Cores) == 0 {
			add(fieldErr(f+".cores", "[]", "a NUMA node needs at least one core"))
		}
		if len(n.CoreSockets) > 0 && len(n.CoreSockets) != len(n.Cores) {
			add(fieldErr(f+".core_sockets", n.CoreSockets, "expected one socket per core (%d cores)", len(n.Cores)))
		}
		for j, core := range n.Cores {
			socket := n.Socket
			if j < len(n.CoreSockets) {
				socket = n.CoreSockets[j]
				if socket < 0 {
					add(fieldErr(fmt.Sprintf("%s.core_sockets[%d]", f, j), socket, "expected a non-negative socket id"))
				}
			}
			ids, err := cpuset.Parse(core)
			if err != nil || len(ids) == 0 {
				add(fieldErr(fmt.Sprintf("%s.cores[%d]", f, j), core, "expected a cpuset of thread siblings such as \"0,16\""))
				continue
			}
			for _, id := range ids {
				if seenCPU[id] {
					add(fieldErr(fmt.Sprintf("%s.cores[%d]", f, j), core, "CPU %d is listed twice", id))
				}
				seenCPU[id] = true
				inv.CPUs = append(inv.CPUs, CPU{ID: id, Node: n.ID, Socket: socket, Core: j, Siblings: ids})
			}
		}
	}
	slices.SortFunc(inv.CPUs, func(a, b CPU) int { return a.ID - b.ID })
	for _, set := range []struct {
		field, value string
		into         map[int]bool
	}{{"cpu_dedicated_set", h.CPUDedicatedSet, inv.Dedicated}, {"cpu_shared_set", h.CPUSharedSet, inv.Shared}} {
		ids, err := cpuset.Parse(set.value)
		if err != nil {
			add(fieldErr(set.field, set.value, "%v", err))
			continue
		}
		if set.value == "" {
			for id := range seenCPU {
				set.into[id] = true
			}
		}
		for _, id := range ids {
			if !seenCPU[id] {
				add(fieldErr(set.field, set.value, "CPU %d is not in any NUMA node of the host", id))
			}
			set.into[id] = true
		}
	}

	group := 40 // IOMMU groups start at 40, as in Nova's fakes
	addDev := func(field string, d Device) {
		if _, dup := inv.byAddr[d.Address]; dup {
			add(fieldErr(field, d.Address, "duplicate PCI address"))
			return
		}
		inv.byAddr[d.Address] = len(inv.Devices)
		inv.Devices = append(inv.Devices, d)
	}
	for i, p := range h.PCIDevices {
		f := fmt.Sprintf("pci_devices[%d]", i)
		addr, err := ParseAddress(p.Address)
		if err != nil {
			add(fmt.Errorf("%s.address: %w", f, err))
			continue
		}
		if !hexID.MatchString(p.VendorID) {
			add(fieldErr(f+".vendor_id", p.VendorID, "expected 4 hex digits"))
		}
		if !hexID.MatchString(p.ProductID) {
			add(fieldErr(f+".product_id", p.ProductID, "expected 4 hex digits"))
		}
		if !pciClass.MatchString(p.Class) {
			add(fieldErr(f+".class", p.Class, "expected a PCI class such as 0x0b4000"))
		}
		if p.NUMANode != nil && !nodeIDs[*p.NUMANode] {
			add(fieldErr(f+".numa_node", *p.NUMANode, "no such NUMA node on the host (omit numa_node for a device without NUMA information)"))
		}
		g := group
		if p.IOMMUGroup != nil {
			g = *p.IOMMUGroup
		}
		group = g + 1
		d := Device{Address: addr, Type: vocab.TypePCI, VendorID: strings.ToLower(p.VendorID), ProductID: strings.ToLower(p.ProductID),
			VendorName: p.VendorName, ProductName: p.ProductName, Class: strings.ToLower(p.Class), Driver: p.Driver,
			NUMANode: p.NUMANode, IOMMUGroup: g}
		var vfs []Device
		if p.VFs != nil && p.VFs.Count > 0 && p.VFs.Count <= 256 {
			vfs = make([]Device, 0, p.VFs.Count)
		}
		if p.VFs != nil {
			d.Type = vocab.TypePF
			vf := p.VFs
			if vf.Count < 0 || vf.Count > 256 {
				add(fieldErr(f+".vfs.count", vf.Count, "expected 0-256 virtual functions (0: SR-IOV capable, none enabled)"))
			}
			if vf.Count > 0 && !hexID.MatchString(vf.ProductID) {
				add(fieldErr(f+".vfs.product_id", vf.ProductID, "expected 4 hex digits"))
			}
			// With no VFs enabled there is nothing to lay out; an address, if given, is unused.
			va, err := ParseAddress(vf.Address)
			if err != nil && vf.Count > 0 {
				add(fmt.Errorf("%s.vfs.address: %w", f, err))
			} else if err == nil {
				for k := 0; k < vf.Count && k < 256; k++ {
					parent := addr
					vfs = append(vfs, Device{Address: va, Type: vocab.TypeVF, VendorID: d.VendorID, ProductID: strings.ToLower(vf.ProductID),
						VendorName: p.VendorName, ProductName: vf.ProductName, Class: d.Class, Driver: vf.Driver,
						NUMANode: p.NUMANode, IOMMUGroup: group, Parent: &parent})
					d.VFs = append(d.VFs, va)
					group++
					va = va.next()
				}
			}
		}
		addDev(f, d)
		for _, v := range vfs {
			addDev(f+".vfs", v)
		}
	}
	slices.SortFunc(inv.Devices, func(a, b Device) int { return compareAddr(a.Address, b.Address) })
	for i := range inv.Devices {
		d := &inv.Devices[i]
		inv.byAddr[d.Address] = i
		d.Exposed = exposed(spec, d)
	}
	return inv, errors.Join(errs...)
}

// compareAddr orders PCI addresses numerically, field by field. framework/placement's
// Address.Compare does the same on purpose: the mock and the harness share no code, so that a bug
// in one is not repeated in the other.
func compareAddr(a, b Address) int {
	return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.Bus, b.Bus),
		cmp.Compare(a.Slot, b.Slot), cmp.Compare(a.Function, b.Function))
}

func exposed(spec []DeviceSpec, d *Device) bool {
	for _, s := range spec {
		if s.VendorID != "" && !strings.EqualFold(s.VendorID, d.VendorID) {
			continue
		}
		if s.ProductID != "" && !strings.EqualFold(s.ProductID, d.ProductID) {
			continue
		}
		if s.Address != "" {
			g, err := parseAddressGlob(s.Address)
			if err != nil || !(g.matches(d.Address) || (d.Parent != nil && g.exact() && g.matches(*d.Parent))) {
				continue
			}
		}
		return true
	}
	return false
}

// Inventories expands every host, keyed by name. Call it on a validated lab.
func (l *Lab) Inventories() (map[string]*HostInventory, error) {
	out := make(map[string]*HostInventory, len(l.Hosts))
	for i := range l.Hosts {
		inv, err := l.Hosts[i].Inventory(l.Nova.DeviceSpec)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", l.Hosts[i].Name, err)
		}
		out[l.Hosts[i].Name] = inv
	}
	return out, nil
}

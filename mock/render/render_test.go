package render

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/scheduler"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run `go test ./mock/render -update` if the change is intended)\n--- got ---\n%s", path, got)
	}
}

func inventory(t testing.TB, labFile, host string) *lab.HostInventory {
	t.Helper()
	l, err := lab.Load(filepath.Join("..", "..", "fixtures", "labs", labFile))
	if err != nil {
		t.Fatal(err)
	}
	invs, err := l.Inventories()
	if err != nil {
		t.Fatal(err)
	}
	inv, ok := invs[host]
	if !ok {
		t.Fatalf("lab %s has no host %s", labFile, host)
	}
	return inv
}

func addr(t testing.TB, s string) lab.Address {
	t.Helper()
	a, err := lab.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func device(t testing.TB, inv *lab.HostInventory, s string) *lab.Device {
	t.Helper()
	d, ok := inv.Device(addr(t, s))
	if !ok {
		t.Fatalf("no device %s on %s", s, inv.Host.Name)
	}
	return d
}

func uptr(p *uint) uint {
	if p == nil {
		return 1 << 31 // impossible value, so that a missing field fails comparisons
	}
	return *p
}

// dedicatedTwoNodes is the case: a dedicated 4-vCPU guest spread over both host NUMA
// nodes with one QAT VF from each node.
func dedicatedTwoNodes(t testing.TB) (Server, *scheduler.Placement) {
	s := Server{InstanceID: 0x2a, UUID: "0b9a3c57-1f4e-4c1e-9d6a-2f3b4c5d6e7f", Name: "hwcert-numa-vm",
		VCPUs: 4, MemoryMB: 4096, FlavorName: "hwcert-qat-2numa"}
	p := &scheduler.Placement{
		Host: "controller-0", NUMA: true, Dedicated: true,
		Cells: []scheduler.Cell{
			{ID: 0, HostNode: 0, VCPUs: []int{0, 1}, PCPUs: []int{1, 9}, MemoryMB: 2048},
			{ID: 1, HostNode: 1, VCPUs: []int{2, 3}, PCPUs: []int{4, 12}, MemoryMB: 2048},
		},
		Devices: []scheduler.AssignedDevice{
			{Address: addr(t, "0000:3d:01.2"), Alias: "qat-c62x-vf"},
			{Address: addr(t, "0000:85:01.0"), Alias: "qat-dh895xcc-vf"},
		},
	}
	return s, p
}

func TestDomainXMLDedicatedTwoNUMANodes(t *testing.T) {
	inv := inventory(t, "aio.yaml", "controller-0")
	s, p := dedicatedTwoNodes(t)
	got, err := DomainXML(inv, s, p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "domain-dedicated-2numa-2vf.xml", got)

	var dom libvirtxml.Domain
	if err := dom.Unmarshal(got); err != nil {
		t.Fatalf("libvirtxml cannot parse the domain: %v", err)
	}
	if dom.Type != "kvm" || dom.ID == nil || *dom.ID != 42 {
		t.Errorf("type/id = %q/%v, want kvm/42", dom.Type, dom.ID)
	}
	if dom.Name != "instance-0000002a" || dom.UUID != s.UUID {
		t.Errorf("name/uuid = %s/%s", dom.Name, dom.UUID)
	}
	if dom.Memory == nil || dom.Memory.Value != 4096*1024 || dom.Memory.Unit != "KiB" {
		t.Errorf("memory = %+v, want 4194304 KiB", dom.Memory)
	}
	if dom.VCPU == nil || dom.VCPU.Value != 4 || dom.VCPU.CPUSet != "" {
		t.Errorf("vcpu = %+v, want 4 without cpuset", dom.VCPU)
	}
	wantPins := map[uint]string{0: "1", 1: "9", 2: "4", 3: "12"}
	if dom.CPUTune == nil || len(dom.CPUTune.VCPUPin) != 4 {
		t.Fatalf("cputune = %+v, want 4 vcpupins", dom.CPUTune)
	}
	for _, pin := range dom.CPUTune.VCPUPin {
		if wantPins[pin.VCPU] != pin.CPUSet {
			t.Errorf("vcpupin %d = %q, want %q", pin.VCPU, pin.CPUSet, wantPins[pin.VCPU])
		}
	}
	if dom.CPUTune.EmulatorPin == nil || dom.CPUTune.EmulatorPin.CPUSet != "1,4,9,12" {
		t.Errorf("emulatorpin = %+v, want 1,4,9,12", dom.CPUTune.EmulatorPin)
	}
	if dom.NUMATune == nil || dom.NUMATune.Memory == nil || dom.NUMATune.Memory.Nodeset != "0-1" || dom.NUMATune.Memory.Mode != "strict" {
		t.Fatalf("numatune = %+v, want memory strict 0-1", dom.NUMATune)
	}
	if len(dom.NUMATune.MemNodes) != 2 {
		t.Fatalf("memnodes = %+v, want 2", dom.NUMATune.MemNodes)
	}
	for i, mn := range dom.NUMATune.MemNodes {
		if mn.CellID != uint(i) || mn.Nodeset != []string{"0", "1"}[i] || mn.Mode != "strict" {
			t.Errorf("memnode %d = %+v", i, mn)
		}
	}
	if dom.CPU == nil || dom.CPU.Mode != "host-model" || dom.CPU.Numa == nil || len(dom.CPU.Numa.Cell) != 2 {
		t.Fatalf("cpu = %+v, want host-model with 2 NUMA cells", dom.CPU)
	}
	for i, c := range dom.CPU.Numa.Cell {
		if c.ID == nil || *c.ID != uint(i) || c.CPUs != []string{"0-1", "2-3"}[i] || c.Memory != 2048*1024 || c.Unit != "KiB" {
			t.Errorf("guest cell %d = %+v", i, c)
		}
	}
	if len(dom.Devices.Hostdevs) != 2 {
		t.Fatalf("hostdevs = %d, want 2", len(dom.Devices.Hostdevs))
	}
	want := [][4]uint{{0, 0x3d, 1, 2}, {0, 0x85, 1, 0}}
	for i, hd := range dom.Devices.Hostdevs {
		pci := hd.SubsysPCI
		if pci == nil || hd.Managed != "yes" || pci.Source == nil || pci.Source.Address == nil {
			t.Fatalf("hostdev %d is not a managed PCI hostdev with a source address: %+v", i, hd)
		}
		a := pci.Source.Address
		if got := [4]uint{uptr(a.Domain), uptr(a.Bus), uptr(a.Slot), uptr(a.Function)}; got != want[i] {
			t.Errorf("hostdev %d source = %x, want %x", i, got, want[i])
		}
		if pci.Driver != nil {
			t.Errorf("hostdev %d has a <driver> (%+v); Nova never writes one", i, pci.Driver)
		}
		if hd.Alias == nil || hd.Alias.Name != []string{"hostdev0", "hostdev1"}[i] {
			t.Errorf("hostdev %d alias = %+v", i, hd.Alias)
		}
		if hd.Address == nil || hd.Address.PCI == nil || uptr(hd.Address.PCI.Slot) != uint(5+i) {
			t.Errorf("hostdev %d guest address = %+v, want slot %d", i, hd.Address, 5+i)
		}
	}
}

func TestDomainXMLSharedWithoutNUMA(t *testing.T) {
	inv := inventory(t, "aio.yaml", "controller-0")
	s := Server{InstanceID: 7, UUID: "5d0c3c0e-8a51-4f5d-a7a8-1d2e3f405162", Name: "shared <vm> & co",
		VCPUs: 2, MemoryMB: 1024, FlavorName: "hwcert-qat-shared"}
	p := &scheduler.Placement{Host: "controller-0", SharedCPUs: []int{0, 8},
		Devices: []scheduler.AssignedDevice{{Address: addr(t, "0000:3d:01.0"), Alias: "qat-c62x-vf"}}}
	got, err := DomainXML(inv, s, p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "domain-shared-nonuma.xml", got)
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(got); err != nil {
		t.Fatalf("libvirtxml cannot parse the domain: %v", err)
	}
	if dom.CPUTune != nil || dom.NUMATune != nil {
		t.Errorf("a guest without NUMA topology has cputune %+v / numatune %+v", dom.CPUTune, dom.NUMATune)
	}
	if dom.CPU == nil || dom.CPU.Numa != nil {
		t.Errorf("cpu numa = %+v, want none", dom.CPU)
	}
	if dom.VCPU == nil || dom.VCPU.CPUSet != "0,8" || dom.VCPU.Value != 2 {
		t.Errorf("vcpu = %+v, want 2 with cpuset 0,8", dom.VCPU)
	}
	if dom.Name != "instance-00000007" {
		t.Errorf("name = %s", dom.Name)
	}
	if !strings.Contains(got, "<nova:name>shared &lt;vm&gt; &amp; co</nova:name>") {
		t.Errorf("server name not escaped in metadata")
	}
	if len(dom.Devices.Hostdevs) != 1 || uptr(dom.Devices.Hostdevs[0].SubsysPCI.Source.Address.Bus) != 0x3d {
		t.Errorf("hostdevs = %+v", dom.Devices.Hostdevs)
	}
}

// A shared guest with a NUMA topology floats each vCPU over its cell's CPUs.
func TestDomainXMLSharedWithNUMA(t *testing.T) {
	inv := inventory(t, "aio.yaml", "controller-0")
	s := Server{InstanceID: 9, UUID: "5d0c3c0e-8a51-4f5d-a7a8-1d2e3f405163", Name: "n", VCPUs: 2, MemoryMB: 1024}
	p := &scheduler.Placement{NUMA: true, Cells: []scheduler.Cell{{ID: 0, HostNode: 1, VCPUs: []int{0, 1}, PCPUs: []int{4, 5, 12, 13}, MemoryMB: 1024}}}
	got, err := DomainXML(inv, s, p)
	if err != nil {
		t.Fatal(err)
	}
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(got); err != nil {
		t.Fatal(err)
	}
	if dom.CPUTune == nil || len(dom.CPUTune.VCPUPin) != 2 || dom.CPUTune.VCPUPin[1].CPUSet != "4-5,12-13" {
		t.Errorf("cputune = %+v, want both vCPUs on 4-5,12-13", dom.CPUTune)
	}
	if dom.NUMATune == nil || dom.NUMATune.Memory.Nodeset != "1" || dom.NUMATune.MemNodes[0].Nodeset != "1" {
		t.Errorf("numatune = %+v, want node 1", dom.NUMATune)
	}
	if len(dom.Devices.Hostdevs) != 0 {
		t.Errorf("hostdevs = %d, want none", len(dom.Devices.Hostdevs))
	}
}

func TestDomainXMLRejectsBadInput(t *testing.T) {
	inv := inventory(t, "aio.yaml", "controller-0")
	cases := []struct {
		name   string
		modify func(*Server, *scheduler.Placement)
		want   string
	}{
		{"bad uuid", func(s *Server, _ *scheduler.Placement) { s.UUID = "nope" }, `server.UUID: "nope"`},
		{"no vcpus", func(s *Server, _ *scheduler.Placement) { s.VCPUs = 0 }, "server.VCPUs: 0"},
		{"wrong host", func(_ *Server, p *scheduler.Placement) { p.Host = "worker-9" }, `placement.Host: "worker-9"`},
		{"unknown device", func(_ *Server, p *scheduler.Placement) {
			p.Devices[1].Address = lab.Address{Bus: 0x99}
		}, "placement.Devices[1]: 0000:99:00.0: no such PCI device"},
		{"duplicate device", func(_ *Server, p *scheduler.Placement) { p.Devices[1] = p.Devices[0] }, "attached twice"},
		{"unknown host node", func(_ *Server, p *scheduler.Placement) { p.Cells[1].HostNode = 5 }, "placement.Cells[1].HostNode: 5"},
		{"vcpu twice", func(_ *Server, p *scheduler.Placement) { p.Cells[1].VCPUs = []int{1, 3} }, "vCPU 1: expected each of 0-3 exactly once"},
		{"pins mismatch", func(_ *Server, p *scheduler.Placement) { p.Cells[0].PCPUs = []int{1} }, "pins each of its 2 vCPUs"},
		{"memory mismatch", func(_ *Server, p *scheduler.Placement) { p.Cells[0].MemoryMB = 1 }, "the cells hold 2049 MB of the server's 4096 MB"},
		{"cell ids", func(_ *Server, p *scheduler.Placement) { p.Cells[0].ID = 3 }, "placement.Cells[0].ID: 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, p := dedicatedTwoNodes(t)
			tc.modify(&s, p)
			_, err := DomainXML(inv, s, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := DomainXML(inv, Server{}, nil); err == nil || !strings.Contains(err.Error(), "placement is nil") {
		t.Errorf("nil placement: error = %v", err)
	}
	if _, err := DomainXML(nil, Server{}, &scheduler.Placement{}); err == nil {
		t.Errorf("nil inventory: no error")
	}
}

func TestCapabilitiesXML(t *testing.T) {
	inv := inventory(t, "aio.yaml", "controller-0")
	got, err := CapabilitiesXML(inv)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "capabilities-aio.xml", got)
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(got); err != nil {
		t.Fatalf("libvirtxml cannot parse the capabilities: %v", err)
	}
	if caps.Host.UUID != HostUUID("controller-0") || caps.Host.CPU == nil || caps.Host.CPU.Arch != "x86_64" {
		t.Errorf("host uuid/cpu = %s/%+v", caps.Host.UUID, caps.Host.CPU)
	}
	if tp := caps.Host.CPU.Topology; tp == nil || tp.Sockets != 1 || tp.Cores != 4 || tp.Threads != 2 {
		t.Errorf("topology = %+v, want 1 socket per node, 4 cores, 2 threads", tp)
	}
	cells := caps.Host.NUMA.Cells
	if cells == nil || cells.Num != 2 || len(cells.Cells) != 2 {
		t.Fatalf("cells = %+v, want 2", cells)
	}
	for i, c := range cells.Cells {
		if c.ID != i || c.Memory == nil || c.Memory.Size != 16384*1024 || c.Memory.Unit != "KiB" {
			t.Errorf("cell %d = id %d memory %+v", i, c.ID, c.Memory)
		}
		if c.CPUS == nil || c.CPUS.Num != 8 || len(c.CPUS.CPUs) != 8 {
			t.Fatalf("cell %d cpus = %+v, want 8", i, c.CPUS)
		}
		for _, cpu := range c.CPUS.CPUs {
			if cpu.SocketID == nil || *cpu.SocketID != i || cpu.CoreID == nil || cpu.DieID == nil {
				t.Errorf("cell %d cpu %d: socket %v core %v die %v", i, cpu.ID, cpu.SocketID, cpu.CoreID, cpu.DieID)
			}
		}
		if c.Distances == nil || len(c.Distances.Siblings) != 2 || c.Distances.Siblings[i].Value != 10 || c.Distances.Siblings[1-i].Value != 21 {
			t.Errorf("cell %d distances = %+v", i, c.Distances)
		}
		if len(c.PageInfo) != 3 || c.PageInfo[0].Size != 4 || c.PageInfo[0].Count != 16384*1024/4 {
			t.Errorf("cell %d pages = %+v", i, c.PageInfo)
		}
	}
	cpu4 := cells.Cells[1].CPUS.CPUs[0]
	if cpu4.ID != 4 || cpu4.Siblings != "4,12" {
		t.Errorf("cell 1 first cpu = %+v, want cpu 4 with siblings 4,12", cpu4)
	}
	if len(caps.Guests) != 1 || caps.Guests[0].OSType != "hvm" || caps.Guests[0].Arch.Name != "x86_64" {
		t.Errorf("guests = %+v", caps.Guests)
	}
}

// With sub-NUMA clustering (two nodes on one socket) core ids continue across the socket's nodes,
// as sysfs numbers them, and the nodes are close (11), not remote (21).
func TestCapabilitiesSubNUMA(t *testing.T) {
	inv := inventory(t, "multi.yaml", "worker-2")
	got, err := CapabilitiesXML(inv)
	if err != nil {
		t.Fatal(err)
	}
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(got); err != nil {
		t.Fatal(err)
	}
	seen := map[[2]int]int{}
	for _, c := range caps.Host.NUMA.Cells.Cells {
		for _, cpu := range c.CPUS.CPUs {
			key := [2]int{*cpu.SocketID, *cpu.CoreID}
			if prev, ok := seen[key]; ok && !strings.Contains(cpu.Siblings, strconv.Itoa(prev)) {
				t.Errorf("cpu %d and %d share socket/core %v but are not siblings", cpu.ID, prev, key)
			}
			seen[key] = cpu.ID
		}
		if c.Distances.Siblings[1-c.ID].Value != 11 {
			t.Errorf("cell %d: distance to the other node = %d, want 11", c.ID, c.Distances.Siblings[1-c.ID].Value)
		}
	}
	if len(seen) != 8 {
		t.Errorf("distinct (socket, core) = %d, want 8", len(seen))
	}
}

func TestNodeDeviceXML(t *testing.T) {
	aio := inventory(t, "aio.yaml", "controller-0")
	w2 := inventory(t, "multi.yaml", "worker-2")
	cases := []struct {
		golden string
		inv    *lab.HostInventory
		addr   string
		parent string // its root port
		check  func(t *testing.T, dev *libvirtxml.NodeDevice)
	}{
		{"nodedev-pf.xml", aio, "0000:3d:00.0", "pci_0000_00_01_0", func(t *testing.T, dev *libvirtxml.NodeDevice) {
			pci := dev.Capability.PCI
			if pci.NUMA == nil || pci.NUMA.Node != 0 {
				t.Errorf("numa = %+v, want node 0", pci.NUMA)
			}
			if dev.Driver == nil || dev.Driver.Name != "c6xx" {
				t.Errorf("driver = %+v", dev.Driver)
			}
			var vfs *libvirtxml.NodeDevicePCIVirtFunctionsCapability
			for _, c := range pci.Capabilities {
				if c.VirtFunctions != nil {
					vfs = c.VirtFunctions
				}
			}
			if vfs == nil || vfs.MaxCount != 8 || len(vfs.Address) != 8 {
				t.Fatalf("virt_functions = %+v, want 8", vfs)
			}
			if a := vfs.Address[7]; uptr(a.Bus) != 0x3d || uptr(a.Slot) != 1 || uptr(a.Function) != 7 {
				t.Errorf("last VF = %+v, want 3d:01.7", a)
			}
		}},
		{"nodedev-vf.xml", aio, "0000:3d:01.2", "pci_0000_00_01_0", func(t *testing.T, dev *libvirtxml.NodeDevice) {
			pci := dev.Capability.PCI
			if pci.NUMA == nil || pci.NUMA.Node != 0 {
				t.Errorf("numa = %+v, want node 0", pci.NUMA)
			}
			if pci.Product.ID != "0x37c9" || pci.Vendor.ID != "0x8086" {
				t.Errorf("ids = %s:%s", pci.Vendor.ID, pci.Product.ID)
			}
			var pf *libvirtxml.NodeDevicePCIPhysFunctionCapability
			for _, c := range pci.Capabilities {
				if c.PhysFunction != nil {
					pf = c.PhysFunction
				}
			}
			if pf == nil || uptr(pf.Address.Bus) != 0x3d || uptr(pf.Address.Slot) != 0 || uptr(pf.Address.Function) != 0 {
				t.Errorf("phys_function = %+v, want 3d:00.0", pf)
			}
			if pci.IOMMUGroup == nil || pci.IOMMUGroup.Number != 43 {
				t.Errorf("iommu group = %+v, want 43 (PF 40, VFs from 41)", pci.IOMMUGroup)
			}
		}},
		{"nodedev-gpu-nonuma.xml", w2, "0000:5e:00.0", "pci_0000_00_01_0", func(t *testing.T, dev *libvirtxml.NodeDevice) {
			pci := dev.Capability.PCI
			if pci.NUMA != nil {
				t.Errorf("numa = %+v, want no element for a device without NUMA information", pci.NUMA)
			}
			if pci.Class != "0x030200" || pci.Product.Name != "GP102GL [Tesla P40]" {
				t.Errorf("class/product = %s/%s", pci.Class, pci.Product.Name)
			}
			for _, c := range pci.Capabilities {
				if c.VirtFunctions != nil || c.PhysFunction != nil {
					t.Errorf("plain PCI device has SR-IOV capability %+v", c)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			d := device(t, tc.inv, tc.addr)
			topo, err := HostPCITopology(tc.inv)
			if err != nil {
				t.Fatal(err)
			}
			got, err := NodeDeviceXML(tc.inv, topo, d)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, got)
			var dev libvirtxml.NodeDevice
			if err := dev.Unmarshal(got); err != nil {
				t.Fatalf("libvirtxml cannot parse: %v", err)
			}
			if dev.Name != d.Address.NodeDevName() || dev.Parent != tc.parent || topo.Parent(d) != tc.parent {
				t.Errorf("name/parent = %s/%s", dev.Name, dev.Parent)
			}
			pci := dev.Capability.PCI
			if pci == nil {
				t.Fatal("no pci capability")
			}
			a := d.Address
			if uptr(pci.Domain) != a.Domain || uptr(pci.Bus) != a.Bus || uptr(pci.Slot) != a.Slot || uptr(pci.Function) != a.Function {
				t.Errorf("address = %d:%d:%d.%d, want %s", uptr(pci.Domain), uptr(pci.Bus), uptr(pci.Slot), uptr(pci.Function), a)
			}
			tc.check(t, &dev)
		})
	}
}

func TestNodeDeviceXMLErrors(t *testing.T) {
	inv := inventory(t, "aio.yaml", "controller-0")
	topo, err := HostPCITopology(inv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NodeDeviceXML(inv, topo, &lab.Device{Address: lab.Address{Bus: 0x99}}); err == nil || !strings.Contains(err.Error(), "0000:99:00.0 is not in the inventory") {
		t.Errorf("unknown device: error = %v", err)
	}
	d := *device(t, inv, "0000:3d:00.0")
	d.VendorID = "zz"
	if _, err := NodeDeviceXML(inv, topo, &d); err == nil || !strings.Contains(err.Error(), `vendor_id "zz"`) {
		t.Errorf("bad vendor: error = %v", err)
	}
	if _, err := NodeDeviceXML(inv, topo, nil); err == nil {
		t.Error("nil device: no error")
	}
	if _, err := NodeDeviceXML(inventory(t, "multi.yaml", "worker-2"), topo, &d); err == nil || !strings.Contains(err.Error(), "not the inventory's") {
		t.Errorf("another host's topology: error = %v", err)
	}
}

func TestComputerDeviceXML(t *testing.T) {
	inv := inventory(t, "aio.yaml", "controller-0")
	got, err := ComputerDeviceXML(inv)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "nodedev-computer.xml", got)
	var dev libvirtxml.NodeDevice
	if err := dev.Unmarshal(got); err != nil {
		t.Fatal(err)
	}
	if dev.Name != "computer" || dev.Capability.System == nil || dev.Capability.System.Hardware == nil ||
		dev.Capability.System.Hardware.UUID != HostUUID("controller-0") {
		t.Errorf("computer = %+v", dev)
	}
}

func TestHostUUIDStableAndDistinct(t *testing.T) {
	a, b := HostUUID("worker-0"), HostUUID("worker-1")
	if a == b || a != HostUUID("worker-0") || !uuidRE.MatchString(a) {
		t.Errorf("HostUUID: %s %s", a, b)
	}
}

// TestDomainXMLMemoryLies: the memory-binding faults show in numatune exactly as the placement
// says; without them Nova's strict binding is written.
func TestDomainXMLMemoryLies(t *testing.T) {
	inv := inventory(t, "aio.yaml", "controller-0")
	s := Server{InstanceID: 9, UUID: "5d0c3c0e-8a51-4f5d-a7a8-1d2e3f405163", Name: "n", VCPUs: 2, MemoryMB: 1024}
	cell := scheduler.Cell{ID: 0, HostNode: 1, VCPUs: []int{0, 1}, PCPUs: []int{4, 5}, MemoryMB: 1024}
	for _, tc := range []struct {
		name     string
		p        scheduler.Placement
		numatune string
	}{
		{"honest", scheduler.Placement{}, "<memory mode='strict' nodeset='1'/><memnode cellid='0' mode='strict' nodeset='1'/>"},
		{"loose memnode", scheduler.Placement{MemNodeMode: "preferred"}, "<memory mode='strict' nodeset='1'/><memnode cellid='0' mode='preferred' nodeset='1'/>"},
		{"wide nodeset", scheduler.Placement{MemoryNodes: []int{0, 1}}, "<memory mode='strict' nodeset='0-1'/><memnode cellid='0' mode='strict' nodeset='1'/>"},
		{"unbound", scheduler.Placement{Unbound: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			p.NUMA, p.Dedicated, p.Cells = true, true, []scheduler.Cell{cell}
			got, err := DomainXML(inv, s, &p)
			if err != nil {
				t.Fatal(err)
			}
			flat := strings.Join(strings.Fields(got), "")
			want := strings.Join(strings.Fields(tc.numatune), "")
			if tc.numatune == "" {
				if strings.Contains(got, "<numatune>") {
					t.Errorf("unbound guest has a numatune:\n%s", got)
				}
				return
			}
			if !strings.Contains(flat, "<numatune>"+want+"</numatune>") {
				t.Errorf("numatune is not %s:\n%s", tc.numatune, got)
			}
		})
	}
}

// TestCapabilitiesCellOverTwoSockets: a nested all-in-one's one cell lists CPUs of two sockets.
func TestCapabilitiesCellOverTwoSockets(t *testing.T) {
	got, err := CapabilitiesXML(inventory(t, "shapes.yaml", "nested-0"))
	if err != nil {
		t.Fatal(err)
	}
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(got); err != nil {
		t.Fatal(err)
	}
	cells := caps.Host.NUMA.Cells.Cells
	sockets := map[int]bool{}
	for _, c := range cells[0].CPUS.CPUs {
		sockets[*c.SocketID] = true
	}
	if len(cells) != 1 || len(sockets) != 2 {
		t.Errorf("%d cells, cell 0 on sockets %v; want one cell on sockets 0 and 1", len(cells), sockets)
	}
}

func TestHostPCITopology(t *testing.T) {
	aio := inventory(t, "aio.yaml", "controller-0")
	topo, err := HostPCITopology(aio)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range topo.Bridges {
		node := "-"
		if b.NUMANode != nil {
			node = strconv.Itoa(*b.NUMANode)
		}
		got = append(got, fmt.Sprintf("%s port=%v bus=%02x node=%s group=%d", b.Address, b.RootPort, b.Secondary, node, b.IOMMUGroup))
	}
	want := []string{
		"0000:00:00.0 port=false bus=00 node=- group=58",
		"0000:00:01.0 port=true bus=3d node=0 group=59",
		"0000:00:01.1 port=true bus=85 node=1 group=60",
	}
	if !slices.Equal(got, want) {
		t.Errorf("bridges:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for addr, parent := range map[string]string{"0000:3d:00.0": "pci_0000_00_01_0", "0000:3d:01.7": "pci_0000_00_01_0", "0000:85:01.0": "pci_0000_00_01_1"} {
		if p := topo.Parent(device(t, aio, addr)); p != parent {
			t.Errorf("parent of %s = %s, want %s", addr, p, parent)
		}
	}
	golden(t, "nodedev-rootport.xml", BridgeXML(topo.Bridges[1]))
	var dev libvirtxml.NodeDevice
	if err := dev.Unmarshal(BridgeXML(topo.Bridges[1])); err != nil || dev.Parent != ComputerDevice || dev.Capability.PCI == nil || dev.Capability.PCI.Class != "0x060400" {
		t.Errorf("root port = %+v, %v", dev, err)
	}

	// Bus-0 devices hang off computer, and root ports skip the slots the lab's own devices use.
	node := 1
	inv := &lab.HostInventory{Host: &lab.Host{Name: "h"}, Devices: []lab.Device{
		{Address: lab.Address{Slot: 1}, IOMMUGroup: 3},
		{Address: lab.Address{Bus: 0x17}, NUMANode: &node, IOMMUGroup: 4},
		{Address: lab.Address{Bus: 0x18}, IOMMUGroup: 5},
		{Address: lab.Address{Domain: 1, Bus: 2}, IOMMUGroup: 6},
	}}
	topo, err = HostPCITopology(inv)
	if err != nil {
		t.Fatal(err)
	}
	parents := []string{"computer", "pci_0000_00_01_1", "pci_0000_00_01_2", "pci_0001_00_01_0"}
	for i := range inv.Devices {
		if p := topo.Parent(&inv.Devices[i]); p != parents[i] {
			t.Errorf("parent of %s = %s, want %s", inv.Devices[i].Address, p, parents[i])
		}
	}
	if len(topo.Bridges) != 5 || topo.Bridges[0].IOMMUGroup != 7 {
		t.Errorf("bridges = %+v, want 2 host bridges and 3 root ports, groups after the lab's", topo.Bridges)
	}
}

func TestHostPCITopologyFull(t *testing.T) {
	inv := &lab.HostInventory{Host: &lab.Host{Name: "h"}}
	for bus := uint(1); bus <= maxRootPorts+1; bus++ {
		inv.Devices = append(inv.Devices, lab.Device{Address: lab.Address{Bus: bus}})
	}
	if _, err := HostPCITopology(inv); err == nil || !strings.Contains(err.Error(), "more buses than bus 0 has root port functions") {
		t.Errorf("error = %v", err)
	}
}

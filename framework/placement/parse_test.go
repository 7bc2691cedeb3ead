package placement

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func ptr(v int) *int { return &v }

// capsWith wraps NUMA cells in a minimal capabilities document.
func capsWith(cells string) string {
	return "<capabilities><host><uuid>x</uuid><cpu><arch>x86_64</arch></cpu><topology><cells num='2'>" +
		cells + "</cells></topology></host></capabilities>"
}

func TestParseCapabilities(t *testing.T) {
	// Cell 1 comes first and its CPUs out of order; cell 2 is memory-only (CXL); cell 3's CPUs
	// carry no topology attributes, as with the test driver.
	got, err := ParseCapabilities(capsWith(`
<cell id='1'><memory unit='MiB'>2</memory><cpus num='2'>
  <cpu id='3' socket_id='1' core_id='1' siblings='1,3'/><cpu id='1' socket_id='1' core_id='1' siblings='1,3'/></cpus></cell>
<cell id='0'><memory unit='KiB'>1024</memory><cpus num='1'><cpu id='0' socket_id='0' core_id='0' siblings='0'/></cpus></cell>
<cell id='2'><memory unit='GiB'>1</memory></cell>
<cell id='3'><cpus num='1'><cpu id='7'/></cpus></cell>`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Host{
		Nodes: []int{0, 1, 2, 3},
		Cells: []HostCell{
			{ID: 0, MemoryKiB: 1024, CPUs: []HostCPU{{ID: 0, Socket: ptr(0), Core: ptr(0), Siblings: []int{0}}}},
			{ID: 1, MemoryKiB: 2048, CPUs: []HostCPU{
				{ID: 1, Socket: ptr(1), Core: ptr(1), Siblings: []int{1, 3}},
				{ID: 3, Socket: ptr(1), Core: ptr(1), Siblings: []int{1, 3}}}},
			{ID: 2, MemoryKiB: 1 << 20},
			{ID: 3, CPUs: []HostCPU{{ID: 7}}},
		},
		NodeSocket: map[int]int{0: 0, 1: 1},
		CPUNode:    map[int]int{0: 0, 1: 1, 3: 1, 7: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if s := got.SocketOf(ptr(1)); s == nil || *s != 1 {
		t.Errorf("SocketOf(1) = %v, want 1", s)
	}
	for _, n := range []*int{nil, ptr(2), ptr(3), ptr(9)} {
		if s := got.SocketOf(n); s != nil {
			t.Errorf("SocketOf(%v) = %d, want nil", n, *s)
		}
	}

	// A cell whose CPUs sit on two sockets (NUMA off, nested labs) has no socket, as in Nova; so
	// has a memory-only cell. The other cells keep theirs.
	span, err := ParseCapabilities(capsWith(`
<cell id='0'><cpus num='2'><cpu id='0' socket_id='0'/><cpu id='1' socket_id='1'/></cpus></cell>
<cell id='1'><cpus num='1'><cpu id='2' socket_id='1'/></cpus></cell>
<cell id='2'><memory unit='GiB'>1</memory></cell>`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(span.NodeSocket, map[int]int{1: 1}) || !reflect.DeepEqual(span.SpanningCells, []int{0}) ||
		!reflect.DeepEqual(span.NodesWithoutSocket(), []int{0, 2}) {
		t.Errorf("cell on two sockets: NodeSocket %v, SpanningCells %v, NodesWithoutSocket %v; want map[1:1], [0], [0 2]",
			span.NodeSocket, span.SpanningCells, span.NodesWithoutSocket())
	}

	// No NUMA topology: no nodes, empty (not nil) maps, as Placement's golden files show them.
	flat, err := ParseCapabilities("<capabilities><host><uuid>x</uuid></host></capabilities>")
	if err != nil || len(flat.Nodes) != 0 || flat.NodeSocket == nil || flat.CPUNode == nil {
		t.Errorf("caps without NUMA: %+v, %v", flat, err)
	}
}

func TestParseCapabilitiesErrors(t *testing.T) {
	cpu := func(id, socket string) string { return "<cpu id='" + id + "' socket_id='" + socket + "'/>" }
	cell := func(id, body string) string { return "<cell id='" + id + "'>" + body + "</cell>" }
	cpus := func(c ...string) string { return "<cpus num='1'>" + strings.Join(c, "") + "</cpus>" }
	for _, tc := range []struct{ name, xml, want string }{
		{"empty", " \n", "host capabilities XML: empty"},
		{"not XML", "<capabilities", "host capabilities XML: "},
		{"cell twice", capsWith(cell("0", cpus(cpu("0", "0"))) + cell("0", cpus(cpu("1", "0")))),
			"host capabilities XML: NUMA cell 0 is listed twice, expected unique cell ids"},
		{"CPU in two cells", capsWith(cell("0", cpus(cpu("0", "0"))) + cell("1", cpus(cpu("0", "1")))),
			"host capabilities XML: CPU 0 is listed in NUMA cells 0 and 1"},
		{"CPU twice in a cell", capsWith(cell("0", cpus(cpu("0", "0"), cpu("0", "0")))),
			"host capabilities XML: NUMA cell 0: CPU 0 is listed twice, expected unique CPU ids"},
		{"bad siblings", capsWith(cell("0", cpus("<cpu id='0' socket_id='0' siblings='0-x'/>"))),
			`host capabilities XML: NUMA cell 0 CPU 0 siblings: cpuset "0-x": "x" is not a CPU number`},
		{"bad memory unit", capsWith(cell("0", "<memory unit='pages'>4</memory>")),
			`host capabilities XML: NUMA cell 0 memory: unit "pages": expected b, KiB, MiB, GiB, TiB (or KB, MB, GB, TB)`},
		{"memory overflow", capsWith(cell("0", "<memory unit='TiB'>18446744073709551615</memory>")),
			"host capabilities XML: NUMA cell 0 memory: 18446744073709551615 TiB: expected a size below 2^64 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseCapabilities(tc.xml)
			if err == nil {
				t.Fatalf("accepted: %+v", h)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q\nwant  %q", err, tc.want)
			}
		})
	}
}

// pciDev is a node device XML for 0000:3d:01.1 with extra inside its PCI capability.
func pciDev(extra string) string {
	return `<device><name>pci_0000_3d_01_1</name><driver><name>vfio-pci</name></driver><capability type='pci'>
<domain>0</domain><bus>61</bus><slot>1</slot><function>1</function>
<product id='0x37C9'/><vendor id=' 0x8086 '/>` + extra + `</capability></device>`
}

func TestParseNodeDevice(t *testing.T) {
	a := Address{0, 0x3d, 1, 1}
	pf := Address{0, 0x3d, 0, 0}
	base := Device{Address: a, VendorID: "8086", ProductID: "37c9", Function: vocab.FunctionPCI, Driver: "vfio-pci", Name: "pci_0000_3d_01_1"}
	with := func(f func(*Device)) Device { d := base; f(&d); return d }
	for _, tc := range []struct {
		name, extra string
		want        Device
	}{
		{"plain PCI without NUMA", "", base},
		{"explicit negative NUMA node", "<numa node='-1'/>", base},
		{"PF on node 1", "<capability type='virt_functions' maxCount='16'/><numa node='1'/>",
			with(func(d *Device) { d.Function = vocab.FunctionPF; d.NUMANode = ptr(1) })},
		// Nova's _get_device_type: the first listed sub-capability decides.
		{"virt_functions listed before phys_function", "<capability type='virt_functions' maxCount='7'/><capability type='phys_function'><address domain='0x0000' bus='0x3d' slot='0x00' function='0x0'/></capability>",
			with(func(d *Device) { d.Function = vocab.FunctionPF })},
		{"phys_function listed before virt_functions", "<capability type='phys_function'><address domain='0x0000' bus='0x3d' slot='0x00' function='0x0'/></capability><capability type='virt_functions'/>",
			with(func(d *Device) { d.Function = vocab.FunctionVF; d.PF = &pf })},
		{"phys_function without address is not a VF", "<capability type='phys_function'/>", base},
		{"phys_function without address, then virt_functions", "<capability type='phys_function'/><capability type='virt_functions'/>",
			with(func(d *Device) { d.Function = vocab.FunctionPF })},
		{"VF", "<capability type='phys_function'><address domain='0x0000' bus='0x3d' slot='0x00' function='0x0'/></capability><numa node='0'/>",
			with(func(d *Device) { d.Function = vocab.FunctionVF; d.PF = &pf; d.NUMANode = ptr(0) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok, err := ParseNodeDevice(pciDev(tc.extra))
			if err != nil || !ok {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			if !reflect.DeepEqual(d, tc.want) {
				t.Errorf("got  %+v\nwant %+v", d, tc.want)
			}
		})
	}
	d, ok, err := ParseNodeDevice("<device><name>net_eth0</name><capability type='net'><interface>eth0</interface></capability></device>")
	if err != nil || ok || d.Name != "net_eth0" {
		t.Errorf("non-PCI device: %+v ok=%v err=%v, want not ok, no error, its name", d, ok, err)
	}
}

func TestParseNodeDeviceErrors(t *testing.T) {
	good := pciDev("")
	for _, tc := range []struct{ name, xml, want string }{
		{"not XML", "<device", "node device XML: "},
		{"without bus", strings.Replace(good, "<bus>61</bus>", "", 1), "node device pci_0000_3d_01_1: address without bus"},
		{"slot out of range", strings.Replace(good, "<slot>1</slot>", "<slot>32</slot>", 1), "node device pci_0000_3d_01_1: PCI address 0000:3d:20.1: out of range"},
		{"bad vendor id", strings.Replace(good, "0x8086", "0x80866", 1), `vendor id: " 0x80866 ": expected 0x followed by 4 hex digits`},
		{"no product id", strings.Replace(good, "<product id='0x37C9'/>", "", 1), `product id: "": expected 0x followed by 4 hex digits`},
		{"phys_function address without slot", pciDev("<capability type='phys_function'><address domain='0' bus='0x3d' function='0'/></capability>"),
			"phys_function: address without slot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, err := ParseNodeDevice(tc.xml)
			if err == nil {
				t.Fatalf("accepted: %+v", d)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q\nwant  %q", err, tc.want)
			}
		})
	}
}

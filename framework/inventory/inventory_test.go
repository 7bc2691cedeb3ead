package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/placement"
)

const capsTwoSockets = `<capabilities><host><uuid>x</uuid><cpu><arch>x86_64</arch></cpu>
<topology><cells num='2'>
<cell id='0'><memory unit='KiB'>1024</memory><cpus num='2'>
  <cpu id='0' socket_id='0' core_id='0' siblings='0'/><cpu id='1' socket_id='0' core_id='1' siblings='1'/></cpus></cell>
<cell id='1'><memory unit='KiB'>1024</memory><cpus num='2'>
  <cpu id='2' socket_id='1' core_id='0' siblings='2'/><cpu id='3' socket_id='1' core_id='1' siblings='3'/></cpus></cell>
</cells></topology></host></capabilities>`

func nodedev(name, bus, slot, fn, vendor, product, extra string) string {
	return `<device><name>` + name + `</name><capability type='pci'><domain>0</domain><bus>` + bus + `</bus><slot>` + slot +
		`</slot><function>` + fn + `</function><product id='0x` + product + `'/><vendor id='0x` + vendor + `'/>` + extra + `</capability></device>`
}

func TestBuildInventory(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	pci := map[string]map[string]string{
		"worker-0": {
			"pci_0000_3d_00_0": nodedev("pci_0000_3d_00_0", "61", "0", "0", "8086", "37c8",
				`<capability type='virt_functions' maxCount='2'><address domain='0x0000' bus='0x3d' slot='0x01' function='0x0'/></capability><numa node='0'/>`),
			"pci_0000_3d_01_0": nodedev("pci_0000_3d_01_0", "61", "1", "0", "8086", "37c9",
				`<capability type='phys_function'><address domain='0x0000' bus='0x3d' slot='0x00' function='0x0'/></capability><numa node='0'/>`),
			"pci_0000_af_00_0": nodedev("pci_0000_af_00_0", "175", "0", "0", "10de", "1b38", `<numa node='1'/>`),
			"pci_0000_5e_00_0": nodedev("pci_0000_5e_00_0", "94", "0", "0", "10de", "1b38", ``),                 // no NUMA information
			"pci_0000_00_1f_0": nodedev("pci_0000_00_1f_0", "0", "31", "0", "8086", "a1c8", `<numa node='0'/>`), // not in the catalog
		},
		"worker-3": {},
	}
	caps := map[string]string{"worker-0": capsTwoSockets, "worker-3": capsTwoSockets}
	inv, err := Build(cat, pci, caps)
	if err != nil {
		t.Fatal(err)
	}
	w0, ok := inv.Host("worker-0")
	if !ok || len(inv.Hosts) != 2 {
		t.Fatalf("hosts = %+v", inv.Hosts)
	}
	checks := []struct {
		what      string
		got, want int
	}{
		{"VFs", w0.Count("qat-c62x-vf"), 1},
		{"PFs", w0.Count("qat-c62x-pf"), 1},
		{"GPUs", w0.Count("gpu"), 2},
		{"GPUs with NUMA", w0.CountWithNUMA("gpu"), 1},
		{"GPUs without NUMA", w0.CountOnNode("gpu", nil), 1},
		{"lab GPUs", inv.Count("gpu"), 2},
		{"nodes", len(w0.Nodes), 2},
		{"socket of node 1", w0.NodeSocket[1], 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
	if got := inv.HostsWhere(HasDevicesOnNodes("gpu", 1)); len(got) != 1 || got[0] != "worker-0" {
		t.Errorf("hosts with GPUs on a node = %v", got)
	}
	if got := inv.HostsWhere(OnlyNoNUMADevices("gpu")); len(got) != 0 {
		t.Errorf("worker-0 has a NUMA-local GPU too, got %v", got)
	}
	if _, err := Build(cat, map[string]map[string]string{"h": {"x": "<device"}}, map[string]string{"h": capsTwoSockets}); err == nil {
		t.Error("malformed node device XML: no error")
	}
	if _, err := Build(cat, map[string]map[string]string{"h": {}}, map[string]string{"h": ""}); err == nil {
		t.Error("empty capabilities: no error")
	}
}

// TestReadsLikePlacement: for every placement test case, the inventory of its host reads the
// capabilities and the node devices exactly as placement.Build does, so a host chosen from the
// inventory is the host the verdict judges.
func TestReadsLikePlacement(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("..", "placement", "testdata", "*", "domain.xml"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no placement cases: %v", err)
	}
	for _, domFile := range cases {
		dir := filepath.Dir(domFile)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			read := func(f string) string {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			caps := read(filepath.Join(dir, "caps.xml"))
			files, _ := filepath.Glob(filepath.Join(dir, "pci_*.xml"))
			byName, byAddr := map[string]string{}, map[placement.Address]string{}
			for _, f := range files {
				x := read(f)
				d, ok, err := placement.ParseNodeDevice(x)
				if err != nil || !ok {
					t.Fatalf("%s: %v", f, err)
				}
				byName[d.Name], byAddr[d.Address] = x, x
			}
			p, err := placement.Build(read(domFile), byAddr, caps)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := Build(nil, map[string]map[string]string{"h": byName}, map[string]string{"h": caps})
			if err != nil {
				t.Fatal(err)
			}
			h := inv.Hosts[0]
			if !reflect.DeepEqual(h.CPUNode, p.PCPUNodes) || !reflect.DeepEqual(h.NodeSocket, p.NodeSocket) {
				t.Errorf("inventory CPU→node %v, node→socket %v; placement %v, %v", h.CPUNode, h.NodeSocket, p.PCPUNodes, p.NodeSocket)
			}
			for _, pd := range p.Devices {
				i := slices.IndexFunc(h.Devices, func(d Device) bool { return d.Address == pd.Address })
				pd.PFNUMANode = nil // the placement's own reading of the PF's node device
				if i < 0 || !reflect.DeepEqual(h.Devices[i].Device, pd) {
					t.Errorf("device %s: placement %+v, inventory %+v", pd.Address, pd, h.Devices)
				}
			}
		})
	}
}

// TestRejectsLikePlacement: bad node devices fail the inventory with placement's error, rather
// than being read more loosely; a cell on two sockets is read as placement reads it (no socket,
// as Nova), not refused and not given the first socket id seen.
func TestRejectsLikePlacement(t *testing.T) {
	twoSockets := strings.Replace(capsTwoSockets, "<cpu id='1' socket_id='0'", "<cpu id='1' socket_id='1'", 1)
	inv, err := Build(nil, map[string]map[string]string{"h": {}}, map[string]string{"h": twoSockets})
	if err != nil {
		t.Fatal(err)
	}
	if h := inv.Hosts[0]; !reflect.DeepEqual(h.NodeSocket, map[int]int{1: 1}) || !reflect.DeepEqual(h.SpanningCells, []int{0}) {
		t.Errorf("cell 0 on two sockets: NodeSocket %v, SpanningCells %v; want map[1:1], [0]", h.NodeSocket, h.SpanningCells)
	}
	bad := nodedev("pci_0000_3d_00_0", "61", "0", "0", "8086", "37c8", `<capability type='phys_function'><address domain='0' bus='0x3d' function='0'/></capability>`)
	_, _, perr := placement.ParseNodeDevice(bad)
	_, ierr := Build(nil, map[string]map[string]string{"h": {"pci_0000_3d_00_0": bad}}, map[string]string{"h": capsTwoSockets})
	if perr == nil || ierr == nil || ierr.Error() != "host h: node device pci_0000_3d_00_0: "+perr.Error() {
		t.Errorf("inventory error %v, placement error %v: want the same", ierr, perr)
	}
}

// TestMarkExposed: the config's device_spec mirror marks what Nova exposes; counts and host
// predicates see exposed devices only, and a "no valid host" where they fit names the likely
// cause with the inventory rows.
func TestMarkExposed(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	vf := func(bus, busDec, node string) string {
		return nodedev("pci_0000_"+bus+"_01_0", busDec, "1", "0", "8086", "37c9",
			`<capability type='phys_function'><address domain='0x0000' bus='0x`+bus+`' slot='0x00' function='0x0'/></capability><numa node='`+node+`'/>`)
	}
	pci := map[string]map[string]string{"h": {"pci_0000_3d_01_0": vf("3d", "61", "0"), "pci_0000_b1_01_0": vf("b1", "177", "1")}}
	inv, err := Build(cat, pci, map[string]string{"h": capsTwoSockets})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := inv.Host("h")
	if h.Count("qat-c62x-vf") != 2 {
		t.Fatalf("without a device_spec mirror every device is exposed: %d", h.Count("qat-c62x-vf"))
	}
	inv.MarkExposed([]config.DeviceSpec{{VendorID: "8086", ProductID: "37c9", Address: "0000:3D:*"}})
	if got := h.Count("qat-c62x-vf"); got != 1 || len(h.AllDevicesFor("qat-c62x-vf")) != 2 {
		t.Errorf("exposed %d of %d, want 1 of 2", got, len(h.AllDevicesFor("qat-c62x-vf")))
	}
	if got := inv.HostsWhere(HasDevicesOnNodes("qat-c62x-vf", 2)); len(got) != 0 {
		t.Errorf("the card kept out of device_spec still counts for a node: %v", got)
	}
	if sum := inv.Summary(); !strings.Contains(sum, "qat-c62x-vf×1 (nodes 0); 1 catalog devices not in device_spec") {
		t.Errorf("summary: %q", sum)
	}
	why := h.WhyNoValidHost(map[string]int{"qat-c62x-vf": 1})
	for _, want := range []string{"the inventory says host h fits the request", "[pci] device_spec or alias",
		"h 0000:3d:01.0 8086:37c9 qat-c62x-vf node 0 exposed", "h 0000:b1:01.0 8086:37c9 qat-c62x-vf node 1 not in device_spec"} {
		if !strings.Contains(why, want) {
			t.Errorf("explanation lacks %q:\n%s", want, why)
		}
	}
	if why := h.WhyNoValidHost(map[string]int{"qat-c62x-vf": 2}); why != "" {
		t.Errorf("a request the inventory does not fit is Nova's to refuse: %q", why)
	}
}

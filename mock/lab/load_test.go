package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func TestShippedLabsLoad(t *testing.T) {
	files, _ := filepath.Glob("../../fixtures/labs/*.yaml")
	if len(files) < 2 {
		t.Fatalf("expected at least two shipped labs, found %v", files)
	}
	for _, f := range files {
		l, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		invs, err := l.Inventories()
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		for name, inv := range invs {
			for _, d := range inv.Devices {
				if d.Type == vocab.TypePF && d.Exposed {
					t.Errorf("%s %s: PF %s exposed", f, name, d.Address)
				}
			}
		}
	}
}

func TestInventoryExpandsVFs(t *testing.T) {
	l, err := Load("../../fixtures/labs/aio.yaml")
	if err != nil {
		t.Fatal(err)
	}
	invs, _ := l.Inventories()
	inv := invs["controller-0"]
	if got := len(inv.Devices); got != 18 {
		t.Fatalf("devices = %d, want 18 (2 PFs + 16 VFs)", got)
	}
	vf, ok := inv.Device(Address{0, 0x3d, 1, 7})
	if !ok || vf.Type != vocab.TypeVF || vf.ProductID != "37c9" || *vf.NUMANode != 0 || vf.Parent.String() != "0000:3d:00.0" || !vf.Exposed {
		t.Fatalf("VF 3d:01.7 = %+v", vf)
	}
	if len(inv.CPUs) != 16 || !inv.Dedicated[1] || inv.Dedicated[0] || !inv.Shared[8] {
		t.Fatalf("cpus %d dedicated %v shared %v", len(inv.CPUs), inv.Dedicated, inv.Shared)
	}
}

func TestBadLabErrorsNameFieldAndValue(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"name: x\nhosts: []\nnova: {aliases: []}", "hosts: a lab needs at least one compute host"},
		{"name: x\nnova: {aliases: [{name: gpu}]}\nhosts: [{name: h, numa_nodes: [{id: 0, socket: 0, memory_mb: 1, cores: ['0']}]}]",
			"does not have vendor_id and product_id fields set"},
		{"name: x\nnova: {pci_numa_affinity: sometimes}\nhosts: [{name: h, numa_nodes: [{id: 0, socket: 0, memory_mb: 1, cores: ['0']}]}]",
			"nova.pci_numa_affinity: sometimes: expected"},
		{"name: x\nnova: {}\nhosts: [{name: h, numa_nodes: [{id: 0, socket: 0, memory_mb: 1, cores: ['0-']}]}]",
			"hosts[0] (h): numa_nodes[0].cores[0]: 0-: expected a cpuset"},
		{"name: x\nnova: {}\nhosts: [{name: h, numa_nodes: [{id: 0, socket: 0, memory_mb: 1, cores: ['0']}], pci_devices: [{address: '3d:00', vendor_id: '8086', product_id: '37c8', class: '0x0b4000'}]}]",
			`pci_devices[0].address: PCI address "3d:00"`},
		{"name: x\nnova: {}\nhosts: [{name: h, numa_nodes: [{id: 0, socket: 0, memory_mb: 1, cores: ['0']}], pci_devices: [{address: '3d:00.0', vendor_id: '8086', product_id: '37c8', class: '0x0b4000', numa_node: 3}]}]",
			"pci_devices[0].numa_node: 3: no such NUMA node"},
		{"name: x\nfaults: [lie]\nnova: {}\nhosts: [{name: h, numa_nodes: [{id: 0, socket: 0, memory_mb: 1, cores: ['0']}]}]",
			`faults: fault "lie": unknown; expected one of numa-misplace`},
		{"name: x\nnova: {}\nhostz: []", `unknown field "hostz"`},
	}
	for _, c := range cases {
		_, err := Parse("bad.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("Parse(%q) error = %v, want it to mention bad.yaml and %q", c.yaml, err, c.want)
		}
	}
}

// A lab error points at the line and column of its field, and says to quote an ID YAML read as an
// octal number (product_id: 0443).
func TestParseErrorsGiveLineAndColumn(t *testing.T) {
	data, err := os.ReadFile("../../fixtures/labs/multi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `product_id: "0443"`, `product_id: 0443`, 1)
	if bad == string(data) {
		t.Fatal(`multi.yaml has no product_id: "0443" to unquote`)
	}
	_, err = Parse("multi.yaml", []byte(bad))
	want := `YAML reads the unquoted 0443 as a number: write it quoted, "0443"`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "(line ") {
		t.Fatalf("Parse = %v, want a position and %q", err, want)
	}
	_, err = Parse("x.yaml", []byte("name: x\nbogus: 1\n"))
	if err == nil || !strings.Contains(err.Error(), `unknown field "bogus" (line 2, column 1)`) {
		t.Fatalf("Parse with an unknown field = %v, want its line and column", err)
	}
}

func TestLoadRefusesNonRegularOversizedAndTwoDocuments(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	two := filepath.Join(dir, "two.yaml")
	if err := os.WriteFile(two, []byte("name: a\n---\nname: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "not a regular file", "/dev/zero": "not a regular file", two: "second YAML document"} {
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s): %v; want %q", path, err, want)
		}
	}
}

// pfLab is one host with a PF 8086:1528 and vfs VFs 8086:1515, every function in device_spec.
func pfLab(reportInPlacement bool, vfs string) string {
	return fmt.Sprintf(`name: x
nova:
  report_in_placement: %v
  aliases: [{name: pf, vendor_id: "8086", product_id: "1528", device_type: type-PF}]
  device_spec: [{vendor_id: "8086"}]
hosts:
  - name: h
    numa_nodes: [{id: 0, socket: 0, memory_mb: 1024, cores: ["0"]}]
    pci_devices:
      - {address: "0000:81:00.0", vendor_id: "8086", product_id: "1528", class: "0x030200", numa_node: 0, vfs: %s}
`, reportInPlacement, vfs)
}

// Nova refuses a PF exposed with its VFs only with [pci] report_in_placement = True.
func TestPFWithVFsExposedOnlyRefusedWithReportInPlacement(t *testing.T) {
	vfs := `{count: 2, address: "0000:81:00.1", product_id: "1515"}`
	l, err := Parse("ok.yaml", []byte(pfLab(false, vfs)))
	if err != nil {
		t.Fatalf("report_in_placement false: %v", err)
	}
	invs, _ := l.Inventories()
	if n := len(invs["h"].Devices); n != 3 || !invs["h"].Devices[0].Exposed || !invs["h"].Devices[2].Exposed {
		t.Fatalf("devices %+v, want the PF and 2 VFs, all exposed", invs["h"].Devices)
	}
	_, err = Parse("bad.yaml", []byte(pfLab(true, vfs)))
	want := "hosts[0] (h): nova.device_spec: 0000:81:00.0: exposes both the PF and its VF 0000:81:00.1, which nova-compute refuses with nova.report_in_placement: true"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("report_in_placement true: error %v, want %q", err, want)
	}
}

// A device with SR-IOV capability and no VFs enabled (vfs.count 0, a GPU such as the T4) is a
// type-PF without VFs; a negative count is refused.
func TestPFWithoutVFs(t *testing.T) {
	for _, vfs := range []string{"{count: 0}", `{count: 0, address: "0000:81:00.1", product_id: "1515"}`} {
		l, err := Parse("gpu.yaml", []byte(pfLab(true, vfs)))
		if err != nil {
			t.Fatalf("vfs %s: %v", vfs, err)
		}
		invs, _ := l.Inventories()
		d := invs["h"].Devices
		if len(d) != 1 || d[0].Type != vocab.TypePF || len(d[0].VFs) != 0 || !d[0].Exposed {
			t.Fatalf("vfs %s: devices %+v, want one exposed type-PF without VFs", vfs, d)
		}
	}
	_, err := Parse("bad.yaml", []byte(pfLab(false, "{count: -1}")))
	if want := "pci_devices[0].vfs.count: -1: expected 0-256 virtual functions"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/framework/inventory/report"
)

func inventoryJSON(t *testing.T, args ...string) (*report.Report, string) {
	t.Helper()
	out, code := runCommand(t, append([]string{"inventory", "--output", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("hwcert inventory %v: exit %d\n%s", args, code, out)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("inventory JSON: %v\n%s", err, out)
	}
	return &r, out
}

// TestInventoryRoundTrip: for every shipped lab, the lab file written from its inventory replays
// a lab whose inventory is the same.
func TestInventoryRoundTrip(t *testing.T) {
	for _, name := range labs.Names() {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), name+"-twin.yaml")
			_, first := inventoryJSON(t, "--lab", name, "--write-lab", file)
			_, second := inventoryJSON(t, "--lab", file)
			if first != second {
				lab, _ := os.ReadFile(file)
				t.Fatalf("the replayed lab's inventory differs\nfirst:\n%s\nsecond:\n%s\nlab file:\n%s", first, second, lab)
			}
			if !strings.Contains(first, `"qat-c62x-vf"`) {
				t.Fatalf("the inventory lists no qat-c62x-vf device; the round trip would prove little:\n%s", first)
			}
		})
	}
}

func findDevice(t *testing.T, r *report.Report, host, addr string) report.Device {
	t.Helper()
	for _, h := range r.Hosts {
		if h.Name != host {
			continue
		}
		for _, d := range h.Devices {
			if d.Address == addr {
				return d
			}
		}
	}
	t.Fatalf("no device %s on %s in the inventory", addr, host)
	return report.Device{}
}

func findFamily(t *testing.T, r *report.Report, alias, family string) report.Family {
	t.Helper()
	for _, a := range r.Aliases {
		if a.Alias != alias {
			continue
		}
		for _, f := range a.Families {
			if f.Name == family {
				return f
			}
		}
	}
	t.Fatalf("no family %q for alias %s", family, alias)
	return report.Family{}
}

// TestInventoryColumns checks each column against what the default lab (fixtures/labs/multi.yaml)
// was built with, on devices that differ in that column.
func TestInventoryColumns(t *testing.T) {
	r, _ := inventoryJSON(t)
	if r.Schema != report.Schema || r.Compute == nil || r.Compute.MaxMicroversion != "2.104" {
		t.Errorf("schema %q, compute %+v: expected %s and max microversion 2.104", r.Schema, r.Compute, report.Schema)
	}
	var names []string
	for _, h := range r.Hosts {
		names = append(names, h.Name)
	}
	if !slices.Equal(names, []string{"worker-0", "worker-1", "worker-2", "worker-3"}) {
		t.Errorf("hosts %v", names)
	}
	w2 := r.Hosts[2]
	if len(w2.NUMANodes) != 2 || *w2.NUMANodes[1].Socket != 0 || w2.NUMANodes[1].MemoryMiB != 16384 {
		t.Errorf("worker-2 nodes %+v: expected two nodes on socket 0 with 16384 MiB", w2.NUMANodes)
	}
	if w0 := r.Hosts[0]; *w0.NUMANodes[1].Socket != 1 || !slices.Equal(w0.NUMANodes[1].CPUs[0].Siblings, []int{4, 12}) || w0.NUMANodes[1].CPUs[0].ID != 4 {
		t.Errorf("worker-0 node 1 %+v: expected socket 1, CPU 4 with siblings 4,12", w0.NUMANodes[1])
	}
	// Neither Nova nor libvirt reports cpu_dedicated_set: it is what the config mirrors, unknown
	// where it mirrors none.
	if w2.CPUDedicatedSet != nil {
		t.Errorf("worker-2 cpu_dedicated_set %q: the config mirrors none, expected unknown", *w2.CPUDedicatedSet)
	}
	if w3 := r.Hosts[3]; w3.CPUDedicatedSet == nil || *w3.CPUDedicatedSet != "1-3,5-7" {
		t.Errorf("worker-3 cpu_dedicated_set %v: expected the config's 1-3,5-7", w3.CPUDedicatedSet)
	}
	vf := findDevice(t, r, "worker-1", "0000:b1:01.2")
	pf := findDevice(t, r, "worker-1", "0000:da:00.0")
	gpu := findDevice(t, r, "worker-2", "0000:5e:00.0")
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"VF id", vf.VendorID + ":" + vf.ProductID, "8086:37c9"},
		{"VF function", vf.Function, "vf"},
		{"VF parent", vf.ParentPF, "0000:b1:00.0"},
		{"VF node", *vf.NUMANode, 1},
		{"VF driver", vf.Driver, "vfio-pci"},
		{"VF aliases", strings.Join(vf.Aliases, ","), "qat-c62x-vf"},
		{"VF product name", vf.ProductName, "C62x Chipset QuickAssist Technology Virtual Function"},
		{"PF function", pf.Function, "pf"},
		{"PF parent", pf.ParentPF, ""},
		{"PF driver", pf.Driver, "dh895xcc"},
		{"PF class", pf.Class, "0x0b4000"},
		{"PF aliases", strings.Join(pf.Aliases, ","), "qat-dh895xcc-pf"},
		{"GPU function", gpu.Function, "pci"},
		{"GPU node", gpu.NUMANode == nil, true},
		{"GPU vendor", gpu.VendorName, "NVIDIA Corporation"},
		{"GPU aliases", strings.Join(gpu.Aliases, ","), "gpu,nvidia-tesla-p40"},
		// The mock's hwcert.yaml mirrors the lab's device_spec, which exposes VFs, not their PFs.
		{"VF exposed", vf.Exposed != nil && *vf.Exposed, true},
		{"PF kept out of device_spec", pf.Exposed != nil && !*pf.Exposed, true},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, expected %v", c.what, c.got, c.want)
		}
	}
	if f := findFamily(t, r, "gpu", "numa: device without NUMA information"); !f.CanRun || !slices.Equal(f.Hosts, []string{"worker-2"}) {
		t.Errorf("gpu without NUMA information: %+v, expected to run on worker-2", f)
	}
	if f := findFamily(t, r, "qat-dh895xcc-vf", "numa: strict policy with a wrong-node device free, dedicated CPUs"); f.CanRun ||
		f.Reason != "no host of the lab can offer qat-dh895xcc-vf devices on two NUMA nodes" {
		t.Errorf("dh895xcc on two nodes: %+v, expected the spec's skip reason", f)
	}
	if f := findFamily(t, r, "gpu", "passthrough: several devices in one guest, filling a host"); f.CanRun ||
		f.Reason != "no host of the lab has 2 devices for alias gpu (at most 1 on one host)" {
		t.Errorf("two gpus: %+v, expected RequireDevices' skip reason", f)
	}
	want := []string{
		"worker-2: 0000:5e:00.0 (gpu, nvidia-tesla-p40) has no NUMA information",
		"worker-0: 0000:af:00.0 matches 2 aliases",
	}
	for _, w := range want {
		if !slices.ContainsFunc(r.Warnings, func(s string) bool { return strings.HasPrefix(s, w) }) {
			t.Errorf("warnings %q: expected one starting %q", r.Warnings, w)
		}
	}
	for _, w := range r.Warnings {
		if strings.Contains(w, "exposes no device for it") {
			t.Errorf("warning %q: every non-optional alias has devices on multi", w)
		}
	}

	table, code := runCommand(t, "inventory")
	if code != 0 {
		t.Fatalf("table: exit %d", code)
	}
	for _, s := range []string{"ADDRESS       ID         TYPE  PARENT PF     NODE  DRIVER    EXPOSED  ALIASES",
		"0000:5e:00.0  10de:1b38  PCI   -             none  vfio-pci  yes", "✘ numa: device without NUMA information: no host of the lab can"} {
		if !strings.Contains(table, s) {
			t.Errorf("table lacks %q:\n%s", s, table)
		}
	}
}

// TestInventoryWarnsOfAnAliasWithoutDevices: on the all-in-one lab the GPU alias has no device.
func TestInventoryWarnsOfAnAliasWithoutDevices(t *testing.T) {
	r, _ := inventoryJSON(t, "--lab", "aio")
	if !slices.Contains(r.Warnings, "alias gpu (10de:1b38): the catalog has it, the lab exposes no device for it: its specs skip") {
		t.Errorf("warnings %q: expected one for gpu", r.Warnings)
	}
}

func TestInventoryRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"inventory", "--output", "xml"},
		{"inventory", "--lab", "nosuch"},
		{"inventory", "--config", "x.yaml", "--lab", "aio"},
		{"inventory", "--bogus"},
		{"inventory", "extra"},
	} {
		if _, code := runCommand(t, args...); code != exitUsage {
			t.Errorf("hwcert %v: exit %d, expected %d", args, code, exitUsage)
		}
	}
}

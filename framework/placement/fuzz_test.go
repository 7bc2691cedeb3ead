package placement

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

// nodeDevTemplate turns a node device XML into a template whose <domain>/<bus>/<slot>/<function>
// are filled per hostdev, so one fuzzed node device can answer several hostdevs.
var pciAddrElems = regexp.MustCompile(`<(domain|bus|slot|function)>\d+</(domain|bus|slot|function)>`)

func fill(tmpl string, a Address) string {
	return strings.NewReplacer("{domain}", fmt.Sprint(a.Domain), "{bus}", fmt.Sprint(a.Bus),
		"{slot}", fmt.Sprint(a.Slot), "{function}", fmt.Sprint(a.Function)).Replace(tmpl)
}

func seedCorpus(f *testing.F) {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "fuzz" {
			continue
		}
		dom, devs, caps := loadCase(f, e.Name())
		for _, x := range devs {
			tmpl := pciAddrElems.ReplaceAllString(x, "<$1>{$1}</$1>")
			f.Add(dom, tmpl, caps)
			break
		}
	}
	f.Add("<domain/>", "", "<capabilities/>")
	f.Add("", "", "")
}

// FuzzBuild feeds arbitrary domain, node device and capabilities XML through HostdevAddresses
// and Build. Nothing may panic, and a placement that comes back must be internally consistent.
func FuzzBuild(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, domainXML, nodeDevTmpl, capsXML string) {
		addrs, aerr := HostdevAddresses(domainXML)
		devs := map[Address]string{}
		for _, a := range addrs {
			devs[a] = fill(nodeDevTmpl, a)
		}
		p, err := Build(domainXML, devs, capsXML)
		if err != nil {
			return
		}
		if aerr != nil {
			t.Fatalf("Build succeeded where HostdevAddresses failed: %v", aerr)
		}
		checkInvariants(t, p, addrs)
	})
}

func checkInvariants(t *testing.T, p *Placement, addrs []Address) {
	t.Helper()
	if len(p.Devices) != len(addrs) {
		t.Fatalf("%d devices for %d hostdevs", len(p.Devices), len(addrs))
	}
	hex4 := regexp.MustCompile(`^[0-9a-f]{4}$`)
	for i, d := range p.Devices {
		if d.Address != addrs[i] {
			t.Fatalf("device %d is %s, hostdev is %s", i, d.Address, addrs[i])
		}
		if !hex4.MatchString(d.VendorID) || !hex4.MatchString(d.ProductID) {
			t.Fatalf("device %s: IDs %q:%q", d.Address, d.VendorID, d.ProductID)
		}
		switch d.Function {
		case vocab.FunctionPF, vocab.FunctionPCI:
			if d.PF != nil {
				t.Fatalf("device %s: %s with a parent PF", d.Address, d.Function)
			}
		case vocab.FunctionVF:
			if d.PF == nil {
				t.Fatalf("device %s: VF without a parent PF", d.Address)
			}
		default:
			t.Fatalf("device %s: function %q", d.Address, d.Function)
		}
		if d.NUMANode != nil && *d.NUMANode < 0 {
			t.Fatalf("device %s: negative NUMA node", d.Address)
		}
		if d.Socket != nil && (d.NUMANode == nil || p.NodeSocket[*d.NUMANode] != *d.Socket) {
			t.Fatalf("device %s: socket %d not from its node", d.Address, *d.Socket)
		}
		if _, err := ParseAddress(d.Address.String()); err != nil {
			t.Fatalf("device address %s does not round-trip: %v", d.Address, err)
		}
	}
	for _, s := range [][]int{p.HostNodes, p.PCPUs} {
		if !slices.IsSorted(s) || len(slices.Compact(slices.Clone(s))) != len(s) {
			t.Fatalf("not a sorted set: %v", s)
		}
	}
	if p.Pinned {
		if len(p.VCPUPins) != p.VCPUs || p.VCPUs == 0 {
			t.Fatalf("pinned with %d pins for %d vCPUs", len(p.VCPUPins), p.VCPUs)
		}
		for v, cpus := range p.VCPUPins {
			if len(cpus) != 1 {
				t.Fatalf("pinned but vCPU %d on %v", v, cpus)
			}
		}
	}
	seen := map[int]bool{}
	for _, c := range p.GuestCells {
		for _, v := range c.VCPUs {
			if seen[v] {
				t.Fatalf("vCPU %d in two guest cells", v)
			}
			seen[v] = true
		}
		for _, n := range c.HostNodes {
			if !slices.Contains(p.HostNodes, n) {
				t.Fatalf("cell %d host node %d missing from HostNodes %v", c.ID, n, p.HostNodes)
			}
		}
	}
	if len(p.GuestCells) > 0 && !p.HasNUMATopology {
		t.Fatal("guest cells without NUMA topology")
	}
}

// TestFuzzSeedsBuild makes sure the templated seeds really exercise the success path.
func TestFuzzSeedsBuild(t *testing.T) {
	dom, devs, caps := loadCase(t, "dedicated-2node-c62x")
	// A VF's template would name a PF the filled-in devices do not include, and Build insists on
	// the PF's node device: template a device without phys_function, the same one every run.
	var tmpl string
	for _, a := range slices.SortedFunc(maps.Keys(devs), Address.Compare) {
		if !strings.Contains(devs[a], "phys_function") {
			tmpl = pciAddrElems.ReplaceAllString(devs[a], "<$1>{$1}</$1>")
			break
		}
	}
	if tmpl == "" {
		t.Fatal("the case has no node device without phys_function to template")
	}
	addrs, err := HostdevAddresses(dom)
	if err != nil {
		t.Fatal(err)
	}
	m := map[Address]string{}
	for _, a := range addrs {
		m[a] = fill(tmpl, a)
	}
	p, err := Build(dom, m, caps)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, p, addrs)
	if _, err := os.Stat(filepath.Join("testdata", "dedicated-2node-c62x", "domain.xml")); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseCapabilities: nothing may panic, and a Host that comes back must be consistent —
// sorted unique nodes matching the cells, every CPU mapped to the cell listing it, a socket
// exactly for the cells whose CPUs agree on one, the others listed as spanning when they disagree.
func FuzzParseCapabilities(f *testing.F) {
	for _, name := range caseNames(f) {
		_, _, caps := loadCase(f, name)
		f.Add(caps)
	}
	f.Add(capsWith("<cell id='0'><memory unit='KiB'>1</memory></cell>"))
	f.Add("<capabilities/>")
	f.Fuzz(func(t *testing.T, capsXML string) {
		h, err := ParseCapabilities(capsXML)
		if err != nil {
			return
		}
		if h.NodeSocket == nil || h.CPUNode == nil {
			t.Fatal("nil maps")
		}
		if !slices.IsSorted(h.Nodes) || len(slices.Compact(slices.Clone(h.Nodes))) != len(h.Nodes) || len(h.Cells) != len(h.Nodes) {
			t.Fatalf("nodes %v for %d cells", h.Nodes, len(h.Cells))
		}
		cpus := 0
		for i, c := range h.Cells {
			if c.ID != h.Nodes[i] {
				t.Fatalf("cell %d at node %d", c.ID, h.Nodes[i])
			}
			for _, cpu := range c.CPUs {
				cpus++
				if n, ok := h.CPUNode[cpu.ID]; !ok || n != c.ID {
					t.Fatalf("CPU %d of cell %d maps to %d, %v", cpu.ID, c.ID, n, ok)
				}
				if s, ok := h.NodeSocket[c.ID]; ok && (cpu.Socket == nil || s != *cpu.Socket) {
					t.Fatalf("CPU %d socket %v, cell %d socket %d", cpu.ID, cpu.Socket, c.ID, s)
				}
			}
			_, hasSocket := h.NodeSocket[c.ID]
			if n := socketCount(c.CPUs); hasSocket != (n == 1) || slices.Contains(h.SpanningCells, c.ID) != (n > 1) {
				t.Fatalf("cell %d with CPUs on %d sockets: has a socket %v, spanning cells %v", c.ID, n, hasSocket, h.SpanningCells)
			}
		}
		if cpus != len(h.CPUNode) {
			t.Fatalf("%d CPUs in cells, %d in CPUNode", cpus, len(h.CPUNode))
		}
	})
}

// socketCount is the number of distinct socket ids the CPUs carry.
func socketCount(cpus []HostCPU) int {
	seen := map[int]bool{}
	for _, c := range cpus {
		if c.Socket != nil {
			seen[*c.Socket] = true
		}
	}
	return len(seen)
}

// FuzzParseNodeDevice: nothing may panic, and a device that comes back has normalised IDs, a
// function consistent with its PF, a non-negative node and no socket (that is the host's).
func FuzzParseNodeDevice(f *testing.F) {
	for _, name := range caseNames(f) {
		_, devs, _ := loadCase(f, name)
		for _, x := range devs {
			f.Add(x)
		}
	}
	f.Add(pciDev(""))
	f.Add("<device><name>net_eth0</name><capability type='net'/></device>")
	hex4 := regexp.MustCompile(`^[0-9a-f]{4}$`)
	f.Fuzz(func(t *testing.T, x string) {
		d, ok, err := ParseNodeDevice(x)
		if err != nil || !ok {
			if !reflect.DeepEqual(d, Device{Name: d.Name}) {
				t.Fatalf("not a device, yet %+v", d)
			}
			return
		}
		if !hex4.MatchString(d.VendorID) || !hex4.MatchString(d.ProductID) {
			t.Fatalf("IDs %q:%q", d.VendorID, d.ProductID)
		}
		if (d.Function == vocab.FunctionVF) != (d.PF != nil) {
			t.Fatalf("function %s with PF %v", d.Function, d.PF)
		}
		if !slices.Contains([]string{vocab.FunctionPF, vocab.FunctionVF, vocab.FunctionPCI}, d.Function) {
			t.Fatalf("function %q", d.Function)
		}
		if (d.NUMANode != nil && *d.NUMANode < 0) || d.Socket != nil {
			t.Fatalf("node %v socket %v", d.NUMANode, d.Socket)
		}
		if back, err := ParseAddress(d.Address.String()); err != nil || back != d.Address {
			t.Fatalf("address %s does not round-trip: %v", d.Address, err)
		}
	})
}

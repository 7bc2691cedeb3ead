//go:build conformance

package conformance

import (
	"encoding/xml"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/hwcert/hwcert/framework/cpuset"
)

// The commands a QA engineer types on a compute host to see where a guest runs, checked for
// libvirtd 9.0's answer shape and, on the mock, for agreeing with the domain XML.

// treeParents reads `virsh nodedev-list --tree` into device -> parent, from the indentation of
// each "+- name" line (four columns a level).
func treeParents(t *testing.T, tree string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(tree, "\n"), "\n")
	if len(lines) == 0 || lines[0] != "computer" {
		t.Fatalf("nodedev-list --tree does not start with computer:\n%s", tree)
	}
	parents := map[string]string{}
	stack := []string{"computer"}
	for _, l := range lines[1:] {
		i := strings.Index(l, "+- ")
		if i < 0 {
			continue
		}
		depth := i/4 + 1
		if depth > len(stack) {
			t.Fatalf("nodedev-list --tree: %q is indented below no parent", l)
		}
		stack = append(stack[:depth], strings.TrimSpace(l[i+3:]))
		parents[stack[depth]] = stack[depth-1]
	}
	return parents
}

// keyValues reads the `key: value` (or `key : value`) lines of an answer, in order.
func keyValues(out string) ([]string, map[string]string) {
	var keys []string
	vals := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		keys = append(keys, k)
		vals[k] = strings.TrimSpace(v)
	}
	return keys, vals
}

// tableRows reads a virsh table (header, dashes, rows) into its header columns and row fields.
func tableRows(t *testing.T, out string) ([]string, [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 || strings.Trim(lines[1], "-") != "" {
		t.Fatalf("not a virsh table:\n%s", out)
	}
	var rows [][]string
	for _, l := range lines[2:] {
		if f := strings.Fields(l); len(f) > 0 {
			rows = append(rows, f)
		}
	}
	return strings.Fields(lines[0]), rows
}

var kibRE = regexp.MustCompile(`^\d+ KiB$`)

func hostCommands(t *testing.T, uri string) {
	cells := strings.Split(strings.TrimSpace(virsh(t, uri, "freecell", "--all")), "\n")
	if len(cells) != 4 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "0:") || !strings.HasPrefix(cells[3], "Total:") {
		t.Errorf("freecell --all = %q, want cells 0 and 1, a rule and the total", cells)
	}
	if _, v := keyValues(virsh(t, uri, "freecell", "--cellno", "1")); !kibRE.MatchString(v["1"]) {
		t.Errorf("freecell --cellno 1 = %v", v)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(virsh(t, uri, "maxvcpus"))); err != nil || n != 255 {
		t.Errorf("maxvcpus = %d, %v; want 255 (pc-i440fx-7.2)", n, err)
	}
	var caps libvirtxml.DomainCaps
	if err := caps.Unmarshal(virsh(t, uri, "domcapabilities", "--virttype", "kvm")); err != nil || caps.Domain != "kvm" || caps.VCPU == nil || caps.VCPU.Max != 255 {
		t.Errorf("domcapabilities = %+v, %v", caps, err)
	}
	var sys struct {
		XMLName xml.Name `xml:"sysinfo"`
		Type    string   `xml:"type,attr"`
		System  []struct {
			Name string `xml:"name,attr"`
		} `xml:"system>entry"`
		Processors []struct{} `xml:"processor"`
	}
	if err := xml.Unmarshal([]byte(virsh(t, uri, "sysinfo")), &sys); err != nil || sys.Type != "smbios" || len(sys.System) == 0 || len(sys.Processors) != 2 {
		t.Errorf("sysinfo = %+v, %v; want SMBIOS with a processor per socket", sys, err)
	}
	for _, c := range []struct {
		args []string
		keys []string
	}{
		{[]string{"nodememstats"}, []string{"total", "free", "buffers", "cached"}},
		{[]string{"nodememstats", "--cell", "0"}, []string{"total", "free"}},
		{[]string{"nodecpustats"}, []string{"user", "system", "idle", "iowait"}},
		{[]string{"nodecpustats", "--cpu", "15"}, []string{"user", "system", "idle", "iowait"}},
	} {
		if keys, _ := keyValues(virsh(t, uri, c.args...)); !slices.Equal(keys, c.keys) {
			t.Errorf("virsh %s: fields %v, want %v", strings.Join(c.args, " "), keys, c.keys)
		}
	}
	for _, c := range []struct {
		args []string
		cols []string
	}{
		{[]string{"pool-list", "--all"}, []string{"Name", "State", "Autostart"}},
		{[]string{"net-list", "--all"}, []string{"Name", "State", "Autostart", "Persistent"}},
	} {
		if cols, rows := tableRows(t, virsh(t, uri, c.args...)); !slices.Equal(cols, c.cols) || len(rows) != 0 {
			t.Errorf("virsh %s: columns %v, rows %v; want %v and none (a Nova host defines no pools or networks)", c.args[0], cols, rows, c.cols)
		}
	}
}

// placementCommands checks every placement view of a running guest against its domain XML.
func placementCommands(t *testing.T, uri string, dom *libvirtxml.Domain) {
	name := dom.Name
	if dom.CPUTune == nil || dom.NUMATune == nil || dom.NUMATune.Memory == nil {
		t.Fatalf("the guest has no cputune/numatune")
	}
	pinned := map[string]string{}
	for _, p := range dom.CPUTune.VCPUPin {
		pinned[strconv.Itoa(int(p.VCPU))] = p.CPUSet
	}
	cols, rows := tableRows(t, virsh(t, uri, "vcpupin", name))
	if !slices.Equal(cols, []string{"VCPU", "CPU", "Affinity"}) || len(rows) != len(pinned) {
		t.Errorf("vcpupin: columns %v, %d rows; want VCPU/CPU Affinity and %d", cols, len(rows), len(pinned))
	}
	for _, r := range rows {
		if len(r) != 2 || !sameSet(t, r[1], pinned[r[0]]) {
			t.Errorf("vcpupin row %v, domain XML pins vCPU %s to %s", r, r[0], pinned[r[0]])
		}
	}
	_, vals := keyValues(virsh(t, uri, "emulatorpin", name))
	if !sameSet(t, vals["*"], dom.CPUTune.EmulatorPin.CPUSet) {
		t.Errorf("emulatorpin = %q, domain XML %s", vals["*"], dom.CPUTune.EmulatorPin.CPUSet)
	}
	keys, vals := keyValues(virsh(t, uri, "numatune", name))
	if !slices.Equal(keys, []string{"numa_mode", "numa_nodeset"}) || vals["numa_mode"] != dom.NUMATune.Memory.Mode || !sameSet(t, vals["numa_nodeset"], dom.NUMATune.Memory.Nodeset) {
		t.Errorf("numatune = %v, domain XML %+v", vals, dom.NUMATune.Memory)
	}
	info := strings.Split(strings.TrimSpace(virsh(t, uri, "vcpuinfo", name)), "\n\n")
	if len(info) != len(pinned) {
		t.Fatalf("vcpuinfo lists %d vCPUs, want %d", len(info), len(pinned))
	}
	for _, block := range info {
		keys, v := keyValues(block)
		if !slices.Equal(keys, []string{"VCPU", "CPU", "State", "CPU Affinity"}) || v["State"] != "running" {
			t.Errorf("vcpuinfo block fields %v (%v)", keys, v)
			continue
		}
		pins, _ := cpuset.Parse(pinned[v["VCPU"]])
		cpu, _ := strconv.Atoi(v["CPU"])
		if !slices.Contains(pins, cpu) || strings.Count(v["CPU Affinity"], "y") != len(pins) || v["CPU Affinity"][cpu] != 'y' {
			t.Errorf("vcpuinfo of vCPU %s: CPU %s, affinity %s; domain XML pins it to %v", v["VCPU"], v["CPU"], v["CPU Affinity"], pins)
		}
	}
	res := runTool(t, nil, "virsh", "-c", uri, "vcpupin", name, "0", "0")
	if res.code != 1 || !strings.Contains(res.stderr, "error: Operation not supported: ") {
		t.Errorf("vcpupin (change): exit %d, stderr %q; want libvirt's operation not supported", res.code, res.stderr)
	}
	mem := strings.Fields(virsh(t, uri, "dommemstat", name))
	if !slices.Equal(mem, []string{"actual", strconv.Itoa(int(dom.CurrentMemory.Value)), "last_update", "0", "rss", strconv.Itoa(int(dom.CurrentMemory.Value))}) {
		t.Errorf("dommemstat = %v, want actual/last_update/rss of %d KiB", mem, dom.CurrentMemory.Value)
	}
	stats := domstatsKeys(virsh(t, uri, "domstats", name))
	for _, k := range []string{"state.state", "cpu.time", "balloon.current", "balloon.rss", "vcpu.current", "vcpu.N.state", "net.count", "block.count", "block.N.path", "dirtyrate.calc_mode"} {
		if !stats[k] {
			t.Errorf("domstats lacks %s", k)
		}
	}
	if got := virsh(t, uri, "domstats", "--vcpu", name); strings.Count(got, ".state=1") != len(pinned) {
		t.Errorf("domstats --vcpu:\n%s\nwant %d running vCPUs", got, len(pinned))
	}
	// The guest's memory leaves its host nodes: freecell of those nodes is below the node total.
	nodes, _ := cpuset.Parse(dom.NUMATune.Memory.Nodeset)
	for _, n := range nodes {
		_, total := keyValues(virsh(t, uri, "nodememstats", "--cell", strconv.Itoa(n)))
		if total["total"] == total["free"] {
			t.Errorf("host node %d holds guest memory (numatune %s) yet all of it is free: %v", n, dom.NUMATune.Memory.Nodeset, total)
		}
	}
}

// sameSet compares two cpuset strings as sets.
func sameSet(t *testing.T, a, b string) bool {
	t.Helper()
	x, err1 := cpuset.Parse(a)
	y, err2 := cpuset.Parse(b)
	return err1 == nil && err2 == nil && slices.Equal(x, y)
}

var statIndexRE = regexp.MustCompile(`\.\d+\.`)

// domstatsKeys are the field names of a `virsh domstats` answer, indexes replaced by N.
func domstatsKeys(out string) map[string]bool {
	keys := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		k, _, ok := strings.Cut(strings.TrimSpace(l), "=")
		if ok {
			keys[statIndexRE.ReplaceAllString(k, ".N.")] = true
		}
	}
	return keys
}

package mock_test

// Nova's own PCI functional scenarios (nova/tests/functional/libvirt/test_pci_sriov_servers.py at
// openstack/nova 00a03040), ported as tests of the mock through its HTTP API: each builds the
// fake host its Nova test builds (nova/tests/fixtures/libvirt.py HostInfo and
// HostPCIDevicesInfo) as a lab, drives flavors and servers with gophercloud, and asserts Nova's
// outcome: ACTIVE or ERROR with No valid host, the host NUMA node of the guest's cells, and the
// devices attached (read from the server the mock recorded, what its libvirtd serves).

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/hwcert/hwcert/mock"
)

// fakeHost is Nova's HostInfo(cpu_nodes, cpu_sockets, cpu_cores, cpu_threads, kB_mem): for each
// socket, cpu_nodes cells numbered on from 0, each with cores x threads CPUs numbered on, thread
// siblings adjacent, kB_mem shared evenly (MemMB here). PCI is HostPCIDevicesInfo.
type fakeHost struct {
	nodes, sockets, cores, threads int
	memMB                          int    // whole host; 0 is HostInfo's 16780000 kB
	dedicated                      string // [compute] cpu_dedicated_set
	pci                            []int  // num_pci devices 8086:1533 at 0000:81:NN.0, by NUMA node (-1: none)
	pfs, vfs                       int    // num_pfs PFs 8086:1528 at 0000:81:NN.0, vfs VFs 8086:1515 in all
	pfNodes                        []int  // NUMA node of each PF (and its VFs)
}

// novaDefaultHost is ServersTestBase's default: HostInfo(cpu_nodes=2, cpu_sockets=1,
// cpu_cores=2, cpu_threads=2).
func novaDefaultHost() fakeHost { return fakeHost{nodes: 2, sockets: 1, cores: 2, threads: 2} }

const gib16 = 16 * 1024 // MB, kB_mem=(16 * units.Gi) // units.Ki

// labYAML renders the host as a lab named after the test, with the alias and device_spec given.
func (h fakeHost) labYAML(nova string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: nova-port\nnova:\n%s\nhosts:\n  - name: compute1\n", nova)
	if h.dedicated != "" {
		fmt.Fprintf(&b, "    cpu_dedicated_set: %q\n", h.dedicated)
	}
	mem := h.memMB
	if mem == 0 {
		mem = 16780000 / 1024
	}
	b.WriteString("    numa_nodes:\n")
	cpu, cell := 0, 0
	for s := 0; s < h.sockets; s++ {
		for n := 0; n < h.nodes; n++ {
			var cores []string
			for c := 0; c < h.cores; c++ {
				var sib []string
				for t := 0; t < h.threads; t++ {
					sib = append(sib, fmt.Sprint(cpu))
					cpu++
				}
				cores = append(cores, fmt.Sprintf("%q", strings.Join(sib, ",")))
			}
			fmt.Fprintf(&b, "      - {id: %d, socket: %d, memory_mb: %d, cores: [%s]}\n", cell, s, mem/(h.nodes*h.sockets), strings.Join(cores, ", "))
			cell++
		}
	}
	b.WriteString("    pci_devices:\n")
	slot := 0
	numa := func(n int) string {
		if n < 0 {
			return ""
		}
		return fmt.Sprintf(", numa_node: %d", n)
	}
	for _, n := range h.pci {
		fmt.Fprintf(&b, "      - {address: \"0000:81:%02x.0\", vendor_id: \"8086\", product_id: \"1533\", class: \"0x020000\"%s}\n", slot, numa(n))
		slot++
	}
	for i := 0; i < h.pfs; i++ {
		fmt.Fprintf(&b, "      - {address: \"0000:81:%02x.0\", vendor_id: \"8086\", product_id: \"1528\", class: \"0x020000\"%s, vfs: {count: %d, address: \"0000:81:%02x.1\", product_id: \"1515\"}}\n",
			slot, numa(h.pfNodes[i]), h.vfs/h.pfs, slot)
		slot++
	}
	if slot == 0 {
		b.WriteString("      []\n")
	}
	return b.String()
}

// Nova configurations of the ported test classes.
const (
	pciNova = `  aliases: [{name: a1, vendor_id: "8086", product_id: "1533"}]
  device_spec: [{vendor_id: "8086", product_id: "1533"}]`
	sriovNova = `  aliases:
    - {name: vfs, vendor_id: "8086", product_id: "1515", device_type: type-VF}
    - {name: pfs, vendor_id: "8086", product_id: "1528", device_type: type-PF}
  device_spec: [{vendor_id: "8086", product_id: "1528"}, {vendor_id: "8086", product_id: "1515"}]`
)

func pciNovaWith(policy, extra string) string {
	return fmt.Sprintf(`  aliases: [{name: a1, vendor_id: "8086", product_id: "1533", device_type: type-PCI, numa_policy: %s}]
  device_spec: [{vendor_id: "8086", product_id: "1533"}]%s`, policy, extra)
}

// step is one action of a scenario: boot a server of a flavor (vcpus, MB, extra specs; count > 1
// is min_count) and expect its outcome, or delete the server booted at step del.
type step struct {
	vcpus, mem int
	specs      map[string]string
	count      int
	del        *int
	// error: the server(s) end in ERROR with No valid host; else ACTIVE with, when set, the
	// guest cells on nodes and exactly devs attached (per server for count > 1: devices distinct).
	error bool
	nodes []int
	devs  []string
}

func deleteStep(i int) step { return step{del: &i} }

func dedicated(alias string, more ...string) map[string]string {
	m := map[string]string{"hw:cpu_policy": "dedicated"}
	if alias != "" {
		m["pci_passthrough:alias"] = alias
	}
	for i := 0; i+1 < len(more); i += 2 {
		m[more[i]] = more[i+1]
	}
	return m
}

type scenario struct {
	nova  string // the Nova test it ports, Class.test_name[data]
	host  fakeHost
	conf  string
	steps []step
}

func TestNovaPCIScenarios(t *testing.T) {
	one := func(n int) []int { return []int{n} }
	var scenarios []scenario
	scenarios = append(scenarios,
		scenario{"PCIServersTest.test_create_server_with_pci_dev_and_numa",
			fakeHost{nodes: 2, sockets: 1, cores: 2, threads: 2, dedicated: "0-7", pci: []int{1}}, pciNova,
			[]step{{specs: dedicated("a1:1"), nodes: one(1), devs: []string{"0000:81:00.0"}}}},
		scenario{"PCIServersTest.test_create_server_with_pci_dev_and_numa_fails",
			fakeHost{nodes: 2, sockets: 1, cores: 2, threads: 2, dedicated: "0-7", pci: []int{0}}, pciNova,
			[]step{
				{vcpus: 4, specs: dedicated(""), nodes: one(1)}, // the PCI-aware sort keeps node 0 for last
				{vcpus: 4, specs: dedicated(""), nodes: one(0)},
				deleteStep(0),
				{specs: dedicated("a1:1"), error: true}, // legacy: never a device from another node
			}},
		scenario{"PCIServersTest.test_multi_create",
			fakeHost{nodes: 2, sockets: 1, cores: 2, threads: 2, pci: []int{0, 1, 0}}, pciNova,
			[]step{{specs: map[string]string{"pci_passthrough:alias": "a1:1"}, count: 2}}},
		scenario{"PCIServersTest.test_multi_create (3 devices, 4 servers: none fits)",
			fakeHost{nodes: 2, sockets: 1, cores: 2, threads: 2, pci: []int{0, 1, 0}}, pciNova,
			[]step{
				{specs: map[string]string{"pci_passthrough:alias": "a1:1"}, count: 4, error: true},
				{specs: map[string]string{"pci_passthrough:alias": "a1:1"}, count: 3}, // nothing was kept
			}},
	)
	for _, c := range []struct {
		class, policy string
		last          step
	}{
		{"PCIServersWithPreferredNUMATest", "preferred", step{specs: dedicated("a1:1"), nodes: one(1), devs: []string{"0000:81:00.0"}}},
		{"PCIServersWithRequiredNUMATest", "required", step{specs: dedicated("a1:1"), error: true}},
	} {
		scenarios = append(scenarios, scenario{c.class + ".test_create_server_with_pci_dev_and_numa",
			fakeHost{nodes: 2, sockets: 1, cores: 2, threads: 2, dedicated: "0-7", pci: []int{0}}, pciNovaWith(c.policy, ""),
			[]step{
				{vcpus: 4, specs: dedicated(""), nodes: one(1)},
				{vcpus: 4, specs: dedicated(""), nodes: one(0)},
				deleteStep(0),
				c.last,
			}})
	}
	// PCIServersWithSRIOVAffinityPoliciesTest._test_policy: pinning only on node 1 (CPUs 4-7), one
	// device on pci_numa_node, the policy from the flavor (overriding the alias's).
	for _, c := range []struct {
		policy, alias string
		want          map[int]bool // pci_numa_node -> ACTIVE
	}{
		{"preferred", "required", map[int]bool{-1: true, 0: true, 1: true}},
		{"legacy", "required", map[int]bool{-1: true, 0: false, 1: true}},
		{"required", "preferred", map[int]bool{-1: false, 0: false, 1: true}},
	} {
		for _, node := range []int{-1, 0, 1} {
			st := step{specs: dedicated("a1:1", "hw:pci_numa_affinity_policy", c.policy), error: !c.want[node]}
			if c.want[node] {
				st.nodes, st.devs = one(1), []string{"0000:81:00.0"}
			}
			scenarios = append(scenarios, scenario{
				fmt.Sprintf("PCIServersWithSRIOVAffinityPoliciesTest.test_create_server_with_sriov_numa_affinity_policy_%s(%d)", c.policy, node),
				fakeHost{nodes: 2, sockets: 1, cores: 2, threads: 2, dedicated: "4-7", pci: []int{node}}, pciNovaWith(c.alias, ""),
				[]step{st}})
		}
	}
	socket := func(nodes ...int) map[string]string {
		m := dedicated("a1:1", "hw:pci_numa_affinity_policy", "socket")
		if len(nodes) > 0 {
			m["hw:numa_nodes"] = fmt.Sprint(nodes[0])
		}
		return m
	}
	scenarios = append(scenarios,
		scenario{"PCIServersWithSRIOVAffinityPoliciesTest.test_socket_policy_pass",
			fakeHost{nodes: 2, sockets: 1, cores: 2, threads: 2, memMB: gib16, dedicated: "0-3", pci: []int{1}}, pciNovaWith("required", ""),
			[]step{{specs: socket(), nodes: one(0), devs: []string{"0000:81:00.0"}}}},
		scenario{"PCIServersWithSRIOVAffinityPoliciesTest.test_socket_policy_fail",
			fakeHost{nodes: 1, sockets: 2, cores: 2, threads: 2, memMB: gib16, dedicated: "0-3", pci: []int{1}}, pciNovaWith("required", ""),
			[]step{{specs: socket(), error: true}}},
		scenario{"PCIServersWithSRIOVAffinityPoliciesTest.test_socket_policy_multi_numa_pass",
			fakeHost{nodes: 2, sockets: 2, cores: 2, threads: 1, memMB: gib16, dedicated: "2-7", pci: []int{0}}, pciNovaWith("required", ""),
			[]step{{vcpus: 6, mem: 3144, specs: socket(3), nodes: []int{1, 2, 3}, devs: []string{"0000:81:00.0"}}}},
	)
	// TestPackNUMACellsWithPCIDevices (bug #2144660): 4 cells of 2 CPUs and 4 GiB of 1 GiB pages,
	// pack strategy, pinning on every CPU.
	pack := pciNovaWith("legacy", "\n  packing_host_numa_cells_allocation_strategy: true")
	hugeDedicated := func(alias string) map[string]string { return dedicated(alias, "hw:mem_page_size", "1GB") }
	packHost := func(pciNode int) fakeHost {
		return fakeHost{nodes: 4, sockets: 1, cores: 2, threads: 1, memMB: gib16, dedicated: "0-7", pci: []int{pciNode}}
	}
	scenarios = append(scenarios,
		scenario{"TestPackNUMACellsWithPCIDevices.test_scheduler_and_claim_agree_on_non_pci_vm_placement",
			packHost(0), pack, []step{{specs: hugeDedicated(""), nodes: one(1)}}},
		scenario{"TestPackNUMACellsWithPCIDevices.test_non_pci_vm_pack_sequential_avoids_pci_node",
			packHost(0), pack, []step{
				{specs: hugeDedicated(""), nodes: one(1)},
				{specs: hugeDedicated(""), nodes: one(2)},
				{specs: hugeDedicated(""), nodes: one(3)},
			}},
		scenario{"TestPackNUMACellsWithPCIDevices.test_pci_vm_lands_on_pci_numa_node_with_pack",
			packHost(1), pack, []step{{specs: hugeDedicated("a1:1"), nodes: one(1), devs: []string{"0000:81:00.0"}}}},
	)
	// SRIOVServersTest: both the PF and its VFs in device_spec ([pci] report_in_placement false).
	sriov := func(pfs, vfs int) fakeHost {
		h := novaDefaultHost()
		h.pfs, h.vfs = pfs, vfs
		for i := 0; i < pfs; i++ {
			h.pfNodes = append(h.pfNodes, i%2)
		}
		return h
	}
	alias := func(a string) map[string]string { return map[string]string{"pci_passthrough:alias": a} }
	scenarios = append(scenarios,
		scenario{"SRIOVServersTest.test_create_server_with_VF", sriov(2, 8), sriovNova,
			[]step{{specs: alias("vfs:1"), devs: []string{"0000:81:00.1"}}}},
		scenario{"SRIOVServersTest.test_create_server_with_PF", sriov(2, 8), sriovNova,
			[]step{{specs: alias("pfs:1"), devs: []string{"0000:81:00.0"}}}},
		scenario{"SRIOVServersTest.test_create_server_with_PF_no_VF", sriov(1, 4), sriovNova,
			[]step{{specs: alias("pfs:1"), devs: []string{"0000:81:00.0"}}, {specs: alias("vfs:1"), error: true}}},
		scenario{"SRIOVServersTest.test_create_server_with_VF_no_PF", sriov(1, 4), sriovNova,
			[]step{{specs: alias("vfs:1"), devs: []string{"0000:81:00.1"}}, {specs: alias("pfs:1"), error: true}}},
	)
	for _, sc := range scenarios {
		t.Run(sc.nova, func(t *testing.T) { runScenario(t, sc) })
	}
}

func runScenario(t *testing.T, sc scenario) {
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte(sc.host.labYAML(sc.conf)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startLab(t, file, func(o *mock.Options) {
		d := time.Duration(0)
		o.BootLatency = &d
	})
	booted := make([][]string, len(sc.steps))
	for i, st := range sc.steps {
		if st.del != nil {
			for _, id := range booted[*st.del] {
				if err := servers.Delete(ctxT(t), c.compute, id).ExtractErr(); err != nil {
					t.Fatalf("step %d: deleting %s: %v", i, id, err)
				}
			}
			continue
		}
		vcpus, mem := st.vcpus, st.mem
		if vcpus == 0 {
			vcpus = 2 // _create_flavor's defaults
		}
		if mem == 0 {
			mem = 2048
		}
		f := c.flavor(fmt.Sprintf("f%d", i), vcpus, mem, st.specs)
		name := fmt.Sprintf("s%d", i)
		ids := c.bootMany(name, f.ID, st.count)
		booted[i] = ids
		var all []string
		for _, id := range ids {
			s := c.settle(id)
			if st.error {
				if s.Status != "ERROR" || s.Fault.Message != "No valid host was found. There are not enough hosts available." {
					t.Fatalf("step %d %v: server %s %s (fault %+v), want ERROR with No valid host", i, st.specs, s.Name, s.Status, s.Fault)
				}
				continue
			}
			if s.Status != "ACTIVE" {
				t.Fatalf("step %d %v: server %s %s (fault %+v), want ACTIVE", i, st.specs, s.Name, s.Status, s.Fault)
			}
			rec, err := c.m.Cloud().Server(id)
			if err != nil {
				t.Fatal(err)
			}
			var nodes []int
			var devs []string
			for _, cell := range rec.Placement.Cells {
				nodes = append(nodes, cell.HostNode)
			}
			for _, d := range rec.Placement.Devices {
				devs = append(devs, d.Address.String())
			}
			if st.nodes != nil && !slices.Equal(nodes, st.nodes) {
				t.Errorf("step %d %v: server %s on host nodes %v, want %v", i, st.specs, s.Name, nodes, st.nodes)
			}
			if st.devs != nil && !slices.Equal(devs, st.devs) {
				t.Errorf("step %d %v: server %s has devices %v, want %v", i, st.specs, s.Name, devs, st.devs)
			}
			all = append(all, devs...)
		}
		if st.count > 1 && !st.error {
			uniq := slices.Compact(slices.Sorted(slices.Values(all)))
			if len(uniq) != len(all) || len(all) == 0 {
				t.Errorf("step %d: the %d servers share devices: %v", i, st.count, all)
			}
		}
	}
}

// bootMany creates count servers (min_count; 0 is one) of a flavor and returns their ids, the
// servers named name or name-N.
func (c *labClient) bootMany(name, flavorID string, count int) []string {
	c.t.Helper()
	first, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: name, FlavorRef: flavorID, Min: count}})
	if err != nil {
		c.t.Fatalf("creating %s: %v", name, err)
	}
	if count <= 1 {
		return []string{first.ID}
	}
	pages, err := servers.List(c.compute, servers.ListOpts{Name: "^" + name + "-[0-9]+$"}).AllPages(ctxT(c.t))
	if err != nil {
		c.t.Fatal(err)
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		c.t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	if len(ids) != count || !slices.Contains(ids, first.ID) {
		c.t.Fatalf("min_count %d made servers %v (first %s)", count, ids, first.ID)
	}
	return ids
}

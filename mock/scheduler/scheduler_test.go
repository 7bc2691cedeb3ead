package scheduler

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/novaspec"
)

func TestNewRejectsUnknownFault(t *testing.T) {
	l := loadLab(t, "multi")
	if _, err := New(l, Options{Faults: []string{"numa-misplace", "lie-a-lot"}}); err == nil || !strings.Contains(err.Error(), `"lie-a-lot"`) {
		t.Fatalf("err = %v, want it to name the unknown fault", err)
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("nil lab accepted")
	}
}

func TestScheduleReturnsNovaspecErrors(t *testing.T) {
	s := newSched(t, loadLab(t, "multi"))
	var nd *novaspec.AliasNotDefinedError
	if _, _, err := boot(t, s, 1, 512, map[string]string{"pci_passthrough:alias": "nope:1"}); !errors.As(err, &nd) || err.Error() != "PCI alias nope is not defined" {
		t.Fatalf("undefined alias: %v", err)
	}
	var mal *novaspec.MalformedAliasError
	if _, _, err := boot(t, s, 1, 512, map[string]string{"pci_passthrough:alias": "gpu:1,,gpu:1"}); !errors.As(err, &mal) {
		t.Fatalf("malformed alias: %v", err)
	}
	var te *novaspec.TopologyError
	if _, _, err := boot(t, s, 3, 512, map[string]string{"hw:numa_nodes": "2"}); !errors.As(err, &te) {
		t.Fatalf("asymmetric topology: %v", err)
	}
	if u, _ := s.Usage("worker-0"); u.RunningVMs != 0 || u.PCIFree != u.PCITotal {
		t.Fatalf("failed requests left claims: %+v", u)
	}
}

func TestForcedHostAndZone(t *testing.T) {
	s := newSched(t, loadLab(t, "multi"))
	gpu := map[string]string{"pci_passthrough:alias": "gpu:1"}
	for _, c := range []struct {
		host, zone string
		specs      map[string]string
		want       string // host, "" = No valid host
	}{
		{"worker-3", "", gpu, ""},
		{"worker-2", "", gpu, "worker-2"},
		{"worker-3", "", nil, "worker-3"},
		{"worker-9", "", nil, ""},
		{"worker-1", "nova", nil, "worker-1"},
		{"worker-1", "other", nil, ""},
		{"", "other", nil, ""},
		{"", "nova", nil, "worker-3"}, // no PCI requested: hosts without free devices first
	} {
		p, err := s.Schedule(Request{ServerID: "s-" + c.host + c.zone, VCPUs: 1, MemoryMB: 512, ExtraSpecs: c.specs, Host: c.host, AvailabilityZone: c.zone})
		if c.want == "" {
			if !isNoValidHost(err) {
				t.Errorf("host %q zone %q: %+v, %v; want No valid host", c.host, c.zone, p, err)
			}
			continue
		}
		if err != nil || p.Host != c.want {
			t.Errorf("host %q zone %q: %+v, %v; want %s", c.host, c.zone, p, err, c.want)
		}
	}
	if _, err := s.Schedule(Request{ServerID: "s-worker-3", VCPUs: 1, MemoryMB: 1}); err == nil {
		t.Fatal("a server holding claims was scheduled twice")
	}
}

func TestForcedHostNUMAMismatch(t *testing.T) {
	// worker-0: the GPU is on node 1 only; a 1-node guest with two GPUs cannot fit.
	s := newSched(t, loadLab(t, "multi"))
	_, err := s.Schedule(Request{ServerID: "x", VCPUs: 1, MemoryMB: 512, Host: "worker-0",
		ExtraSpecs: map[string]string{"pci_passthrough:alias": "gpu:1,qat-c62x-vf:1", "hw:numa_nodes": "1", "hw:pci_numa_affinity_policy": "required"}})
	if !isNoValidHost(err) {
		t.Fatalf("err = %v", err)
	}
	var nv *NoValidHostError
	if !errors.As(err, &nv) || !strings.Contains(nv.Reason, "1 by NUMATopologyFilter") {
		t.Fatalf("reason = %+v", nv)
	}
}

func TestPFsOnlyWhenAskedFor(t *testing.T) {
	y := `name: pf
nova:
  aliases:
    - {name: qat-c62x-pf, vendor_id: "8086", product_id: "37c8"}
    - {name: qat-pf-typed, vendor_id: "8086", product_id: "37c8", device_type: type-PF}
    - {name: qat-vf-typed, vendor_id: "8086", product_id: "37c9", device_type: type-VF}
    - {name: qat-pci-typed, vendor_id: "8086", product_id: "37c9", device_type: type-PCI}
  device_spec:
    - {vendor_id: "8086", product_id: "37c8", address: "0000:3d:*"}
    - {vendor_id: "8086", product_id: "37c9", address: "0000:b1:*"}
hosts:
  - name: h
    numa_nodes: [{id: 0, socket: 0, memory_mb: 8192, cores: ["0,2", "1,3"]}]
    pci_devices:
      - {address: "0000:3d:00.0", vendor_id: "8086", product_id: "37c8", class: "0x0b4000", numa_node: 0, vfs: {count: 2, address: "0000:3d:01.0", product_id: "37c9"}}
      - {address: "0000:b1:00.0", vendor_id: "8086", product_id: "37c8", class: "0x0b4000", numa_node: 0, vfs: {count: 2, address: "0000:b1:01.0", product_id: "37c9"}}
`
	l, err := lab.Parse("pf.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	s := newSched(t, l)
	if _, _, err := boot(t, s, 1, 256, map[string]string{"pci_passthrough:alias": "qat-c62x-pf:1"}); !isNoValidHost(err) {
		t.Fatalf("alias without device_type got a PF: %v", err)
	}
	p, _ := mustBoot(t, s, 1, 256, map[string]string{"pci_passthrough:alias": "qat-pf-typed:1"})
	if got := addrs(p); !reflect.DeepEqual(got, []string{"0000:3d:00.0"}) {
		t.Fatalf("type-PF alias got %v", got)
	}
	p, _ = mustBoot(t, s, 1, 256, map[string]string{"pci_passthrough:alias": "qat-vf-typed:2"})
	if got := addrs(p); !reflect.DeepEqual(got, []string{"0000:b1:01.0", "0000:b1:01.1"}) {
		t.Fatalf("type-VF alias got %v", got)
	}
	if _, _, err := boot(t, s, 1, 256, map[string]string{"pci_passthrough:alias": "qat-pci-typed:1"}); !isNoValidHost(err) {
		t.Fatalf("type-PCI alias matched a VF: %v", err)
	}
}

func TestAliasEntriesAreORed(t *testing.T) {
	l := loadLab(t, "multi")
	l.Nova.Aliases = append(l.Nova.Aliases, lab.Alias{Name: "any-qat-vf", VendorID: "8086", ProductID: "37c9"},
		lab.Alias{Name: "any-qat-vf", VendorID: "8086", ProductID: "0443"})
	s := newSched(t, l)
	// worker-1 has 8 C62x VFs and 4 DH895XCC VFs: 12 devices answer the alias there.
	p, err := s.Schedule(Request{ServerID: "or", VCPUs: 1, MemoryMB: 512, Host: "worker-1", ExtraSpecs: map[string]string{"pci_passthrough:alias": "any-qat-vf:12"}})
	if err != nil || len(p.Devices) != 12 {
		t.Fatalf("%+v, %v", p, err)
	}
	if _, err := s.Schedule(Request{ServerID: "or2", VCPUs: 1, MemoryMB: 512, Host: "worker-1", ExtraSpecs: map[string]string{"pci_passthrough:alias": "any-qat-vf:1"}}); !isNoValidHost(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestPCIExhaustionAndRelease(t *testing.T) {
	s := newSched(t, loadLab(t, "aio"))
	qat := map[string]string{"pci_passthrough:alias": "qat-c62x-vf:2"}
	seen := map[string]bool{}
	var ids []string
	for i := 0; i < 4; i++ {
		p, id := mustBoot(t, s, 1, 512, qat)
		ids = append(ids, id)
		for _, a := range addrs(p) {
			if seen[a] {
				t.Fatalf("device %s given twice", a)
			}
			seen[a] = true
		}
	}
	if _, _, err := boot(t, s, 1, 512, qat); !isNoValidHost(err) {
		t.Fatalf("9th and 10th VF: %v", err)
	}
	if u, _ := s.Usage("controller-0"); u.PCIFree != 8 || u.PCITotal != 16 || u.RunningVMs != 4 || u.VCPUsUsed != 4 || u.MemoryMBUsed != 2048 {
		t.Fatalf("usage %+v", u)
	}
	s.Release(ids[1])
	s.Release(ids[1]) // twice: harmless
	s.Release("never-scheduled")
	if _, id, err := boot(t, s, 1, 512, qat); err != nil {
		t.Fatalf("after release: %v", err)
	} else {
		ids[1] = id
	}
	for _, id := range ids {
		s.Release(id)
	}
	if u, _ := s.Usage("controller-0"); u.PCIFree != 16 || u.RunningVMs != 0 || u.VCPUsUsed != 0 || u.MemoryMBUsed != 0 {
		t.Fatalf("usage after releasing everything %+v", u)
	}
	if _, ok := s.Usage("nope"); ok {
		t.Fatal("usage of an unknown host")
	}
	if inv, ok := s.Inventory("controller-0"); !ok || len(inv.Devices) != 18 {
		t.Fatal("inventory")
	}
}

func TestCapacity(t *testing.T) {
	s := newSched(t, loadLab(t, "aio")) // 32 GiB, 2 shared CPUs x 16 = 32 shared vCPUs, 14 dedicated pCPUs
	if _, _, err := boot(t, s, 1, 32769, nil); !isNoValidHost(err) {
		t.Fatalf("memory beyond the host: %v", err)
	}
	if _, _, err := boot(t, s, 33, 512, nil); !isNoValidHost(err) {
		t.Fatalf("vCPUs beyond cpu_shared_set x ratio: %v", err)
	}
	if _, _, err := boot(t, s, 15, 512, map[string]string{"hw:cpu_policy": "dedicated"}); !isNoValidHost(err) {
		t.Fatalf("pinned vCPUs beyond cpu_dedicated_set: %v", err)
	}
	// A one-node guest cannot take more than a node's memory, though the host has it.
	if _, _, err := boot(t, s, 2, 16385, map[string]string{"hw:numa_nodes": "1"}); !isNoValidHost(err) {
		t.Fatalf("memory beyond a node: %v", err)
	}
	// aio's shared CPUs (0, 8) are all on node 0, so a two-node guest has to be pinned.
	if _, _, err := boot(t, s, 2, 32768, map[string]string{"hw:numa_nodes": "2"}); !isNoValidHost(err) {
		t.Fatalf("shared two-node guest on a host whose node 1 has no shared CPU: %v", err)
	}
	if _, _, err := boot(t, s, 2, 32768, map[string]string{"hw:numa_nodes": "2", "hw:cpu_policy": "dedicated"}); err != nil {
		t.Fatalf("two nodes of 16 GiB: %v", err)
	}
	if _, _, err := boot(t, s, 1, 1, nil); !isNoValidHost(err) {
		t.Fatalf("memory exhausted: %v", err)
	}
	// A shared NUMA guest cell may not have more vCPUs than its node has shared CPUs (aio: 2 on
	// node 0, none on node 1), whatever the allocation ratio.
	s = newSched(t, loadLab(t, "aio"))
	if _, _, err := boot(t, s, 3, 512, map[string]string{"hw:numa_nodes": "1"}); !isNoValidHost(err) {
		t.Fatalf("3 vCPUs on a node with 2 shared CPUs: %v", err)
	}
	for i := 0; i < 16; i++ { // 2 shared CPUs x 16 = 32 floating vCPUs on node 0
		if _, _, err := boot(t, s, 2, 256, map[string]string{"hw:numa_nodes": "1"}); err != nil {
			t.Fatalf("guest %d: %v", i, err)
		}
	}
	if _, _, err := boot(t, s, 1, 256, map[string]string{"hw:numa_nodes": "1"}); !isNoValidHost(err) {
		t.Fatalf("33rd floating vCPU on node 0: %v", err)
	}
}

func TestDedicatedPinning(t *testing.T) {
	s := newSched(t, loadLab(t, "aio")) // cpu_dedicated_set 1-7,9-15
	inv, _ := s.Inventory("controller-0")
	pinned := map[int]string{}
	var ids []string
	for {
		p, id, err := boot(t, s, 2, 512, map[string]string{"hw:cpu_policy": "dedicated"})
		if err != nil {
			if !isNoValidHost(err) {
				t.Fatal(err)
			}
			break
		}
		ids = append(ids, id)
		if !p.Dedicated || !p.NUMA || len(p.Cells) != 1 || len(p.Cells[0].PCPUs) != 2 || !reflect.DeepEqual(p.Cells[0].VCPUs, []int{0, 1}) {
			t.Fatalf("placement %+v", p)
		}
		for _, cpu := range p.Cells[0].PCPUs {
			if prev, dup := pinned[cpu]; dup {
				t.Fatalf("pCPU %d pinned to %s and %s", cpu, prev, id)
			}
			pinned[cpu] = id
			if !inv.Dedicated[cpu] || inv.CPUs[cpu].Node != p.Cells[0].HostNode {
				t.Fatalf("pCPU %d: not dedicated or not on host node %d", cpu, p.Cells[0].HostNode)
			}
		}
	}
	if len(ids) != 7 || len(pinned) != 14 {
		t.Fatalf("%d guests pinned %d pCPUs, want 7 and 14", len(ids), len(pinned))
	}
	for _, id := range ids {
		s.Release(id)
	}
	if p, _ := mustBoot(t, s, 7, 512, map[string]string{"hw:cpu_policy": "dedicated"}); len(p.Cells[0].PCPUs) != 7 {
		t.Fatalf("after release: %+v", p)
	}
}

func TestThreadPolicies(t *testing.T) {
	sibling := func(inv *lab.HostInventory, a, b int) bool { return slices.Contains(inv.CPUs[a].Siblings, b) }
	s := newSched(t, loadLab(t, "multi"))
	inv, _ := s.Inventory("worker-3") // one node, cores 0,4 1,5 2,6 3,7
	p, err := s.Schedule(Request{ServerID: "iso", VCPUs: 2, MemoryMB: 512, Host: "worker-3",
		ExtraSpecs: map[string]string{"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate"}})
	if err != nil {
		t.Fatal(err)
	}
	pc := p.Cells[0].PCPUs
	if len(pc) != 2 || sibling(inv, pc[0], pc[1]) {
		t.Fatalf("isolate pinned %v", pc)
	}
	// isolate keeps the siblings idle: 2 whole cores are gone, 4 threads remain.
	if _, err := s.Schedule(Request{ServerID: "five", VCPUs: 5, MemoryMB: 512, Host: "worker-3", ExtraSpecs: map[string]string{"hw:cpu_policy": "dedicated"}}); !isNoValidHost(err) {
		t.Fatalf("5 pCPUs after isolate took 4: %v", err)
	}
	p, err = s.Schedule(Request{ServerID: "pref", VCPUs: 2, MemoryMB: 512, Host: "worker-3", ExtraSpecs: map[string]string{"hw:cpu_policy": "dedicated"}})
	if err != nil || !sibling(inv, p.Cells[0].PCPUs[0], p.Cells[0].PCPUs[1]) {
		t.Fatalf("prefer should keep a guest's vCPUs on thread siblings: %+v, %v", p, err)
	}
	// require needs thread siblings: a host without SMT cannot take it.
	l, err := lab.Parse("nosmt.yaml", []byte("name: nosmt\nnova: {}\nhosts: [{name: h, numa_nodes: [{id: 0, socket: 0, memory_mb: 4096, cores: ['0', '1', '2', '3']}]}]"))
	if err != nil {
		t.Fatal(err)
	}
	s = newSched(t, l)
	if _, _, err := boot(t, s, 2, 512, map[string]string{"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "require"}); !isNoValidHost(err) {
		t.Fatalf("require on a host without SMT: %v", err)
	}
	if _, _, err := boot(t, s, 2, 512, map[string]string{"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate"}); err != nil {
		t.Fatalf("isolate on a host without SMT: %v", err)
	}
}

func TestEmulatorThreadsAndMixed(t *testing.T) {
	s := newSched(t, loadLab(t, "aio"))
	p, _ := mustBoot(t, s, 2, 512, map[string]string{"hw:cpu_policy": "dedicated", "hw:emulator_threads_policy": "isolate"})
	if len(p.EmulatorPCPUs) != 1 || slices.Contains(p.Cells[0].PCPUs, p.EmulatorPCPUs[0]) {
		t.Fatalf("emulator pCPU %v, vCPU pins %v", p.EmulatorPCPUs, p.Cells[0].PCPUs)
	}
	inv, _ := s.Inventory("controller-0")
	if inv.CPUs[p.EmulatorPCPUs[0]].Node != p.Cells[0].HostNode {
		t.Fatal("emulator pCPU not on guest cell 0's node")
	}
	p, _ = mustBoot(t, s, 2, 512, map[string]string{"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0"})
	c := p.Cells[0]
	if p.Dedicated || !reflect.DeepEqual(c.VCPUs, []int{0, 1}) || !reflect.DeepEqual(c.DedicatedVCPUs, []int{1}) || len(c.DedicatedPCPUs) != 1 || len(c.PCPUs) != 2 {
		t.Fatalf("mixed cell %+v", c)
	}
	if !inv.Dedicated[c.DedicatedPCPUs[0]] || !inv.Shared[c.PCPUs[0]] {
		t.Fatalf("mixed: pinned vCPU on %v (must be dedicated), floating over %v (must be shared)", c.DedicatedPCPUs, c.PCPUs)
	}
}

func TestHugepagesMakeATopology(t *testing.T) {
	s := newSched(t, loadLab(t, "multi"))
	p, _ := mustBoot(t, s, 2, 1024, map[string]string{"hw:mem_page_size": "large", "pci_passthrough:alias": "qat-c62x-vf:1", "hw:pci_numa_affinity_policy": "required"})
	if !p.NUMA || len(p.Cells) != 1 || p.Dedicated {
		t.Fatalf("placement %+v", p)
	}
	if got := deviceNodes(t, s, p); got[0] != itoa(p.Cells[0].HostNode) {
		t.Fatalf("device on node %v, guest on %d", got, p.Cells[0].HostNode)
	}
}

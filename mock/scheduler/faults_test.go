package scheduler

import (
	"reflect"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func forced(s *Scheduler, id, host string, specs map[string]string) (*Placement, error) {
	return s.Schedule(Request{ServerID: id, VCPUs: 1, MemoryMB: 512, Host: host, ExtraSpecs: specs})
}

func TestFaultNUMAMisplace(t *testing.T) {
	specs := map[string]string{"pci_passthrough:alias": "qat-c62x-vf:2", "hw:numa_nodes": "1", "hw:pci_numa_affinity_policy": "required"}
	honest := newSched(t, loadLab(t, "multi"))
	p, err := forced(honest, "a", "worker-1", specs)
	if err != nil {
		t.Fatal(err)
	}
	node := p.Cells[0].HostNode
	if got := deviceNodes(t, honest, p); !reflect.DeepEqual(got, []string{itoa(node), itoa(node)}) {
		t.Fatalf("honest: devices on %v, guest on %d", got, node)
	}
	lying := newSched(t, loadLab(t, "multi"), vocab.FaultNUMAMisplace)
	p, err = forced(lying, "a", "worker-1", specs)
	if err != nil {
		t.Fatal(err)
	}
	other := itoa(1 - p.Cells[0].HostNode)
	if got := deviceNodes(t, lying, p); !reflect.DeepEqual(got, []string{other, other}) {
		t.Fatalf("misplace: devices on %v, guest on %d", got, p.Cells[0].HostNode)
	}
	if u, _ := lying.Usage("worker-1"); u.PCIFree != u.PCITotal-2 {
		t.Fatalf("claims do not follow the lie: %+v", u)
	}
	lying.Release("a")
	if u, _ := lying.Usage("worker-1"); u.PCIFree != u.PCITotal {
		t.Fatalf("after release: %+v", u)
	}
	// worker-0 has C62x VFs on node 0 only: nothing to misplace to, so the fault stays honest.
	p, err = forced(lying, "b", "worker-0", specs)
	if err != nil || deviceNodes(t, lying, p)[0] != itoa(p.Cells[0].HostNode) {
		t.Fatalf("worker-0: %+v, %v", p, err)
	}
	// Without a guest NUMA topology there is no wrong node to lie about.
	p, err = forced(lying, "c", "worker-1", map[string]string{"pci_passthrough:alias": "qat-c62x-vf:1"})
	if err != nil || p.NUMA || len(p.Devices) != 1 {
		t.Fatalf("no topology: %+v, %v", p, err)
	}
}

func TestFaultWrongDevice(t *testing.T) {
	s := newSched(t, loadLab(t, "aio"), vocab.FaultWrongDevice)
	p, _ := mustBoot(t, s, 1, 512, map[string]string{"pci_passthrough:alias": "qat-c62x-vf:2"})
	inv, _ := s.Inventory(p.Host)
	products := map[string]int{}
	for _, d := range p.Devices {
		dev, _ := inv.Device(d.Address)
		products[dev.ProductID]++
		if d.Alias != "qat-c62x-vf" {
			t.Fatalf("alias %q", d.Alias)
		}
	}
	// One of the two is now a DH895XCC VF: a VF of another product, preferred over a PF.
	if !reflect.DeepEqual(products, map[string]int{"37c9": 1, "0443": 1}) {
		t.Fatalf("products %v", products)
	}
	if u, _ := s.Usage(p.Host); u.PCIFree != u.PCITotal-2 {
		t.Fatalf("usage %+v", u)
	}
}

func TestFaultDropAndExtraHostdev(t *testing.T) {
	s := newSched(t, loadLab(t, "aio"), vocab.FaultDropHostdev)
	p, id := mustBoot(t, s, 1, 512, map[string]string{"pci_passthrough:alias": "qat-c62x-vf:2"})
	if len(p.Devices) != 1 {
		t.Fatalf("drop-hostdev: %d devices", len(p.Devices))
	}
	if u, _ := s.Usage(p.Host); u.PCIFree != u.PCITotal-1 {
		t.Fatalf("drop-hostdev usage %+v", u)
	}
	s.Release(id)

	s = newSched(t, loadLab(t, "aio"), vocab.FaultExtraHostdev)
	p, id = mustBoot(t, s, 1, 512, map[string]string{"pci_passthrough:alias": "qat-c62x-vf:1"})
	inv, _ := s.Inventory(p.Host)
	if len(p.Devices) != 2 || p.Devices[1].Alias != "" || p.Devices[0].Address == p.Devices[1].Address {
		t.Fatalf("extra-hostdev: %+v", p.Devices)
	}
	for _, d := range p.Devices {
		if dev, _ := inv.Device(d.Address); dev.ProductID != "37c9" {
			t.Fatalf("extra device %s is %s", d.Address, dev.ProductID)
		}
	}
	if u, _ := s.Usage(p.Host); u.PCIFree != u.PCITotal-2 {
		t.Fatalf("extra-hostdev usage %+v", u)
	}
	s.Release(id)
	if u, _ := s.Usage(p.Host); u.PCIFree != u.PCITotal {
		t.Fatalf("after release %+v", u)
	}
	// No device requested: nothing to add.
	if p, _ := mustBoot(t, s, 1, 512, nil); len(p.Devices) != 0 {
		t.Fatalf("extra device on a server without PCI: %+v", p.Devices)
	}
}

func TestFaultIgnorePolicy(t *testing.T) {
	specs := map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "required", "hw:numa_nodes": "1"}
	for _, fault := range []bool{false, true} {
		var s *Scheduler
		if fault {
			s = newSched(t, twoNodeLab(t, 0, 1, vocab.AffinityUpstream, "0"), vocab.FaultIgnorePolicy)
		} else {
			s = newSched(t, twoNodeLab(t, 0, 1, vocab.AffinityUpstream, "0"))
		}
		mustBoot(t, s, 1, 6144, map[string]string{"hw:numa_nodes": "1"}) // fills node 0
		p, _, err := boot(t, s, 1, 3072, specs)
		if !fault {
			if !isNoValidHost(err) {
				t.Fatalf("honest: %+v, %v", p, err)
			}
			continue
		}
		if err != nil || deviceNodes(t, s, p)[0] != "0" || p.Cells[0].HostNode != 1 {
			t.Fatalf("ignore-policy: %+v, %v", p, err)
		}
	}
}

func TestLabFaultsApply(t *testing.T) {
	l := loadLab(t, "aio")
	l.Faults = []string{vocab.FaultDropHostdev}
	s := newSched(t, l)
	if p, _ := mustBoot(t, s, 1, 512, map[string]string{"pci_passthrough:alias": "qat-c62x-vf:1"}); len(p.Devices) != 0 {
		t.Fatalf("lab fault not applied: %+v", p.Devices)
	}
}

func TestEveryFaultKeepsDevicesUnique(t *testing.T) {
	for _, fault := range allFaults() {
		t.Run(fault, func(t *testing.T) {
			s := newSched(t, loadLab(t, "multi"), fault)
			owner := map[string]string{}
			for i := 0; ; i++ {
				specs := map[string]string{"pci_passthrough:alias": "qat-c62x-vf:1", "hw:numa_nodes": "1"}
				if i%2 == 1 {
					specs["pci_passthrough:alias"] = "qat-dh895xcc-vf:1,gpu:1"
					specs["hw:pci_numa_affinity_policy"] = "preferred"
				}
				p, id, err := boot(t, s, 1, 256, specs)
				if err != nil {
					if !isNoValidHost(err) {
						t.Fatal(err)
					}
					if i > 100 {
						break
					}
					continue
				}
				for _, d := range p.Devices {
					key := p.Host + "/" + d.Address.String()
					if prev, dup := owner[key]; dup {
						t.Fatalf("%s given to %s and %s", key, prev, id)
					}
					owner[key] = id
				}
			}
		})
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// TestDomainLies: each lie about pins and memory binding shows in the placement the domain XML
// is rendered from, while the claims stay true.
func TestDomainLies(t *testing.T) {
	dedicated := map[string]string{"hw:cpu_policy": "dedicated"}
	sharedNUMA := map[string]string{"hw:numa_nodes": "1"}
	for _, tc := range []struct {
		fault, host string
		specs       map[string]string
		check       func(s *Scheduler, first, p *Placement) string
	}{
		{vocab.FaultPCPUOverlap, "worker-0", dedicated, func(_ *Scheduler, first, p *Placement) string {
			if p.Cells[0].PCPUs[0] != first.Cells[0].PCPUs[0] {
				return "vCPU 0 not on the first guest's pCPU"
			}
			return ""
		}},
		{vocab.FaultPCPUOutsideSet, "worker-3", dedicated, func(s *Scheduler, _, p *Placement) string {
			inv, _ := s.Inventory("worker-3")
			if inv.Dedicated[p.Cells[0].PCPUs[0]] {
				return "vCPU 0 inside cpu_dedicated_set"
			}
			return ""
		}},
		{vocab.FaultPCPUWrongNode, "worker-0", dedicated, func(s *Scheduler, _, p *Placement) string {
			inv, _ := s.Inventory("worker-0")
			for _, c := range inv.CPUs {
				if c.ID == p.Cells[0].PCPUs[0] && c.Node == p.Cells[0].HostNode {
					return "vCPU 0 on its cell's node"
				}
			}
			return ""
		}},
		{vocab.FaultSharedFloatWide, "worker-0", sharedNUMA, func(_ *Scheduler, _, p *Placement) string {
			if len(p.Cells[0].PCPUs) != 16 {
				return "shared vCPUs do not float over the whole host"
			}
			return ""
		}},
		{vocab.FaultMemnodeLoose, "worker-0", dedicated, func(_ *Scheduler, _, p *Placement) string {
			if p.MemNodeMode != "preferred" {
				return "memnode mode not preferred"
			}
			return ""
		}},
		{vocab.FaultMemoryNodesetWide, "worker-0", dedicated, func(_ *Scheduler, _, p *Placement) string {
			if !reflect.DeepEqual(p.MemoryNodes, []int{0, 1}) {
				return "memory nodeset not widened"
			}
			return ""
		}},
		{vocab.FaultNUMAUnbound, "worker-0", dedicated, func(_ *Scheduler, _, p *Placement) string {
			if !p.Unbound {
				return "numatune still written"
			}
			return ""
		}},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			s := newSched(t, loadLab(t, "multi"), tc.fault)
			first, err := forced(s, "a", tc.host, tc.specs)
			if err != nil {
				t.Fatal(err)
			}
			p, err := forced(s, "b", tc.host, tc.specs)
			if err != nil {
				t.Fatal(err)
			}
			if why := tc.check(s, first, p); why != "" {
				t.Errorf("%s: %s: %+v", tc.fault, why, p)
			}
			honest := newSched(t, loadLab(t, "multi"))
			h, _ := forced(honest, "a", tc.host, tc.specs)
			if h.MemNodeMode != "" || h.MemoryNodes != nil || h.Unbound {
				t.Errorf("honest placement lies: %+v", h)
			}
		})
	}
}

func TestFaultPreferredRemote(t *testing.T) {
	specs := map[string]string{"pci_passthrough:alias": "qat-c62x-vf:1", "hw:numa_nodes": "1", "hw:pci_numa_affinity_policy": "preferred"}
	s := newSched(t, loadLab(t, "multi"), vocab.FaultPreferredRemote)
	p, err := forced(s, "a", "worker-1", specs)
	if err != nil {
		t.Fatal(err)
	}
	if got := deviceNodes(t, s, p); got[0] == itoa(p.Cells[0].HostNode) {
		t.Fatalf("preferred-remote: device on the guest's node %v", got)
	}
	specs["hw:pci_numa_affinity_policy"] = "required"
	p, err = forced(s, "b", "worker-1", specs)
	if err != nil || deviceNodes(t, s, p)[0] != itoa(p.Cells[0].HostNode) {
		t.Fatalf("required stays honest under preferred-remote: %+v, %v", p, err)
	}
}

func TestFaultCannotApply(t *testing.T) {
	l := loadLab(t, "multi")
	l.Hosts[3].CPUDedicatedSet = ""
	if _, err := New(l, Options{Faults: []string{vocab.FaultPCPUOutsideSet}}); err == nil ||
		err.Error() != "fault pcpu-outside-dedicated-set cannot apply to lab multi: no host's cpu_dedicated_set leaves a CPU out, so there is no CPU outside it to pin to" {
		t.Errorf("err = %v", err)
	}
	if _, err := New(loadLab(t, "multi"), Options{Faults: []string{vocab.FaultPCPUOutsideSet}}); err != nil {
		t.Errorf("multi has worker-3's subset set: %v", err)
	}
}

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

package scheduler

import (
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
)

// shapes are the flavors the randomized and concurrent tests and the benchmark draw from.
var shapes = []struct {
	vcpus, mem int
	specs      map[string]string
}{
	{2, 2048, nil},
	{1, 512, map[string]string{"pci_passthrough:alias": "qat-c62x-vf:1"}},
	{4, 4096, map[string]string{"pci_passthrough:alias": "qat-c62x-vf:2", "hw:numa_nodes": "1", "hw:pci_numa_affinity_policy": "required"}},
	{4, 4096, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:cpu_policy": "dedicated"}},
	{2, 2048, map[string]string{"pci_passthrough:alias": "gpu:1, qat-c62x-vf:2", "hw:numa_nodes": "2", "hw:pci_numa_affinity_policy": "preferred"}},
	{2, 1024, map[string]string{"pci_passthrough:alias": "qat-dh895xcc-vf:1", "hw:cpu_policy": "dedicated", "hw:pci_numa_affinity_policy": "socket"}},
	{3, 1024, map[string]string{"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0", "pci_passthrough:alias": "qat-c62x-vf:1"}},
	{2, 1024, map[string]string{"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate", "hw:emulator_threads_policy": "isolate"}},
	{8, 8192, map[string]string{"hw:numa_nodes": "2", "hw:mem_page_size": "large", "pci_passthrough:alias": "qat-c62x-vf:1"}},
	{1, 256, map[string]string{"pci_passthrough:alias": "gpu:3"}}, // more GPUs than any host has
}

// checkInvariants compares every counter of the scheduler with what its claims add up to.
func checkInvariants(s *Scheduler) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hosts {
		owners := make([]string, len(h.owner))
		pinned := make([]bool, len(h.pinned))
		var vcpus, shared, mem, running int
		nodeMem := map[*nodeState]int{}
		nodeShared := map[*nodeState]int{}
		for id, c := range s.claims {
			if c.host != h {
				continue
			}
			running++
			vcpus += c.vcpus
			shared += c.sharedVCPUs
			mem += c.mem
			for _, d := range c.devices {
				if owners[d.dev] != "" {
					return fmt.Errorf("%s: device %s held by %s and %s", h.name, h.inv.Devices[d.dev].Address, owners[d.dev], id)
				}
				owners[d.dev] = id
			}
			for _, cc := range c.cells {
				nodeMem[cc.node] += cc.numaMem
				nodeShared[cc.node] += cc.shared
				for _, cpu := range cc.claimed {
					if pinned[cpu] {
						return fmt.Errorf("%s: pCPU %d pinned twice (again by %s)", h.name, cpu, id)
					}
					if !h.inv.Dedicated[cpu] || h.inv.CPUs[slices.IndexFunc(h.inv.CPUs, func(x lab.CPU) bool { return x.ID == cpu })].Node != cc.node.id {
						return fmt.Errorf("%s: pCPU %d of %s is not a dedicated CPU of node %d", h.name, cpu, id, cc.node.id)
					}
					pinned[cpu] = true
				}
			}
		}
		if !slices.Equal(owners, h.owner) {
			return fmt.Errorf("%s: device owners %v, claims say %v", h.name, h.owner, owners)
		}
		if !slices.Equal(pinned, h.pinned) {
			return fmt.Errorf("%s: pinned %v, claims say %v", h.name, h.pinned, pinned)
		}
		if vcpus != h.vcpusUsed || shared != h.sharedUsed || mem != h.memUsed || running != h.running {
			return fmt.Errorf("%s: counters vcpus %d/%d shared %d/%d mem %d/%d running %d/%d", h.name,
				h.vcpusUsed, vcpus, h.sharedUsed, shared, h.memUsed, mem, h.running, running)
		}
		if mem > h.memTotal || float64(shared) > h.vcpuCap {
			return fmt.Errorf("%s: over capacity: mem %d/%d shared vCPUs %d/%.0f", h.name, mem, h.memTotal, shared, h.vcpuCap)
		}
		free, pcpuFree := 0, 0
		for pi, p := range h.pools {
			n := 0
			for _, d := range p.devs {
				if h.available(d) {
					n++
				}
			}
			if n != p.free {
				return fmt.Errorf("%s: pool %d free %d, devices say %d", h.name, pi, p.free, n)
			}
			free += n
		}
		if free != h.exposedFree {
			return fmt.Errorf("%s: exposedFree %d, pools say %d", h.name, h.exposedFree, free)
		}
		for _, n := range h.nodes {
			if n.memUsed != nodeMem[n] || n.sharedUsed != nodeShared[n] || n.memUsed > n.memTotal ||
				float64(n.sharedUsed) > float64(len(n.shared))*h.ratio {
				return fmt.Errorf("%s node %d: mem %d (claims %d, total %d) shared %d (claims %d)", h.name, n.id,
					n.memUsed, nodeMem[n], n.memTotal, n.sharedUsed, nodeShared[n])
			}
			nf := n.dedicatedTotal
			for _, core := range n.cores {
				for _, c := range core {
					if h.pinned[c] {
						nf--
					}
				}
			}
			if nf != n.pcpuFree {
				return fmt.Errorf("%s node %d: pcpuFree %d, pins say %d", h.name, n.id, n.pcpuFree, nf)
			}
			pcpuFree += nf
		}
		if pcpuFree != h.pcpuFree {
			return fmt.Errorf("%s: pcpuFree %d, nodes say %d", h.name, h.pcpuFree, pcpuFree)
		}
	}
	return nil
}

// visible checks, from the placements alone, that no device and no pinned pCPU is shown twice.
func visible(live map[string]*Placement, pinLies bool) error {
	devs := map[string]string{}
	cpus := map[string]string{}
	for id, p := range live {
		for _, d := range p.Devices {
			k := p.Host + "/" + d.Address.String()
			if prev, dup := devs[k]; dup {
				return fmt.Errorf("device %s shown in %s and %s", k, prev, id)
			}
			devs[k] = id
		}
		var pins []int
		for _, c := range p.Cells {
			if p.Dedicated {
				pins = append(pins, c.PCPUs...)
			}
			pins = append(pins, c.DedicatedPCPUs...)
		}
		for _, cpu := range append(pins, p.EmulatorPCPUs...) {
			if pinLies {
				break // the pin faults show pCPUs that other guests hold; checkInvariants checks the claims
			}
			k := fmt.Sprintf("%s/%d", p.Host, cpu)
			if prev, dup := cpus[k]; dup {
				return fmt.Errorf("pCPU %s pinned in %s and %s", k, prev, id)
			}
			cpus[k] = id
		}
	}
	return nil
}

func TestRandomizedBootDelete(t *testing.T) {
	labs := map[string]func() *lab.Lab{
		"multi":     func() *lab.Lab { return loadLab(t, "multi") },
		"aio":       func() *lab.Lab { return loadLab(t, "aio") },
		"generated": func() *lab.Lab { return lab.Generate(40, 3) },
		"per-guest-node": func() *lab.Lab {
			l := lab.Generate(20, 4)
			l.Nova.PCINUMAAffinity = vocab.AffinityPerGuestNode
			return l
		},
	}
	rounds := 1500
	if testing.Short() {
		rounds = 300
	}
	for name, mk := range labs {
		for _, faults := range [][]string{nil, allFaults()} {
			t.Run(fmt.Sprintf("%s/faults=%d", name, len(faults)), func(t *testing.T) {
				l := mk()
				s := newSched(t, l, faults...)
				rng := rand.New(rand.NewSource(int64(len(name)*100 + len(faults))))
				live := map[string]*Placement{}
				var ids []string
				placed, refused := 0, 0
				for i := 0; i < rounds; i++ {
					if len(ids) > 0 && rng.Intn(3) == 0 {
						k := rng.Intn(len(ids))
						s.Release(ids[k])
						delete(live, ids[k])
						ids = slices.Delete(ids, k, k+1)
					} else {
						sh := shapes[rng.Intn(len(shapes))]
						req := Request{ServerID: fmt.Sprintf("r%d", i), VCPUs: sh.vcpus, MemoryMB: sh.mem, ExtraSpecs: sh.specs}
						if rng.Intn(5) == 0 {
							req.Host = l.Hosts[rng.Intn(len(l.Hosts))].Name
						}
						p, err := s.Schedule(req)
						switch {
						case err == nil:
							placed++
							live[req.ServerID] = p
							ids = append(ids, req.ServerID)
						case isNoValidHost(err):
							refused++
						default:
							t.Fatalf("round %d: %v", i, err)
						}
					}
					if i%25 == 0 || i == rounds-1 {
						if err := checkInvariants(s); err != nil {
							t.Fatalf("round %d: %v", i, err)
						}
						if err := visible(live, len(faults) > 0); err != nil {
							t.Fatalf("round %d: %v", i, err)
						}
					}
				}
				t.Logf("placed %d, refused %d", placed, refused)
				if placed == 0 || refused == 0 {
					t.Fatalf("placed %d, refused %d: the test exercised only one outcome", placed, refused)
				}
				for _, id := range ids {
					s.Release(id)
				}
				assertAllFree(t, s)
			})
		}
	}
}

func assertAllFree(t *testing.T, s *Scheduler) {
	t.Helper()
	if err := checkInvariants(s); err != nil {
		t.Fatal(err)
	}
	for _, h := range s.hosts {
		u, _ := s.Usage(h.name)
		if u.VCPUsUsed != 0 || u.MemoryMBUsed != 0 || u.RunningVMs != 0 || u.PCIFree != u.PCITotal || slices.Contains(h.pinned, true) {
			t.Fatalf("%s not free at the end: %+v", h.name, u)
		}
	}
}

// Run with -race: Schedule, Release and Usage from many goroutines.
func TestConcurrentUse(t *testing.T) {
	l := lab.Generate(30, 9)
	s := newSched(t, l, vocab.FaultExtraHostdev)
	var wg sync.WaitGroup
	var mu sync.Mutex
	live := map[string]*Placement{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(g)))
			var mine []string
			for i := 0; i < 200; i++ {
				if len(mine) > 0 && rng.Intn(2) == 0 {
					id := mine[len(mine)-1]
					mine = mine[:len(mine)-1]
					mu.Lock()
					delete(live, id)
					mu.Unlock()
					s.Release(id)
					continue
				}
				sh := shapes[rng.Intn(len(shapes))]
				id := fmt.Sprintf("g%d-%d", g, i)
				p, err := s.Schedule(Request{ServerID: id, VCPUs: sh.vcpus, MemoryMB: sh.mem, ExtraSpecs: sh.specs})
				if err == nil {
					mu.Lock()
					live[id] = p
					mu.Unlock()
					mine = append(mine, id)
				} else if !isNoValidHost(err) {
					t.Error(err)
					return
				}
				s.Usage(l.Hosts[i%len(l.Hosts)].Name)
			}
			for _, id := range mine {
				mu.Lock()
				delete(live, id)
				mu.Unlock()
				s.Release(id)
			}
		}(g)
	}
	wg.Wait()
	if err := visible(live, false); err != nil {
		t.Fatal(err)
	}
	assertAllFree(t, s)
}

package novaspec

import (
	"errors"
	"reflect"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func TestGuestTopology(t *testing.T) {
	type cell struct {
		shared, dedicated []int
		mem               int
	}
	cases := []struct {
		name       string
		vcpus, mem int
		specs      map[string]string
		want       []cell // nil: no NUMA topology
		policy     string
		err        string
		code       int
	}{
		{"plain", 4, 4096, map[string]string{"hw:cpu_policy": "shared"}, nil, "", "", 0},
		{"pci alone makes no topology", 4, 4096, map[string]string{vocab.SpecPCIAlias: "gpu:1", vocab.SpecPCINUMAPolicy: "required"}, nil, "", "", 0},
		{"numa_nodes 1", 4, 4096, map[string]string{"hw:numa_nodes": "1"}, []cell{{[]int{0, 1, 2, 3}, nil, 4096}}, vocab.CPUShared, "", 0},
		{"numa_nodes 2", 4, 4096, map[string]string{"hw:numa_nodes": "2"}, []cell{{[]int{0, 1}, nil, 2048}, {[]int{2, 3}, nil, 2048}}, vocab.CPUShared, "", 0},
		{"dedicated", 2, 1024, map[string]string{"hw:cpu_policy": "dedicated"}, []cell{{nil, []int{0, 1}, 1024}}, vocab.CPUDedicated, "", 0},
		{"hugepages", 2, 1024, map[string]string{"hw:mem_page_size": "large"}, []cell{{[]int{0, 1}, nil, 1024}}, vocab.CPUShared, "", 0},
		{"mixed", 4, 1024, map[string]string{"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "^0-1"}, []cell{{[]int{0, 1}, []int{2, 3}, 1024}}, vocab.CPUMixed, "", 0},
		{"mixed realtime", 4, 1024, map[string]string{"hw:cpu_policy": "mixed", "hw:cpu_realtime": "yes", "hw:cpu_realtime_mask": "^0"}, []cell{{[]int{0}, []int{1, 2, 3}, 1024}}, vocab.CPUMixed, "", 0},
		{"manual", 4, 3072, map[string]string{"hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "1-3", "hw:numa_mem.0": "1024", "hw:numa_mem.1": "2048", "hw:cpu_policy": "dedicated"},
			[]cell{{nil, []int{0}, 1024}, {nil, []int{1, 2, 3}, 2048}}, vocab.CPUDedicated, "", 0},
		{"asymmetric", 3, 4096, map[string]string{"hw:numa_nodes": "2"}, nil, "", "Instance CPUs and/or memory cannot be evenly distributed across instance NUMA nodes. Explicit assignment of CPUs and memory to nodes is required", 400},
		{"bad nodes", 2, 1024, map[string]string{"hw:numa_nodes": "0"}, nil, "", "The property 'numa_nodes' cannot be '0'. It must be a number greater than 0", 400},
		{"nodes not int-like", 2, 1024, map[string]string{"hw:numa_nodes": " 1"}, nil, "", "The property 'numa_nodes' cannot be ' 1'. It must be a number greater than 0", 400},
		{"bad cpu policy", 2, 1024, map[string]string{"hw:cpu_policy": "pinned"}, nil, "", "CPU policy requested from 'flavor extra specs' is invalid, given: 'pinned', available: '('dedicated', 'shared', 'mixed')'.", 400},
		{"thread policy needs dedicated", 2, 1024, map[string]string{"hw:cpu_thread_policy": "isolate"}, nil, "", "Cannot set cpu thread pinning policy in a non dedicated cpu pinning policy", 400},
		{"emulator isolate needs dedicated", 2, 1024, map[string]string{"hw:emulator_threads_policy": "isolate"}, nil, "", "An isolated CPU emulator threads option requires a dedicated CPU policy option.", 400},
		{"mask needs mixed", 2, 1024, map[string]string{"hw:cpu_policy": "dedicated", "hw:cpu_dedicated_mask": "0"}, nil, "", "Cannot specify 'hw:cpu_dedicated_mask' without the 'mixed' policy.", 400},
		{"mixed all pinned", 2, 1024, map[string]string{"hw:cpu_policy": "mixed", "hw:cpu_dedicated_mask": "0-1"}, nil, "", "Mixed instance must have at least 1 pinned vCPU and 1 unpinned vCPU. See 'hw:cpu_dedicated_mask'.", 400},
		{"incomplete", 2, 1024, map[string]string{"hw:numa_nodes": "2", "hw:numa_cpus.0": "0"}, nil, "", "CPU and memory allocation must be provided for all NUMA nodes", 400},
		{"cpu out of range", 2, 1024, map[string]string{"hw:numa_nodes": "1", "hw:numa_cpus.0": "0-2", "hw:numa_mem.0": "1024"}, nil, "", "CPU number 2 is larger than max 1", 400},
		{"cpu twice", 2, 1024, map[string]string{"hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1", "hw:numa_cpus.1": "1", "hw:numa_mem.0": "512", "hw:numa_mem.1": "512"}, nil, "", "CPU number 1 is assigned to two nodes", 400},
		{"cpu unassigned", 3, 1024, map[string]string{"hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "1", "hw:numa_mem.0": "512", "hw:numa_mem.1": "512"}, nil, "", "CPU number {2} is not assigned to any node", 400},
		{"memory mismatch", 2, 1024, map[string]string{"hw:numa_nodes": "2", "hw:numa_cpus.0": "0", "hw:numa_cpus.1": "1", "hw:numa_mem.0": "512", "hw:numa_mem.1": "256"}, nil, "", "768 MB of memory assigned, but expected 1024 MB", 400},
		{"numa_mem not int", 2, 1024, map[string]string{"hw:numa_nodes": "1", "hw:numa_cpus.0": "0-1", "hw:numa_mem.0": "1G"}, nil, "", "Unexpected API Error: invalid literal for int() with base 10: \"1G\"", 500},
		{"bad range", 2, 1024, map[string]string{"hw:numa_nodes": "1", "hw:numa_cpus.0": "1-0", "hw:numa_mem.0": "1024"}, nil, "", "Invalid range expression '1-0'", 400},
		{"bad page size", 2, 1024, map[string]string{"hw:mem_page_size": "2M"}, nil, "", "Invalid memory page size '2M'", 400},
		{"realtime needs dedicated", 2, 1024, map[string]string{"hw:cpu_realtime": "true"}, nil, "", "Cannot set realtime policy in a non dedicated cpu pinning policy", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			topo, err := GuestTopology(c.vcpus, c.mem, c.specs)
			if c.err != "" {
				var te *TopologyError
				if !errors.As(err, &te) || err.Error() != c.err || te.Code != c.code {
					t.Fatalf("err = %v (%T), want %d %q", err, err, c.code, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if topo != nil {
					t.Fatalf("topology %+v, want none", topo)
				}
				return
			}
			if topo == nil {
				t.Fatal("no topology")
			}
			var got []cell
			for i, gc := range topo.Cells {
				if gc.ID != i {
					t.Errorf("cell %d has id %d", i, gc.ID)
				}
				got = append(got, cell{gc.Shared, gc.Dedicated, gc.MemoryMB})
			}
			if !reflect.DeepEqual(got, c.want) || topo.CPUPolicy != c.policy {
				t.Fatalf("got %+v %s, want %+v %s", got, topo.CPUPolicy, c.want, c.policy)
			}
		})
	}
}

// FuzzGuestTopology: never panics, and a topology it returns gives every vCPU to exactly one
// cell, splits the memory exactly, and pins exactly the vCPUs the policy says.
func FuzzGuestTopology(f *testing.F) {
	f.Add(uint16(4), uint16(4096), "2", "", "", "", "", "")
	f.Add(uint16(4), uint16(3072), "2", "0", "1-3", "1024", "2048", "dedicated")
	f.Add(uint16(4), uint16(1024), "", "", "", "", "", "mixed")
	f.Add(uint16(3), uint16(1024), "1", "0-2,^1", "", "1024", "", "shared")
	f.Fuzz(func(t *testing.T, vcpus, mem uint16, nodes, cpus0, cpus1, mem0, mem1, policy string) {
		specs := map[string]string{"hw:numa_nodes": nodes, "hw:cpu_policy": policy}
		for k, v := range map[string]string{"hw:numa_cpus.0": cpus0, "hw:numa_cpus.1": cpus1, "hw:numa_mem.0": mem0, "hw:numa_mem.1": mem1} {
			if v != "" {
				specs[k] = v
			}
		}
		if policy == vocab.CPUMixed {
			specs["hw:cpu_dedicated_mask"] = "^0"
		}
		topo, err := GuestTopology(int(vcpus), int(mem), specs)
		if err != nil {
			var te *TopologyError
			if !errors.As(err, &te) || (te.Code != 400 && te.Code != 500) || te.Message == "" {
				t.Fatalf("error %#v", err)
			}
			return
		}
		if topo == nil {
			return
		}
		seen := map[int]bool{}
		total := 0
		for _, c := range topo.Cells {
			for _, v := range c.VCPUs() {
				if seen[v] || v < 0 || v >= int(vcpus) {
					t.Fatalf("vCPU %d placed twice or out of range in %+v", v, topo)
				}
				seen[v] = true
			}
			if topo.CPUPolicy == vocab.CPUDedicated && len(c.Shared) != 0 || topo.CPUPolicy == vocab.CPUShared && len(c.Dedicated) != 0 {
				t.Fatalf("policy %s with cell %+v", topo.CPUPolicy, c)
			}
			total += c.MemoryMB
		}
		if len(seen) != int(vcpus) || total != int(mem) {
			t.Fatalf("%d of %d vCPUs, %d of %d MB in %+v", len(seen), vcpus, total, mem, topo)
		}
	})
}

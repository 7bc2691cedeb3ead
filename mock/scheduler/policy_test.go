package scheduler

import (
	"reflect"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

// Reference §5: the guest is forced onto host node 1 (node 0's memory is taken by a filler
// guest) and the GPUs sit where each case says. want is the NUMA node of each attached device,
// nil for "No valid host".
func TestPCINUMAPolicies(t *testing.T) {
	cases := []struct {
		name       string
		sameSocket bool
		gpus       []string
		specs      map[string]string
		want       []string
	}{
		// device on the other node
		{"required, remote device", false, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "required"}, nil},
		{"legacy, remote device", false, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "legacy"}, nil},
		{"default is legacy", false, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu:1"}, nil},
		{"preferred, remote device", false, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "preferred"}, []string{"0"}},
		{"socket, remote device on another socket", false, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "socket"}, nil},
		{"socket, remote device on the same socket", true, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "socket"}, []string{"0"}},
		{"required, remote device, same socket", true, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "required"}, nil},
		// device without NUMA information
		{"required, no NUMA info", false, []string{""}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "required"}, nil},
		{"legacy, no NUMA info", false, []string{""}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "legacy"}, []string{"-"}},
		{"preferred, no NUMA info", false, []string{""}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "preferred"}, []string{"-"}},
		{"socket, no NUMA info", true, []string{""}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "socket"}, nil},
		// local device: every policy
		{"required, local", false, []string{"1"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "required"}, []string{"1"}},
		{"legacy, local", false, []string{"1"}, map[string]string{"pci_passthrough:alias": "gpu:1"}, []string{"1"}},
		{"preferred, local", false, []string{"1"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "preferred"}, []string{"1"}},
		{"socket, local", false, []string{"1"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "socket"}, []string{"1"}},
		// strictly affine devices win when there are enough, whatever comes first by address
		{"legacy prefers local over unknown", false, []string{"", "1"}, map[string]string{"pci_passthrough:alias": "gpu:1"}, []string{"1"}},
		{"preferred prefers local over remote", false, []string{"0", "1"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "preferred"}, []string{"1"}},
		{"socket prefers local over same socket", true, []string{"0", "1"}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "socket"}, []string{"1"}},
		// not enough strictly affine devices: the policy decides what else may be used
		{"legacy local+unknown", false, []string{"", "1"}, map[string]string{"pci_passthrough:alias": "gpu:2"}, []string{"-", "1"}},
		{"legacy local+remote", false, []string{"0", "1"}, map[string]string{"pci_passthrough:alias": "gpu:2"}, nil},
		// preferred falls back to every pool, local (and unknown) ones sorted first
		{"preferred local+remote", false, []string{"0", "1"}, map[string]string{"pci_passthrough:alias": "gpu:2", "hw:pci_numa_affinity_policy": "preferred"}, []string{"1", "0"}},
		{"preferred unknown first, then remote", false, []string{"0", ""}, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:pci_numa_affinity_policy": "preferred"}, []string{"-"}},
		{"required needs both local", false, []string{"1", "0"}, map[string]string{"pci_passthrough:alias": "gpu:2", "hw:pci_numa_affinity_policy": "required"}, nil},
		{"socket same socket, not unknown", true, []string{"", "0", "1"}, map[string]string{"pci_passthrough:alias": "gpu:2", "hw:pci_numa_affinity_policy": "socket"}, []string{"0", "1"}},
		// policy from the alias, and the flavor overriding it
		{"alias required", false, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu-required:1"}, nil},
		{"flavor overrides alias", false, []string{"0"}, map[string]string{"pci_passthrough:alias": "gpu-required:1", "hw:pci_numa_affinity_policy": "preferred"}, []string{"0"}},
		{"alias required, no NUMA info", false, []string{""}, map[string]string{"pci_passthrough:alias": "gpu-required:1"}, nil},
		{"flavor legacy over alias required", false, []string{""}, map[string]string{"pci_passthrough:alias": "gpu-required:1", "hw:pci_numa_affinity_policy": "legacy"}, []string{"-"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s1 := 1
			if c.sameSocket {
				s1 = 0
			}
			s := newSched(t, twoNodeLab(t, 0, s1, vocab.AffinityUpstream, c.gpus...))
			filler, _ := mustBoot(t, s, 1, 6144, map[string]string{"hw:numa_nodes": "1"})
			if got := hostNodes(filler); !reflect.DeepEqual(got, []int{0}) {
				t.Fatalf("filler on host nodes %v, want [0]", got)
			}
			specs := map[string]string{"hw:numa_nodes": "1"}
			for k, v := range c.specs {
				specs[k] = v
			}
			p, _, err := boot(t, s, 1, 3072, specs)
			if c.want == nil {
				if !isNoValidHost(err) {
					t.Fatalf("got %+v, %v; want No valid host", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := hostNodes(p); !reflect.DeepEqual(got, []int{1}) {
				t.Fatalf("guest on host nodes %v, want [1]", got)
			}
			got := deviceNodes(t, s, p)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("device nodes %v, want %v", got, c.want)
			}
		})
	}
}

// Without a guest NUMA topology the policy is ignored entirely (reference §5 precondition).
func TestNoGuestTopologyIgnoresPolicy(t *testing.T) {
	for _, policy := range []string{"required", "socket", "legacy", "preferred"} {
		for _, gpu := range []string{"0", "1", ""} {
			s := newSched(t, twoNodeLab(t, 0, 1, vocab.AffinityUpstream, gpu))
			p, _, err := boot(t, s, 2, 1024, map[string]string{"pci_passthrough:alias": "gpu-required:1", "hw:pci_numa_affinity_policy": policy})
			if err != nil || len(p.Devices) != 1 || p.NUMA || len(p.Cells) != 0 {
				t.Fatalf("%s, gpu on %q: %+v, %v", policy, gpu, p, err)
			}
			if !reflect.DeepEqual(p.SharedCPUs, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
				t.Fatalf("shared CPUs %v, want the host's shared set", p.SharedCPUs)
			}
		}
	}
}

// Upstream: with two guest nodes, a device local to either will do; the StarlingX reading
// (per-guest-node) wants a local device for each guest node.
func TestTwoGuestNodes(t *testing.T) {
	two := map[string]string{"hw:numa_nodes": "2"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range two {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name       string
		affinity   string
		sameSocket bool
		gpus       []string
		specs      map[string]string
		want       []string // sorted device nodes; nil = No valid host
	}{
		{"upstream required one device", vocab.AffinityUpstream, false, []string{"0"}, with("pci_passthrough:alias", "gpu:1", "hw:pci_numa_affinity_policy", "required"), []string{"0"}},
		{"upstream required two on one node", vocab.AffinityUpstream, false, []string{"1", "1"}, with("pci_passthrough:alias", "gpu:2", "hw:pci_numa_affinity_policy", "required"), []string{"1", "1"}},
		{"upstream required unknown", vocab.AffinityUpstream, false, []string{""}, with("pci_passthrough:alias", "gpu:1", "hw:pci_numa_affinity_policy", "required"), nil},
		{"per-guest-node required one device", vocab.AffinityPerGuestNode, false, []string{"0"}, with("pci_passthrough:alias", "gpu:1", "hw:pci_numa_affinity_policy", "required"), nil},
		{"per-guest-node required two on one node", vocab.AffinityPerGuestNode, false, []string{"1", "1"}, with("pci_passthrough:alias", "gpu:2", "hw:pci_numa_affinity_policy", "required"), nil},
		{"per-guest-node required one per node", vocab.AffinityPerGuestNode, false, []string{"0", "1"}, with("pci_passthrough:alias", "gpu:2", "hw:pci_numa_affinity_policy", "required"), []string{"0", "1"}},
		// Per-guest-node picks one device per node first, even when address order would not.
		{"per-guest-node covers before address order", vocab.AffinityPerGuestNode, false, []string{"0", "0", "1"}, with("pci_passthrough:alias", "gpu:2", "hw:pci_numa_affinity_policy", "required"), []string{"0", "1"}},
		{"per-guest-node over two requests", vocab.AffinityPerGuestNode, false, []string{"0", "1"}, with("pci_passthrough:alias", "gpu:1,gpu-required:1"), []string{"0", "1"}},
		{"per-guest-node legacy unknown covers all", vocab.AffinityPerGuestNode, false, []string{""}, with("pci_passthrough:alias", "gpu:1"), []string{"-"}},
		{"per-guest-node legacy one local", vocab.AffinityPerGuestNode, false, []string{"0"}, with("pci_passthrough:alias", "gpu:1"), nil},
		{"per-guest-node preferred exempt", vocab.AffinityPerGuestNode, false, []string{"0"}, with("pci_passthrough:alias", "gpu:1", "hw:pci_numa_affinity_policy", "preferred"), []string{"0"}},
		{"per-guest-node socket same socket", vocab.AffinityPerGuestNode, true, []string{"0"}, with("pci_passthrough:alias", "gpu:1", "hw:pci_numa_affinity_policy", "socket"), []string{"0"}},
		{"per-guest-node socket two sockets", vocab.AffinityPerGuestNode, false, []string{"0"}, with("pci_passthrough:alias", "gpu:1", "hw:pci_numa_affinity_policy", "socket"), nil},
		{"per-guest-node count 0", vocab.AffinityPerGuestNode, false, nil, with("pci_passthrough:alias", "gpu:0", "hw:pci_numa_affinity_policy", "required"), []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s1 := 1
			if c.sameSocket {
				s1 = 0
			}
			s := newSched(t, twoNodeLab(t, 0, s1, c.affinity, c.gpus...))
			p, _, err := boot(t, s, 2, 2048, c.specs)
			if c.want == nil {
				if !isNoValidHost(err) {
					t.Fatalf("got %+v, %v; want No valid host", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := hostNodes(p); len(got) != 2 || got[0] == got[1] {
				t.Fatalf("guest cells on host nodes %v, want two distinct nodes", got)
			}
			got := deviceNodes(t, s, p)
			if got == nil {
				got = []string{}
			}
			sortStrings(got)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("device nodes %v, want %v", got, c.want)
			}
		})
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

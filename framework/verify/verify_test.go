package verify

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/placement"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// build reads ../placement/testdata/<name> (the placement package's real-looking XML cases).
func build(t testing.TB, name string) *placement.Placement {
	t.Helper()
	dir := filepath.Join("..", "placement", "testdata", name)
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	devs := map[placement.Address]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "pci_*.xml"))
	for _, f := range files {
		p := strings.Split(strings.TrimSuffix(filepath.Base(f), ".xml"), "_")
		a, err := placement.ParseAddress(p[1] + ":" + p[2] + ":" + p[3] + "." + p[4])
		if err != nil {
			t.Fatal(err)
		}
		devs[a] = read(filepath.Base(f))
	}
	pl, err := placement.Build(read("domain.xml"), devs, read("caps.xml"))
	if err != nil {
		t.Fatalf("placement %s: %v", name, err)
	}
	return pl
}

func entry(t testing.TB, alias string) catalog.Entry {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	e, ok := cat.Lookup(alias)
	if !ok {
		t.Fatalf("alias %s not in the shipped catalog", alias)
	}
	return e
}

func req(t testing.TB, alias string, count int, mods ...func(*Request)) Request {
	r := Request{Aliases: []AliasRequest{{Entry: entry(t, alias), Count: count}}}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func policy(p string) func(*Request)   { return func(r *Request) { r.Policy = p } }
func nodes(n int) func(*Request)       { return func(r *Request) { r.GuestNUMANodes = n } }
func dedicated() func(*Request)        { return func(r *Request) { r.Dedicated = true } }
func affinity(a string) func(*Request) { return func(r *Request) { r.Affinity = a } }
func dedicatedSet(cpus ...int) func(*Request) {
	return func(r *Request) { r.CPUDedicatedSet = cpus }
}

// TestCheck runs the verdict over every placement case with requests that must pass and
// requests that must fail; the full verdict of each is snapshot-tested in testdata/<name>.golden.
func TestCheck(t *testing.T) {
	cases := []struct {
		name      string
		placement string
		req       Request
		ok        bool
		reason    string // substring of some reason when !ok
	}{
		// dedicated 2-node guest (cells on host nodes 0 and 1), two C62x VFs on node 0.
		{"2node-required-upstream", "dedicated-2node-c62x", req(t, "qat-c62x-vf", 2, policy("required"), nodes(2), dedicated()), true, ""},
		{"2node-required-per-guest-node", "dedicated-2node-c62x", req(t, "qat-c62x-vf", 2, policy("required"), nodes(2), dedicated(), affinity("per-guest-node")), false,
			"guest NUMA cell 1 (host node 1) has no affine device"},
		{"2node-legacy", "dedicated-2node-c62x", req(t, "qat-c62x-vf", 2, nodes(2), dedicated()), true, ""},
		{"2node-count-short", "dedicated-2node-c62x", req(t, "qat-c62x-vf", 3, nodes(2), dedicated()), false,
			"qat-c62x-vf: expected 3 devices 8086:37c9 (vf), found 2: 0000:3d:01.0, 0000:3d:01.1"},
		{"2node-count-extra", "dedicated-2node-c62x", req(t, "qat-c62x-vf", 1, nodes(2), dedicated()), false,
			"qat-c62x-vf: expected 1 device 8086:37c9 (vf), found 2: 0000:3d:01.0, 0000:3d:01.1"},
		{"2node-wrong-alias", "dedicated-2node-c62x", req(t, "qat-dh895xcc-vf", 2, nodes(2), dedicated()), false,
			"unexpected device 0000:3d:01.0: 8086:37c9 (vf, node 0)"},
		{"2node-topology-mismatch", "dedicated-2node-c62x", req(t, "qat-c62x-vf", 2, nodes(1), dedicated()), false,
			"guest NUMA topology: expected 1 node, found 2 nodes (0→node 0, 1→node 1)"},
		{"2node-split-per-guest-node", "dedicated-2node-split", req(t, "qat-c62x-vf", 2, policy("required"), nodes(2), dedicated(), affinity("per-guest-node")), true, ""},

		// 1-node dedicated guest on host node 1, VF on node 0 (other socket).
		{"remote-required", "two-socket-remote-vf", req(t, "qat-c62x-vf", 1, policy("required"), dedicated()), false,
			"qat-c62x-vf (required): 0000:3d:01.3 is on host node 0, expected one of the guest's host nodes [1]"},
		{"remote-legacy", "two-socket-remote-vf", req(t, "qat-c62x-vf", 1, dedicated()), false,
			"or no NUMA information"},
		{"remote-preferred", "two-socket-remote-vf", req(t, "qat-c62x-vf", 1, policy("preferred"), dedicated()), true, ""},
		{"remote-socket", "two-socket-remote-vf", req(t, "qat-c62x-vf", 1, policy("socket"), dedicated()), false,
			"is on socket 0 (host node 0), expected one of the guest's sockets [1]"},

		// GPU without NUMA information, 1-node dedicated guest on node 0.
		{"gpu-no-numa-legacy", "gpu-no-numa", req(t, "gpu", 1, dedicated()), true, ""},
		{"gpu-no-numa-preferred", "gpu-no-numa", req(t, "gpu", 1, policy("preferred"), dedicated()), true, ""},
		{"gpu-no-numa-required", "gpu-no-numa", req(t, "gpu", 1, policy("required"), dedicated()), false,
			"gpu (required): 0000:af:00.0 has no NUMA node"},
		{"gpu-no-numa-socket", "gpu-no-numa", req(t, "gpu", 1, policy("socket"), dedicated()), false,
			"gpu (socket): 0000:af:00.0 has no NUMA node"},
		{"gpu-p40-alias", "gpu-no-numa", req(t, "nvidia-tesla-p40", 1, dedicated()), true, ""},

		// Shared guest without NUMA topology: policy ignored.
		{"shared-required-ignored", "shared-no-numa", req(t, "gpu", 1, policy("required")), true, ""},
		{"shared-expected-numa", "shared-no-numa", req(t, "gpu", 1, nodes(1)), false,
			"guest NUMA topology: expected 1 node, found none"},
		{"shared-dedicated-expected", "shared-no-numa", req(t, "gpu", 1, dedicated()), false,
			"found none"},
		{"numa-unrequested-legacy", "gpu-no-numa", req(t, "gpu", 1), true, ""},
		{"numa-unrequested-required", "gpu-no-numa", req(t, "gpu", 1, policy("required")), false,
			"gpu (required): 0000:af:00.0 has no NUMA node"},

		// Sub-NUMA host: guest on node 0, VF on node 1 of the same socket.
		{"snc-socket", "snc-same-socket-vf", req(t, "qat-c62x-vf", 1, policy("socket"), dedicated()), true, ""},
		{"snc-required", "snc-same-socket-vf", req(t, "qat-c62x-vf", 1, policy("required"), dedicated()), false,
			"0000:86:01.0 is on host node 1, expected one of the guest's host nodes [0]"},

		// Host shapes: a cell over two sockets (no socket, as Nova reads it), one node, no
		// hyperthreading, a subset cpu_dedicated_set, four nodes with interleaved CPU ids.
		{"span-required", "cell-spans-sockets", req(t, "qat-c62x-vf", 1, policy("required"), dedicated()), true, ""},
		{"span-socket-local", "cell-spans-sockets", req(t, "qat-c62x-vf", 1, policy("socket"), dedicated()), true, ""},
		{"single-node-required", "single-node", req(t, "qat-c62x-vf", 1, policy("required"), dedicated()), true, ""},
		{"single-node-two-nodes-asked", "single-node", req(t, "qat-c62x-vf", 1, nodes(2), dedicated()), false,
			"guest NUMA topology: expected 2 nodes, found 1 node (0→node 0)"},
		{"no-ht-socket", "no-ht", req(t, "qat-c62x-vf", 1, policy("socket"), dedicated()), true, ""},
		{"subset-inside", "subset-dedicated-set", req(t, "qat-c62x-vf", 1, policy("required"), dedicated(), dedicatedSet(2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15)), true, ""},
		{"subset-outside", "subset-dedicated-set", req(t, "qat-c62x-vf", 1, policy("required"), dedicated(), dedicatedSet(3, 4, 5, 6, 7, 11, 12, 13, 14, 15)), false,
			"dedicated CPUs: vCPU 0 is pinned to pCPU 2, outside the host's cpu_dedicated_set 3-7,11-15"},
		{"four-node-required", "four-node-interleaved", req(t, "qat-c62x-vf", 1, policy("required"), nodes(2), dedicated()), true, ""},
		{"four-node-per-guest-node", "four-node-interleaved", req(t, "qat-c62x-vf", 1, policy("required"), nodes(2), dedicated(), affinity("per-guest-node")), false,
			"guest NUMA cell 0 (host node 2) has no affine device"},
		{"four-node-socket", "four-node-interleaved", req(t, "qat-c62x-vf", 1, policy("socket"), nodes(2), dedicated()), true, ""},

		// A hostdev kept off the guest (<address type='unassigned'/>) is not counted; a node
		// device listing virt_functions first is a PF, as Nova reads it.
		{"unassigned-not-counted", "unassigned-and-pf-first", req(t, "qat-c62x-vf", 1, dedicated()), false,
			"qat-c62x-vf: 0000:b1:01.0 is a pf, expected a vf"},

		// A QAT PF attached.
		{"pf-for-pf-alias", "pf-attached", req(t, "qat-c62x-pf", 1, dedicated()), false,
			"qat-c62x-pf: passthrough is not supported"},
		{"pf-for-vf-alias", "pf-attached", req(t, "qat-c62x-vf", 1, dedicated()), false,
			"unexpected device 0000:3d:00.0: 8086:37c8 (pf, node 0)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := build(t, tc.placement)
			v := Check(tc.req, p)
			if v.OK != tc.ok {
				t.Fatalf("OK = %v, want %v\n%s", v.OK, tc.ok, v)
			}
			if v.OK && len(v.Reasons) > 0 {
				t.Fatalf("OK with reasons:\n%s", v)
			}
			if !tc.ok && !containsReason(v.Reasons, tc.reason) {
				t.Errorf("no reason contains %q\n%s", tc.reason, v)
			}
			snapshot(t, tc.name, v.String()+"\n"+Table(p))
		})
	}
}

func containsReason(reasons []string, sub string) bool {
	for _, r := range reasons {
		if strings.Contains(r, sub) {
			return true
		}
	}
	return false
}

func snapshot(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if string(want) != got {
		t.Errorf("verdict differs from %s (go test -update rewrites it after review)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

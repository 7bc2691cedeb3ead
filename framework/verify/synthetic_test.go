package verify

import (
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/placement"
)

func ip(i int) *int { return &i }

// host is a two-socket host: node 0 (socket 0) CPUs 0-3, node 1 (socket 1) CPUs 4-7; with
// snc the two nodes share socket 0 (sub-NUMA clustering).
func host(snc bool) (map[int]int, map[int]int) {
	cpus := map[int]int{}
	for c := 0; c < 8; c++ {
		cpus[c] = c / 4
	}
	sock := map[int]int{0: 0, 1: 1}
	if snc {
		sock[1] = 0
	}
	return cpus, sock
}

func dev(bus, fn uint, id, function string, node *int, sockets map[int]int) placement.Device {
	v, p, _ := strings.Cut(id, ":")
	d := placement.Device{Address: placement.Address{Bus: bus, Slot: 1, Function: fn}, VendorID: v, ProductID: p, Function: function, NUMANode: node}
	if function == "vf" {
		d.PF = &placement.Address{Bus: bus}
	}
	if node != nil {
		if s, ok := sockets[*node]; ok {
			d.Socket = ip(s)
		}
	}
	return d
}

// guest builds a pinned guest with one cell per host node given; vCPUs 2 per cell, pinned to
// the first CPUs of the node (pins overrides single pins).
func guest(hostNodes []int, devs []placement.Device, snc bool) *placement.Placement {
	cpus, sock := host(snc)
	p := &placement.Placement{Domain: "instance-00000042", Devices: devs, HasNUMATopology: true, PCPUNodes: cpus, NodeSocket: sock,
		VCPUPins: map[int][]int{}, Pinned: true}
	for i, n := range hostNodes {
		c := placement.GuestCell{ID: i, HostNodes: []int{n}, VCPUs: []int{2 * i, 2*i + 1}, PCPUs: []int{4*n + 1, 4*n + 2}}
		p.VCPUPins[2*i], p.VCPUPins[2*i+1] = []int{4*n + 1}, []int{4*n + 2}
		p.GuestCells = append(p.GuestCells, c)
		p.HostNodes = append(p.HostNodes, n)
		p.PCPUs = append(p.PCPUs, 4*n+1, 4*n+2)
	}
	p.VCPUs = 2 * len(hostNodes)
	return p
}

func TestCheckSynthetic(t *testing.T) {
	_, sock := host(false)
	_, sncSock := host(true)
	vfOn := func(fn uint, node *int) placement.Device { return dev(0x3d, fn, "8086:37c9", "vf", node, sock) }
	p40On := func(bus uint, node *int) placement.Device { return dev(bus, 0, "10de:1b38", "pci", node, sock) }
	cases := []struct {
		name    string
		req     Request
		p       *placement.Placement
		reasons []string // every reason, in order (empty = OK)
		notes   []string // substrings of notes
	}{
		{"alias policy used when the flavor sets none",
			Request{Aliases: []AliasRequest{{Entry: withPolicy(entry(t, "qat-c62x-vf"), "required"), Count: 1}}, Dedicated: true},
			guest([]int{1}, []placement.Device{vfOn(0, ip(0))}, false),
			[]string{
				"qat-c62x-vf (required): 0000:3d:01.0 is on host node 0, expected one of the guest's host nodes [1]",
				"qat-c62x-vf (required): no vCPU is pinned to host node 0 where 0000:3d:01.0 is; pCPUs 5-6 are on host node 1",
			}, nil},
		{"flavor policy overrides the alias policy",
			Request{Aliases: []AliasRequest{{Entry: withPolicy(entry(t, "qat-c62x-vf"), "required"), Count: 1}}, Policy: "preferred", Dedicated: true},
			guest([]int{1}, []placement.Device{vfOn(0, ip(0))}, false),
			nil, []string{"qat-c62x-vf (preferred): 0000:3d:01.0 is on host node 0, not local"}},
		{"two aliases sharing IDs share the devices",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "gpu"), Count: 1}, {Entry: entry(t, "nvidia-tesla-p40"), Count: 1}}},
			&placement.Placement{Devices: []placement.Device{p40On(0xaf, ip(1)), p40On(0xb0, nil)}},
			nil, []string{"no NUMA topology"}},
		{"surplus is charged to the first matching alias",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "gpu"), Count: 1}, {Entry: entry(t, "nvidia-tesla-p40"), Count: 1}}},
			&placement.Placement{Devices: []placement.Device{p40On(0xaf, ip(1)), p40On(0xb0, nil), p40On(0xb1, nil)}},
			[]string{"gpu: expected 1 device 10de:1b38 (pci), found 2: 0000:af:01.0, 0000:b1:01.0"}, nil},
		{"multi-alias request like the StarlingX example",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "gpu"), Count: 1}, {Entry: entry(t, "qat-c62x-vf"), Count: 2}}, Policy: "required", Dedicated: true},
			guest([]int{0}, []placement.Device{p40On(0xaf, ip(0)), vfOn(0, ip(0)), vfOn(1, ip(0))}, false),
			nil, nil},
		{"a PF under a VF alias's IDs",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}},
			&placement.Placement{Devices: []placement.Device{dev(0x3d, 0, "8086:37c9", "pf", ip(0), sock)}},
			[]string{"qat-c62x-vf: 0000:3d:01.0 is a pf, expected a vf"}, nil},
		{"unsupported alias with nothing attached is fine",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-pf"), Count: 1}}},
			&placement.Placement{},
			nil, nil},
		{"count 0 with a device attached",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "gpu"), Count: 0}}},
			&placement.Placement{Devices: []placement.Device{p40On(0xaf, ip(1))}},
			[]string{"gpu: expected 0 devices 10de:1b38 (pci), found 1: 0000:af:01.0"}, nil},
		{"no devices requested, one attached",
			Request{},
			&placement.Placement{Devices: []placement.Device{vfOn(0, ip(0))}},
			[]string{"unexpected device 0000:3d:01.0: 8086:37c9 (vf, node 0)"}, nil},
		{"legacy accepts a device without NUMA information",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "gpu"), Count: 1}}, Dedicated: true},
			guest([]int{1}, []placement.Device{p40On(0xaf, nil)}, false),
			nil, nil},
		{"socket: device on the other node of the same socket",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "socket", Dedicated: true},
			guest([]int{0}, []placement.Device{dev(0x3d, 0, "8086:37c9", "vf", ip(1), sncSock)}, true),
			nil, nil},
		{"socket: host without socket information",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "socket", Dedicated: true},
			func() *placement.Placement {
				p := guest([]int{0}, []placement.Device{dev(0x3d, 0, "8086:37c9", "vf", ip(0), nil)}, false)
				p.NodeSocket = map[int]int{}
				return p
			}(),
			[]string{"qat-c62x-vf (socket): host nodes [0] have no socket information in the host capabilities, expected sockets for every guest host node"}, nil},
		{"socket per-guest-node: second cell's socket has no device",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "socket", GuestNUMANodes: 2, Dedicated: true, Affinity: vocab.AffinityPerGuestNode},
			guest([]int{0, 1}, []placement.Device{vfOn(0, ip(0))}, false),
			[]string{"qat-c62x-vf (socket), per-guest-node: guest NUMA cell 1 (host node 1) has no affine device, expected one for each guest NUMA node; devices: 0000:3d:01.0 on node 0"}, nil},
		{"per-guest-node applies to legacy too",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, GuestNUMANodes: 2, Dedicated: true, Affinity: vocab.AffinityPerGuestNode},
			guest([]int{0, 1}, []placement.Device{vfOn(0, ip(0))}, false),
			[]string{"qat-c62x-vf (legacy), per-guest-node: guest NUMA cell 1 (host node 1) has no affine device, expected one for each guest NUMA node; devices: 0000:3d:01.0 on node 0"}, nil},
		{"per-guest-node: a legacy device without NUMA information serves every cell",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, GuestNUMANodes: 2, Dedicated: true, Affinity: vocab.AffinityPerGuestNode},
			guest([]int{0, 1}, []placement.Device{vfOn(0, nil)}, false),
			nil, nil},
		{"per-guest-node: preferred is exempt",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "preferred", GuestNUMANodes: 2, Dedicated: true, Affinity: vocab.AffinityPerGuestNode},
			guest([]int{0, 1}, []placement.Device{vfOn(0, ip(0))}, false),
			nil, nil},
		{"dedicated but a vCPU floats",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Dedicated: true},
			func() *placement.Placement {
				p := guest([]int{0}, []placement.Device{vfOn(0, ip(0))}, false)
				p.VCPUPins[1] = []int{0, 1, 2, 3}
				p.Pinned = false
				return p
			}(),
			[]string{"dedicated CPUs: expected each of the 2 vCPUs pinned to exactly one pCPU, found vcpupin 0→1 1→0-3"}, nil},
		{"dedicated, pCPU off the cell's node",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Dedicated: true},
			func() *placement.Placement {
				p := guest([]int{0}, []placement.Device{vfOn(0, ip(0))}, false)
				p.VCPUPins[1] = []int{6}
				return p
			}(),
			[]string{"dedicated CPUs: vCPU 1 (guest cell 0) is pinned to pCPU 6 on host node 1, expected host node 0"}, nil},
		{"dedicated, pCPU unknown to the host",
			Request{Dedicated: true},
			func() *placement.Placement {
				p := guest([]int{0}, nil, false)
				p.VCPUPins[1] = []int{99}
				return p
			}(),
			[]string{"dedicated CPUs: vCPU 1 is pinned to pCPU 99, which the host capabilities do not list"}, nil},
		{"two guest cells on one host node",
			Request{GuestNUMANodes: 2, Dedicated: true},
			guest([]int{0, 0}, nil, false),
			[]string{"guest NUMA cells 0 and 1: expected distinct host NUMA nodes, both are on host node 0"}, nil},
		{"guest cell without memnode",
			Request{GuestNUMANodes: 1},
			func() *placement.Placement {
				p := guest([]int{0}, nil, false)
				p.GuestCells[0].HostNodes = nil
				return p
			}(),
			[]string{"guest NUMA cell 0: expected a numatune memnode binding it to one host node, found none"}, nil},
		{"guest cell on two host nodes",
			Request{GuestNUMANodes: 1},
			func() *placement.Placement {
				p := guest([]int{0}, nil, false)
				p.GuestCells[0].HostNodes = []int{0, 1}
				return p
			}(),
			[]string{"guest NUMA cell 0: expected one host NUMA node, found nodes 0-1"}, nil},
		{"invalid request",
			Request{Aliases: []AliasRequest{{Entry: catalog.Entry{Alias: "undefined-alias"}, Count: -1}}, Policy: "strict", Affinity: "both", GuestNUMANodes: -2},
			&placement.Placement{},
			[]string{
				"request: aliases[0] undefined-alias: count -1: expected 0 or more",
				`request: aliases[0]: "undefined-alias": expected a catalog entry with alias, vendor_id and product_id`,
				`request: policy: "strict": expected one of legacy, preferred, required, socket (or empty)`,
				`request: affinity: "both": expected "upstream" or "per-guest-node"`,
				"request: guest NUMA nodes: -2: expected 0 or more",
			}, nil},
		{"nil placement", Request{}, nil, []string{"no placement to check (the domain was not inspected)"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(tc.req, tc.p)
			if v.OK != (len(tc.reasons) == 0) {
				t.Fatalf("OK = %v\n%s", v.OK, v)
			}
			if strings.Join(v.Reasons, "\n") != strings.Join(tc.reasons, "\n") {
				t.Errorf("reasons:\n%s\nwant:\n%s", strings.Join(v.Reasons, "\n"), strings.Join(tc.reasons, "\n"))
			}
			for _, n := range tc.notes {
				if !containsReason(v.Notes, n) {
					t.Errorf("no note contains %q: %v", n, v.Notes)
				}
			}
			if s := v.String(); !strings.Contains(s, "expected: ") || !strings.Contains(s, "found: ") {
				t.Errorf("String() = %q", s)
			}
		})
	}
}

func withPolicy(e catalog.Entry, p string) catalog.Entry { e.NUMAPolicy = p; return e }

func TestDisjoint(t *testing.T) {
	_, sock := host(false)
	a := &placement.Placement{Domain: "instance-1", Devices: []placement.Device{dev(0x3d, 0, "8086:37c9", "vf", ip(0), sock), dev(0x3d, 1, "8086:37c9", "vf", ip(0), sock)}}
	b := &placement.Placement{UUID: "uuid-2", Devices: []placement.Device{dev(0x3d, 2, "8086:37c9", "vf", ip(0), sock)}}
	if err := Disjoint(a, b); err != nil {
		t.Errorf("disjoint placements: %v", err)
	}
	b.Devices = append(b.Devices, dev(0x3d, 1, "8086:37c9", "vf", ip(0), sock), dev(0x3d, 0, "8086:37c9", "vf", ip(0), sock))
	err := Disjoint(a, b)
	if err == nil || err.Error() != "0000:3d:01.0, 0000:3d:01.1 attached to both instance-1 and uuid-2" {
		t.Errorf("shared devices: %v", err)
	}
	if err := Disjoint(nil, b); err != nil {
		t.Errorf("nil: %v", err)
	}
}

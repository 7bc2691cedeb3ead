package verify

import (
	"slices"
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
		d.PFNUMANode = node
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
		c := placement.GuestCell{ID: i, HostNodes: []int{n}, MemMode: "strict", VCPUs: []int{2 * i, 2*i + 1}, PCPUs: []int{4*n + 1, 4*n + 2}}
		p.VCPUPins[2*i], p.VCPUPins[2*i+1] = []int{4*n + 1}, []int{4*n + 2}
		p.GuestCells = append(p.GuestCells, c)
		p.HostNodes = append(p.HostNodes, n)
		p.PCPUs = append(p.PCPUs, 4*n+1, 4*n+2)
	}
	p.VCPUs = 2 * len(hostNodes)
	p.HostNodes = slices.Compact(slices.Sorted(slices.Values(p.HostNodes)))
	p.MemoryNodes, p.MemoryMode = p.HostNodes, "strict"
	return p
}

// shared turns a pinned guest into a shared-CPU NUMA guest: each vCPU floats over the CPUs of
// its cell's host node (vcpupin of the node's CPUs), as Nova writes it.
func shared(p *placement.Placement) *placement.Placement {
	p.Pinned = false
	p.PCPUs = nil
	for i, c := range p.GuestCells {
		n := c.HostNodes[0]
		node := []int{4 * n, 4*n + 1, 4*n + 2, 4*n + 3}
		for _, v := range c.VCPUs {
			p.VCPUPins[v] = node
		}
		p.GuestCells[i].PCPUs = node
		p.PCPUs = append(p.PCPUs, node...)
	}
	return p
}

// with applies changes to a placement, for the cases that break one thing of a good one.
func with(p *placement.Placement, change func(p *placement.Placement)) *placement.Placement {
	change(p)
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
				p := guest([]int{0}, []placement.Device{dev(0x3d, 0, "8086:37c9", "vf", ip(1), nil)}, false)
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
			[]string{"guest NUMA cells 0 and 1: expected distinct host NUMA nodes, both are on host node 0",
				"dedicated CPUs: vCPUs 0 and 2 are both pinned to pCPU 1, expected a pCPU of its own for each vCPU",
				"dedicated CPUs: vCPUs 1 and 3 are both pinned to pCPU 2, expected a pCPU of its own for each vCPU"}, nil},
		{"guest cell without memnode",
			Request{GuestNUMANodes: 1},
			func() *placement.Placement {
				p := guest([]int{0}, nil, false)
				p.GuestCells[0].HostNodes, p.GuestCells[0].MemMode = nil, ""
				p.HostNodes, p.MemoryNodes, p.MemoryMode = nil, nil, ""
				return p
			}(),
			[]string{"guest NUMA cell 0: expected a numatune memnode binding it to one host node, found none",
				"guest memory: expected numatune <memory> binding it to host nodes [], found none: the memory is not bound"}, nil},
		{"guest cell on two host nodes",
			Request{GuestNUMANodes: 1},
			func() *placement.Placement {
				p := guest([]int{0}, nil, false)
				p.GuestCells[0].HostNodes = []int{0, 1}
				p.HostNodes, p.MemoryNodes = []int{0, 1}, []int{0, 1}
				return p
			}(),
			[]string{"guest NUMA cell 0: expected one host NUMA node, found nodes 0-1"}, nil},
		// Dedicated CPUs: one pCPU of its own per vCPU, inside cpu_dedicated_set.
		{"dedicated, inside cpu_dedicated_set",
			Request{Dedicated: true, CPUDedicatedSet: []int{1, 2, 3, 5, 6, 7}},
			guest([]int{0}, nil, false),
			nil, nil},
		{"dedicated, a pCPU outside cpu_dedicated_set",
			Request{Dedicated: true, CPUDedicatedSet: []int{2, 3, 6, 7}},
			guest([]int{0}, nil, false),
			[]string{"dedicated CPUs: vCPU 0 is pinned to pCPU 1, outside the host's cpu_dedicated_set 2-3,6-7"}, nil},
		{"dedicated, two vCPUs on one pCPU",
			Request{Dedicated: true},
			with(guest([]int{0}, nil, false), func(p *placement.Placement) { p.VCPUPins[1] = []int{1} }),
			[]string{"dedicated CPUs: vCPUs 0 and 1 are both pinned to pCPU 1, expected a pCPU of its own for each vCPU"}, nil},

		// Shared-CPU guests with a NUMA topology float over their cell's node only.
		{"shared NUMA guest floats over its node",
			Request{GuestNUMANodes: 2},
			shared(guest([]int{0, 1}, nil, false)),
			nil, nil},
		{"shared NUMA guest floats over another node's CPUs",
			Request{GuestNUMANodes: 1},
			with(shared(guest([]int{1}, nil, false)), func(p *placement.Placement) { p.VCPUPins[1] = []int{0, 1, 2, 3, 4, 5, 6, 7} }),
			[]string{"shared CPUs: vCPU 1 (guest cell 0) floats over pCPUs 0-7, of which 0-3 are not on host node 1; expected only that node's CPUs"}, nil},
		{"shared NUMA guest with a vCPU without vcpupin",
			Request{GuestNUMANodes: 1},
			with(shared(guest([]int{0}, nil, false)), func(p *placement.Placement) { delete(p.VCPUPins, 0) }),
			[]string{"shared CPUs: vCPU 0 (guest cell 0) has no vcpupin, expected it to float over the CPUs of host node 0 only"}, nil},

		// Memory bound strictly, cell by cell, and as a whole to exactly the cells' nodes.
		{"memnode restrictive is strict enough",
			Request{GuestNUMANodes: 1, Dedicated: true},
			with(guest([]int{0}, nil, false), func(p *placement.Placement) { p.GuestCells[0].MemMode, p.MemoryMode = "restrictive", "restrictive" }),
			nil, nil},
		{"memnode preferred",
			Request{GuestNUMANodes: 1, Dedicated: true},
			with(guest([]int{0}, nil, false), func(p *placement.Placement) { p.GuestCells[0].MemMode = "preferred" }),
			[]string{`guest NUMA cell 0: memnode mode "preferred", expected strict (or restrictive): the cell's memory may leave host node 0`}, nil},
		{"memory nodeset wider than the cells",
			Request{GuestNUMANodes: 1, Dedicated: true},
			with(guest([]int{0}, nil, false), func(p *placement.Placement) { p.MemoryNodes = []int{0, 1} }),
			[]string{"guest memory: numatune memory nodeset 0-1, expected the union of the guest cells' host nodes [0]"}, nil},
		{"memory interleaved",
			Request{GuestNUMANodes: 1, Dedicated: true},
			with(guest([]int{0}, nil, false), func(p *placement.Placement) { p.MemoryMode = "interleave" }),
			[]string{`guest memory: numatune memory mode "interleave", expected strict (or restrictive)`}, nil},
		{"NUMA guest whose memory is not bound",
			Request{GuestNUMANodes: 1},
			with(shared(guest([]int{0}, nil, false)), func(p *placement.Placement) {
				p.GuestCells[0].HostNodes, p.GuestCells[0].MemMode, p.HostNodes, p.MemoryNodes, p.MemoryMode = nil, "", nil, nil, ""
			}),
			[]string{"guest NUMA cell 0: expected a numatune memnode binding it to one host node, found none",
				"guest memory: expected numatune <memory> binding it to host nodes [], found none: the memory is not bound"}, nil},
		{"a widened memory nodeset does not make a remote device local",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "required", GuestNUMANodes: 1},
			with(shared(guest([]int{1}, []placement.Device{vfOn(0, ip(0))}, false)), func(p *placement.Placement) { p.MemoryNodes = []int{0, 1} }),
			[]string{"guest memory: numatune memory nodeset 0-1, expected the union of the guest cells' host nodes [1]",
				"qat-c62x-vf (required): 0000:3d:01.0 is on host node 0, expected one of the guest's host nodes [1]"}, nil},

		// preferred takes a local device when one is free.
		{"preferred, remote while a local device was free",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "preferred", Dedicated: true,
				Free: []placement.Device{vfOn(0, ip(0)), dev(0xb1, 0, "8086:37c9", "vf", ip(1), sock)}},
			guest([]int{1}, []placement.Device{vfOn(0, ip(0))}, false),
			[]string{"qat-c62x-vf (preferred): 0 of 1 device local to the guest's host nodes [1], expected 1: 0000:b1:01.0 were free there; attached 0000:3d:01.0 on node 0"}, nil},
		{"preferred, remote when no local device was free",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "preferred", Dedicated: true,
				Free: []placement.Device{vfOn(0, ip(0)), vfOn(1, ip(0))}},
			guest([]int{1}, []placement.Device{vfOn(0, ip(0))}, false),
			nil, []string{"accepted when no local device was free"}},
		{"preferred, two asked, one local free: one remote is fine",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 2}}, Policy: "preferred", Dedicated: true,
				Free: []placement.Device{vfOn(0, ip(0)), dev(0xb1, 0, "8086:37c9", "vf", ip(1), sock)}},
			guest([]int{1}, []placement.Device{vfOn(0, ip(0)), dev(0xb1, 0, "8086:37c9", "vf", ip(1), sock)}, false),
			nil, nil},

		// A VF sits on its PF's node.
		{"VF on another node than its PF",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}},
			&placement.Placement{Devices: []placement.Device{func() placement.Device { d := vfOn(0, ip(1)); d.PFNUMANode = ip(0); return d }()}},
			[]string{"0000:3d:01.0: VF on host node 1, its PF 0000:3d:00.0 on host node 0: expected a VF on its PF's node"}, nil},
		{"VF without NUMA information under a PF with some",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}},
			&placement.Placement{Devices: []placement.Device{func() placement.Device { d := vfOn(0, nil); d.PFNUMANode = ip(0); return d }()}},
			[]string{"0000:3d:01.0: VF on host node -, its PF 0000:3d:00.0 on host node 0: expected a VF on its PF's node"}, nil},

		// socket: a host cell without a single socket (NUMA off, nested lab) leaves the policy
		// local devices only.
		{"socket on a host with a cell over two sockets, local device",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "socket", Dedicated: true},
			with(guest([]int{0}, []placement.Device{vfOn(0, ip(0))}, false), func(p *placement.Placement) { p.NodesWithoutSocket = []int{1} }),
			nil, nil},
		{"socket on a host with a cell over two sockets, remote device",
			Request{Aliases: []AliasRequest{{Entry: entry(t, "qat-c62x-vf"), Count: 1}}, Policy: "socket", Dedicated: true},
			with(guest([]int{0}, []placement.Device{vfOn(0, ip(1))}, false), func(p *placement.Placement) { p.NodesWithoutSocket = []int{1} }),
			[]string{"qat-c62x-vf (socket): 0000:3d:01.0 not on the guest's host nodes [0], and host nodes [1] have no single socket in the host capabilities (CPUs on several sockets, or none): Nova meets the socket policy on such a host with local devices only",
				"qat-c62x-vf (socket): no vCPU is pinned to socket 1 where 0000:3d:01.0 is; pCPUs 1-2 are on host node 0"}, nil},
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

func TestDisjointPCPUs(t *testing.T) {
	a, b := guest([]int{0}, nil, false), guest([]int{1}, nil, false)
	a.Domain, b.Domain = "instance-1", "instance-2"
	if err := DisjointPCPUs(a, b); err != nil {
		t.Errorf("guests on different nodes: %v", err)
	}
	c := guest([]int{0}, nil, false)
	c.Domain = "instance-3"
	c.PCPUs = []int{2, 3}
	err := DisjointPCPUs(a, c)
	if err == nil || err.Error() != "dedicated CPUs: pCPUs 2 are pinned by both instance-1 (1-2) and instance-3 (2-3)" {
		t.Errorf("shared pCPU: %v", err)
	}
	if err := DisjointPCPUs(nil, c); err != nil {
		t.Errorf("nil: %v", err)
	}
}

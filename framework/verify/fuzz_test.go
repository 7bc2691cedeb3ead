package verify

import (
	"reflect"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/placement"
)

// bytesource hands out small numbers from fuzz input, zero when exhausted.
type bytesource []byte

func (b *bytesource) n(max int) int {
	if len(*b) == 0 || max <= 0 {
		return 0
	}
	v := int((*b)[0]) % max
	*b = (*b)[1:]
	return v
}

// genPlacement builds an arbitrary but well-formed placement (as placement.Build could return)
// on a host with up to 4 NUMA nodes of 4 CPUs each.
func genPlacement(b *bytesource) *placement.Placement {
	nodes := 1 + b.n(4)
	p := &placement.Placement{Domain: "instance-fuzz", PCPUNodes: map[int]int{}, NodeSocket: map[int]int{}, VCPUPins: map[int][]int{}}
	for n := 0; n < nodes; n++ {
		for c := 0; c < 4; c++ {
			p.PCPUNodes[4*n+c] = n
		}
		if b.n(8) != 0 {
			p.NodeSocket[n] = b.n(2)
		}
	}
	ids := []string{"8086:37c9", "8086:37c8", "10de:1b38", "8086:0443"}
	funcs := []string{"vf", "pf", "pci"}
	for i, k := 0, b.n(5); i < k; i++ {
		id := ids[b.n(len(ids))]
		d := placement.Device{Address: placement.Address{Bus: uint(0x3d + b.n(3)), Slot: 1, Function: uint(b.n(8))}, VendorID: id[:4], ProductID: id[5:], Function: funcs[b.n(3)]}
		if _, dup := p.Device(d.Address); dup {
			continue
		}
		if d.Function == "vf" {
			d.PF = &placement.Address{Bus: d.Address.Bus}
		}
		if n := b.n(nodes + 1); n < nodes {
			d.NUMANode = ip(n)
			if s, ok := p.NodeSocket[n]; ok {
				d.Socket = ip(s)
			}
		}
		p.Devices = append(p.Devices, d)
	}
	cells := b.n(nodes + 1)
	p.VCPUs = 2 * max(cells, 1)
	used := map[int]bool{}
	for i := 0; i < cells; i++ {
		n := b.n(nodes)
		c := placement.GuestCell{ID: i, HostNodes: []int{n}, VCPUs: []int{2 * i, 2*i + 1}}
		for _, v := range c.VCPUs {
			cpu := 4*n + b.n(4)
			if b.n(6) == 0 {
				cpu = b.n(4 * nodes)
			}
			p.VCPUPins[v] = []int{cpu}
			c.PCPUs = append(c.PCPUs, cpu)
			p.PCPUs = append(p.PCPUs, cpu)
		}
		if !used[n] {
			p.HostNodes = append(p.HostNodes, n)
			used[n] = true
		}
		p.GuestCells = append(p.GuestCells, c)
	}
	p.HasNUMATopology = cells > 0
	p.Pinned = cells > 0 && b.n(5) != 0
	return p
}

// FuzzCheck judges arbitrary placements and requests. Nothing may panic, the verdict must be
// deterministic and consistent, and the policies must nest as in Nova: whatever passes
// `required` passes `legacy`, whatever passes `legacy` passes `preferred`, and whatever passes
// under the per-guest-node reading passes under the upstream one.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{1, 1, 2, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1})
	f.Add([]byte{3, 7, 1, 7, 0, 3, 0, 1, 2, 4, 2, 0, 1, 1, 2, 3, 2, 1, 0, 2, 1, 3, 3, 0, 0, 1})
	f.Add([]byte{})
	entries := fuzzEntries(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		b := bytesource(data)
		p := genPlacement(&b)
		var req Request
		for i, k := 0, b.n(3); i < k; i++ {
			req.Aliases = append(req.Aliases, AliasRequest{Entry: entries[b.n(len(entries))], Count: b.n(3)})
		}
		req.GuestNUMANodes = b.n(3)
		req.Dedicated = b.n(2) == 1
		verdict := func(policy, affinity string) Verdict {
			r := req
			r.Policy, r.Affinity = policy, affinity
			v := Check(r, p)
			if v.OK != (len(v.Reasons) == 0) {
				t.Fatalf("OK=%v with %d reasons", v.OK, len(v.Reasons))
			}
			if v.Expected == "" || v.Found == "" || v.String() == "" {
				t.Fatal("empty summary")
			}
			return v
		}
		for _, aff := range []string{vocab.AffinityUpstream, vocab.AffinityPerGuestNode} {
			req, leg, pref := verdict(vocab.PolicyRequired, aff), verdict(vocab.PolicyLegacy, aff), verdict(vocab.PolicyPreferred, aff)
			if req.OK && !leg.OK {
				t.Fatalf("passes required but not legacy:\n%s\n%s", req, leg)
			}
			if leg.OK && !pref.OK {
				t.Fatalf("passes legacy but not preferred:\n%s\n%s", leg, pref)
			}
		}
		for _, pol := range []string{vocab.PolicyRequired, vocab.PolicyLegacy, vocab.PolicyPreferred, vocab.PolicySocket} {
			strict, loose := verdict(pol, vocab.AffinityPerGuestNode), verdict(pol, vocab.AffinityUpstream)
			if strict.OK && !loose.OK {
				t.Fatalf("%s passes per-guest-node but not upstream:\n%s\n%s", pol, strict, loose)
			}
			if again := verdict(pol, vocab.AffinityUpstream); !reflect.DeepEqual(again, loose) {
				t.Fatalf("not deterministic:\n%s\n%s", again, loose)
			}
		}
	})
}

func fuzzEntries(t testing.TB) []catalog.Entry {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat.Entries()
}

// TestFuzzGeneratorCoversOK guards the fuzz target's usefulness: the generator must be able to
// produce both passing and failing verdicts.
func TestFuzzGeneratorCoversOK(t *testing.T) {
	entries := fuzzEntries(t)
	var ok, bad int
	for seed := 0; seed < 2000; seed++ {
		data := make([]byte, 40)
		x := uint32(seed*2654435761 + 1)
		for i := range data {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			data[i] = byte(x)
		}
		b := bytesource(data)
		p := genPlacement(&b)
		req := Request{Aliases: []AliasRequest{{Entry: entries[b.n(len(entries))], Count: b.n(3)}}, Policy: vocab.PolicyPreferred}
		if Check(req, p).OK {
			ok++
		} else {
			bad++
		}
	}
	if ok == 0 || bad == 0 {
		t.Errorf("generator produced %d passing and %d failing verdicts", ok, bad)
	}
}

package verify

import (
	"strings"
	"testing"
)

// BenchmarkCheck: the verdict over a real-looking placement, once for a request the placement
// satisfies and once for one it breaks (the failing path formats every reason).
func BenchmarkCheck(b *testing.B) {
	for _, tc := range []struct {
		name, placement string
		req             Request
		ok              bool
		reason          string
	}{
		{"pass-per-guest-node", "dedicated-2node-split",
			req(b, "qat-c62x-vf", 2, policy("required"), nodes(2), dedicated(), affinity("per-guest-node")), true, ""},
		{"fail-per-guest-node", "dedicated-2node-c62x",
			req(b, "qat-c62x-vf", 2, policy("required"), nodes(2), dedicated(), affinity("per-guest-node")), false,
			"guest NUMA cell 1 (host node 1) has no affine device"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := build(b, tc.placement)
			b.ReportAllocs()
			var v Verdict
			for b.Loop() {
				v = Check(tc.req, p)
			}
			if v.OK != tc.ok {
				b.Fatalf("OK = %v, want %v\n%s", v.OK, tc.ok, v)
			}
			if !tc.ok && !containsReason(v.Reasons, tc.reason) {
				b.Fatalf("no reason contains %q\n%s", tc.reason, v)
			}
			if v.Expected == "" || v.Found == "" || !strings.Contains(v.Found, "0000:3d:01") {
				b.Fatalf("summaries not filled in: %+v", v)
			}
		})
	}
}

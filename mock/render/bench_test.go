package render

import (
	"strings"
	"testing"
)

// The renderers run on every domain, capabilities and node-device request the fake libvirtd
// answers, and DomainXML once per boot; these keep their cost visible.

// BenchmarkDomainXMLDedicatedTwoNodes: the guest — dedicated, spread over both host
// NUMA nodes, one QAT VF from each.
func BenchmarkDomainXMLDedicatedTwoNodes(b *testing.B) {
	inv := inventory(b, "aio.yaml", "controller-0")
	s, p := dedicatedTwoNodes(b)
	b.ReportAllocs()
	var x string
	for b.Loop() {
		var err error
		if x, err = DomainXML(inv, s, p); err != nil {
			b.Fatal(err)
		}
	}
	if n := strings.Count(x, "<hostdev "); n != 2 {
		b.Fatalf("domain has %d hostdevs, want 2", n)
	}
	b.SetBytes(int64(len(x)))
}

func BenchmarkCapabilitiesXML(b *testing.B) {
	for _, tc := range []struct{ lab, host string }{
		{"aio.yaml", "controller-0"},
		{"multi.yaml", "worker-2"}, // sub-NUMA clustering: two nodes on one socket
	} {
		b.Run(tc.host, func(b *testing.B) {
			inv := inventory(b, tc.lab, tc.host)
			b.ReportAllocs()
			var x string
			for b.Loop() {
				var err error
				if x, err = CapabilitiesXML(inv); err != nil {
					b.Fatal(err)
				}
			}
			if n := strings.Count(x, "<cell id="); n != 2 {
				b.Fatalf("capabilities have %d NUMA cells, want 2", n)
			}
			b.SetBytes(int64(len(x)))
		})
	}
}

func BenchmarkNodeDeviceXML(b *testing.B) {
	inv := inventory(b, "aio.yaml", "controller-0")
	for _, tc := range []struct{ name, addr, want string }{
		{"vf", "0000:3d:01.2", "<capability type='phys_function'>"},
		{"pf-8vfs", "0000:3d:00.0", "<capability type='virt_functions' maxCount='8'>"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := device(b, inv, tc.addr)
			topo, err := HostPCITopology(inv)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var x string
			for b.Loop() {
				var err error
				if x, err = NodeDeviceXML(inv, topo, d); err != nil {
					b.Fatal(err)
				}
			}
			if !strings.Contains(x, tc.want) {
				b.Fatalf("node device %s lacks %s:\n%s", tc.addr, tc.want, x)
			}
			b.SetBytes(int64(len(x)))
		})
	}
}

package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/mock/lab"
)

// BenchmarkSchedule1000Hosts: schedule and release on a generated 1,000-host lab that is kept
// about half full, cycling through every request shape — including one no host can take
// (gpu:3), which visits all 1,000 hosts before answering No valid host.
func BenchmarkSchedule1000Hosts(b *testing.B) {
	l := lab.Generate(1000, 1)
	s, err := New(l, Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Background load: a third of the capacity taken by every shape, so first fits are not all
	// on the first host.
	for i := 0; i < 6000; i++ {
		sh := shapes[i%(len(shapes)-1)]
		_, _ = s.Schedule(Request{ServerID: fmt.Sprintf("bg%d", i), VCPUs: sh.vcpus, MemoryMB: sh.mem, ExtraSpecs: sh.specs})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sh := shapes[i%len(shapes)]
		id := fmt.Sprintf("b%d", i)
		_, err := s.Schedule(Request{ServerID: id, VCPUs: sh.vcpus, MemoryMB: sh.mem, ExtraSpecs: sh.specs})
		if err != nil && !isNoValidHost(err) {
			b.Fatal(err)
		}
		s.Release(id)
	}
}

// BenchmarkScheduleNoValidHost1000Hosts is the worst case: every host is examined and refused,
// those with a GPU and enough memory only after trying each of their NUMA nodes.
func BenchmarkScheduleNoValidHost1000Hosts(b *testing.B) {
	s, err := New(lab.Generate(1000, 1), Options{})
	if err != nil {
		b.Fatal(err)
	}
	// No node has more than 256 GiB: a one-node guest of 270,000 MB fits no node of any host.
	req := Request{ServerID: "x", VCPUs: 2, MemoryMB: 270000,
		ExtraSpecs: map[string]string{"pci_passthrough:alias": "gpu:1", "hw:numa_nodes": "1"}}
	_, err = s.Schedule(req)
	var nv *NoValidHostError
	if !errors.As(err, &nv) || strings.Contains(nv.Reason, " 0 by NUMATopologyFilter") || !strings.Contains(nv.Reason, "1000 host(s) tried") {
		b.Fatalf("the worst case should reach NUMA fitting on some hosts: %v %+v", err, nv)
	}
	b.Log(nv.Reason)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Schedule(req); !isNoValidHost(err) {
			b.Fatal(err)
		}
	}
}

package placement

import "testing"

// BenchmarkBuildLargestCase: Build over the testdata case with the most XML to read (domain,
// capabilities and node devices), the work the harness does once per server it verifies.
func BenchmarkBuildLargestCase(b *testing.B) {
	var (
		name       string
		dom, caps  string
		devs       map[Address]string
		largestLen int
	)
	for _, n := range caseNames(b) {
		d, nd, c := loadCase(b, n)
		size := len(d) + len(c)
		for _, x := range nd {
			size += len(x)
		}
		if size > largestLen {
			name, dom, devs, caps, largestLen = n, d, nd, c, size
		}
	}
	if name == "" {
		b.Fatal("no placement case under testdata/")
	}
	b.Logf("largest case: %s (%d bytes of XML, %d node devices)", name, largestLen, len(devs))
	b.ReportAllocs()
	b.SetBytes(int64(largestLen))
	var p *Placement
	for b.Loop() {
		var err error
		if p, err = Build(dom, devs, caps); err != nil {
			b.Fatalf("Build(%s): %v", name, err)
		}
	}
	if len(p.Devices) != len(devs) {
		b.Fatalf("%s: placement has %d devices, want %d", name, len(p.Devices), len(devs))
	}
}

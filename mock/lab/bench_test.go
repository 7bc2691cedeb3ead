package lab

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkGenerateInventories1000: a generated 1,000-host lab and the flat inventory of every
// host, as the scheduler and the libvirt daemons need them at start-up.
func BenchmarkGenerateInventories1000(b *testing.B) {
	b.ReportAllocs()
	devices := 0
	for b.Loop() {
		l := Generate(1000, 1)
		invs, err := l.Inventories()
		if err != nil {
			b.Fatal(err)
		}
		if len(invs) != 1000 {
			b.Fatalf("%d inventories, want 1000", len(invs))
		}
		devices = 0
		for _, inv := range invs {
			devices += len(inv.Devices)
		}
	}
	b.ReportMetric(float64(devices), "devices")
}

// BenchmarkParseMulti: YAML decoding, defaults and validation of the shipped multi-worker lab.
func BenchmarkParseMulti(b *testing.B) {
	file := filepath.Join("..", "..", "fixtures", "labs", "multi.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		l, err := Parse(file, data)
		if err != nil {
			b.Fatal(err)
		}
		if len(l.Hosts) != 4 {
			b.Fatalf("%d hosts, want 4", len(l.Hosts))
		}
	}
}

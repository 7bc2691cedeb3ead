package lab

import (
	"reflect"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func TestGenerateValidatesAndIsReproducible(t *testing.T) {
	for _, n := range []int{1, 8, 200} {
		l := Generate(n, 42)
		if err := l.Validate(); err != nil {
			t.Fatalf("Generate(%d): %v", n, err)
		}
		if len(l.Hosts) != n {
			t.Fatalf("Generate(%d): %d hosts", n, len(l.Hosts))
		}
		if !reflect.DeepEqual(l, Generate(n, 42)) {
			t.Fatalf("Generate(%d, 42) differs between calls", n)
		}
	}
	if reflect.DeepEqual(Generate(50, 1), Generate(50, 2)) {
		t.Fatal("different seeds gave the same lab")
	}
	if got := len(Generate(0, 1).Hosts); got != 1 {
		t.Fatalf("Generate(0) has %d hosts, want 1", got)
	}
}

func TestGenerateIsRealistic(t *testing.T) {
	l := Generate(200, 7)
	invs, err := l.Inventories()
	if err != nil {
		t.Fatal(err)
	}
	var vfs, gpus, noNUMA, pfExposed, bare int
	var nodeVF [2]int
	for _, h := range l.Hosts {
		inv := invs[h.Name]
		if len(h.NUMANodes) != 2 || len(h.Sockets()) != 2 {
			t.Fatalf("%s: %d nodes on %d sockets, want 2 on 2", h.Name, len(h.NUMANodes), len(h.Sockets()))
		}
		if len(inv.Devices) == 0 {
			bare++
		}
		for _, d := range inv.Devices {
			switch {
			case d.Type == vocab.TypePF && d.Exposed:
				pfExposed++
			case d.Type == vocab.TypeVF && d.Exposed:
				vfs++
				if d.NUMANode != nil {
					nodeVF[*d.NUMANode]++
				}
			case d.ProductID == "1b38":
				gpus++
			}
			if d.NUMANode == nil {
				noNUMA++
			}
		}
	}
	if pfExposed != 0 || vfs < 1000 || gpus < 50 || noNUMA == 0 || bare == 0 || nodeVF[0] == 0 || nodeVF[1] == 0 {
		t.Fatalf("exposed PFs %d, VFs %d (node0 %d, node1 %d), GPUs %d, devices without NUMA %d, hosts without devices %d",
			pfExposed, vfs, nodeVF[0], nodeVF[1], gpus, noNUMA, bare)
	}
}

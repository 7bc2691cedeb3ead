package scheduler

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
)

func loadLab(t testing.TB, name string) *lab.Lab {
	t.Helper()
	l, err := lab.Load("../../fixtures/labs/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newSched(t testing.TB, l *lab.Lab, faults ...string) *Scheduler {
	t.Helper()
	s, err := New(l, Options{Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// twoNodeLab is one host "h" with two NUMA nodes of two hyper-threaded cores each (node 0: CPUs
// 0,4 1,5; node 1: CPUs 2,6 3,7), node 0 with 8 GiB and node 1 with 4 GiB, on sockets s0 and s1,
// and one P40 GPU per entry of gpus ("0", "1" or "" for no NUMA information), in address order.
// Aliases: gpu (no policy) and gpu-required (numa_policy required), both 10de:1b38.
func twoNodeLab(t testing.TB, s0, s1 int, affinity string, gpus ...string) *lab.Lab {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `name: two-node
nova:
  pci_numa_affinity: %s
  aliases:
    - {name: gpu, vendor_id: "10de", product_id: "1b38"}
    - {name: gpu-required, vendor_id: "10de", product_id: "1b38", numa_policy: required}
  device_spec:
    - {vendor_id: "10de", product_id: "1b38"}
hosts:
  - name: h
    numa_nodes:
      - {id: 0, socket: %d, memory_mb: 8192, cores: ["0,4", "1,5"]}
      - {id: 1, socket: %d, memory_mb: 4096, cores: ["2,6", "3,7"]}
    pci_devices:
`, affinity, s0, s1)
	for i, n := range gpus {
		numa := ""
		if n != "" {
			numa = ", numa_node: " + n
		}
		fmt.Fprintf(&b, "      - {address: \"0000:%02x:00.0\", vendor_id: \"10de\", product_id: \"1b38\", class: \"0x030200\"%s}\n", 0x10+i, numa)
	}
	if len(gpus) == 0 {
		b.WriteString("      []\n")
	}
	l, err := lab.Parse("two-node.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return l
}

var serverSeq int

func boot(t testing.TB, s *Scheduler, vcpus, mem int, specs map[string]string) (*Placement, string, error) {
	t.Helper()
	serverSeq++
	id := fmt.Sprintf("server-%d", serverSeq)
	p, err := s.Schedule(Request{ServerID: id, VCPUs: vcpus, MemoryMB: mem, ExtraSpecs: specs})
	return p, id, err
}

func mustBoot(t testing.TB, s *Scheduler, vcpus, mem int, specs map[string]string) (*Placement, string) {
	t.Helper()
	p, id, err := boot(t, s, vcpus, mem, specs)
	if err != nil {
		t.Fatalf("boot %v: %v", specs, err)
	}
	return p, id
}

func isNoValidHost(err error) bool {
	var nv *NoValidHostError
	return errors.Is(err, ErrNoValidHost) && errors.As(err, &nv) &&
		err.Error() == "No valid host was found. There are not enough hosts available."
}

// deviceNodes returns the NUMA node of each placed device ("-" for none).
func deviceNodes(t testing.TB, s *Scheduler, p *Placement) []string {
	t.Helper()
	inv, _ := s.Inventory(p.Host)
	var out []string
	for _, d := range p.Devices {
		dev, ok := inv.Device(d.Address)
		if !ok {
			t.Fatalf("placed device %s not on host %s", d.Address, p.Host)
		}
		if dev.NUMANode == nil {
			out = append(out, "-")
		} else {
			out = append(out, fmt.Sprint(*dev.NUMANode))
		}
	}
	return out
}

func hostNodes(p *Placement) []int {
	var out []int
	for _, c := range p.Cells {
		out = append(out, c.HostNode)
	}
	return out
}

func addrs(p *Placement) []string {
	var out []string
	for _, d := range p.Devices {
		out = append(out, d.Address.String())
	}
	slices.Sort(out)
	return out
}

// allFaults is every fault name of vocab.Faults.
func allFaults() []string {
	names := make([]string, 0, len(vocab.Faults))
	for _, f := range vocab.Faults {
		names = append(names, f.Name)
	}
	return names
}

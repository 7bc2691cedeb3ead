package lab

import (
	"fmt"
	"math/rand"

	"github.com/hwcert/hwcert/config/vocab"
)

// Generate builds a realistic lab of the given number of compute hosts (at least 1), the same
// for the same seed: each host has two sockets with one NUMA node each, 8-16 hyper-threaded cores
// per node, 64-256 GiB per node, and a mix of C62x and DH895XCC QAT cards (VFs exposed, PFs not)
// and Tesla P40 GPUs on either node. About one GPU in five and one QAT card in ten report no NUMA
// node, one host in eight has no PCI device, and most hosts split their CPUs into a small shared
// set and a dedicated set. It is meant for scale tests and benchmarks of the mock.
func Generate(hosts int, seed int64) *Lab {
	if hosts < 1 {
		hosts = 1
	}
	rng := rand.New(rand.NewSource(seed))
	l := &Lab{
		Name: fmt.Sprintf("generated-%d-%d", hosts, seed),
		Nova: Nova{
			PCINUMAAffinity: vocab.AffinityUpstream,
			Aliases: []Alias{
				{Name: "qat-dh895xcc-pf", VendorID: "8086", ProductID: "0435"},
				{Name: "qat-dh895xcc-vf", VendorID: "8086", ProductID: "0443"},
				{Name: "qat-c62x-pf", VendorID: "8086", ProductID: "37c8"},
				{Name: "qat-c62x-vf", VendorID: "8086", ProductID: "37c9"},
				{Name: "gpu", VendorID: "10de", ProductID: "1b38"},
			},
			DeviceSpec: []DeviceSpec{
				{VendorID: "8086", ProductID: "0443"},
				{VendorID: "8086", ProductID: "37c9"},
				{VendorID: "10de", ProductID: "1b38"},
			},
		},
	}
	for i := 0; i < hosts; i++ {
		l.Hosts = append(l.Hosts, generateHost(rng, i))
	}
	l.setDefaults()
	return l
}

func generateHost(rng *rand.Rand, i int) Host {
	h := Host{Name: fmt.Sprintf("compute-%04d", i)}
	if i%10 == 9 {
		h.AvailabilityZone = "az-2"
	}
	cores := 8 + 2*rng.Intn(5) // per node: 8, 10, ..., 16
	threads := 2 * cores * 2   // two nodes, two threads per core
	for n := 0; n < 2; n++ {
		node := NUMANode{ID: n, Socket: n, MemoryMB: 1024 * (64 << rng.Intn(3))}
		for c := 0; c < cores; c++ {
			cpu := n*cores + c
			node.Cores = append(node.Cores, fmt.Sprintf("%d,%d", cpu, cpu+threads/2))
		}
		h.NUMANodes = append(h.NUMANodes, node)
	}
	if rng.Intn(4) != 0 {
		// The first core of each node (both threads) floats shared vCPUs; the rest is pinned.
		second := threads / 2
		h.CPUSharedSet = fmt.Sprintf("0,%d,%d,%d", cores, second, second+cores)
		h.CPUDedicatedSet = fmt.Sprintf("1-%d,%d-%d,%d-%d,%d-%d", cores-1, cores+1, 2*cores-1,
			second+1, second+cores-1, second+cores+1, second+2*cores-1)
	}
	if i%8 == 7 {
		return h // no PCI devices at all
	}
	bus := 0x18
	node := func(noInfoOneIn int) *int {
		if rng.Intn(noInfoOneIn) == 0 {
			return nil
		}
		n := rng.Intn(2)
		return &n
	}
	for c := 0; c < 1+rng.Intn(3); c++ {
		h.PCIDevices = append(h.PCIDevices, PCIDevice{
			Address: fmt.Sprintf("0000:%02x:00.0", bus), VendorID: "8086", ProductID: "37c8",
			VendorName: "Intel Corporation", ProductName: "C62x Chipset QuickAssist Technology",
			Class: "0x0b4000", Driver: "c6xx", NUMANode: node(10),
			VFs: &VFs{Count: 8 + 8*rng.Intn(2), Address: fmt.Sprintf("0000:%02x:01.0", bus), ProductID: "37c9",
				ProductName: "C62x Chipset QuickAssist Technology Virtual Function", Driver: "vfio-pci"},
		})
		bus += 0x10
	}
	if rng.Intn(3) == 0 {
		h.PCIDevices = append(h.PCIDevices, PCIDevice{
			Address: fmt.Sprintf("0000:%02x:00.0", bus), VendorID: "8086", ProductID: "0435",
			VendorName: "Intel Corporation", ProductName: "DH895XCC Series QAT",
			Class: "0x0b4000", Driver: "dh895xcc", NUMANode: node(10),
			VFs: &VFs{Count: 8, Address: fmt.Sprintf("0000:%02x:01.0", bus), ProductID: "0443",
				ProductName: "DH895XCC Series QAT Virtual Function", Driver: "vfio-pci"},
		})
		bus += 0x10
	}
	for g := 0; g < rng.Intn(3); g++ {
		h.PCIDevices = append(h.PCIDevices, PCIDevice{
			Address: fmt.Sprintf("0000:%02x:00.0", bus), VendorID: "10de", ProductID: "1b38",
			VendorName: "NVIDIA Corporation", ProductName: "GP102GL [Tesla P40]",
			Class: "0x030200", Driver: "vfio-pci", NUMANode: node(5),
		})
		bus += 0x10
	}
	return h
}

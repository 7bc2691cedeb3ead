package libvirtd

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
)

// Client round trips through the real libvirt C library over the daemon's unix socket: what
// the harness pays per server it inspects (domain XML) and per device it resolves.

const benchDevice = "pci_0000_3d_01_2"

// domainRoundTrip is virsh dumpxml: look the domain up by name, fetch its XML.
func domainRoundTrip(c *libvirt.Connect) error {
	dom, err := c.LookupDomainByName(activeName)
	if err != nil {
		return fmt.Errorf("LookupDomainByName(%s): %w", activeName, err)
	}
	defer dom.Free()
	x, err := dom.GetXMLDesc(0)
	if err != nil {
		return fmt.Errorf("GetXMLDesc(%s): %w", activeName, err)
	}
	if !strings.Contains(x, "bus='0x85'") {
		return fmt.Errorf("domain XML of %s lacks the node-1 VF", activeName)
	}
	return nil
}

// nodeDevRoundTrip is virsh nodedev-list --cap pci followed by nodedev-dumpxml of one device.
func nodeDevRoundTrip(c *libvirt.Connect) error {
	devs, err := c.ListAllNodeDevices(libvirt.CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)
	if err != nil {
		return fmt.Errorf("ListAllNodeDevices(CAP_PCI_DEV): %w", err)
	}
	defer func() {
		for i := range devs {
			devs[i].Free()
		}
	}()
	if len(devs) != aioDevices {
		return fmt.Errorf("ListAllNodeDevices(CAP_PCI_DEV) = %d devices, want %d", len(devs), aioDevices)
	}
	for i := range devs {
		// The name is cached client-side: no extra round trip.
		name, err := devs[i].GetName()
		if err != nil {
			return err
		}
		if name != benchDevice {
			continue
		}
		x, err := devs[i].GetXMLDesc(0)
		if err != nil {
			return fmt.Errorf("GetXMLDesc(%s): %w", name, err)
		}
		if !strings.Contains(x, "<numa node='0'/>") {
			return fmt.Errorf("device XML of %s lacks its NUMA node", name)
		}
		return nil
	}
	return fmt.Errorf("%s not listed", benchDevice)
}

var roundTrips = []struct {
	name string
	fn   func(*libvirt.Connect) error
}{
	{"domain", domainRoundTrip},
	{"nodedev", nodeDevRoundTrip},
}

func BenchmarkClientRoundTrip(b *testing.B) {
	d := startDaemon(b)
	c := connect(b, d.unixURI)
	for _, rt := range roundTrips {
		b.Run(rt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := rt.fn(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClientRoundTripParallel: one connection per goroutine (4 per CPU), all on the same
// daemon, so the daemon's per-connection goroutines and shared state are exercised together.
func BenchmarkClientRoundTripParallel(b *testing.B) {
	const perCPU = 4
	d := startDaemon(b)
	for _, rt := range roundTrips {
		b.Run(rt.name, func(b *testing.B) {
			// RunParallel starts perCPU*GOMAXPROCS goroutines; each takes its own connection,
			// opened before the timer starts.
			n := perCPU * runtime.GOMAXPROCS(0)
			pool := make(chan *libvirt.Connect, n)
			for i := 0; i < n; i++ {
				pool <- connect(b, d.unixURI)
			}
			b.SetParallelism(perCPU)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := <-pool
				for pb.Next() {
					if err := rt.fn(c); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

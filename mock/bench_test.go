package mock_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/hwcert/hwcert/mock"
	"github.com/hwcert/hwcert/mock/cloud"
)

// BenchmarkServerLifecycle is the harness's unit of work end to end, over HTTP through
// gophercloud against the in-process mock of the multi-worker lab: create a flavor and set its
// extra specs, boot a dedicated two-node guest with two QAT VFs, poll it to ACTIVE, delete the
// server and the flavor. Boot latency is 0, so the figure is the mock's and the client's own
// cost (both run in this process: B/op and allocs/op count the two sides together).
func BenchmarkServerLifecycle(b *testing.B) {
	zero := time.Duration(0)
	c := startLab(b, "../fixtures/labs/multi.yaml", func(o *mock.Options) { o.BootLatency = &zero })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	specClient := c.at("2.61")
	image := c.m.Cloud().Lab().Images[0].ID
	specs := flavors.ExtraSpecsOpts{
		"hw:cpu_policy":         "dedicated",
		"hw:numa_nodes":         "2",
		"pci_passthrough:alias": "qat-c62x-vf:2",
	}

	n, gets := 0, 0
	cycle := func() (*servers.Server, error) {
		n++
		name := fmt.Sprintf("bench-%d", n)
		f, err := flavors.Create(ctx, c.compute, flavors.CreateOpts{Name: name, VCPUs: 4, RAM: 4096, Disk: gophercloud.IntToPointer(1)}).Extract()
		if err != nil {
			return nil, fmt.Errorf("creating flavor %s: %w", name, err)
		}
		if _, err := flavors.CreateExtraSpecs(ctx, specClient, f.ID, specs).Extract(); err != nil {
			return nil, fmt.Errorf("setting extra specs of %s: %w", name, err)
		}
		s, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: name, FlavorRef: f.ID, ImageRef: image, Networks: "none"}, nil).Extract()
		if err != nil {
			return nil, fmt.Errorf("booting %s: %w", name, err)
		}
		var last *servers.Server
		// The mock lands a zero-latency boot at once: a short period keeps polling from
		// dominating the figure.
		if err := poll(ctx, 100*time.Microsecond, func(ctx context.Context) (bool, error) {
			gets++
			last, err = servers.Get(ctx, c.compute, s.ID).Extract()
			return err == nil && last.Status != "BUILD", err
		}); err != nil {
			return nil, fmt.Errorf("waiting for %s: %w", s.ID, err)
		}
		if last.Status != "ACTIVE" {
			return last, fmt.Errorf("server %s is %s, want ACTIVE (fault %+v)", s.ID, last.Status, last.Fault)
		}
		if err := servers.Delete(ctx, c.compute, s.ID).ExtractErr(); err != nil {
			return last, fmt.Errorf("deleting server %s: %w", s.ID, err)
		}
		if err := flavors.Delete(ctx, c.compute, f.ID).ExtractErr(); err != nil {
			return last, fmt.Errorf("deleting flavor %s: %w", f.ID, err)
		}
		return last, nil
	}

	// One checked cycle first: the guest really landed with both VFs, and nothing is left.
	s, err := cycle()
	if err != nil {
		b.Fatal(err)
	}
	if s.Host == "" {
		b.Fatalf("ACTIVE server %s has no host", s.ID)
	}
	b.Logf("first guest landed on %s", s.Host)
	checkEmpty(b, c)

	b.ReportAllocs()
	gets = 0
	for b.Loop() {
		if _, err := cycle(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(gets)/float64(b.N), "polls/op")
	checkEmpty(b, c)
}

// checkEmpty fails unless every server is gone and the scheduler holds no claim.
func checkEmpty(b *testing.B, c *labClient) {
	b.Helper()
	left, err := c.m.Cloud().Servers(cloud.ServerFilter{})
	if err != nil {
		b.Fatal(err)
	}
	if len(left) != 0 {
		b.Fatalf("%d server(s) left after delete", len(left))
	}
	for _, h := range c.m.Cloud().HostNames() {
		u, ok := c.m.Scheduler().Usage(h)
		if !ok || u.VCPUsUsed != 0 || u.MemoryMBUsed != 0 || u.RunningVMs != 0 || u.PCIFree != u.PCITotal {
			b.Fatalf("host %s still has claims after delete: %+v", h, u)
		}
	}
}

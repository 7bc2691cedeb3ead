package framework

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/cpuset"
	"github.com/hwcert/hwcert/framework/extraspecs"
	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/framework/placement"
	"github.com/hwcert/hwcert/framework/verify"
)

// Flavor is a flavor created for a spec.
type Flavor struct {
	ID, Name string
	// ExtraSpecs are the flavor's extra specs as the cloud stores them (read back after they were
	// set), or as the spec asked when the cloud refused them.
	ExtraSpecs map[string]string
	f          *Framework
}

// Request is what the flavor asks for, read from its stored extra specs, as the verdict judges it
// under the PCI NUMA affinity reading the lab is expected to follow (config
// expect.pci_numa_affinity). It fails the spec when the extra specs cannot be read as a request.
func (fl *Flavor) Request() verify.Request {
	GinkgoHelper()
	return fl.RequestUnder(fl.f.Config.Expect.PCINUMAAffinity)
}

// RequestOn is Request for a server booted on a host the spec holds, with no other server of
// the spec on it: the verdict also knows the host's cpu_dedicated_set (config
// nova.cpu_dedicated_set) and which devices were free (the host's exposed devices), so preferred
// is held to a local device whenever one was free.
func (fl *Flavor) RequestOn(host string) verify.Request {
	GinkgoHelper()
	r := fl.Request()
	if set, ok := fl.f.Config.Nova.CPUDedicatedSet[host]; ok {
		cpus, err := cpuset.Parse(set)
		Expect(err).NotTo(HaveOccurred(), "config nova.cpu_dedicated_set.%s", host)
		r.CPUDedicatedSet = cpus
	}
	h, ok := fl.f.Inventory.Host(host)
	Expect(ok).To(BeTrue(), "host %s is not in the lab inventory", host)
	r.Free = []placement.Device{}
	for _, d := range h.Devices {
		if d.Exposed {
			r.Free = append(r.Free, d.Device)
		}
	}
	return r
}

// RequestUnder is Request judged under another reading (vocab.Readings).
func (fl *Flavor) RequestUnder(reading string) verify.Request {
	GinkgoHelper()
	r, err := extraspecs.Request(fl.ExtraSpecs, fl.f.Catalog, reading)
	Expect(err).NotTo(HaveOccurred(), "reading the request of flavor %s from its extra specs", fl.Name)
	return r
}

// CreateFlavor creates a flavor with the options' extra specs and fails the spec if the cloud
// refuses. Its deletion is registered as soon as it exists.
func (f *Framework) CreateFlavor(ctx context.Context, opts ...FlavorOption) *Flavor {
	GinkgoHelper()
	fl, err := f.TryCreateFlavor(ctx, opts...)
	expectNoError(err, "creating flavor with extra specs %v", fl.ExtraSpecs)
	return fl
}

// TryCreateFlavor is CreateFlavor for specs that expect a refusal: it returns the error of
// setting the extra specs (an *openstack.APIError for Nova's 400s). The flavor, if created, is
// still cleaned up.
func (f *Framework) TryCreateFlavor(ctx context.Context, opts ...FlavorOption) (*Flavor, error) {
	GinkgoHelper()
	o := flavorOptions{specs: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	fl := &Flavor{Name: f.name("flavor"), ExtraSpecs: o.specs, f: f}
	cloud := f.Cloud
	if o.microversion != "" {
		cloud = cloud.WithMicroversion(o.microversion)
	}
	size := f.Config.Flavor
	step("create flavor %s with %v", fl.Name, o.specs)
	created, err := cloud.CreateFlavor(ctx, openstack.FlavorSpec{Name: fl.Name, VCPUs: size.VCPUs, RAMMB: size.RAMMB, DiskGB: size.DiskGB})
	if err != nil {
		return fl, err
	}
	fl.ID = created.ID
	DeferCleanup(func(ctx context.Context) {
		step("delete flavor %s", fl.Name)
		expectNoError(f.Cloud.DeleteFlavor(ctx, fl.ID), "deleting flavor %s", fl.ID)
	}, NodeTimeout(f.cleanupTimeout()))
	// What the verdict expects comes from what Nova answers it stored (the flavor is new, so
	// that is all its extra specs), not from what the spec meant to set.
	stored, err := cloud.SetExtraSpecs(ctx, fl.ID, o.specs)
	if err != nil {
		return fl, err
	}
	fl.ExtraSpecs = stored
	return fl, nil
}

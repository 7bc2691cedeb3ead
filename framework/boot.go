package framework

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"

	"github.com/hwcert/hwcert/framework/extraspecs"
	"github.com/hwcert/hwcert/framework/openstack"
)

// Boot creates a server of the flavor and waits until it is ACTIVE or ERROR. When the flavor
// names an optional catalog alias the lab does not define (Nova: "PCI alias X is not defined"),
// the spec is skipped: optional aliases are tested only where the lab declares them. It returns the
// server as last seen and, unless it is ACTIVE, the error: *openstack.APIError when Nova refused
// the request (no server exists), *openstack.BootError with Nova's fault when it went to ERROR,
// *openstack.TimeoutError at the deadline. Deleting the server (and waiting until it is gone, so
// its devices are free) is registered as soon as it exists.
func (f *Framework) Boot(ctx context.Context, fl *Flavor, opts ...BootOption) (*servers.Server, error) {
	GinkgoHelper()
	var o bootOptions
	for _, opt := range opts {
		opt(&o)
	}
	name := f.name("vm")
	where := "wherever Nova places it"
	if o.host != "" {
		where = "on " + o.host
	}
	step("boot server %s of flavor %s %s", name, fl.Name, where)
	srv, err := f.Cloud.CreateServer(ctx, openstack.ServerSpec{
		Name: name, FlavorID: fl.ID, ImageID: f.env.ImageID, Network: f.env.NetworkID, Host: o.host,
	})
	if err != nil {
		f.skipIfOptionalAliasUndefined(err)
		if IsLabError(err) {
			FailLab(err, "creating a server of flavor %s", fl.Name)
		}
		return nil, err
	}
	id := srv.ID
	DeferCleanup(func(ctx context.Context) {
		step("delete server %s", name)
		expectNoError(f.Cloud.DeleteServer(ctx, id), "deleting server %s", id)
	}, NodeTimeout(f.cleanupTimeout()))
	f.track(srv)
	booted, err := f.Cloud.WatchBoot(ctx, id, func(s *servers.Server) {
		if s.TaskState != "" {
			step("server %s: %s (%s)", name, s.Status, s.TaskState)
		} else {
			step("server %s: %s", name, s.Status)
		}
	})
	if booted != nil {
		f.track(booted)
		srv = booted
	}
	// A boot that stuck, or failed in spawn rather than for want of a host, says nothing about
	// the request: no spec may read it as a verdict.
	if IsLabError(err) {
		FailLab(err, "booting server %s of flavor %s (extra specs %v)", id, fl.Name, fl.ExtraSpecs)
	}
	return srv, err
}

// BootActive boots and fails the spec unless the server becomes ACTIVE. When Nova finds no valid
// host on a host whose inventory has the devices asked for, the failure says so with the
// inventory rows: the likely cause is the lab's [pci] device_spec or alias, not the harness.
func (f *Framework) BootActive(ctx context.Context, fl *Flavor, opts ...BootOption) *servers.Server {
	GinkgoHelper()
	srv, err := f.Boot(ctx, fl, opts...)
	expectNoError(err, "booting a server of flavor %s (extra specs %v)%s", fl.Name, fl.ExtraSpecs, f.whyNoValidHost(err, fl, opts))
	return srv
}

// whyNoValidHost explains a "no valid host" on a named host the inventory says fits the request.
func (f *Framework) whyNoValidHost(err error, fl *Flavor, opts []BootOption) string {
	be, ok := openstack.AsBootError(err)
	if !ok || !strings.Contains(be.Fault.Message, NoValidHost) {
		return ""
	}
	var o bootOptions
	for _, opt := range opts {
		opt(&o)
	}
	h, ok := f.Inventory.Host(o.host)
	if !ok {
		return ""
	}
	r, rerr := extraspecs.Request(fl.ExtraSpecs, f.Catalog, f.Config.Expect.PCINUMAAffinity)
	if rerr != nil {
		return ""
	}
	want := map[string]int{}
	for _, a := range r.Aliases {
		want[a.Entry.Alias] += a.Count
	}
	if why := h.WhyNoValidHost(want); why != "" {
		return "\n" + why
	}
	return ""
}

var aliasNotDefined = regexp.MustCompile(`PCI alias (.+) is not defined`)

func (f *Framework) skipIfOptionalAliasUndefined(err error) {
	ae, ok := openstack.AsAPIError(err)
	if !ok || ae.Status != 400 {
		return
	}
	m := aliasNotDefined.FindStringSubmatch(ae.Message)
	if m == nil {
		return
	}
	if e, ok := f.Catalog.Lookup(m[1]); ok && e.Optional {
		Skip(fmt.Sprintf("the lab does not define the optional alias %s (%s)", e.Alias, e.DisplayName))
	}
}

package framework

import (
	"context"
	"slices"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/framework/placement"
)

// HardReboot reboots the server the hard way (Nova destroys and recreates the domain) and fails
// the spec unless it is ACTIVE again.
func (f *Framework) HardReboot(ctx context.Context, srv *servers.Server) *servers.Server {
	GinkgoHelper()
	return f.settled(f.Cloud.RebootServer(ctx, srv.ID, openstack.RebootHard))("hard reboot of server %s", srv.ID)
}

// SoftReboot reboots the server through its guest and fails the spec unless it is ACTIVE again.
func (f *Framework) SoftReboot(ctx context.Context, srv *servers.Server) *servers.Server {
	GinkgoHelper()
	return f.settled(f.Cloud.RebootServer(ctx, srv.ID, openstack.RebootSoft))("soft reboot of server %s", srv.ID)
}

// Stop powers the server off and fails the spec unless it is SHUTOFF.
func (f *Framework) Stop(ctx context.Context, srv *servers.Server) *servers.Server {
	GinkgoHelper()
	return f.settled(f.Cloud.StopServer(ctx, srv.ID))("stop of server %s", srv.ID)
}

// Start powers a stopped server on and fails the spec unless it is ACTIVE.
func (f *Framework) Start(ctx context.Context, srv *servers.Server) *servers.Server {
	GinkgoHelper()
	return f.settled(f.Cloud.StartServer(ctx, srv.ID))("start of server %s", srv.ID)
}

// settled records the server's new state for evidence and fails the spec on err.
func (f *Framework) settled(srv *servers.Server, err error) func(what string, args ...any) *servers.Server {
	return func(what string, args ...any) *servers.Server {
		GinkgoHelper()
		if srv != nil {
			f.track(srv)
		}
		expectNoError(err, what, args...)
		return srv
	}
}

// ExpectPlacementKept fails the spec unless after has the devices (by host PCI address), the host
// NUMA nodes of every guest cell and the vCPU pinning of before: what Nova keeps for a server
// across a reboot or a stop and start, since the claims and the NUMA topology are the instance's.
func (f *Framework) ExpectPlacementKept(before, after *placement.Placement, event string) {
	GinkgoHelper()
	addrs := func(p *placement.Placement) []string {
		var out []string
		for _, d := range p.Devices {
			out = append(out, d.Address.String())
		}
		slices.Sort(out)
		return out
	}
	Expect(after.Domain).To(Equal(before.Domain), "the libvirt domain after %s", event)
	Expect(addrs(after)).To(Equal(addrs(before)), "the hostdevs after %s", event)
	Expect(after.HostNodes).To(Equal(before.HostNodes), "the host NUMA nodes after %s", event)
	Expect(after.GuestCells).To(Equal(before.GuestCells), "the guest NUMA cells after %s", event)
	Expect(after.VCPUPins).To(Equal(before.VCPUPins), "the vCPU pinning after %s", event)
}

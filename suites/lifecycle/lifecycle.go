// Package lifecycle holds the specs proving that a server keeps what it was given across the
// lifecycle a certification exercises: after a hard reboot, and after a stop and a start, the
// guest has the same devices at the same host PCI addresses, on the same host NUMA nodes, with the
// same pinned CPUs — as Nova promises, since the PCI claims and the NUMA topology belong to the
// instance, not to one boot of it. Specs are generated from the device catalog and skip, saying
// why, when the lab has no host with the alias's devices.
package lifecycle

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework"
	"github.com/hwcert/hwcert/framework/hostlock"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/labels"
	"github.com/hwcert/hwcert/framework/matchers"
)

var _ = Describe("Server lifecycle", framework.LabelsOf(labels.Lifecycle, labels.Passthrough, labels.NUMA, labels.DedicatedCPUs), func() {
	f := framework.New("lifecycle")
	cat := framework.Catalog()

	DescribeTable("devices and NUMA placement survive a hard reboot and a stop/start",
		func(ctx SpecContext, alias string) {
			f.RequireDevices(alias, 1)
			host := f.HostWhere(ctx, fmt.Sprintf("give a %s device", alias), hostlock.Want{Devices: map[string]int{alias: 1}, CPUs: 1}, inventory.HasDevices(alias, 1))
			fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1), framework.WithNUMANodes(1), framework.WithDedicatedCPUs())
			srv := f.BootActive(ctx, fl, framework.WithHost(host))
			booted := f.Inspect(ctx, srv)
			Expect(booted).To(matchers.SatisfyRequest(fl.Request()))

			srv = f.HardReboot(ctx, srv)
			rebooted := f.Inspect(ctx, srv)
			f.ExpectPlacementKept(booted, rebooted, "a hard reboot")
			Expect(rebooted).To(matchers.SatisfyRequest(fl.Request()))

			// A stopped server's domain stays defined, shut off, with its devices still claimed.
			srv = f.Stop(ctx, srv)
			f.ExpectPlacementKept(booted, f.Inspect(ctx, srv), "a stop")

			srv = f.Start(ctx, srv)
			started := f.Inspect(ctx, srv)
			f.ExpectPlacementKept(booted, started, "a stop and a start")
			Expect(started).To(matchers.SatisfyRequest(fl.Request()))
		},
		func() []TableEntry {
			var out []TableEntry
			for _, e := range cat.Supported() {
				out = append(out, Entry(e.Alias, e.Alias,
					framework.EntryLabels(cat, e, framework.DeviceCheckFaults(e)...),
					SpecTimeout(framework.OneServerTimeout)))
			}
			return out
		}())
})

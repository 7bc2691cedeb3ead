// Package passthrough holds the specs proving that the devices a flavor asks for are the devices
// the guest gets: one device, several devices, the StarlingX multi-alias flavor, and no device
// ever given to two guests. The specs are generated from the device catalog; each one skips,
// saying why, when the lab has nothing to test it with.
package passthrough

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework"
	"github.com/hwcert/hwcert/framework/extraspecs"
	"github.com/hwcert/hwcert/framework/hostlock"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/labels"
	"github.com/hwcert/hwcert/framework/matchers"
	"github.com/hwcert/hwcert/framework/placement"
	"github.com/hwcert/hwcert/framework/verify"
)

// StarlingXMultiAlias is the flavor of the StarlingX document "Configure a Flavor to Use a Generic
// PCI Device", verbatim (the space after the comma is valid for Nova's 2.86 validator).
const StarlingXMultiAlias = "gpu:1, qat-c62x-vf:2"

var _ = Describe("PCI passthrough", framework.LabelsOf(labels.Passthrough), func() {
	f := framework.New("passthrough")
	cat := framework.Catalog()

	countFaults := framework.DeviceCheckFaults

	entries := func(count int, extra ...string) []TableEntry {
		var out []TableEntry
		for _, e := range cat.Supported() {
			ls := append(countFaults(e), extra...)
			out = append(out, Entry(fmt.Sprintf("%s × %d", e.Alias, count), e.Alias, count,
				framework.EntryLabels(cat, e, ls...), SpecTimeout(framework.OneServerTimeout)))
		}
		return out
	}

	// bootAndCheck asks for count devices of alias on a host that has them (preferring one with
	// a spare device, so an extra attachment would have something to attach) and checks from
	// the domain XML that exactly those devices, with the catalog's IDs and function, are there.
	bootAndCheck := func(ctx SpecContext, alias string, count int) {
		hosts, hold := f.RequireDevices(alias, count), count
		if spare := f.Inventory.HostsWhere(inventory.HasDevices(alias, count+1)); len(spare) > 0 {
			// The spare is held too, so that it is still free when the guest boots.
			hosts, hold = spare, count+1
		}
		host := f.AcquireHost(ctx, fmt.Sprintf("give %d × %s", count, alias), hostlock.Want{Devices: map[string]int{alias: hold}}, hosts...)
		fl := f.CreateFlavor(ctx, framework.WithAlias(alias, count))
		srv := f.BootActive(ctx, fl, framework.WithHost(host))
		p := f.Inspect(ctx, srv)
		Expect(p).To(matchers.SatisfyRequest(fl.Request()))
	}

	DescribeTable("one device of a supported alias", bootAndCheck, entries(1))

	DescribeTable("several devices of a supported alias in one guest", bootAndCheck, entries(2, labels.MultiDevice))

	It("passes through the StarlingX multi-alias flavor "+StarlingXMultiAlias,
		framework.LabelsOf(append([]string{labels.MultiDevice, labels.StarlingXDoc, labels.GPU, labels.QAT},
			framework.Faults(vocab.FaultWrongDevice, vocab.FaultDropHostdev)...)...),
		SpecTimeout(framework.OneServerTimeout),
		func(ctx SpecContext) {
			want, err := extraspecs.ParseAlias(StarlingXMultiAlias)
			Expect(err).NotTo(HaveOccurred())
			for _, a := range want {
				if _, ok := cat.Lookup(a.Alias); !ok {
					Skip(fmt.Sprintf("the device catalog has no alias %s", a.Alias))
				}
			}
			hosts := f.Inventory.HostsWhere(func(h *inventory.Host) bool {
				for _, a := range want {
					if h.Count(a.Alias) < a.Count {
						return false
					}
				}
				return true
			})
			if len(hosts) == 0 {
				Skip(fmt.Sprintf("no host of the lab has the devices for %q", StarlingXMultiAlias))
			}
			hold := hostlock.Want{Devices: map[string]int{}}
			for _, a := range want {
				hold.Devices[a.Alias] += a.Count
			}
			host := f.AcquireHost(ctx, "host "+StarlingXMultiAlias, hold, hosts...)
			fl := f.CreateFlavor(ctx, framework.WithAliasSpec(StarlingXMultiAlias))
			Expect(fl.ExtraSpecs).To(HaveKeyWithValue(vocab.SpecPCIAlias, StarlingXMultiAlias))
			srv := f.BootActive(ctx, fl, framework.WithHost(host))
			p := f.Inspect(ctx, srv)
			Expect(p).To(matchers.SatisfyRequest(fl.Request()))
		})

	// Filling a host: every device of the alias goes to its own guest, no two guests share one,
	// and the next guest finds no valid host. It holds the whole host (not the whole run: other
	// specs run meanwhile on the other hosts).
	DescribeTable("no device is ever given to two guests",
		func(ctx SpecContext, alias string) {
			hosts := f.RequireDevices(alias, 2)
			host := f.AcquireHost(ctx, "host two "+alias+" devices", hostlock.Want{Whole: true}, hosts...)
			h, _ := f.Inventory.Host(host)
			n := h.Count(alias)
			fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1))
			var seen []*placement.Placement
			for i := range n {
				srv := f.BootActive(ctx, fl, framework.WithHost(host))
				p := f.Inspect(ctx, srv)
				Expect(p).To(matchers.SatisfyRequest(fl.Request()), "guest %d of %d on %s", i+1, n, host)
				for _, q := range seen {
					Expect(verify.Disjoint(p, q)).To(Succeed())
				}
				seen = append(seen, p)
			}
			srv, err := f.Boot(ctx, fl, framework.WithHost(host))
			f.ExpectNoValidHost(ctx, srv, err)
		},
		func() []TableEntry {
			var out []TableEntry
			for _, e := range cat.Supported() {
				out = append(out, Entry(e.Alias, e.Alias,
					framework.EntryLabels(cat, e, append(countFaults(e), labels.Serial, labels.MultiDevice)...),
					SpecTimeout(framework.FillingHostTimeout)))
			}
			return out
		}())
})

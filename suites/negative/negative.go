// Package negative holds the specs proving that what must fail does fail, with the error a user
// sees: no valid host (more devices than exist, a NUMA policy that cannot be met), invalid hosts
// (one without the device, one that does not exist), unsupported aliases (undefined, QAT PFs)
// and malformed extra specs.
package negative

import (
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/hostlock"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/labels"
	"github.com/hwcert/hwcert/framework/matchers"
)

// UndefinedAlias is an alias no lab defines (and the catalog does not list).
const UndefinedAlias = "hwcert-undefined-alias"

// aliasPattern is Nova's 2.86 validation pattern for pci_passthrough:alias, as its 400 quotes it.
const aliasPattern = `[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*`

var _ = Describe("Refused requests", framework.LabelsOf(labels.Negative), func() {
	f := framework.New("negative")
	cat := framework.Catalog()
	oneServer := SpecTimeout(framework.OneServerTimeout)

	perSupportedAlias := func(extra ...string) []TableEntry {
		var out []TableEntry
		for _, e := range cat.Supported() {
			out = append(out, Entry(e.Alias, e.Alias, framework.EntryLabels(cat, e, extra...), oneServer))
		}
		return out
	}

	Describe("no valid host", func() {
		DescribeTable("more devices than any host has",
			func(ctx SpecContext, alias string) {
				f.RequireDevices(alias, 1)
				count := f.Inventory.MaxOnHost(alias) + 1
				fl := f.CreateFlavor(ctx, framework.WithAlias(alias, count))
				srv, err := f.Boot(ctx, fl)
				f.ExpectNoValidHost(ctx, srv, err)
			},
			perSupportedAlias(labels.MultiDevice))

		// Two aliases whose devices sit on different NUMA nodes of a host cannot both be local to
		// a one-node guest: required, legacy and socket (nodes on different sockets) must refuse,
		// preferred must accept.
		DescribeTable("two devices on different nodes for a one-node guest",
			func(ctx SpecContext, policy string) {
				a, b, host := splitPair(f, cat)
				if host == "" {
					Skip("no host of the lab has two supported aliases whose devices sit on different NUMA nodes (on different sockets)")
				}
				// A refusal must not come from a device another spec took: every device of both
				// aliases is held, and for preferred (accepted) one of each.
				hold := hostlock.Want{Devices: map[string]int{a: hostlock.AllDevices, b: hostlock.AllDevices}}
				if policy == vocab.PolicyPreferred {
					hold = hostlock.Want{Devices: map[string]int{a: 1, b: 1}}
				}
				host = f.AcquireHost(ctx, fmt.Sprintf("hold %s and %s on different nodes", a, b), hold, host)
				fl := f.CreateFlavor(ctx, framework.WithAlias(a, 1), framework.WithAlias(b, 1),
					framework.WithNUMANodes(1), framework.WithPCINUMAPolicy(policy))
				srv, err := f.Boot(ctx, fl, framework.WithHost(host))
				if policy == vocab.PolicyPreferred {
					Expect(err).NotTo(HaveOccurred(), "preferred accepts a remote device")
					p := f.Inspect(ctx, srv)
					Expect(p).To(matchers.SatisfyRequest(fl.Request()))
					return
				}
				f.ExpectNoValidHost(ctx, srv, err)
			},
			Entry("required", vocab.PolicyRequired, framework.LabelsOf(append([]string{labels.NUMA, labels.MultiDevice, labels.Policy(vocab.PolicyRequired)},
				framework.Faults(vocab.FaultIgnorePolicy)...)...), oneServer),
			Entry("legacy", vocab.PolicyLegacy, framework.LabelsOf(labels.NUMA, labels.MultiDevice, labels.Policy(vocab.PolicyLegacy)), oneServer),
			Entry("socket", vocab.PolicySocket, framework.LabelsOf(labels.NUMA, labels.MultiDevice, labels.Policy(vocab.PolicySocket)), oneServer),
			Entry("preferred (accepted)", vocab.PolicyPreferred, framework.LabelsOf(append([]string{labels.NUMA, labels.MultiDevice, labels.Policy(vocab.PolicyPreferred)},
				framework.Faults(vocab.FaultWrongDevice, vocab.FaultDropHostdev)...)...), oneServer),
		)
	})

	Describe("invalid hosts", func() {
		DescribeTable("a host without the device",
			func(ctx SpecContext, alias string) {
				f.RequireDevices(alias, 1)
				// No other spec can give the host a device it lacks: no hold.
				host := f.HostWhere(ctx, "lack "+alias+" devices", hostlock.Want{}, func(h *inventory.Host) bool { return h.Count(alias) == 0 })
				fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1))
				srv, err := f.Boot(ctx, fl, framework.WithHost(host))
				f.ExpectNoValidHost(ctx, srv, err)
			},
			perSupportedAlias())

		It("a host that does not exist", oneServer, func(ctx SpecContext) {
			e := firstInLab(f, cat)
			fl := f.CreateFlavor(ctx, framework.WithAlias(e.Alias, 1))
			bogus := f.UniqueName + "-no-such-host"
			_, err := f.Boot(ctx, fl, framework.WithHost(bogus))
			framework.ExpectAPIError(err, 400, fmt.Sprintf("Compute host %s could not be found.", bogus))
			Expect(f.ServersNamed(ctx)).To(BeEmpty(), "a refused request leaves no server")
		})
	})

	Describe("unsupported aliases", func() {
		It("an alias the lab does not define", oneServer, func(ctx SpecContext) {
			fl := f.CreateFlavor(ctx, framework.WithAlias(UndefinedAlias, 1))
			_, err := f.Boot(ctx, fl)
			framework.ExpectAPIError(err, 400, fmt.Sprintf("PCI alias %s is not defined", UndefinedAlias))
			Expect(f.ServersNamed(ctx)).To(BeEmpty(), "a refused request leaves no server")
		})

		// StarlingX does not support QAT PFs for passthrough: whatever the cloud does (refuse,
		// no valid host), the guest must never run with a PF attached.
		DescribeTable("an alias whose passthrough is not supported",
			func(ctx SpecContext, alias string) {
				e := f.Entry(alias)
				fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1))
				srv, err := f.Boot(ctx, fl)
				if err != nil {
					_, refused := framework.AsAPIError(err)
					_, failed := framework.AsBootError(err)
					Expect(refused || failed).To(BeTrue(), "the request is refused or fails to schedule, got: %v", err)
					return
				}
				p := f.Inspect(ctx, srv)
				Expect(p.Devices).NotTo(ContainElement(HaveField("Function", vocab.FunctionPF)),
					"%s (%s) is not supported: %s; yet server %s is ACTIVE with a PF", alias, e.DisplayName, e.UnsupportedReason, srv.ID)
				Fail(fmt.Sprintf("server %s of unsupported alias %s is ACTIVE (%s)", srv.ID, alias, e.UnsupportedReason))
			},
			func() []TableEntry {
				var out []TableEntry
				for _, e := range cat.Unsupported() {
					out = append(out, Entry(e.Alias, e.Alias, framework.EntryLabels(cat, e), oneServer))
				}
				return out
			}())
	})

	Describe("malformed extra specs", func() {
		// Nova validates extra specs from microversion 2.86: the refusal comes at flavor set.
		DescribeTable("are refused at flavor set with microversion 2.86",
			func(ctx SpecContext, key, value, message string) {
				_, err := f.TryCreateFlavor(ctx, framework.WithMicroversion("2.86"), framework.WithExtraSpec(key, value))
				framework.ExpectAPIError(err, 400, message)
			},
			Entry("gpu: 1 (space after the colon)", vocab.SpecPCIAlias, "gpu: 1",
				fmt.Sprintf("Validation failed; 'gpu: 1' is not of the format '%s'.", aliasPattern)),
			Entry("gpu (no count)", vocab.SpecPCIAlias, "gpu",
				fmt.Sprintf("Validation failed; 'gpu' is not of the format '%s'.", aliasPattern)),
			Entry("gpu:1, (trailing comma)", vocab.SpecPCIAlias, "gpu:1,",
				fmt.Sprintf("Validation failed; 'gpu:1,' is not of the format '%s'.", aliasPattern)),
			Entry("an unknown NUMA policy", vocab.SpecPCINUMAPolicy, "strict",
				"Validation failed; 'strict' is not one of: required, preferred, legacy, socket."),
		)
	})
})

// firstInLab is a supported alias the lab has a device for; the spec is skipped when there is none.
func firstInLab(f *framework.Framework, cat *catalog.Catalog) catalog.Entry {
	GinkgoHelper()
	for _, e := range cat.Supported() {
		if !e.Optional && f.Inventory.Count(e.Alias) > 0 {
			return e
		}
	}
	Skip("the lab has no device of a supported, non-optional catalog alias")
	return catalog.Entry{}
}

// splitPair finds a host and two supported, non-optional aliases whose devices (all with NUMA
// information) sit on disjoint NUMA nodes that are on different sockets.
func splitPair(f *framework.Framework, cat *catalog.Catalog) (a, b, host string) {
	var aliases []string
	for _, e := range cat.Supported() {
		if !e.Optional {
			aliases = append(aliases, e.Alias)
		}
	}
	for _, h := range f.Inventory.Hosts {
		for i, x := range aliases {
			for _, y := range aliases[i+1:] {
				nx, ny := h.NodesWith(x, 1), h.NodesWith(y, 1)
				if len(nx) == 0 || len(ny) == 0 || h.CountWithNUMA(x) != h.Count(x) || h.CountWithNUMA(y) != h.Count(y) {
					continue
				}
				if slices.ContainsFunc(nx, func(n int) bool { return slices.Contains(ny, n) }) {
					continue
				}
				if !socketsDisjoint(&h, nx, ny) {
					continue
				}
				return x, y, h.Name
			}
		}
	}
	return "", "", ""
}

func socketsDisjoint(h *inventory.Host, nx, ny []int) bool {
	for _, a := range nx {
		for _, b := range ny {
			sa, ok1 := h.NodeSocket[a]
			sb, ok2 := h.NodeSocket[b]
			if !ok1 || !ok2 || sa == sb {
				return false
			}
		}
	}
	return true
}

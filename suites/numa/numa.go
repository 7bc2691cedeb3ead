// Package numa holds the specs proving that PCI NUMA affinity policies place devices where Nova
// promises: required, legacy, preferred and socket, from the flavor and from the alias; one and
// two guest NUMA nodes; dedicated CPUs on the device's node; devices without NUMA information;
// and the StarlingX document's per-guest-node claim. Specs are generated from the device
// catalog and aim at hosts of the lab whose topology makes the right and the wrong answer both
// possible; each skips, saying why, when the lab has no such host.
//
// Guests get their NUMA topology with dedicated CPUs (hw:cpu_policy=dedicated, as PCI NUMA
// workloads are deployed): a host's shared CPU set need not span its NUMA nodes (a StarlingX
// all-in-one keeps its shared cores on node 0), so a shared-CPU guest could not be aimed at the
// node of a device; one spec boots a shared-CPU NUMA guest without devices, wherever it lands.
// Where a spec holds its host, the verdict also knows the host's cpu_dedicated_set and which
// devices were free (framework.Flavor.RequestOn).
package numa

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/cpuset"
	"github.com/hwcert/hwcert/framework/hostlock"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/labels"
	"github.com/hwcert/hwcert/framework/matchers"
	"github.com/hwcert/hwcert/framework/needs"
	"github.com/hwcert/hwcert/framework/verify"
)

var _ = Describe("PCI NUMA affinity", framework.LabelsOf(labels.NUMA, labels.DedicatedCPUs), func() {
	f := framework.New("numa")
	cat := framework.Catalog()

	// idFaults are caught by every spec that checks the device count and IDs of one server.
	idFaults := framework.DeviceCheckFaults
	// bindFaults are caught by every spec that checks a dedicated NUMA guest on a host with two
	// nodes or more: how its memory is bound, and on which node its pCPUs are.
	bindFaults := framework.Faults(vocab.FaultMemnodeLoose, vocab.FaultMemoryNodesetWide, vocab.FaultNUMAUnbound, vocab.FaultPCPUWrongNode)

	// perAliasAndPolicy builds one entry per supported alias and policy.
	perAliasAndPolicy := func(pols []string, timeout SpecTimeout, extra func(e catalog.Entry, policy string) []string) []TableEntry {
		var out []TableEntry
		for _, e := range cat.Supported() {
			for _, p := range pols {
				ls := append([]string{labels.Policy(p)}, extra(e, p)...)
				out = append(out, Entry(fmt.Sprintf("%s, %s", e.Alias, p), e.Alias, p, framework.EntryLabels(cat, e, ls...), timeout))
			}
		}
		return out
	}
	oneServer := SpecTimeout(framework.OneServerTimeout)

	DescribeTable("the flavor's policy with a one-node guest",
		func(ctx SpecContext, alias, policy string) {
			host := f.HostFor(ctx, needs.Policy(alias, policy))
			fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1), framework.WithNUMANodes(1), framework.WithDedicatedCPUs(), framework.WithPCINUMAPolicy(policy))
			srv := f.BootActive(ctx, fl, framework.WithHost(host))
			p := f.Inspect(ctx, srv)
			Expect(p).To(matchers.SatisfyRequest(fl.RequestOn(host)))
		},
		perAliasAndPolicy(vocab.Policies, oneServer, func(e catalog.Entry, _ string) []string { return append(idFaults(e), bindFaults...) }))

	// localOnTwoNodeHost boots a one-node guest with one device on a host that has the alias's
	// devices on two nodes, so a wrong-node device is free, and holds it to the verdict.
	localOnTwoNodeHost := func(ctx SpecContext, alias, policy string) {
		need := needs.TwoNodes(alias)
		if policy == vocab.PolicyPreferred {
			need = need.AllDevices() // every device free: a remote one is wrong while a local one exists
		}
		host := f.HostFor(ctx, need)
		fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1), framework.WithNUMANodes(1), framework.WithDedicatedCPUs(), framework.WithPCINUMAPolicy(policy))
		srv := f.BootActive(ctx, fl, framework.WithHost(host))
		p := f.Inspect(ctx, srv)
		Expect(p).To(matchers.SatisfyRequest(fl.RequestOn(host)))
	}

	// The strict policies must still give the guest's own node (or socket).
	DescribeTable("a strict policy picks the guest's node when another node has devices too", localOnTwoNodeHost,
		perAliasAndPolicy([]string{vocab.PolicyRequired, vocab.PolicyLegacy, vocab.PolicySocket}, oneServer,
			func(e catalog.Entry, _ string) []string {
				return append(framework.Faults(vocab.FaultNUMAMisplace), idFaults(e)...)
			}))

	// Dedicated CPUs alone (no hw:numa_nodes) give the guest one NUMA node, and the pinned
	// pCPUs must sit on the device's node (required) or socket (socket).
	DescribeTable("dedicated CPUs sit on the device's node",
		func(ctx SpecContext, alias, policy string) {
			host := f.HostFor(ctx, needs.TwoNodes(alias))
			fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1), framework.WithDedicatedCPUs(), framework.WithPCINUMAPolicy(policy))
			srv := f.BootActive(ctx, fl, framework.WithHost(host))
			p := f.Inspect(ctx, srv)
			Expect(p.Pinned).To(BeTrue(), "every vCPU pinned to one pCPU")
			Expect(p).To(matchers.SatisfyRequest(fl.RequestOn(host)))
		},
		perAliasAndPolicy([]string{vocab.PolicyRequired, vocab.PolicySocket}, oneServer, func(e catalog.Entry, _ string) []string {
			return append(framework.Faults(vocab.FaultNUMAMisplace), idFaults(e)...)
		}))

	// The alias path: no hw:pci_numa_affinity_policy in the flavor, so the alias's numa_policy
	// decides (legacy when the alias sets none, as in the shipped catalog and the mock labs).
	DescribeTable("the alias's policy when the flavor sets none",
		func(ctx SpecContext, alias string) {
			e := f.Entry(alias)
			policy := verify.Request{}.PolicyFor(e)
			host := f.HostFor(ctx, needs.Policy(alias, policy))
			fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1), framework.WithNUMANodes(1), framework.WithDedicatedCPUs())
			Expect(fl.ExtraSpecs).NotTo(HaveKey(vocab.SpecPCINUMAPolicy))
			srv := f.BootActive(ctx, fl, framework.WithHost(host))
			p := f.Inspect(ctx, srv)
			Expect(p).To(matchers.SatisfyRequest(fl.RequestOn(host)))
		},
		func() []TableEntry {
			var out []TableEntry
			for _, e := range cat.Supported() {
				policy := verify.Request{}.PolicyFor(e)
				desc := fmt.Sprintf("%s (alias numa_policy %q: %s)", e.Alias, e.NUMAPolicy, policy)
				out = append(out, Entry(desc, e.Alias, framework.EntryLabels(cat, e, append([]string{labels.Policy(policy)}, idFaults(e)...)...), oneServer))
			}
			return out
		}())

	DescribeTable("a two-node guest gets its device local to one of its nodes",
		func(ctx SpecContext, alias, policy string) {
			// Upstream one device local to either node will do; under the StarlingX reading each
			// guest node needs its own, so the guest asks for two, on a host that has both.
			need := needs.TwoNodeGuest(alias, framework.Config().Expect.PCINUMAAffinity)
			host := f.HostFor(ctx, need)
			fl := f.CreateFlavor(ctx, framework.WithAlias(alias, need.Devices), framework.WithNUMANodes(2), framework.WithDedicatedCPUs(), framework.WithPCINUMAPolicy(policy))
			srv := f.BootActive(ctx, fl, framework.WithHost(host))
			p := f.Inspect(ctx, srv)
			Expect(p.GuestCells).To(HaveLen(2))
			Expect(p).To(matchers.SatisfyRequest(fl.RequestOn(host)))
		},
		perAliasAndPolicy([]string{vocab.PolicyRequired, vocab.PolicyLegacy}, oneServer, func(e catalog.Entry, _ string) []string {
			return append([]string{labels.TwoNodeGuest}, idFaults(e)...)
		}))

	// A device without NUMA information (sysfs numa_node -1) is a case of its own: legacy and
	// preferred accept it, required and socket never do, so when it is the only device of its
	// alias on the host, they find no valid host.
	DescribeTable("a device without NUMA information",
		func(ctx SpecContext, alias, policy string) {
			need := needs.NoNUMAOnly(alias)
			if policy == vocab.PolicyRequired || policy == vocab.PolicySocket {
				need = need.AllDevices() // the refusal must not come from a device another spec took
			}
			host := f.HostFor(ctx, need)
			fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1), framework.WithNUMANodes(1), framework.WithDedicatedCPUs(), framework.WithPCINUMAPolicy(policy))
			switch policy {
			case vocab.PolicyLegacy, vocab.PolicyPreferred:
				srv := f.BootActive(ctx, fl, framework.WithHost(host))
				p := f.Inspect(ctx, srv)
				Expect(p.Devices).To(HaveEach(HaveField("NUMANode", BeNil())), "the device has no NUMA node")
				Expect(p).To(matchers.SatisfyRequest(fl.RequestOn(host)))
			default:
				srv, err := f.Boot(ctx, fl, framework.WithHost(host))
				f.ExpectNoValidHost(ctx, srv, err)
			}
		},
		perAliasAndPolicy(vocab.Policies, oneServer, func(e catalog.Entry, policy string) []string {
			ls := []string{labels.NoNUMADevice}
			switch policy {
			case vocab.PolicyRequired:
				ls = append(ls, framework.Faults(vocab.FaultIgnorePolicy)...)
			case vocab.PolicyLegacy, vocab.PolicyPreferred:
				ls = append(ls, idFaults(e)...)
			}
			return ls
		}))

	// preferred must still take a local device while one is free: the spec holds the host, so
	// every exposed device of it was free, and a remote device is a failure then.
	DescribeTable("preferred takes the local device when one is free", localOnTwoNodeHost,
		perAliasAndPolicy([]string{vocab.PolicyPreferred}, oneServer, func(e catalog.Entry, _ string) []string {
			return append(framework.Faults(vocab.FaultPreferredRemote, vocab.FaultNUMAMisplace), idFaults(e)...)
		}))

	// A dedicated pCPU belongs to one guest: two dedicated guests on one host, compared.
	It("gives two dedicated guests on one host pCPUs of their own",
		framework.LabelsOf(framework.Faults(vocab.FaultPCPUOverlap, vocab.FaultPCPUWrongNode)...), SpecTimeout(framework.FillingHostTimeout),
		func(ctx SpecContext) {
			host := f.HostWhere(ctx, "host two dedicated guests on two NUMA nodes", hostlock.Want{CPUs: 2}, inventory.HasNodes(2))
			fl := f.CreateFlavor(ctx, framework.WithDedicatedCPUs())
			first := f.Inspect(ctx, f.BootActive(ctx, fl, framework.WithHost(host)))
			second := f.Inspect(ctx, f.BootActive(ctx, fl, framework.WithHost(host)))
			Expect(first).To(matchers.SatisfyRequest(fl.RequestOn(host)), "first guest")
			Expect(second).To(matchers.SatisfyRequest(fl.RequestOn(host)), "second guest")
			Expect(verify.DisjointPCPUs(first, second)).To(Succeed())
		})

	// cpu_dedicated_set is nova.conf's, mirrored in the harness config (nova.cpu_dedicated_set):
	// on a host whose set leaves CPUs out, a dedicated guest is pinned inside it.
	It("pins dedicated guests inside the host's cpu_dedicated_set",
		framework.LabelsOf(framework.Faults(vocab.FaultPCPUOutsideSet)...), oneServer,
		func(ctx SpecContext) {
			host := f.HostWhere(ctx, "pin inside a cpu_dedicated_set that leaves CPUs out (config nova.cpu_dedicated_set)", hostlock.Want{CPUs: 1}, func(h *inventory.Host) bool {
				set, err := cpuset.Parse(framework.Config().Nova.CPUDedicatedSet[h.Name])
				return err == nil && len(set) > 0 && len(set) < len(h.CPUNode)
			})
			fl := f.CreateFlavor(ctx, framework.WithDedicatedCPUs())
			p := f.Inspect(ctx, f.BootActive(ctx, fl, framework.WithHost(host)))
			Expect(p).To(matchers.SatisfyRequest(fl.RequestOn(host)))
		})

	// A shared-CPU guest with a NUMA topology floats, but only over its cell's host node.
	It("lets a shared-CPU NUMA guest float over its node's CPUs only",
		framework.LabelsOf(framework.Faults(vocab.FaultSharedFloatWide, vocab.FaultMemnodeLoose, vocab.FaultMemoryNodesetWide, vocab.FaultNUMAUnbound)...), oneServer,
		func(ctx SpecContext) {
			// Shared CPUs are overcommitted, nothing another spec does takes them: no hold.
			host := f.HostWhere(ctx, "host a shared-CPU guest on one of two NUMA nodes", hostlock.Want{}, inventory.HasNodes(2))
			fl := f.CreateFlavor(ctx, framework.WithNUMANodes(1))
			p := f.Inspect(ctx, f.BootActive(ctx, fl, framework.WithHost(host)))
			Expect(p.Pinned).To(BeFalse(), "shared vCPUs float")
			Expect(p).To(matchers.SatisfyRequest(fl.RequestOn(host)))
		})

	// The StarlingX document says: "an eligible host NUMA node is required for each virtual NUMA
	// node in the instance". Upstream Nova asks only for one of the guest's nodes. On a host
	// whose devices sit on one node, a two-node guest with `required` tells the readings apart;
	// the lab's config says which one it is expected to follow.
	DescribeTable("the StarlingX per-guest-node reading of required",
		func(ctx SpecContext, alias, reading string) {
			if why := needs.ReadingReason(framework.Config().Expect.PCINUMAAffinity, reading); why != "" {
				Skip(why)
			}
			need := needs.OneOfTwoNodes(alias)
			if reading == vocab.AffinityPerGuestNode {
				need = need.AllDevices() // the refusal must not come from a device another spec took
			}
			host := f.HostFor(ctx, need)
			fl := f.CreateFlavor(ctx, framework.WithAlias(alias, 1), framework.WithNUMANodes(2), framework.WithDedicatedCPUs(), framework.WithPCINUMAPolicy(vocab.PolicyRequired))
			if reading == vocab.AffinityPerGuestNode {
				srv, err := f.Boot(ctx, fl, framework.WithHost(host))
				f.ExpectNoValidHost(ctx, srv, err)
				return
			}
			srv := f.BootActive(ctx, fl, framework.WithHost(host))
			p := f.Inspect(ctx, srv)
			Expect(p).To(matchers.SatisfyRequest(fl.RequestUnder(vocab.AffinityUpstream)))
			Expect(p).NotTo(matchers.SatisfyRequest(fl.RequestUnder(vocab.AffinityPerGuestNode)),
				"upstream Nova boots a guest that the StarlingX per-guest-node reading would refuse")
		},
		func() []TableEntry {
			var out []TableEntry
			for _, e := range cat.Supported() {
				for _, r := range vocab.Readings {
					ls := []string{labels.StarlingXDoc, labels.NUMAReading(r), labels.Policy(vocab.PolicyRequired), labels.TwoNodeGuest}
					if r == vocab.AffinityUpstream {
						ls = append(ls, idFaults(e)...)
					} else {
						// The lab refuses the boot because required is strict; treated as
						// preferred it would boot.
						ls = append(ls, framework.Faults(vocab.FaultIgnorePolicy)...)
					}
					out = append(out, Entry(fmt.Sprintf("%s, %s", e.Alias, r), e.Alias, r, framework.EntryLabels(cat, e, ls...), oneServer))
				}
			}
			return out
		}())
})

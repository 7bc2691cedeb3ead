// Which attached device answers which alias request: counts, strays and PCI functions.

package verify

import (
	"slices"

	"github.com/hwcert/hwcert/framework/placement"
)

// assignment is the devices attributed to one alias request.
type assignment struct {
	ar     AliasRequest
	want   int // devices that should be attached (0 for unsupported aliases)
	devs   []placement.Device
	policy string
}

// assign attributes attached devices to alias requests by vendor/product, checks the counts and
// reports devices nobody asked for. Several aliases may share IDs (gpu and nvidia-tesla-p40),
// so devices are first handed out up to each request's count, then surplus is charged to the
// first alias it matches.
func (c *checker) assign() []*assignment {
	as := make([]*assignment, len(c.req.Aliases))
	taken := make([]bool, len(c.p.Devices))
	for i, ar := range c.req.Aliases {
		a := &assignment{ar: ar, want: ar.Count, policy: c.req.PolicyFor(ar.Entry)}
		if !ar.Entry.PassthroughSupported {
			a.want = 0
		}
		as[i] = a
		for j, d := range c.p.Devices {
			if len(a.devs) >= a.want {
				break
			}
			if !taken[j] && ar.Entry.Matches(d.VendorID, d.ProductID) {
				taken[j] = true
				a.devs = append(a.devs, d)
			}
		}
	}
	var unexpected []placement.Device
	for j, d := range c.p.Devices {
		if taken[j] {
			continue
		}
		i := slices.IndexFunc(as, func(a *assignment) bool { return a.ar.Entry.Matches(d.VendorID, d.ProductID) })
		if i < 0 {
			unexpected = append(unexpected, d)
			continue
		}
		as[i].devs = append(as[i].devs, d)
	}
	for _, a := range as {
		e := a.ar.Entry
		if !e.PassthroughSupported {
			if len(a.devs) > 0 {
				c.fail("%s: passthrough is not supported (%s); expected no device %s, found %d: %s",
					e.Alias, e.UnsupportedReason, e.ID(), len(a.devs), addrList(a.devs))
			}
			continue
		}
		if len(a.devs) != a.want {
			c.fail("%s: expected %s %s (%s), found %d%s", e.Alias, plural(a.want, "device"), e.ID(), e.Function, len(a.devs), colonList(a.devs))
		}
	}
	for _, d := range unexpected {
		c.fail("unexpected device %s: %s", d.Address, describeDevice(d))
	}
	return as
}

// checkFunctions insists each device is the PCI function its alias stands for: never a PF for
// a VF alias, which is how a QAT PF could sneak in under a VF's IDs in a lab with a bad spec.
// It also holds every VF to its PF's NUMA node: a VF is a function of the PF's card, so a
// different node in its node device is a lie of the host that would mislead every locality check.
func (c *checker) checkFunctions(as []*assignment) {
	for _, a := range as {
		e := a.ar.Entry
		for _, d := range a.devs {
			if d.Function != e.Function {
				c.fail("%s: %s is a %s, expected a %s", e.Alias, d.Address, d.Function, e.Function)
			}
		}
	}
	for _, d := range c.p.Devices {
		if d.PF != nil && !sameNode(d.NUMANode, d.PFNUMANode) {
			c.fail("%s: VF on host node %s, its PF %s on host node %s: expected a VF on its PF's node", d.Address, optInt(d.NUMANode), d.PF, optInt(d.PFNUMANode))
		}
	}
}

func sameNode(a, b *int) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

// What a flavor asks for, and the checks that refuse a malformed request before any placement
// is judged against it.

package verify

import (
	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/placement"
)

// AliasRequest is one element of pci_passthrough:alias ("qat-c62x-vf:2").
type AliasRequest struct {
	Entry catalog.Entry
	Count int
}

// Request is what a flavor asked for.
type Request struct {
	Aliases []AliasRequest
	// Policy is hw:pci_numa_affinity_policy; "" means each alias's numa_policy, else legacy.
	Policy string
	// GuestNUMANodes is the number of guest NUMA nodes (hw:numa_nodes); 0 means no NUMA topology
	// unless Dedicated, which gives the guest one node as in Nova.
	GuestNUMANodes int
	// Dedicated is hw:cpu_policy=dedicated: every vCPU pinned to its own pCPU.
	Dedicated bool
	// Affinity is vocab.AffinityUpstream (default when empty) or vocab.AffinityPerGuestNode.
	Affinity string

	// What the harness knows of the host, beyond its libvirt XML:

	// CPUDedicatedSet is the host's [compute] cpu_dedicated_set as the harness config mirrors
	// it; nil means any host CPU may be pinned to.
	CPUDedicatedSet []int
	// Free are the host's devices that were free for the guest when it booted — the spec held the
	// host, so no other guest took one meanwhile — its own devices included. nil means unknown:
	// then a remote device under preferred is noted, not judged.
	Free []placement.Device
}

// EffectiveNUMANodes is the number of guest NUMA nodes Nova gives the guest: hw:numa_nodes, or
// one when vCPUs are dedicated, else none.
func (r Request) EffectiveNUMANodes() int {
	if r.GuestNUMANodes == 0 && r.Dedicated {
		return 1
	}
	return r.GuestNUMANodes
}

// PolicyFor is the NUMA policy Nova applies to an alias: the flavor's, else the alias's, else legacy.
func (r Request) PolicyFor(e catalog.Entry) string {
	switch {
	case r.Policy != "":
		return r.Policy
	case e.NUMAPolicy != "":
		return e.NUMAPolicy
	default:
		return vocab.PolicyLegacy
	}
}

func (r Request) affinity() string {
	if r.Affinity == "" {
		return vocab.AffinityUpstream
	}
	return r.Affinity
}

func (c *checker) validRequest() bool {
	ok := true
	for i, ar := range c.req.Aliases {
		if ar.Count < 0 {
			c.fail("request: aliases[%d] %s: count %d: expected 0 or more", i, ar.Entry.Alias, ar.Count)
			ok = false
		}
		if ar.Entry.Alias == "" || ar.Entry.VendorID == "" || ar.Entry.ProductID == "" {
			c.fail("request: aliases[%d]: %q: expected a catalog entry with alias, vendor_id and product_id", i, ar.Entry.Alias)
			ok = false
		}
		if pol := ar.Entry.NUMAPolicy; pol != "" && !validPolicy(pol) {
			c.fail("request: aliases[%d] %s numa_policy: %q: expected one of legacy, preferred, required, socket", i, ar.Entry.Alias, pol)
			ok = false
		}
	}
	if c.req.Policy != "" && !validPolicy(c.req.Policy) {
		c.fail("request: policy: %q: expected one of legacy, preferred, required, socket (or empty)", c.req.Policy)
		ok = false
	}
	if a := c.req.affinity(); a != vocab.AffinityUpstream && a != vocab.AffinityPerGuestNode {
		c.fail("request: affinity: %q: expected %q or %q", a, vocab.AffinityUpstream, vocab.AffinityPerGuestNode)
		ok = false
	}
	if c.req.GuestNUMANodes < 0 {
		c.fail("request: guest NUMA nodes: %d: expected 0 or more", c.req.GuestNUMANodes)
		ok = false
	}
	return ok
}

func validPolicy(p string) bool {
	switch p {
	case vocab.PolicyLegacy, vocab.PolicyPreferred, vocab.PolicyRequired, vocab.PolicySocket:
		return true
	}
	return false
}

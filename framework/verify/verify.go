// Package verify judges a placement against what was asked for: the right number of devices of
// the right vendor/product and function for each alias, nothing else attached, and — when the
// guest has a NUMA topology — the devices and pinned pCPUs on the host NUMA nodes or sockets the
// NUMA affinity policy demands, as Nova enforces it (nova/pci/stats.py
// _filter_pools_for_numa_cells). It is pure: a Request and a placement.Placement in, a Verdict
// with reasons out.
package verify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/cpuset"
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
}

// Verdict is the judgement of one placement.
type Verdict struct {
	OK bool
	// Reasons say, for each failed check, what was expected and what was found.
	Reasons []string
	// Notes are observations that do not fail the verdict (e.g. locality under preferred).
	Notes []string
	// Expected and Found are one-line summaries of the request and the placement.
	Expected, Found string
}

// String is a readable multi-line form for failure messages and logs.
func (v Verdict) String() string {
	var b strings.Builder
	if v.OK {
		b.WriteString("verdict: OK\n")
	} else {
		b.WriteString("verdict: FAILED\n")
	}
	fmt.Fprintf(&b, "expected: %s\n", v.Expected)
	fmt.Fprintf(&b, "found:    %s\n", v.Found)
	if len(v.Reasons) > 0 {
		b.WriteString("reasons:\n")
		for _, r := range v.Reasons {
			fmt.Fprintf(&b, "  - %s\n", r)
		}
	}
	if len(v.Notes) > 0 {
		b.WriteString("notes:\n")
		for _, n := range v.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	return b.String()
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

// checker accumulates reasons and notes.
type checker struct {
	req     Request
	p       *placement.Placement
	reasons []string
	notes   []string
}

func (c *checker) fail(format string, args ...any) {
	c.reasons = append(c.reasons, fmt.Sprintf(format, args...))
}

func (c *checker) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// assignment is the devices attributed to one alias request.
type assignment struct {
	ar     AliasRequest
	want   int // devices that should be attached (0 for unsupported aliases)
	devs   []placement.Device
	policy string
}

// Check judges p against req.
func Check(req Request, p *placement.Placement) Verdict {
	c := &checker{req: req, p: p}
	v := Verdict{Expected: summarizeRequest(req)}
	if p == nil {
		v.Found = "no placement"
		v.Reasons = []string{"no placement to check (the domain was not inspected)"}
		return v
	}
	v.Found = summarizePlacement(p)
	if !c.validRequest() {
		v.Reasons, v.Notes = c.reasons, c.notes
		return v
	}
	as := c.assign()
	c.checkFunctions(as)
	c.checkNUMA(as)
	v.Reasons, v.Notes = c.reasons, c.notes
	v.OK = len(v.Reasons) == 0
	return v
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
func (c *checker) checkFunctions(as []*assignment) {
	for _, a := range as {
		e := a.ar.Entry
		for _, d := range a.devs {
			if d.Function != e.Function {
				c.fail("%s: %s is a %s, expected a %s", e.Alias, d.Address, d.Function, e.Function)
			}
		}
	}
}

// checkNUMA checks the guest NUMA topology, the policy of each alias and the pinning.
func (c *checker) checkNUMA(as []*assignment) {
	p := c.p
	want := c.req.EffectiveNUMANodes()
	switch {
	case want == 0 && !p.HasNUMATopology:
		if len(c.req.Aliases) > 0 {
			c.note("guest has no NUMA topology: Nova does not enforce any PCI NUMA affinity policy")
		}
		return
	case want == 0:
		// The request names no NUMA topology, but something else in the flavor or image
		// (hugepages, vPMEM) gave the guest one, and then Nova enforces the policy against it.
		c.note("guest NUMA topology: the request names none (no hw:numa_nodes or dedicated CPUs), found %s (hugepages?); policies judged against it", describeCells(p))
		want = len(p.GuestCells)
	case !p.HasNUMATopology:
		c.fail("guest NUMA topology: expected %s, found none (no numatune or guest NUMA cells in the domain)", plural(want, "node"))
		return
	}
	if len(p.GuestCells) != want {
		c.fail("guest NUMA topology: expected %s, found %s", plural(want, "node"), describeCells(p))
	}
	cellNodes := map[int]int{} // host node -> guest cell using it
	for _, cell := range p.GuestCells {
		switch len(cell.HostNodes) {
		case 0:
			c.fail("guest NUMA cell %d: expected a numatune memnode binding it to one host node, found none", cell.ID)
		case 1:
			if other, dup := cellNodes[cell.HostNodes[0]]; dup {
				c.fail("guest NUMA cells %d and %d: expected distinct host NUMA nodes, both are on host node %d", other, cell.ID, cell.HostNodes[0])
			}
			cellNodes[cell.HostNodes[0]] = cell.ID
		default:
			c.fail("guest NUMA cell %d: expected one host NUMA node, found nodes %s", cell.ID, cpuset.Format(cell.HostNodes))
		}
	}
	for _, a := range as {
		if a.ar.Entry.PassthroughSupported && len(a.devs) > 0 {
			c.checkPolicy(a)
		}
	}
	if c.req.affinity() == vocab.AffinityPerGuestNode {
		c.checkPerGuestNode(as)
	}
	if c.req.Dedicated {
		c.checkPinning(as)
	}
}

func (c *checker) checkPolicy(a *assignment) {
	p := c.p
	e := a.ar.Entry
	nodes := p.HostNodes
	tag := fmt.Sprintf("%s (%s)", e.Alias, a.policy)
	switch a.policy {
	case vocab.PolicyRequired:
		for _, d := range a.devs {
			switch {
			case d.NUMANode == nil:
				c.fail("%s: %s has no NUMA node, expected it on one of the guest's host nodes %s", tag, d.Address, fmtNodes(nodes))
			case !slices.Contains(nodes, *d.NUMANode):
				c.fail("%s: %s is on host node %d, expected one of the guest's host nodes %s", tag, d.Address, *d.NUMANode, fmtNodes(nodes))
			}
		}
	case vocab.PolicyLegacy:
		for _, d := range a.devs {
			if d.NUMANode != nil && !slices.Contains(nodes, *d.NUMANode) {
				c.fail("%s: %s is on host node %d, expected one of the guest's host nodes %s or no NUMA information", tag, d.Address, *d.NUMANode, fmtNodes(nodes))
			}
		}
	case vocab.PolicyPreferred:
		for _, d := range a.devs {
			switch {
			case d.NUMANode == nil:
				c.note("%s: %s has no NUMA information (accepted)", tag, d.Address)
			case !slices.Contains(nodes, *d.NUMANode):
				c.note("%s: %s is on host node %d, not local to the guest's host nodes %s (accepted)", tag, d.Address, *d.NUMANode, fmtNodes(nodes))
			default:
				c.note("%s: %s is local (host node %d)", tag, d.Address, *d.NUMANode)
			}
		}
	case vocab.PolicySocket:
		sockets, missing := c.guestSockets(nodes)
		if len(missing) > 0 {
			c.fail("%s: host nodes %s have no socket information in the host capabilities, expected sockets for every guest host node", tag, fmtNodes(missing))
			return
		}
		for _, d := range a.devs {
			switch {
			case d.NUMANode == nil:
				c.fail("%s: %s has no NUMA node, expected it on the socket of one of the guest's host nodes (sockets %s)", tag, d.Address, fmtNodes(sockets))
			case d.Socket == nil:
				c.fail("%s: %s is on host node %d, which has no socket information, expected sockets %s", tag, d.Address, *d.NUMANode, fmtNodes(sockets))
			case !slices.Contains(sockets, *d.Socket):
				c.fail("%s: %s is on socket %d (host node %d), expected one of the guest's sockets %s", tag, d.Address, *d.Socket, *d.NUMANode, fmtNodes(sockets))
			}
		}
	}
}

// checkPerGuestNode is the StarlingX document's reading, "an eligible host NUMA node is required
// for each virtual NUMA node in the instance", as the mock lab and a StarlingX lab configured for
// it apply it: over the devices of every request whose policy asks for locality (required,
// legacy, socket — not preferred), each guest NUMA cell needs at least one device affine to its
// host node under that request's policy (required: on the node; legacy: on the node or without
// NUMA information, which legacy accepts from anywhere; socket: on the node's socket).
func (c *checker) checkPerGuestNode(as []*assignment) {
	type affine struct {
		d      placement.Device
		policy string
	}
	var devs []affine
	var aliases []string
	for _, a := range as {
		if !a.ar.Entry.PassthroughSupported || a.want == 0 || a.policy == vocab.PolicyPreferred {
			continue
		}
		aliases = append(aliases, fmt.Sprintf("%s (%s)", a.ar.Entry.Alias, a.policy))
		for _, d := range a.devs {
			devs = append(devs, affine{d, a.policy})
		}
	}
	if len(aliases) == 0 {
		return
	}
	var all []placement.Device
	for _, x := range devs {
		all = append(all, x.d)
	}
	for _, cell := range c.p.GuestCells {
		sockets, _ := c.guestSockets(cell.HostNodes)
		covered := slices.ContainsFunc(devs, func(x affine) bool {
			d := x.d
			switch x.policy {
			case vocab.PolicyLegacy:
				return d.NUMANode == nil || slices.Contains(cell.HostNodes, *d.NUMANode)
			case vocab.PolicySocket:
				return d.Socket != nil && slices.Contains(sockets, *d.Socket)
			default:
				return d.NUMANode != nil && slices.Contains(cell.HostNodes, *d.NUMANode)
			}
		})
		if !covered {
			c.fail("%s, per-guest-node: guest NUMA cell %d (host node %s) has no affine device, expected one for each guest NUMA node; devices: %s",
				strings.Join(aliases, ", "), cell.ID, cpuset.Format(cell.HostNodes), devNodes(all))
		}
	}
}

// guestSockets maps host nodes to their sockets; missing lists nodes without socket info.
func (c *checker) guestSockets(nodes []int) (sockets, missing []int) {
	for _, n := range nodes {
		s, ok := c.p.NodeSocket[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		sockets = append(sockets, s)
	}
	slices.Sort(sockets)
	return slices.Compact(sockets), missing
}

// checkPinning proves dedicated CPUs from the host side: each vCPU on exactly one pCPU, each
// pCPU on the host node its guest cell's memory is bound to, and — for required/socket — some
// vCPU on the device's node or socket (the KubeVirt way: device node ∩ vcpupin).
func (c *checker) checkPinning(as []*assignment) {
	p := c.p
	if !p.Pinned {
		c.fail("dedicated CPUs: expected each of the %s pinned to exactly one pCPU, found %s", plural(p.VCPUs, "vCPU"), describePins(p))
		return
	}
	for _, cell := range p.GuestCells {
		if len(cell.HostNodes) == 0 {
			continue // already reported
		}
		for _, v := range cell.VCPUs {
			for _, cpu := range p.VCPUPins[v] {
				n, ok := p.PCPUNodes[cpu]
				switch {
				case !ok:
					c.fail("dedicated CPUs: vCPU %d is pinned to pCPU %d, which the host capabilities do not list", v, cpu)
				case !slices.Contains(cell.HostNodes, n):
					c.fail("dedicated CPUs: vCPU %d (guest cell %d) is pinned to pCPU %d on host node %d, expected host node %s", v, cell.ID, cpu, n, cpuset.Format(cell.HostNodes))
				}
			}
		}
	}
	for _, a := range as {
		if !a.ar.Entry.PassthroughSupported {
			continue
		}
		for _, d := range a.devs {
			if d.NUMANode == nil {
				continue // reported by the policy check where it matters
			}
			switch a.policy {
			case vocab.PolicyRequired:
				if !slices.ContainsFunc(p.PCPUs, func(cpu int) bool { n, ok := p.PCPUNodes[cpu]; return ok && n == *d.NUMANode }) {
					c.fail("%s (required): no vCPU is pinned to host node %d where %s is; pCPUs %s are on %s",
						a.ar.Entry.Alias, *d.NUMANode, d.Address, cpuset.Format(p.PCPUs), pcpuNodes(p))
				}
			case vocab.PolicySocket:
				if d.Socket == nil {
					continue
				}
				if !slices.ContainsFunc(p.PCPUs, func(cpu int) bool {
					n, ok := p.PCPUNodes[cpu]
					s, sok := p.NodeSocket[n]
					return ok && sok && s == *d.Socket
				}) {
					c.fail("%s (socket): no vCPU is pinned to socket %d where %s is; pCPUs %s are on %s",
						a.ar.Entry.Alias, *d.Socket, d.Address, cpuset.Format(p.PCPUs), pcpuNodes(p))
				}
			}
		}
	}
}

// Disjoint returns an error naming every host device both placements have: two VMs must never
// share a passed-through device.
func Disjoint(a, b *placement.Placement) error {
	if a == nil || b == nil {
		return nil
	}
	var shared []string
	for _, d := range a.Devices {
		if _, ok := b.Device(d.Address); ok {
			shared = append(shared, d.Address.String())
		}
	}
	if len(shared) == 0 {
		return nil
	}
	return fmt.Errorf("%s attached to both %s and %s", strings.Join(shared, ", "), nameOf(a), nameOf(b))
}

func nameOf(p *placement.Placement) string {
	if p.Domain != "" {
		return p.Domain
	}
	return p.UUID
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func addrList(ds []placement.Device) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.Address.String()
	}
	return strings.Join(s, ", ")
}

func colonList(ds []placement.Device) string {
	if len(ds) == 0 {
		return ""
	}
	return ": " + addrList(ds)
}

func fmtNodes(n []int) string {
	s := make([]string, len(n))
	for i, v := range n {
		s[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func nodeOf(d placement.Device) string {
	if d.NUMANode == nil {
		return "no NUMA node"
	}
	return "node " + strconv.Itoa(*d.NUMANode)
}

func describeDevice(d placement.Device) string {
	return fmt.Sprintf("%s (%s, %s)", d.ID(), d.Function, nodeOf(d))
}

func devNodes(ds []placement.Device) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.Address.String() + " on " + nodeOf(d)
	}
	return strings.Join(s, ", ")
}

func describeCells(p *placement.Placement) string {
	if len(p.GuestCells) == 0 {
		return fmt.Sprintf("memory bound to host nodes %s without guest NUMA cells", fmtNodes(p.HostNodes))
	}
	s := make([]string, len(p.GuestCells))
	for i, c := range p.GuestCells {
		s[i] = fmt.Sprintf("%d→node %s", c.ID, orDash(cpuset.Format(c.HostNodes)))
	}
	return plural(len(p.GuestCells), "node") + " (" + strings.Join(s, ", ") + ")"
}

func describePins(p *placement.Placement) string {
	if len(p.VCPUPins) == 0 {
		return "no vcpupin"
	}
	var s []string
	for v := 0; v < max(p.VCPUs, len(p.VCPUPins)); v++ {
		cpus, ok := p.VCPUPins[v]
		if !ok {
			s = append(s, fmt.Sprintf("%d→unpinned", v))
			continue
		}
		s = append(s, fmt.Sprintf("%d→%s", v, cpuset.Format(cpus)))
	}
	return "vcpupin " + strings.Join(s, " ")
}

func pcpuNodes(p *placement.Placement) string {
	var ns []int
	for _, cpu := range p.PCPUs {
		if n, ok := p.PCPUNodes[cpu]; ok {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	ns = slices.Compact(ns)
	if len(ns) == 1 {
		return "host node " + strconv.Itoa(ns[0])
	}
	return "host nodes " + fmtNodes(ns)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func summarizeRequest(r Request) string {
	var parts []string
	for _, ar := range r.Aliases {
		e := ar.Entry
		if !e.PassthroughSupported {
			parts = append(parts, fmt.Sprintf("%s:%d → no device (passthrough unsupported)", e.Alias, ar.Count))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s:%d → %d× %s (%s), policy %s", e.Alias, ar.Count, ar.Count, e.ID(), e.Function, r.PolicyFor(e)))
	}
	if len(parts) == 0 {
		parts = append(parts, "no PCI devices")
	}
	guest := "no guest NUMA topology requested (policies apply only if the guest has one)"
	if n := r.EffectiveNUMANodes(); n > 0 {
		guest = "guest with " + plural(n, "NUMA node")
		if r.Dedicated {
			guest += ", dedicated CPUs"
		}
		guest += ", affinity " + r.affinity()
	}
	return strings.Join(parts, "; ") + "; " + guest
}

func summarizePlacement(p *placement.Placement) string {
	var devs []string
	for _, d := range p.Devices {
		devs = append(devs, fmt.Sprintf("%s %s %s %s", d.Address, d.ID(), d.Function, nodeOf(d)))
	}
	s := plural(len(p.Devices), "device")
	if len(devs) > 0 {
		s += " (" + strings.Join(devs, ", ") + ")"
	}
	if !p.HasNUMATopology {
		s += "; guest without NUMA topology"
	} else {
		s += "; guest NUMA " + describeCells(p)
	}
	switch {
	case p.Pinned:
		s += "; pinned to pCPUs " + cpuset.Format(p.PCPUs)
	case len(p.PCPUs) > 0:
		s += "; floating over pCPUs " + cpuset.Format(p.PCPUs)
	}
	return s
}

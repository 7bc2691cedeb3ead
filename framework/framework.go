// Package framework is what specs call. A spec creates one Framework at the top of its Describe
// (framework.New("numa")); it gets the suite's clients, a unique name per spec, flavors and
// servers whose cleanup is registered the moment they exist, a host of its own to boot on,
// inspection of a server through its hypervisor, and evidence written to the report directory
// when the spec fails. Specs say what is tested; the mechanism lives in the packages below this
// one (suite, inventory, hostlock, evidence, extraspecs, openstack, hypervisor, placement, verify),
// and this package is the one import a spec needs for it.
package framework

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/cpuset"
	"github.com/hwcert/hwcert/framework/evidence"
	"github.com/hwcert/hwcert/framework/hostlock"
	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/needs"
	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/framework/placement"
	"github.com/hwcert/hwcert/framework/report"
	"github.com/hwcert/hwcert/framework/suite"
)

// Framework is the per-spec context. Its fields are valid inside specs (after BeforeEach).
type Framework struct {
	BaseName string

	Cloud       *openstack.Client
	Hypervisors *hypervisor.Inspector
	Config      *config.Config
	Catalog     *catalog.Catalog
	Inventory   *inventory.Inventory

	// UniqueName prefixes every resource of the current spec: NamePrefix + run id + base name
	// + process + counter, so parallel processes and later sweeps can tell them apart.
	UniqueName string

	env     *suite.Env
	mu      sync.Mutex
	servers []*servers.Server // created by this spec, for evidence
	names   int
}

var specCounter atomic.Int64

// New returns a Framework whose BeforeEach fills it for every spec of the enclosing container.
func New(baseName string) *Framework {
	f := &Framework{BaseName: baseName}
	BeforeEach(f.beforeEach)
	return f
}

func (f *Framework) beforeEach() {
	e := suite.Current()
	f.env = e
	f.Cloud, f.Hypervisors, f.Config, f.Catalog, f.Inventory = e.Cloud, e.Hypervisors, e.Config, e.Catalog, e.Inventory
	f.UniqueName = fmt.Sprintf("%s%s-%s-p%d-%d", e.Config.NamePrefix, e.RunID, f.BaseName, GinkgoParallelProcess(), specCounter.Add(1))
	f.mu.Lock()
	f.servers, f.names = nil, 0
	f.mu.Unlock()
	DeferOnFailure(f.captureEvidence, NodeTimeout(2*time.Minute))
	guardRetries()
	f.abortIfLabGone()
}

// Catalog is the device catalog the spec tree is built from; call it inside a Describe body.
func Catalog() *catalog.Catalog { return suite.Catalog() }

// Config is the harness configuration in force (inside specs).
func Config() *config.Config { return suite.Current().Config }

// name returns a fresh resource name of this spec.
func (f *Framework) name(kind string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names++
	return fmt.Sprintf("%s-%s%d", f.UniqueName, kind, f.names)
}

// cleanupTimeout bounds one cleanup: a delete and the wait until the server is gone. Cleanups get
// their own NodeTimeout so they still run when the spec was interrupted or timed out.
func (f *Framework) cleanupTimeout() time.Duration { return f.Cloud.DeleteTimeout() + 30*time.Second }

// Inspect reads the server's placement from its hypervisor: the server's host and libvirt domain
// (OS-EXT-SRV-ATTR:host / instance_name, admin only), the domain XML, the node device of every
// hostdev, and the host capabilities. It fails the spec if any of that cannot be read.
func (f *Framework) Inspect(ctx context.Context, srv *servers.Server) *placement.Placement {
	GinkgoHelper()
	p, err := f.placement(ctx, srv)
	expectNoError(err, "inspecting server %s", srv.ID)
	return p
}

func (f *Framework) placement(ctx context.Context, srv *servers.Server) (*placement.Placement, error) {
	step("inspect server %s on its hypervisor", srv.Name)
	cur, err := f.Cloud.GetServer(ctx, srv.ID)
	if err != nil {
		return nil, fmt.Errorf("reading server %s: %w", srv.ID, err)
	}
	if cur.Host == "" {
		return nil, fmt.Errorf("server %s has no OS-EXT-SRV-ATTR:host: the harness needs an admin role to find the hypervisor", srv.ID)
	}
	ev, err := f.Hypervisors.Evidence(ctx, cur.Host, cur.InstanceName, cur.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the domain of server %s from its hypervisor: %w", srv.ID, err)
	}
	p, err := placement.Build(ev.DomainXML, ev.NodeDevXML, ev.CapsXML)
	if err != nil {
		return nil, fmt.Errorf("reading the placement of server %s from the libvirt XML: %w", srv.ID, err)
	}
	// The certification report draws every guest a spec inspected (package report).
	AddReportEntry(report.EntryPlacement, report.PlacementRecord{Host: cur.Host, Server: cur.ID, Placement: p}, ReportEntryVisibilityNever)
	return p, nil
}

// ServersNamed lists servers of this run whose name starts with the spec's unique name; a spec
// uses it to prove a refused request left nothing behind.
func (f *Framework) ServersNamed(ctx context.Context) []string {
	GinkgoHelper()
	all, err := f.Cloud.Servers(ctx)
	expectNoError(err, "listing servers")
	var out []string
	for _, s := range all {
		if strings.HasPrefix(s.Name, f.UniqueName+"-") {
			out = append(out, fmt.Sprintf("%s (%s, %s)", s.Name, s.ID, s.Status))
		}
	}
	return out
}

// Entry looks up a catalog alias and fails the spec if it is not there.
func (f *Framework) Entry(alias string) catalog.Entry {
	GinkgoHelper()
	e, ok := f.Catalog.Lookup(alias)
	Expect(ok).To(BeTrue(), "alias %s is not in the device catalog", alias)
	return e
}

// RequireDevices skips the spec unless some host has count devices for the alias, and returns
// the hosts that do.
func (f *Framework) RequireDevices(alias string, count int) []string {
	GinkgoHelper()
	if reason := needs.DevicesReason(f.Inventory, alias, count); reason != "" {
		Skip(reason)
	}
	return f.Inventory.HostsWhere(inventory.HasDevices(alias, count))
}

// HostFor acquires a host that meets the need and holds on it what the need says (see
// AcquireHost), or skips the spec with the reason `hwcert inventory` gives for it.
func (f *Framework) HostFor(ctx context.Context, n needs.Need) string {
	GinkgoHelper()
	hosts, reason := n.Hosts(f.Inventory)
	if reason != "" {
		Skip(reason)
	}
	return f.AcquireHost(ctx, n.Can, n.Hold, hosts...)
}

// AcquireHost holds what want says on one of the candidate hosts until the spec ends, and
// returns the host's name (see package hostlock): the devices and the room for dedicated guests
// the spec's servers take, or the whole host. The release is registered before any server of the
// spec exists, so it runs after their deletion (cleanups run in reverse order). With no
// candidates the spec is skipped, saying that no host of the lab can do what reason says.
func (f *Framework) AcquireHost(ctx context.Context, reason string, want hostlock.Want, candidates ...string) string {
	GinkgoHelper()
	if len(candidates) == 0 {
		Skip(needs.NoHostReason(reason))
	}
	// Start at a different candidate on each process so parallel specs spread over the hosts.
	start := GinkgoParallelProcess() % len(candidates)
	order := append(slices.Clone(candidates[start:]), candidates[:start]...)
	claims := make([]hostlock.Claim, len(order))
	for i, host := range order {
		c, err := hostlock.ClaimOn(host, f.capacity(host), want)
		expectNoError(err, "holding what the spec needs to %s", reason)
		claims[i] = c
	}
	if len(claims[0].Groups) == 0 {
		return order[0] // nothing another server could take from this spec
	}
	// The leases lapse when the spec and its cleanups must have ended, should the run be killed.
	expires := time.Now().Add(time.Hour)
	if dl, ok := ctx.Deadline(); ok {
		expires = dl.Add(2 * f.cleanupTimeout())
	}
	l, err := f.env.Hosts.Acquire(ctx, f.Cloud.PollInterval(), claims, expires, func(held []openstack.Lease) {
		step("waiting for a host to %s: %s", reason, describeLeases(held))
	})
	expectNoError(err, "taking a host to %s", reason)
	step("hold %d slots of %s", len(l.Leases()), l.Host)
	held := time.Now()
	DeferCleanup(func(ctx context.Context) error {
		AddReportEntry(hostlock.EntryHold, hostlock.Hold{Host: l.Host, Leases: l.Leases(), Seconds: time.Since(held).Seconds()}, ReportEntryVisibilityNever)
		return l.Release(ctx)
	}, NodeTimeout(f.cleanupTimeout()))
	return l.Host
}

// capacity is what a host offers to hold: its exposed devices per alias, and how many dedicated
// guests of the suites' flavor size fit at once on any one of its NUMA nodes (by the node's
// pCPUs in cpu_dedicated_set and its memory).
func (f *Framework) capacity(host string) hostlock.Capacity {
	GinkgoHelper()
	h, ok := f.Inventory.Host(host)
	Expect(ok).To(BeTrue(), "host %s is not in the lab inventory", host)
	c := hostlock.Capacity{Devices: map[string][]string{}}
	for _, d := range h.Devices {
		if !d.Exposed {
			continue
		}
		for _, a := range d.Aliases {
			c.Devices[a] = append(c.Devices[a], d.Address.String())
		}
	}
	var dedicated []int
	set, limited := f.Config.Nova.CPUDedicatedSet[host]
	if limited {
		var err error
		dedicated, err = cpuset.Parse(set)
		expectNoError(err, "config nova.cpu_dedicated_set.%s", host)
	}
	pcpus := map[int]int{}
	for cpu, node := range h.CPUNode {
		if !limited || slices.Contains(dedicated, cpu) {
			pcpus[node]++
		}
	}
	size := f.Config.Flavor
	fit := -1
	for _, cell := range h.Cells {
		n, ok := pcpus[cell.ID]
		if !ok {
			continue // no CPU a dedicated guest could be pinned to
		}
		n /= max(size.VCPUs, 1)
		if cell.MemoryKiB > 0 && size.RAMMB > 0 {
			n = min(n, int(cell.MemoryKiB/uint64(size.RAMMB*1024)))
		}
		if fit < 0 || n < fit {
			fit = n
		}
	}
	c.CPUs = max(fit, 1)
	return c
}

func describeLeases(held []openstack.Lease) string {
	parts := make([]string, len(held))
	for i, l := range held {
		parts[i] = l.String()
	}
	return strings.Join(parts, "; ")
}

// HostWhere acquires a host satisfying pred and holds want on it (see AcquireHost).
func (f *Framework) HostWhere(ctx context.Context, reason string, want hostlock.Want, pred func(h *inventory.Host) bool) string {
	GinkgoHelper()
	return f.AcquireHost(ctx, reason, want, f.Inventory.HostsWhere(pred)...)
}

// stepHook, when set, is told every step of a spec as it starts (SetStepHook).
var stepHook atomic.Pointer[func(string)]

// SetStepHook has every step of a spec (By: create flavor, boot, each status change while
// waiting, inspect, delete, waiting for a host) also told to hook as it starts, so `hwcert run`
// prints them live; Ginkgo itself shows them only in the report of a spec that failed.
func SetStepHook(hook func(step string)) { stepHook.Store(&hook) }

// step is one step of a spec: By, and the hook.
func step(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	By(text)
	if h := stepHook.Load(); h != nil {
		(*h)(text)
	}
}

// track records a server the spec created, or its latest state, for evidence.
func (f *Framework) track(srv *servers.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.servers {
		if s.ID == srv.ID {
			f.servers[i] = srv
			return
		}
	}
	f.servers = append(f.servers, srv)
}

// captureEvidence runs when a spec fails, before its cleanups delete anything, and attaches the
// evidence directory (and any problem capturing it) to the report.
func (f *Framework) captureEvidence(ctx context.Context) {
	f.mu.Lock()
	srvs := slices.Clone(f.servers)
	f.mu.Unlock()
	if len(srvs) == 0 {
		return
	}
	r := CurrentSpecReport()
	dir := filepath.Join(f.env.EvidenceDir, evidence.SpecDir(r.FullText(), r.ParallelProcess))
	problems := evidence.Capture(ctx, f.Cloud, f.Hypervisors, dir, srvs)
	AddReportEntry("evidence", dir, ReportEntryVisibilityFailureOrVerbose)
	if len(problems) > 0 {
		AddReportEntry("evidence problems", strings.Join(problems, "\n"), ReportEntryVisibilityFailureOrVerbose)
	}
}

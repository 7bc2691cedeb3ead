// Package framework is what specs call. A spec creates one Framework at the top of its Describe
// (framework.New("numa")); it gets the suite's clients, a unique name per spec, flavors and
// servers whose cleanup is registered the moment they exist, inspection of a server through its
// hypervisor, and evidence written to the report directory when the spec fails. Specs say what
// is tested; the mechanism lives here.
package framework

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/framework/placement"
	"github.com/hwcert/hwcert/framework/verify"
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
	mustEnv()
	f.Cloud, f.Hypervisors, f.Config, f.Catalog, f.Inventory = env.cloud, env.hv, env.cfg, env.catalog, env.inventory
	f.UniqueName = fmt.Sprintf("%s%s-%s-p%d-%d", env.cfg.NamePrefix, env.runID, f.BaseName, GinkgoParallelProcess(), specCounter.Add(1))
	f.mu.Lock()
	f.servers, f.names = nil, 0
	f.mu.Unlock()
	DeferOnFailure(f.captureEvidence, NodeTimeout(2*time.Minute))
}

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

// Flavor is a flavor created for a spec, with what it asks for.
type Flavor struct {
	ID, Name   string
	ExtraSpecs map[string]string
	// Aliases is what pci_passthrough:alias asks for (nil when absent or unparseable).
	Aliases []AliasCount
	opts    flavorOptions
	catalog *catalog.Catalog
}

// Request is the flavor's request as the verdict logic reads it. Aliases unknown to the catalog
// are carried with only their name.
func (fl *Flavor) Request() verify.Request {
	r := verify.Request{Policy: fl.opts.policy, GuestNUMANodes: fl.opts.numaNodes, Dedicated: fl.opts.dedicated, Affinity: env.cfg.Expect.PCINUMAAffinity}
	for _, a := range fl.Aliases {
		e, ok := fl.catalog.Lookup(a.Alias)
		if !ok {
			e = catalog.Entry{Alias: a.Alias}
		}
		r.Aliases = append(r.Aliases, verify.AliasRequest{Entry: e, Count: a.Count})
	}
	return r
}

// WithAffinity returns the flavor's request judged under another PCI NUMA affinity reading.
func WithAffinity(r verify.Request, reading string) verify.Request { r.Affinity = reading; return r }

// CreateFlavor creates a flavor with the options' extra specs and fails the spec if the cloud
// refuses. Its deletion is registered as soon as it exists.
func (f *Framework) CreateFlavor(ctx context.Context, opts ...FlavorOption) *Flavor {
	GinkgoHelper()
	fl, err := f.TryCreateFlavor(ctx, opts...)
	Expect(err).NotTo(HaveOccurred(), "creating flavor with extra specs %v", fl.ExtraSpecs)
	return fl
}

// TryCreateFlavor is CreateFlavor for specs that expect a refusal: it returns the error of
// setting the extra specs (an *openstack.APIError for Nova's 400s). The flavor, if created, is
// still cleaned up.
func (f *Framework) TryCreateFlavor(ctx context.Context, opts ...FlavorOption) (*Flavor, error) {
	GinkgoHelper()
	o := flavorOptions{vcpus: f.Config.Flavor.VCPUs, ramMB: f.Config.Flavor.RAMMB, diskGB: f.Config.Flavor.DiskGB}
	for _, opt := range opts {
		opt(&o)
	}
	fl := &Flavor{Name: f.name("flavor"), ExtraSpecs: o.extraSpecs(), opts: o, catalog: f.Catalog}
	if v, ok := fl.ExtraSpecs[vocab.SpecPCIAlias]; ok {
		fl.Aliases, _ = ParseAliasSpec(v)
	}
	cloud := f.Cloud
	if o.microversion != "" {
		cloud = cloud.WithMicroversion(o.microversion)
	}
	created, err := cloud.CreateFlavor(ctx, openstack.FlavorSpec{Name: fl.Name, VCPUs: o.vcpus, RAMMB: o.ramMB, DiskGB: o.diskGB})
	if err != nil {
		return fl, err
	}
	fl.ID = created.ID
	DeferCleanup(func(ctx context.Context) error { return f.Cloud.DeleteFlavor(ctx, fl.ID) }, NodeTimeout(f.cleanupTimeout()))
	if _, err := cloud.SetExtraSpecs(ctx, fl.ID, fl.ExtraSpecs); err != nil {
		return fl, err
	}
	return fl, nil
}

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
	if o.name != "" {
		name = f.UniqueName + "-" + o.name
	}
	srv, err := f.Cloud.CreateServer(ctx, openstack.ServerSpec{
		Name: name, FlavorID: fl.ID, ImageID: env.imageID, Network: env.networkID,
		AvailabilityZone: o.az, Host: o.host,
	})
	if err != nil {
		f.skipIfOptionalAliasUndefined(err)
		return nil, err
	}
	id := srv.ID
	DeferCleanup(func(ctx context.Context) error { return f.Cloud.DeleteServer(ctx, id) }, NodeTimeout(f.cleanupTimeout()))
	f.mu.Lock()
	f.servers = append(f.servers, srv)
	f.mu.Unlock()
	booted, err := f.Cloud.WaitForBoot(ctx, id)
	if booted != nil {
		f.mu.Lock()
		for i, s := range f.servers {
			if s.ID == id {
				f.servers[i] = booted
			}
		}
		f.mu.Unlock()
		srv = booted
	}
	return srv, err
}

// BootActive boots and fails the spec unless the server becomes ACTIVE.
func (f *Framework) BootActive(ctx context.Context, fl *Flavor, opts ...BootOption) *servers.Server {
	GinkgoHelper()
	srv, err := f.Boot(ctx, fl, opts...)
	Expect(err).NotTo(HaveOccurred(), "booting a server of flavor %s (extra specs %v)", fl.Name, fl.ExtraSpecs)
	return srv
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

// Inspect reads the server's placement from its hypervisor: the server's host and libvirt domain
// (OS-EXT-SRV-ATTR:host / instance_name, admin only), the domain XML, the node device of every
// hostdev, and the host capabilities. It fails the spec if any of that cannot be read.
func (f *Framework) Inspect(ctx context.Context, srv *servers.Server) (*placement.Placement, *hypervisor.Evidence) {
	GinkgoHelper()
	cur, err := f.Cloud.GetServer(ctx, srv.ID)
	Expect(err).NotTo(HaveOccurred(), "reading server %s", srv.ID)
	Expect(cur.Host).NotTo(BeEmpty(), "server %s has no OS-EXT-SRV-ATTR:host: the harness needs an admin role to find the hypervisor", srv.ID)
	ev, err := f.Hypervisors.Evidence(ctx, cur.Host, cur.InstanceName, cur.ID)
	Expect(err).NotTo(HaveOccurred(), "reading the domain of server %s from its hypervisor", srv.ID)
	p, err := placement.Build(ev.DomainXML, ev.NodeDevXML, ev.CapsXML)
	Expect(err).NotTo(HaveOccurred(), "reading the placement of server %s from the libvirt XML", srv.ID)
	return p, ev
}

// ServersNamed lists servers of this run whose name starts with the spec's unique name; a spec
// uses it to prove a refused request left nothing behind.
func (f *Framework) ServersNamed(ctx context.Context) []string {
	GinkgoHelper()
	all, err := f.Cloud.Servers(ctx)
	Expect(err).NotTo(HaveOccurred(), "listing servers")
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
	hosts := f.Inventory.HostsWhere(inventory.HasDevices(alias, count))
	if len(hosts) == 0 {
		if f.Inventory.Count(alias) == 0 {
			Skip(fmt.Sprintf("lab has no device for alias %s", alias))
		}
		Skip(fmt.Sprintf("no host of the lab has %d devices for alias %s (at most %d on one host)", count, alias, f.Inventory.MaxOnHost(alias)))
	}
	return hosts
}

// ExpectNoError fails the spec with an explanation when err is not nil.
func ExpectNoError(err error, explain ...any) {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred(), explain...)
}

// ExpectNoValidHost asserts that a boot ended in ERROR with Nova's "no valid host" fault: the
// error a user sees when no host can satisfy the request.
func ExpectNoValidHost(srv *servers.Server, err error) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "the server was expected to fail scheduling, but it is %s on host %q", status(srv), host(srv))
	be, ok := openstack.AsBootError(err)
	Expect(ok).To(BeTrue(), "the server was expected to go to ERROR with a fault, got: %v", err)
	Expect(be.Fault.Code).To(Equal(500), "fault code of %s", be.Name)
	Expect(be.Fault.Message).To(HavePrefix("No valid host was found."), "fault message of %s", be.Name)
}

// ExpectAPIError asserts that the cloud refused a request with an HTTP status and a message
// containing substr.
func ExpectAPIError(err error, status int, substr string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "the request was expected to be refused with HTTP %d %q", status, substr)
	ae, ok := openstack.AsAPIError(err)
	Expect(ok).To(BeTrue(), "expected an HTTP error from the cloud, got: %v", err)
	Expect(ae.Status).To(Equal(status), "HTTP status of %s %s (message %q)", ae.Method, ae.URL, ae.Message)
	Expect(ae.Message).To(ContainSubstring(substr), "message of the HTTP %d", ae.Status)
}

func status(s *servers.Server) string {
	if s == nil {
		return "unknown"
	}
	return s.Status
}

func host(s *servers.Server) string {
	if s == nil {
		return ""
	}
	return s.Host
}

// tracked returns the servers the spec created, latest state first seen.
func (f *Framework) tracked() []*servers.Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.servers)
}

// ExtraSpecsOf is a sorted, printable view of extra specs.
func ExtraSpecsOf(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return strings.Join(parts, " ")
}

// AsAPIError finds a refusal of the cloud (HTTP status and Nova's message) in err.
func AsAPIError(err error) (*openstack.APIError, bool) { return openstack.AsAPIError(err) }

// AsBootError finds a server that went to ERROR (with Nova's fault) in err.
func AsBootError(err error) (*openstack.BootError, bool) { return openstack.AsBootError(err) }

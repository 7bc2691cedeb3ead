// Package preflight checks that a run can start on a lab, before the run finds out one failed
// spec at a time: the cloud (clouds.yaml, authentication, the admin view, the microversion), the
// image and the network, the quota for the largest spec, every compute host's libvirtd, the
// catalog against the lab, and leftovers of earlier runs. Each check has a bounded time and
// reports what it found and how to fix it; a check that fails is a blocker unless it is only a
// warning. It uses the clients the suites use (framework/openstack, framework/hypervisor) and
// suite.Discover's inventory.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/openstack"
)

// Status is the outcome of one check.
type Status int

const (
	OK      Status = iota
	Warn           // worth knowing, does not stop a run
	Fail           // a blocker: a run cannot start
	Skipped        // not checked because a check it depends on failed
)

// Mark is the symbol a line starts with.
func (s Status) Mark() string {
	return [...]string{"✔", "!", "✘", "-"}[s]
}

// Result is one line of the preflight.
type Result struct {
	Name   string
	Status Status
	// Found is what the check saw; Fix, for a warning or a blocker, what to do about it.
	Found, Fix string
	// timedOut: the check's goroutine may still hold what it was using.
	timedOut bool
}

// String is the result's one line (an error's own line breaks become spaces).
func (r Result) String() string {
	s := fmt.Sprintf("%s %s: %s", r.Status.Mark(), r.Name, strings.Join(strings.Fields(r.Found), " "))
	if r.Fix != "" {
		s += " — " + r.Fix
	}
	return s
}

// Options bound the checks.
type Options struct {
	// ConfigFile names the config in fixes ("hwcert cleanup --config FILE").
	ConfigFile string
	// CheckTimeout bounds each check (default 30s).
	CheckTimeout time.Duration
	// Progress, when set, gets a line each time a check has been waiting for another
	// ProgressEvery (default 5s), so a slow lab says which check is waiting.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Out, when set, gets each result line as soon as the check ends.
	Out io.Writer
}

// Report is every result, in order.
type Report struct{ Results []Result }

// Blockers are the failed checks.
func (r *Report) Blockers() []Result {
	var out []Result
	for _, x := range r.Results {
		if x.Status == Fail {
			out = append(out, x)
		}
	}
	return out
}

// Err is nil when a run can start, else an error naming every blocker.
func (r *Report) Err() error {
	b := r.Blockers()
	if len(b) == 0 {
		return nil
	}
	names := make([]string, len(b))
	for i, x := range b {
		names[i] = x.Name
	}
	return fmt.Errorf("preflight: %d blocker(s): %s", len(b), strings.Join(names, "; "))
}

// runner runs checks one after the other, each under its own deadline.
type runner struct {
	o   Options
	rep Report
}

func (r *runner) add(res Result) {
	r.rep.Results = append(r.rep.Results, res)
	if r.o.Out != nil {
		fmt.Fprintln(r.o.Out, res)
	}
}

// run runs fn with the check's deadline. fn may call into cgo (libvirt) that ignores ctx, so it
// runs on its own goroutine and a check that does not return in time is reported as a timeout
// with what it was waiting for; its goroutine is abandoned to end on its own.
func (r *runner) run(ctx context.Context, name string, fn func(ctx context.Context) Result) Result {
	timeout := r.o.CheckTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	every := r.o.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan Result, 1)
	start := time.Now()
	go func() { done <- fn(cctx) }()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case res := <-done:
			res.Name = name
			return res
		case <-tick.C:
			if r.o.Progress != nil {
				fmt.Fprintf(r.o.Progress, "… %s: still waiting (%s of %s)\n", name, time.Since(start).Round(time.Second), timeout)
			}
		case <-cctx.Done():
			return Result{Name: name, Status: Fail, Found: fmt.Sprintf("timed out after %s (%v)", timeout, context.Cause(cctx)),
				Fix: "check that the endpoint is reachable from here; a slow lab needs a longer --check-timeout", timedOut: true}
		}
	}
}

func (r *runner) check(ctx context.Context, name string, fn func(ctx context.Context) Result) Result {
	res := r.run(ctx, name, fn)
	r.add(res)
	return res
}

func (r *runner) skip(name, because string) {
	r.add(Result{Name: name, Status: Skipped, Found: "not checked: " + because})
}

func failed(found, fix string) Result { return Result{Status: Fail, Found: found, Fix: fix} }

func ok(format string, args ...any) Result {
	return Result{Status: OK, Found: fmt.Sprintf(format, args...)}
}

// Run runs every check against the lab cfg names and returns the results; Report.Err says whether
// a run can start.
func Run(ctx context.Context, cfg *config.Config, cat *catalog.Catalog, o Options) *Report {
	r := &runner{o: o}
	var cloud *openstack.Client
	res := r.check(ctx, "cloud", func(ctx context.Context) Result {
		c, err := openstack.New(ctx, cfg)
		if err != nil {
			return failed(err.Error(), "check clouds_file / $OS_CLIENT_CONFIG_FILE, the cloud name and its credentials")
		}
		cloud = c
		return ok("clouds.yaml read, authenticated to cloud %q", cfg.Cloud)
	})
	if res.Status != OK {
		for _, n := range []string{"admin view", "compute microversion", "image", "network", "hypervisors", "quota", "catalog", "leftovers"} {
			r.skip(n, "the cloud check failed")
		}
		return &r.rep
	}
	var hosts []openstack.Host
	res = r.check(ctx, "admin view", func(ctx context.Context) Result {
		hs, err := cloud.Hosts(ctx)
		if err != nil {
			return failed(err.Error(), "the harness reads os-hypervisors and OS-EXT-SRV-ATTR:host/:instance_name, which need the admin role: use an admin user in clouds.yaml")
		}
		if len(hs) == 0 {
			return failed("os-hypervisors lists no compute host", "use an admin user (others see no hypervisors), or check that nova-compute is up")
		}
		hosts = hs
		names := make([]string, len(hs))
		for i, h := range hs {
			names[i] = h.Name
		}
		return ok("os-hypervisors lists %d compute hosts (%s)", len(hs), strings.Join(names, ", "))
	})
	r.check(ctx, "compute microversion", func(ctx context.Context) Result { return microversion(ctx, cloud, cfg.ComputeMicroversion) })
	r.check(ctx, "image", func(ctx context.Context) Result {
		id, err := cloud.ResolveImage(ctx, cfg.Image)
		if err != nil {
			return failed(err.Error(), "set image in the config to the name or id of one image the user can boot (openstack image list)")
		}
		return ok("%q is image %s", cfg.Image, id)
	})
	r.check(ctx, "network", func(ctx context.Context) Result {
		id, err := cloud.ResolveNetwork(ctx, cfg.Network)
		if err != nil {
			return failed(err.Error(), "set network in the config to the name or id of one network (openstack network list), or \"none\"")
		}
		if id == "none" || id == "auto" {
			return ok("%q: servers are booted with networks %q (compute microversion 2.37 or later)", cfg.Network, id)
		}
		return ok("%q is network %s", cfg.Network, id)
	})
	var inv *inventory.Inventory
	if res.Status != OK {
		r.skip("hypervisors", "the admin view check failed")
	} else {
		inv = r.hypervisors(ctx, cfg, cat, hosts)
	}
	if inv == nil {
		r.skip("quota", "no host's libvirtd could be read")
		r.skip("catalog", "no host's libvirtd could be read")
	} else {
		r.check(ctx, "quota", func(ctx context.Context) Result { return quota(ctx, cloud, cfg, cat, inv) })
		r.add(catalogCheck(cat, inv))
	}
	r.check(ctx, "leftovers", func(ctx context.Context) Result { return leftovers(ctx, cloud, cfg, o.ConfigFile) })
	return &r.rep
}

func microversion(ctx context.Context, cloud *openstack.Client, want string) Result {
	lo, hi, err := cloud.ComputeVersions(ctx)
	if err != nil {
		return failed(err.Error(), "check the compute endpoint in the cloud's catalog")
	}
	w, errW := minor(want)
	l, errL := minor(lo)
	h, errH := minor(hi)
	if err := errors.Join(errW, errL, errH); err != nil {
		return failed(err.Error(), "")
	}
	if w < l || w > h {
		return failed(fmt.Sprintf("the config asks for %s, the compute API serves %s to %s", want, lo, hi),
			fmt.Sprintf("set compute_microversion in the config between %s and %s (at least 2.%d)", lo, hi, config.MinComputeMicroversion))
	}
	return ok("%s is within the compute API's %s to %s", want, lo, hi)
}

func minor(v string) (int, error) {
	var n int
	if _, err := fmt.Sscanf(v, "2.%d", &n); err != nil {
		return 0, fmt.Errorf("microversion %q: expected 2.N", v)
	}
	return n, nil
}

// hypervisors opens each host's libvirtd concurrently, one line per host, and builds the
// inventory from the hosts that answered (nil when none did).
func (r *runner) hypervisors(ctx context.Context, cfg *config.Config, cat *catalog.Catalog, hosts []openstack.Host) *inventory.Inventory {
	hv := hypervisor.New(cfg.HypervisorURI)
	var mu sync.Mutex
	pci := map[string]map[string]string{}
	caps := map[string]string{}
	results := make([]Result, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.run(ctx, "libvirt "+h.Name, func(ctx context.Context) Result {
				uri, err := cfg.HypervisorURI(h.Name)
				if err != nil {
					return failed(err.Error(), "add the host to hypervisors.hosts or set hypervisors.uri_template")
				}
				c, err := hv.Capabilities(ctx, h.Name)
				if err != nil {
					return failed(err.Error(), "check "+uri+": the host name resolves, the ssh key reaches it (qemu+ssh), the user is in the libvirt group, the socket path exists (qemu+unix)")
				}
				p, err := hv.PCIInventory(ctx, h.Name)
				if err != nil {
					return failed(err.Error(), "the user must be allowed to list node devices on "+uri)
				}
				mu.Lock()
				caps[h.Name], pci[h.Name] = c, p
				mu.Unlock()
				return ok("%s: capabilities and %d PCI node devices read", uri, len(p))
			})
		}()
	}
	wg.Wait()
	stuck := false
	for _, res := range results {
		r.add(res)
		stuck = stuck || res.timedOut
	}
	// The connections were only for this check (a run opens its own); a connect that timed out
	// still holds its host's lock, and Close would wait for it.
	if !stuck {
		_ = hv.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(caps) == 0 {
		return nil
	}
	inv, err := inventory.Build(cat, pci, caps)
	if err != nil {
		r.add(Result{Name: "inventory", Status: Fail, Found: err.Error(), Fix: "the harness cannot read this host as Nova does; see the error"})
		return nil
	}
	return inv
}

// quota checks the project's compute limits against the largest spec: filling the host with the
// most devices of one alias boots one server per device and one more that must find no host.
func quota(ctx context.Context, cloud *openstack.Client, cfg *config.Config, cat *catalog.Catalog, inv *inventory.Inventory) Result {
	q, err := cloud.Quota(ctx)
	if errors.Is(err, openstack.ErrNotServed) {
		return Result{Status: Warn, Found: "the cloud serves no compute limits (GET /limits); not checked"}
	}
	if err != nil {
		return failed(err.Error(), "")
	}
	servers := 2 // a spec with two guests (negative, per-alias pairs)
	for _, e := range cat.Supported() {
		servers = max(servers, inv.MaxOnHost(e.Alias)+1)
	}
	need := []struct {
		what             string
		want, max, inUse int
	}{
		{"instances", servers, q.MaxInstances, q.UsedInstances},
		{"cores", servers * cfg.Flavor.VCPUs, q.MaxCores, q.UsedCores},
		{"RAM (MB)", servers * cfg.Flavor.RAMMB, q.MaxRAMMB, q.UsedRAMMB},
	}
	var short []string
	for _, n := range need {
		if n.max >= 0 && n.max-n.inUse < n.want {
			short = append(short, fmt.Sprintf("%s: %d needed, %d of %d free", n.what, n.want, n.max-n.inUse, n.max))
		}
	}
	if len(short) > 0 {
		return failed("the largest spec does not fit the quota: "+strings.Join(short, "; "), "raise the project's quota or shrink flavor in the config")
	}
	return ok("the largest spec (%d servers of %d vCPUs, %d MB) fits the quota", servers, cfg.Flavor.VCPUs, cfg.Flavor.RAMMB)
}

// catalogCheck says which supported aliases have devices; one without is not testable on this lab.
func catalogCheck(cat *catalog.Catalog, inv *inventory.Inventory) Result {
	counts := map[string]int{}
	var missing []string
	for _, e := range cat.Supported() {
		if n := inv.Count(e.Alias); n > 0 {
			counts[e.Alias] = n
		} else if !e.Optional {
			missing = append(missing, e.Alias)
		}
	}
	var have []string
	for _, a := range slices.Sorted(maps.Keys(counts)) {
		have = append(have, fmt.Sprintf("%s ×%d", a, counts[a]))
	}
	res := Result{Name: "catalog", Status: OK, Found: "devices for " + orNone(strings.Join(have, ", "))}
	if len(have) == 0 {
		res.Status = Fail
		res.Fix = "no supported catalog alias has a device on this lab: check the catalog's vendor/product ids against `virsh nodedev-list --cap pci`"
		return res
	}
	if len(missing) > 0 {
		res.Status = Warn
		res.Found += "; not testable on this lab (no device): " + strings.Join(missing, ", ")
		res.Fix = "their specs will skip; see `hwcert inventory`"
	}
	return res
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func leftovers(ctx context.Context, cloud *openstack.Client, cfg *config.Config, configFile string) Result {
	left, err := cloud.Leftovers(ctx, cfg.NamePrefix)
	if err != nil {
		return failed(err.Error(), "")
	}
	if len(left) == 0 {
		return ok("no server or flavor named %q*", cfg.NamePrefix)
	}
	kinds := map[string]int{}
	var oldest time.Time
	for _, l := range left {
		kinds[l.Kind]++
		if !l.Started.IsZero() && (oldest.IsZero() || l.Started.Before(oldest)) {
			oldest = l.Started
		}
	}
	found := fmt.Sprintf("%d servers and %d flavors named %q*", kinds["server"], kinds["flavor"], cfg.NamePrefix)
	if !oldest.IsZero() {
		found += fmt.Sprintf(", the oldest from a run started %s ago", time.Since(oldest).Round(time.Minute))
	}
	if configFile == "" {
		configFile = "FILE"
	}
	return Result{Status: Warn, Found: found,
		Fix: fmt.Sprintf("a run sweeps those older than %s at start; `hwcert cleanup --config %s` removes them now (also a concurrent run's)", cfg.Timeouts.SweepAfter, configFile)}
}

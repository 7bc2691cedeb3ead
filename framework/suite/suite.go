// Package suite sets up what every spec of a test process shares: it picks the lab (a harness
// config, or the embedded mock started through mockboot), loads the config and the device
// catalog, connects to the cloud and the hypervisors, sweeps what killed runs left behind, and
// discovers the lab's inventory. `hwcert run` and each suite's go test binary call Register once
// before RunSpecs; specs then read the environment through package framework.
package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/hostlock"
	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/mockboot"
	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/framework/runid"
)

// Environment variables that choose what the suites run against (go test / ginkgo); `hwcert run`
// sets the same through SetOptions.
const (
	EnvConfig    = "HWCERT_CONFIG"     // harness config of a real (or separately started) lab
	EnvLab       = "HWCERT_LAB"        // shipped lab name or lab file for the embedded mock
	EnvFaults    = "HWCERT_FAULTS"     // comma-separated mock faults
	EnvReportDir = "HWCERT_REPORT_DIR" // where evidence of failed specs goes (default $TMPDIR/hwcert-reports)
	// EnvBootLatency overrides the embedded lab's boot latency (a Go duration such as "200ms"), so
	// that servers really sit in BUILD and the harness's waits are exercised.
	EnvBootLatency = "HWCERT_BOOT_LATENCY"
)

// Options choose the lab. With ConfigFile empty, the suite starts the embedded mock with Lab and
// Faults.
type Options struct {
	ConfigFile string
	Lab        string
	// LabBaseDir resolves a relative lab file path (default: the working directory).
	LabBaseDir string
	Faults     []string
	// Chaos are the embedded mock's plumbing faults (hwcert run --mock-chaos).
	Chaos     []string
	ReportDir string
	// BootLatency, when set, overrides the embedded lab's boot latency.
	BootLatency *time.Duration
	// Cards are the catalog aliases the run certifies (hwcert run --card), for the report.
	Cards []string
	// err is a malformed environment variable, reported when the suite starts.
	err error
}

var (
	optsMu  sync.Mutex
	optsSet *Options
)

// SetOptions overrides the environment variables (used by `hwcert run`); call before RunSpecs.
func SetOptions(o Options) {
	optsMu.Lock()
	defer optsMu.Unlock()
	optsSet = &o
}

// CurrentOptions are the options in force: SetOptions', else the environment's.
func CurrentOptions() Options {
	optsMu.Lock()
	defer optsMu.Unlock()
	if optsSet != nil {
		return *optsSet
	}
	o := Options{
		ConfigFile: os.Getenv(EnvConfig),
		Lab:        os.Getenv(EnvLab),
		LabBaseDir: callerDir(),
		ReportDir:  os.Getenv(EnvReportDir),
	}
	if v := os.Getenv(EnvBootLatency); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			o.err = fmt.Errorf("%s=%q: expected a non-negative Go duration such as \"200ms\"", EnvBootLatency, v)
		}
		o.BootLatency = &d
	}
	for _, f := range strings.Split(os.Getenv(EnvFaults), ",") {
		if f = strings.TrimSpace(f); f != "" {
			o.Faults = append(o.Faults, f)
		}
	}
	return o
}

// callerDir is where the user ran the command from, as best a test binary can tell. `go test`
// and the Ginkgo CLI run each suite's binary in its package directory (and set $PWD to it), so the
// shell's directory is lost; both are run from the module root (`go tool ginkgo ./suites/...`), so
// that is where a relative HWCERT_LAB is read from. Outside a module it is the working directory.
func callerDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}

func (o Options) reportDir() string {
	if o.ReportDir != "" {
		return o.ReportDir
	}
	// Under go test the working directory is the suite package: keep evidence out of the tree.
	return filepath.Join(os.TempDir(), "hwcert-reports")
}

// Env is what every spec of this process shares: set up once by Register's
// SynchronizedBeforeSuite, read-only afterwards.
type Env struct {
	Config      *config.Config
	Cloud       *openstack.Client
	Hypervisors *hypervisor.Inspector
	Catalog     *catalog.Catalog
	Inventory   *inventory.Inventory
	ImageID     string
	NetworkID   string
	RunID       string
	// Hosts takes the leases of the hosts specs boot onto (shared with other runs on the lab).
	Hosts *hostlock.Holder
	// EvidenceDir is where evidence of failed specs goes.
	EvidenceDir string
}

var env *Env

// Current is the environment of this process; it fails the spec when Register's setup has not run.
func Current() *Env {
	if env == nil {
		Fail("hwcert: the suite environment is not set up; call suite.Register() before RunSpecs")
	}
	return env
}

// bootstrap is what process 1 hands to every process.
type bootstrap struct {
	ConfigFile string `json:"config_file"`
	RunID      string `json:"run_id"`
}

var (
	registerOnce sync.Once
	embedded     *mockboot.Lab
)

// Register registers the suite-level setup and teardown; call it once per test binary (each
// suite_test.go, or `hwcert run`), before RunSpecs.
//
// Process 1 picks the lab: the config file of Options/HWCERT_CONFIG, else an embedded mock lab
// it starts (HWCERT_LAB, HWCERT_FAULTS), and sweeps what earlier runs left behind (names with the
// config's prefix). Every process then loads the config, connects, and discovers the lab's
// inventory. After the suite, process 1 stops the mock.
func Register() {
	registerOnce.Do(func() {
		SynchronizedBeforeSuite(setupProcess1, setupAll, NodeTimeout(5*time.Minute))
		SynchronizedAfterSuite(teardownAll, teardownProcess1, NodeTimeout(2*time.Minute))
	})
}

func setupProcess1(ctx SpecContext) []byte {
	opts := CurrentOptions()
	Expect(opts.err).NotTo(HaveOccurred(), "reading the environment")
	b := bootstrap{ConfigFile: opts.ConfigFile, RunID: runid.New(time.Now())}
	if b.ConfigFile == "" {
		l, err := mockboot.Start(ctx, mockboot.Options{Lab: opts.Lab, BaseDir: opts.LabBaseDir, Faults: opts.Faults, Chaos: opts.Chaos, BootLatency: opts.BootLatency})
		Expect(err).NotTo(HaveOccurred())
		embedded = l
		b.ConfigFile = l.ConfigFile()
		GinkgoWriter.Printf("hwcert: embedded mock lab %q (faults %v) at %s\n", l.Name, opts.Faults, l.AuthURL())
	}
	cfg, err := config.Load(b.ConfigFile)
	Expect(err).NotTo(HaveOccurred(), "loading the harness config")
	cloud, err := openstack.New(ctx, cfg, openstack.WithRetryReporter(reportRetry))
	Expect(err).NotTo(HaveOccurred(), "connecting to the cloud")
	swept, err := cloud.Sweep(ctx, cfg.NamePrefix, cfg.Timeouts.SweepAfter.Duration)
	Expect(err).NotTo(HaveOccurred(), "sweeping leftovers of earlier runs (prefix %q, older than %s)", cfg.NamePrefix, cfg.Timeouts.SweepAfter)
	if len(swept.Servers)+len(swept.Flavors) > 0 {
		GinkgoWriter.Printf("hwcert: swept leftovers of earlier runs: servers %v, flavors %v\n", swept.Servers, swept.Flavors)
	}
	data, err := json.Marshal(b)
	Expect(err).NotTo(HaveOccurred())
	return data
}

func setupAll(ctx SpecContext, data []byte) {
	var b bootstrap
	Expect(json.Unmarshal(data, &b)).To(Succeed(), "reading the bootstrap of process 1")
	e, err := connect(ctx, b)
	Expect(err).NotTo(HaveOccurred(), "setting up the suite environment")
	env = e
	GinkgoWriter.Printf("hwcert: run %s, lab inventory:\n%s", e.RunID, e.Inventory.Summary())
	if GinkgoParallelProcess() == 1 {
		recordLab(ctx, e)
	}
}

// connect loads the config and builds the clients and the inventory.
func connect(ctx context.Context, b bootstrap) (*Env, error) {
	cfg, err := config.Load(b.ConfigFile)
	if err != nil {
		return nil, err
	}
	cat, err := LoadCatalog(cfg)
	if err != nil {
		return nil, err
	}
	cloud, err := openstack.New(ctx, cfg, openstack.WithRetryReporter(reportRetry))
	if err != nil {
		return nil, err
	}
	image, err := cloud.ResolveImage(ctx, cfg.Image)
	if err != nil {
		return nil, fmt.Errorf("config image: %w", err)
	}
	network, err := cloud.ResolveNetwork(ctx, cfg.Network)
	if err != nil {
		return nil, fmt.Errorf("config network: %w", err)
	}
	hv := hypervisor.New(cfg.HypervisorURI)
	hv.OnRetry(reportLibvirtRetry)
	inv, err := Discover(ctx, cfg, cloud, hv, cat)
	if err != nil {
		_ = hv.Close()
		return nil, err
	}
	return &Env{
		Config: cfg, Cloud: cloud, Hypervisors: hv, Catalog: cat, Inventory: inv,
		ImageID: image, NetworkID: network, RunID: b.RunID, Hosts: hostlock.New(cloud, b.RunID, GinkgoParallelProcess()),
		EvidenceDir: filepath.Join(CurrentOptions().reportDir(), "evidence"),
	}, nil
}

// Discover lists the compute hosts, asks each one's libvirtd what it has, and marks which devices
// the config's [pci] device_spec mirror says Nova exposes. The suites and `hwcert inventory` both
// call it, so what the inventory shows is what the specs choose from.
func Discover(ctx context.Context, cfg *config.Config, cloud *openstack.Client, hv *hypervisor.Inspector, cat *catalog.Catalog) (*inventory.Inventory, error) {
	hosts, err := cloud.Hosts(ctx)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	if len(hosts) == 0 {
		return nil, errors.New("inventory: the cloud lists no hypervisors (does this user have the admin role?)")
	}
	pci := map[string]map[string]string{}
	caps := map[string]string{}
	for _, h := range hosts {
		if pci[h.Name], err = hv.PCIInventory(ctx, h.Name); err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
		if caps[h.Name], err = hv.Capabilities(ctx, h.Name); err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
	}
	inv, err := inventory.Build(cat, pci, caps)
	if err != nil {
		return nil, err
	}
	inv.MarkExposed(cfg.Nova.DeviceSpec)
	return inv, nil
}

func teardownAll(ctx SpecContext) {
	if env == nil {
		return
	}
	if env.Hosts != nil {
		// Not a failure of the run: a lease that cannot be given back lapses at its expiry.
		if err := env.Hosts.ReleaseAll(ctx); err != nil {
			GinkgoWriter.Printf("hwcert: %v (they lapse at their expiry)\n", err)
		}
	}
	if env.Hypervisors != nil {
		_ = env.Hypervisors.Close()
	}
}

func teardownProcess1() {
	if embedded != nil {
		Expect(embedded.Close()).To(Succeed(), "stopping the embedded mock")
		embedded = nil
	}
}

var (
	catalogOnce sync.Once
	treeCatalog *catalog.Catalog
	catalogErr  error
)

// Catalog is the device catalog the spec tree is built from (call it while the tree is built,
// i.e. inside a Describe body): the config's device_catalog when a config is given, else the
// shipped catalog. Every parallel process builds the same tree from the same inputs.
func Catalog() *catalog.Catalog {
	catalogOnce.Do(func() {
		opts := CurrentOptions()
		if opts.ConfigFile == "" {
			treeCatalog, catalogErr = catalog.Default()
			return
		}
		cfg, err := config.Load(opts.ConfigFile)
		if err != nil {
			catalogErr = err
			return
		}
		treeCatalog, catalogErr = LoadCatalog(cfg)
	})
	if catalogErr != nil {
		// The tree cannot be built without a catalog; Ginkgo reports this panic with its message.
		panic(fmt.Sprintf("hwcert: device catalog: %v", catalogErr))
	}
	return treeCatalog
}

// LoadCatalog reads the config's catalog; the default path is relative to the repository root,
// so when it is not there (go test runs in the package directory) the embedded copy is used.
func LoadCatalog(cfg *config.Config) (*catalog.Catalog, error) {
	if cfg.DeviceCatalog == config.DefaultDeviceCatalog {
		if _, err := os.Stat(cfg.DeviceCatalog); err != nil {
			return catalog.Default()
		}
	}
	return catalog.Load(cfg.DeviceCatalog)
}

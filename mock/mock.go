// Package mock starts a whole simulated lab: Keystone, Nova, Glance and Neutron over HTTP on one loopback
// listener, and one fake libvirtd per compute host on a unix socket (or loopback TCP), all
// backed by the same scheduler and cloud state. Once every endpoint accepts connections it writes
// a clouds.yaml and a harness config (hwcert.yaml) for the lab into the state directory, so the
// openstack CLI, virsh and `hwcert run` can talk to it like to a real lab.
package mock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/mock/chaos"
	"github.com/hwcert/hwcert/mock/cloud"
	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/libvirtd"
	"github.com/hwcert/hwcert/mock/openstack"
	"github.com/hwcert/hwcert/mock/render"
	"github.com/hwcert/hwcert/mock/scheduler"
)

// CloudName is the clouds.yaml entry the mock writes.
const CloudName = "mock"

// Files the mock writes into its state directory.
const (
	CloudsFile = "clouds.yaml"
	ConfigFile = "hwcert.yaml"
)

// maxUnixPath is the longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL).
const maxUnixPath = 107

// Options configure Start.
type Options struct {
	// Lab is the validated lab to simulate (lab.Load).
	Lab *lab.Lab
	// StateDir receives clouds.yaml, hwcert.yaml and the libvirt sockets; it is created if missing.
	StateDir string
	// Addr is the loopback address of the HTTP endpoints (default 127.0.0.1:0).
	Addr string
	// Faults are added to the lab's own faults (names from vocab.Faults).
	Faults []string
	// Chaos are plumbing faults added to the lab's own chaos list (package mock/chaos). They
	// start once the lab is up, or with DeferChaos when the caller calls Chaos().Arm().
	Chaos      []string
	DeferChaos bool
	// LibvirtTCP serves each fake libvirtd on 127.0.0.1:PORT instead of a unix socket.
	LibvirtTCP bool
	// BootLatency, when set, overrides the lab's boot_latency.
	BootLatency *time.Duration
	// Logger receives the mock's logs (default: discarded).
	Logger *slog.Logger
}

// Mock is a running lab.
type Mock struct {
	lab        *lab.Lab
	stateDir   string
	log        *slog.Logger
	creds      openstack.Credentials
	baseURL    string
	httpLn     net.Listener
	httpSrv    *http.Server
	cloud      *cloud.Cloud
	sched      *scheduler.Scheduler
	chaos      *chaos.Set
	daemons    []*libvirtd.Server
	uris       map[string]string
	sockets    []string
	files      []string
	serveErr   chan error
	closeOnce  sync.Once
	closeErr   error
	configPath string
	cloudsPath string
}

// Start brings a lab up and returns once every endpoint accepts connections and the state files
// are written. Close stops it. Only loopback addresses are accepted: the mock has a single
// generated admin password and no TLS, and is not meant to be reachable from elsewhere.
func Start(ctx context.Context, opts Options) (*Mock, error) {
	if opts.Lab == nil {
		return nil, errors.New("mock: Options.Lab is nil")
	}
	if opts.StateDir == "" {
		return nil, errors.New("mock: Options.StateDir is empty; the mock needs a directory for clouds.yaml, hwcert.yaml and its sockets")
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	faults, err := mergeFaults(opts.Lab.Faults, opts.Faults)
	if err != nil {
		return nil, err
	}
	chaosSet, err := chaos.Parse(append(slices.Clone(opts.Lab.Chaos), opts.Chaos...))
	if err != nil {
		return nil, fmt.Errorf("mock: %w", err)
	}
	dir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("mock: state dir %s: %w", opts.StateDir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mock: state dir: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Mock{
		lab:        opts.Lab,
		stateDir:   dir,
		log:        log,
		creds:      openstack.NewCredentials(),
		uris:       map[string]string{},
		serveErr:   make(chan error, 1+len(opts.Lab.Hosts)),
		cloudsPath: filepath.Join(dir, CloudsFile),
		configPath: filepath.Join(dir, ConfigFile),
		chaos:      chaosSet,
	}
	// Whatever fails from here (a listener that cannot be created, a signal during the start),
	// what was started is stopped again.
	if err := m.start(ctx, opts, addr, faults); err != nil {
		return nil, errors.Join(err, m.Close())
	}
	if !opts.DeferChaos {
		m.chaos.Arm()
	}
	log.Debug("mock lab ready", "lab", opts.Lab.Name, "auth_url", m.AuthURL(), "clouds_yaml", m.cloudsPath, "config", m.configPath, "chaos", chaosSet.String())
	return m, nil
}

func (m *Mock) start(ctx context.Context, opts Options, addr string, faults []string) error {
	log := m.log
	// Files from an earlier run would point at dead endpoints until the new ones are written.
	for _, f := range []string{m.cloudsPath, m.configPath} {
		if rmErr := os.Remove(f); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return fmt.Errorf("mock: removing stale %s: %w", f, rmErr)
		}
	}

	invs, err := opts.Lab.Inventories()
	if err != nil {
		return fmt.Errorf("mock: lab %s: %w", opts.Lab.Name, err)
	}
	lab.ApplyFaults(invs, faults)
	m.sched, err = scheduler.New(opts.Lab, scheduler.Options{Faults: faults})
	if err != nil {
		return fmt.Errorf("mock: scheduler: %w", err)
	}
	m.cloud, err = cloud.New(cloud.Options{
		Lab:         opts.Lab,
		Inventories: invs,
		Scheduler:   m.sched,
		DomainXML:   renderDomain,
		BootLatency: opts.BootLatency,
		BootFault:   m.bootFault,
	})
	if err != nil {
		return fmt.Errorf("mock: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mock: listen on %s: %w", addr, err)
	}
	m.httpLn = limitListener(ln, maxHTTPConns)
	m.baseURL = "http://" + m.httpLn.Addr().String()
	api, err := openstack.New(openstack.Options{Cloud: m.cloud, Credentials: m.creds, Logger: log, BaseURL: m.baseURL, Chaos: m.chaos})
	if err != nil {
		return fmt.Errorf("mock: %w", err)
	}
	// A client that opens connections and sends nothing, or sends slowly, must not hold the
	// mock's memory or its goroutines for long.
	m.httpSrv = &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	go func() {
		if err := m.httpSrv.Serve(m.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.serveErr <- fmt.Errorf("mock: HTTP server: %w", err)
		}
	}()

	for _, h := range opts.Lab.Hosts {
		if err := m.startDaemon(ctx, h.Name, invs[h.Name], opts.LibvirtTCP); err != nil {
			return err
		}
	}
	if err := m.waitReady(ctx); err != nil {
		return err
	}
	return m.writeFiles()
}

func (m *Mock) startDaemon(ctx context.Context, host string, inv *lab.HostInventory, tcp bool) error {
	var lc net.ListenConfig
	var ln net.Listener
	var err error
	if tcp {
		ln, err = lc.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("mock: libvirtd of %s: %w", host, err)
		}
		m.uris[host] = fmt.Sprintf("qemu+tcp://%s/system", ln.Addr())
	} else {
		sock := filepath.Join(m.stateDir, host+".sock")
		if len(sock) > maxUnixPath {
			return fmt.Errorf("mock: libvirtd socket path %s is %d bytes, longer than the %d a unix socket allows; use a shorter --state-dir or --libvirt-tcp", sock, len(sock), maxUnixPath)
		}
		if rmErr := os.Remove(sock); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return fmt.Errorf("mock: removing stale socket %s: %w", sock, rmErr)
		}
		ln, err = lc.Listen(ctx, "unix", sock)
		if err != nil {
			return fmt.Errorf("mock: libvirtd of %s: %w", host, err)
		}
		m.sockets = append(m.sockets, sock)
		m.uris[host] = "qemu+unix:///system?socket=" + sock
	}
	d := libvirtd.New(host, inv, m.cloud.DomainSource(host))
	d.SetChaos(m.chaos)
	m.daemons = append(m.daemons, d)
	go func() {
		if err := d.Serve(ln); err != nil {
			m.serveErr <- fmt.Errorf("mock: libvirtd of %s: %w", host, err)
		}
	}()
	m.log.Debug("libvirtd serving", "host", host, "uri", m.uris[host])
	return nil
}

// waitReady proves every endpoint accepts connections: one HTTP request to Keystone and one
// connection to each libvirtd, before the files that announce them are written.
func (m *Mock) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.AuthURL(), nil)
	if err != nil {
		return fmt.Errorf("mock: probing %s: %w", m.AuthURL(), err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mock: probing %s: %w", m.AuthURL(), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mock: probing %s: status %s", m.AuthURL(), resp.Status)
	}
	var d net.Dialer
	for host, uri := range m.uris {
		network, address := "tcp", ""
		if sock, ok := socketOf(uri); ok {
			network, address = "unix", sock
		} else {
			address = tcpAddrOf(uri)
		}
		c, err := d.DialContext(ctx, network, address)
		if err != nil {
			return fmt.Errorf("mock: probing libvirtd of %s at %s: %w", host, uri, err)
		}
		c.Close()
	}
	select {
	case err := <-m.serveErr:
		return err
	default:
		return nil
	}
}

// socketOf returns the socket path of a qemu+unix URI.
func socketOf(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "qemu+unix" {
		return "", false
	}
	return u.Query().Get("socket"), true
}

// tcpAddrOf returns HOST:PORT of a qemu+tcp URI.
func tcpAddrOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Host
}

// Close stops every endpoint, removes the sockets and the state files, and stops pending boots.
func (m *Mock) Close() error {
	m.closeOnce.Do(func() {
		var errs []error
		if m.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := m.httpSrv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("mock: HTTP shutdown: %w", err))
			}
			cancel()
		} else if m.httpLn != nil {
			m.httpLn.Close()
		}
		for _, d := range m.daemons {
			if err := d.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if m.cloud != nil {
			errs = append(errs, m.cloud.Close())
		}
		for _, f := range append(slices.Clone(m.sockets), m.files...) {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("mock: %w", err))
			}
		}
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}

// bootFault is the cloud's hook for the stuck and boot-error faults.
func (m *Mock) bootFault(serverID string) (stuck bool, fault string) {
	if m.chaos.Fire(chaos.Stuck) {
		return true, ""
	}
	if m.chaos.Fire(chaos.BootError) {
		// What Nova records when libvirt fails to start the guest (nova/virt/libvirt/driver.py
		// _create_guest re-raising libvirtError).
		return false, "internal error: process exited while connecting to monitor: qemu-system-x86_64: -device vfio-pci: vfio: error getting device from group: Device or resource busy"
	}
	return false, ""
}

// Chaos is the mock's plumbing-fault set, for its seed and the count of faults injected.
func (m *Mock) Chaos() *chaos.Set { return m.chaos }

// Err returns a channel that receives an error if an endpoint stops serving unexpectedly.
func (m *Mock) Err() <-chan error { return m.serveErr }

// AuthURL is Keystone's v3 endpoint (the clouds.yaml auth_url).
func (m *Mock) AuthURL() string { return openstack.IdentityURL(m.baseURL) }

// BaseURL is the root of the HTTP endpoints, http://127.0.0.1:PORT.
func (m *Mock) BaseURL() string { return m.baseURL }

// LibvirtURI is the libvirt URI of a host's fake libvirtd ("" for an unknown host).
func (m *Mock) LibvirtURI(host string) string { return m.uris[host] }

// CloudsFile is the path of the written clouds.yaml.
func (m *Mock) CloudsFile() string { return m.cloudsPath }

// ConfigFile is the path of the written harness config.
func (m *Mock) ConfigFile() string { return m.configPath }

// Cloud is the mock's state, for in-process tests that need to look behind the API.
func (m *Mock) Cloud() *cloud.Cloud { return m.cloud }

// Scheduler is the mock's scheduler, for in-process tests that check claims.
func (m *Mock) Scheduler() *scheduler.Scheduler { return m.sched }

// renderDomain adapts the cloud's renderer hook to package render.
func renderDomain(inv *lab.HostInventory, d cloud.DomainInfo, p *scheduler.Placement) (string, error) {
	return render.DomainXML(inv, render.Server{
		InstanceID:   d.InstanceID,
		UUID:         d.UUID,
		Name:         d.Name,
		InstanceName: d.InstanceName,
		VCPUs:        d.VCPUs,
		MemoryMB:     d.MemoryMB,
		FlavorName:   d.FlavorName,
	}, p)
}

// checkLoopback refuses any listen address that is not a loopback IP or "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("mock: address %q: %v (expected a loopback HOST:PORT such as 127.0.0.1:0)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("mock: address %q: the mock only listens on loopback (127.0.0.0/8, ::1 or localhost); it has one admin password, no TLS, and must not be reachable from other machines", addr)
	}
	return nil
}

// mergeFaults joins the lab's faults with extra ones, refusing unknown names.
func mergeFaults(labFaults, extra []string) ([]string, error) {
	out := slices.Clone(labFaults)
	for _, f := range extra {
		if err := lab.CheckFault(f); err != nil {
			return nil, fmt.Errorf("mock: %w", err)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// cloudsYAML is the subset of the clouds.yaml schema the mock writes.
type cloudsYAML struct {
	Clouds map[string]cloudEntry `json:"clouds"`
}

type cloudEntry struct {
	Auth               cloudAuth `json:"auth"`
	RegionName         string    `json:"region_name"`
	IdentityAPIVersion int       `json:"identity_api_version"`
	Interface          string    `json:"interface"`
}

type cloudAuth struct {
	AuthURL           string `json:"auth_url"`
	Username          string `json:"username"`
	Password          string `json:"password"`
	ProjectName       string `json:"project_name"`
	UserDomainName    string `json:"user_domain_name"`
	ProjectDomainName string `json:"project_domain_name"`
}

// HarnessConfig is the harness configuration for this lab, as written to hwcert.yaml.
func (m *Mock) HarnessConfig() config.Config {
	hosts := make(map[string]string, len(m.uris))
	for h, u := range m.uris {
		hosts[h] = u
	}
	image := ""
	if len(m.lab.Images) > 0 {
		image = m.lab.Images[0].Name
	}
	// Boot on the tenant network by name, as a lab config does: the harness resolves it in Neutron.
	network := "none"
	if nets := m.cloud.Networks(); len(nets) > 0 {
		network = nets[0].Name
	}
	// The lab's nova.conf, mirrored as a harness config of a real lab would mirror it.
	var nova config.NovaConf
	for _, s := range m.lab.Nova.DeviceSpec {
		nova.DeviceSpec = append(nova.DeviceSpec, config.DeviceSpec{VendorID: s.VendorID, ProductID: s.ProductID, Address: s.Address})
	}
	for _, h := range m.lab.Hosts {
		if h.CPUDedicatedSet != "" {
			if nova.CPUDedicatedSet == nil {
				nova.CPUDedicatedSet = map[string]string{}
			}
			nova.CPUDedicatedSet[h.Name] = h.CPUDedicatedSet
		}
	}
	return config.Config{
		Nova:                nova,
		Cloud:               CloudName,
		CloudsFile:          m.cloudsPath,
		ComputeMicroversion: harnessMicroversion(m.lab.Nova.MaxMicroversion),
		Hypervisors:         config.Hypervisors{Hosts: hosts},
		Image:               image,
		Network:             network,
		Timeouts: config.Timeouts{
			Boot:   config.Duration{Duration: 60 * time.Second},
			Delete: config.Duration{Duration: 60 * time.Second},
			Poll:   config.Duration{Duration: 100 * time.Millisecond},
		},
		Expect: config.Expectations{PCINUMAAffinity: m.lab.Nova.PCINUMAAffinity},
	}
}

// harnessMicroversion is 2.86 (the first that validates extra specs), or the lab's maximum
// when the lab serves less, so the written config never asks for a version the lab refuses.
func harnessMicroversion(labMax string) string {
	const want = 86
	var minor int
	if _, err := fmt.Sscanf(labMax, "2.%d", &minor); err == nil && minor < want {
		return labMax
	}
	return fmt.Sprintf("2.%d", want)
}

// writeFiles writes hwcert.yaml, then clouds.yaml last: a watcher waiting for clouds.yaml finds
// both complete. Each is written to a temporary name and renamed, so it is never seen half-written.
func (m *Mock) writeFiles() error {
	cfg, err := yaml.Marshal(m.HarnessConfig())
	if err != nil {
		return fmt.Errorf("mock: encoding %s: %w", ConfigFile, err)
	}
	header := fmt.Sprintf("# Harness config for the mock lab %q, written by `hwcert mock`; valid while it runs.\n", m.lab.Name)
	if err := writeAtomic(m.configPath, append([]byte(header), cfg...)); err != nil {
		return err
	}
	m.files = append(m.files, m.configPath)
	clouds, err := yaml.Marshal(cloudsYAML{Clouds: map[string]cloudEntry{CloudName: {
		Auth: cloudAuth{
			AuthURL:           m.AuthURL(),
			Username:          m.creds.Username,
			Password:          m.creds.Password,
			ProjectName:       m.creds.ProjectName,
			UserDomainName:    m.creds.DomainName,
			ProjectDomainName: m.creds.DomainName,
		},
		RegionName:         m.lab.Region,
		IdentityAPIVersion: 3,
		Interface:          "public",
	}}})
	if err != nil {
		return fmt.Errorf("mock: encoding %s: %w", CloudsFile, err)
	}
	if err := writeAtomic(m.cloudsPath, clouds); err != nil {
		return err
	}
	m.files = append(m.files, m.cloudsPath)
	return nil
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("mock: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mock: writing %s: %w", path, err)
	}
	return nil
}

package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/config/yamlpos"
	"github.com/hwcert/hwcert/framework/cpuset"
)

// Defaults applied by Parse to fields the file leaves empty.
const (
	DefaultComputeMicroversion = "2.86"
	DefaultNamePrefix          = "hwcert-"
	DefaultNetwork             = "none"
	DefaultFlavorVCPUs         = 2
	DefaultFlavorRAMMB         = 1024
	DefaultFlavorDiskGB        = 1
	DefaultBootTimeout         = 5 * time.Minute
	DefaultDeleteTimeout       = 2 * time.Minute
	DefaultPollInterval        = 2 * time.Second
	DefaultSweepAfter          = 3 * time.Hour
	// DefaultDeviceCatalog is used when device_catalog is not set. Unlike a path written in the
	// file it is relative to the working directory (the repository root), not to the config file.
	DefaultDeviceCatalog = "fixtures/devices"
)

// MinComputeMicroversion is the oldest compute microversion the harness accepts: 2.74 is the
// first that lets a server be created on a named host (`host` in POST /servers), which the NUMA
// specs need to aim at a host with a known topology.
const MinComputeMicroversion = 74

// NamePrefixRule says what a name prefix (name_prefix, `hwcert cleanup --prefix`) must be.
const NamePrefixRule = "1-32 characters from [A-Za-z0-9._-], starting with a letter or digit"

// ValidNamePrefix reports whether p is a prefix the harness names resources with: the config
// refuses any other, and cleanup refuses to sweep by one.
func ValidNamePrefix(p string) bool { return namePrefixRE.MatchString(p) }

// HostPlaceholder is replaced by the compute host name in Hypervisors.URITemplate.
const HostPlaceholder = "{host}"

var (
	microversionRE = regexp.MustCompile(`^2\.(0|[1-9][0-9]{0,3})$`)
	// Flavor and server names built from the prefix must survive shells, URLs and libvirt
	// metadata unquoted, and cleanup matches them by prefix, so keep it short and plain.
	namePrefixRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
	pciIDRE      = regexp.MustCompile(`^[0-9A-Fa-f]{4}$`)
)

// libvirtSchemes are the URI schemes libvirt's remote driver (and the test driver) accept and
// that make sense for inspecting a compute host.
var libvirtSchemes = []string{
	"qemu", "qemu+ssh", "qemu+libssh", "qemu+libssh2", "qemu+tcp", "qemu+tls", "qemu+unix",
	"test", "test+tcp", "test+unix",
}

// Load reads and validates a harness configuration file.
func Load(path string) (*Config, error) {
	data, err := ReadYAMLFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and validates a configuration from YAML. name is the file it came from: it appears
// in errors, and relative paths in the file (clouds_file, device_catalog) are resolved against
// its directory. Every problem is reported at once, each as "field: value: what was expected".
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	doc := yamlpos.Parse(data)
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, doc.Annotate(err))
	}
	c.setDefaults(filepath.Dir(name))
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, doc.Annotate(err))
	}
	return &c, nil
}

// setDefaults fills empty fields. dir is the config file's directory.
func (c *Config) setDefaults(dir string) {
	if c.Cloud == "" {
		c.Cloud = os.Getenv("OS_CLOUD")
	}
	if c.CloudsFile != "" && !filepath.IsAbs(c.CloudsFile) {
		c.CloudsFile = filepath.Join(dir, c.CloudsFile)
	}
	if c.ComputeMicroversion == "" {
		c.ComputeMicroversion = DefaultComputeMicroversion
	}
	if c.Network == "" {
		c.Network = DefaultNetwork
	}
	if c.NamePrefix == "" {
		c.NamePrefix = DefaultNamePrefix
	}
	if c.Flavor.VCPUs == 0 {
		c.Flavor.VCPUs = DefaultFlavorVCPUs
	}
	if c.Flavor.RAMMB == 0 {
		c.Flavor.RAMMB = DefaultFlavorRAMMB
	}
	if c.Flavor.DiskGB == 0 {
		c.Flavor.DiskGB = DefaultFlavorDiskGB
	}
	if c.Timeouts.Boot.Duration == 0 {
		c.Timeouts.Boot.Duration = DefaultBootTimeout
	}
	if c.Timeouts.Delete.Duration == 0 {
		c.Timeouts.Delete.Duration = DefaultDeleteTimeout
	}
	if c.Timeouts.SweepAfter.Duration == 0 {
		c.Timeouts.SweepAfter.Duration = DefaultSweepAfter
	}
	if c.Timeouts.Poll.Duration == 0 {
		c.Timeouts.Poll.Duration = DefaultPollInterval
	}
	switch {
	case c.DeviceCatalog == "":
		c.DeviceCatalog = DefaultDeviceCatalog
	case !filepath.IsAbs(c.DeviceCatalog):
		c.DeviceCatalog = filepath.Join(dir, c.DeviceCatalog)
	}
	if c.Expect.PCINUMAAffinity == "" {
		c.Expect.PCINUMAAffinity = vocab.AffinityUpstream
	}
}

// FieldError is one configuration problem.
type FieldError struct {
	Field    string // dotted path as written in the file, e.g. "timeouts.boot"
	Value    string // the offending value as found
	Expected string // what would have been accepted
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %q: %s", e.Field, e.Value, e.Expected)
}

// Validate checks a configuration after defaults and returns every problem found, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, value, expected string) {
		errs = append(errs, &FieldError{Field: field, Value: value, Expected: expected})
	}

	if c.Cloud == "" {
		bad("cloud", "", "a clouds.yaml cloud name (or set $OS_CLOUD)")
	}
	if m := microversionRE.FindStringSubmatch(c.ComputeMicroversion); m == nil {
		bad("compute_microversion", c.ComputeMicroversion, fmt.Sprintf("a compute microversion of the form 2.N, at least 2.%d", MinComputeMicroversion))
	} else if n, _ := strconv.Atoi(m[1]); n < MinComputeMicroversion {
		bad("compute_microversion", c.ComputeMicroversion, fmt.Sprintf("at least 2.%d (servers are created on a named host)", MinComputeMicroversion))
	}

	h := c.Hypervisors
	if h.URITemplate == "" && len(h.Hosts) == 0 {
		bad("hypervisors", "", "a uri_template or a hosts map, to reach libvirtd on each compute host")
	}
	if h.URITemplate != "" {
		if !strings.Contains(h.URITemplate, HostPlaceholder) {
			bad("hypervisors.uri_template", h.URITemplate, "a libvirt URI containing "+HostPlaceholder+", e.g. qemu+ssh://sysadmin@{host}/system")
		} else if err := checkLibvirtURI(strings.ReplaceAll(h.URITemplate, HostPlaceholder, "compute-0")); err != nil {
			bad("hypervisors.uri_template", h.URITemplate, err.Error())
		}
	}
	for _, host := range slices.Sorted(maps.Keys(h.Hosts)) {
		field := "hypervisors.hosts." + host
		if strings.TrimSpace(host) == "" || strings.ContainsAny(host, " \t/{}") {
			bad("hypervisors.hosts", host, "a compute host name (OS-EXT-SRV-ATTR:host) as key")
			continue
		}
		if err := checkLibvirtURI(h.Hosts[host]); err != nil {
			bad(field, h.Hosts[host], err.Error())
		}
	}

	if strings.TrimSpace(c.Image) == "" {
		bad("image", c.Image, "the name or id of the image to boot test servers from")
	}
	if strings.TrimSpace(c.Network) == "" {
		bad("network", c.Network, `a network name or id, or "none"`)
	}
	if c.Flavor.VCPUs < 0 {
		bad("flavor.vcpus", strconv.Itoa(c.Flavor.VCPUs), "a positive number of vCPUs")
	}
	if c.Flavor.RAMMB < 0 {
		bad("flavor.ram_mb", strconv.Itoa(c.Flavor.RAMMB), "a positive amount of memory in MB")
	}
	if c.Flavor.DiskGB < 0 {
		bad("flavor.disk_gb", strconv.Itoa(c.Flavor.DiskGB), "a disk size in GB, 0 or more")
	}
	for _, t := range []struct {
		field string
		d     time.Duration
	}{
		{"timeouts.boot", c.Timeouts.Boot.Duration},
		{"timeouts.delete", c.Timeouts.Delete.Duration},
		{"timeouts.poll", c.Timeouts.Poll.Duration},
		{"timeouts.sweep_after", c.Timeouts.SweepAfter.Duration},
	} {
		if t.d <= 0 {
			bad(t.field, t.d.String(), "a positive duration such as \"90s\"")
		}
	}
	if p, b := c.Timeouts.Poll.Duration, c.Timeouts.Boot.Duration; p > 0 && b > 0 && p >= b {
		bad("timeouts.poll", p.String(), fmt.Sprintf("shorter than timeouts.boot (%s), or a boot is observed at most once", b))
	}
	if !ValidNamePrefix(c.NamePrefix) {
		bad("name_prefix", c.NamePrefix, NamePrefixRule)
	}
	if strings.TrimSpace(c.DeviceCatalog) == "" {
		bad("device_catalog", c.DeviceCatalog, "a device catalog file or directory")
	}
	switch c.Expect.PCINUMAAffinity {
	case vocab.AffinityUpstream, vocab.AffinityPerGuestNode:
	default:
		bad("expect.pci_numa_affinity", c.Expect.PCINUMAAffinity, `one of "upstream", "per-guest-node"`)
	}
	for i, s := range c.Nova.DeviceSpec {
		field := fmt.Sprintf("nova.device_spec[%d]", i)
		if s.VendorID == "" && s.ProductID == "" && s.Address == "" {
			bad(field, "{}", "an entry setting vendor_id, product_id or address")
		}
		for _, id := range []struct{ name, v string }{{"vendor_id", s.VendorID}, {"product_id", s.ProductID}} {
			if id.v != "" && !pciIDRE.MatchString(id.v) {
				bad(field+"."+id.name, id.v, "4 hex digits, e.g. 8086")
			}
		}
		if s.Address != "" {
			if _, err := parseAddrGlob(s.Address); err != nil {
				bad(field+".address", s.Address, "Nova's address glob DDDD:BB:SS.F with '*' fields: "+err.Error())
			}
		}
	}
	for _, host := range slices.Sorted(maps.Keys(c.Nova.CPUDedicatedSet)) {
		v := c.Nova.CPUDedicatedSet[host]
		if cpus, err := cpuset.Parse(v); err != nil || len(cpus) == 0 {
			bad("nova.cpu_dedicated_set."+host, v, `a non-empty cpuset of CPU ids and ranges, e.g. "2-7,10-15"`)
		}
	}
	return errors.Join(errs...)
}

// checkLibvirtURI says what is wrong with a libvirt connection URI, or nil.
func checkLibvirtURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("a libvirt URI (%v)", err)
	}
	if !slices.Contains(libvirtSchemes, u.Scheme) {
		return fmt.Errorf("a libvirt URI with scheme %s", strings.Join(libvirtSchemes, ", "))
	}
	driver, transport, _ := strings.Cut(u.Scheme, "+")
	switch transport {
	case "ssh", "libssh", "libssh2", "tcp", "tls":
		if u.Hostname() == "" {
			return fmt.Errorf("a libvirt URI naming a host for transport %s", transport)
		}
	}
	if driver == "qemu" && u.Path != "/system" && u.Path != "/session" {
		return fmt.Errorf("a libvirt URI with path /system or /session (qemu driver)")
	}
	if driver == "test" && (u.Path == "" || u.Path == "/") {
		return fmt.Errorf("a libvirt URI with path /default or a test driver file")
	}
	return nil
}

// HypervisorURI is the libvirt URI of a compute host (the server's OS-EXT-SRV-ATTR:host): the
// explicit hosts entry if there is one, else the template with the host substituted.
func (c *Config) HypervisorURI(host string) (string, error) {
	if host == "" {
		return "", errors.New("hypervisor URI: empty host name (is OS-EXT-SRV-ATTR:host visible to this user? it needs an admin role)")
	}
	if uri, ok := c.Hypervisors.Hosts[host]; ok {
		return uri, nil
	}
	if c.Hypervisors.URITemplate != "" {
		return strings.ReplaceAll(c.Hypervisors.URITemplate, HostPlaceholder, host), nil
	}
	return "", fmt.Errorf("hypervisor URI for host %q: not in hypervisors.hosts and no hypervisors.uri_template is set", host)
}

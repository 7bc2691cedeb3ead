package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// minimal is the smallest valid file; cases append or replace lines.
const minimal = `cloud: lab
hypervisors:
  uri_template: qemu+ssh://sysadmin@{host}/system
image: cirros
`

func TestDefaults(t *testing.T) {
	c, err := Parse("/etc/hwcert/hwcert.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		field    string
		got, exp any
	}{
		{"compute_microversion", c.ComputeMicroversion, "2.86"},
		{"name_prefix", c.NamePrefix, "hwcert-"},
		{"network", c.Network, "none"},
		{"flavor", c.Flavor, FlavorDefaults{VCPUs: 2, RAMMB: 1024, DiskGB: 1}},
		{"timeouts.boot", c.Timeouts.Boot.Duration, 5 * time.Minute},
		{"timeouts.delete", c.Timeouts.Delete.Duration, 2 * time.Minute},
		{"timeouts.poll", c.Timeouts.Poll.Duration, 2 * time.Second},
		{"expect.pci_numa_affinity", c.Expect.PCINUMAAffinity, "upstream"},
		{"device_catalog", c.DeviceCatalog, "fixtures/devices"},
		{"clouds_file", c.CloudsFile, ""},
	}
	for _, ch := range checks {
		if ch.got != ch.exp {
			t.Errorf("%s = %v, want %v", ch.field, ch.got, ch.exp)
		}
	}
}

func TestRelativePaths(t *testing.T) {
	c, err := Parse("/etc/hwcert/hwcert.yaml", []byte(minimal+"clouds_file: clouds.yaml\ndevice_catalog: devices/\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.CloudsFile != "/etc/hwcert/clouds.yaml" {
		t.Errorf("clouds_file = %q, want it relative to the config file", c.CloudsFile)
	}
	if c.DeviceCatalog != "/etc/hwcert/devices" {
		t.Errorf("device_catalog = %q, want it relative to the config file", c.DeviceCatalog)
	}
	c, err = Parse("/etc/hwcert/hwcert.yaml", []byte(minimal+"device_catalog: /opt/devices\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.DeviceCatalog != "/opt/devices" {
		t.Errorf("absolute device_catalog rewritten to %q", c.DeviceCatalog)
	}
}

func TestCloudFromEnvironment(t *testing.T) {
	noCloud := strings.Replace(minimal, "cloud: lab\n", "", 1)
	t.Setenv("OS_CLOUD", "from-env")
	c, err := Parse("x.yaml", []byte(noCloud))
	if err != nil {
		t.Fatal(err)
	}
	if c.Cloud != "from-env" {
		t.Errorf("cloud = %q, want $OS_CLOUD", c.Cloud)
	}
	c, err = Parse("x.yaml", []byte(minimal))
	if err != nil || c.Cloud != "lab" {
		t.Errorf("the file's cloud must win over $OS_CLOUD: %v %v", c, err)
	}
	t.Setenv("OS_CLOUD", "")
	_, err = Parse("x.yaml", []byte(noCloud))
	if err == nil || !strings.Contains(err.Error(), `cloud: "": a clouds.yaml cloud name (or set $OS_CLOUD)`) {
		t.Errorf("no cloud anywhere: %v", err)
	}
}

// TestValidation lists every validation message: each case breaks one field and expects the
// exact "field: value: expectation" line.
func TestValidation(t *testing.T) {
	cases := []struct {
		name string
		yaml string // appended to minimal (later keys are rejected as duplicates, so replace)
		repl [2]string
		want string
	}{
		{"microversion format", "compute_microversion: \"2.x\"\n", [2]string{}, `compute_microversion: "2.x": a compute microversion of the form 2.N, at least 2.74`},
		{"microversion major", "compute_microversion: \"3.1\"\n", [2]string{}, `compute_microversion: "3.1": a compute microversion of the form 2.N, at least 2.74`},
		{"microversion leading zero", "compute_microversion: \"2.086\"\n", [2]string{}, `compute_microversion: "2.086": a compute microversion of the form 2.N`},
		{"microversion too old", "compute_microversion: \"2.60\"\n", [2]string{}, `compute_microversion: "2.60": at least 2.74 (servers are created on a named host)`},
		{"no hypervisors", "", [2]string{"hypervisors:\n  uri_template: qemu+ssh://sysadmin@{host}/system\n", ""}, `hypervisors: "": a uri_template or a hosts map, to reach libvirtd on each compute host`},
		{"template without host", "", [2]string{"@{host}", "@compute-0"}, `hypervisors.uri_template: "qemu+ssh://sysadmin@compute-0/system": a libvirt URI containing {host}, e.g. qemu+ssh://sysadmin@{host}/system`},
		{"template scheme", "", [2]string{"qemu+ssh://", "http://"}, `hypervisors.uri_template: "http://sysadmin@{host}/system": a libvirt URI with scheme qemu, qemu+ssh,`},
		{"template path", "", [2]string{"{host}/system", "{host}/"}, `hypervisors.uri_template: "qemu+ssh://sysadmin@{host}/": a libvirt URI with path /system or /session (qemu driver)`},
		{"template no host part", "", [2]string{"qemu+ssh://sysadmin@{host}/system", "qemu+ssh:///system?x={host}"}, `hypervisors.uri_template: "qemu+ssh:///system?x={host}": a libvirt URI naming a host for transport ssh`},
		{"host uri scheme", "", [2]string{"  uri_template: qemu+ssh://sysadmin@{host}/system\n", "  hosts:\n    compute-1: ssh://compute-1\n"}, `hypervisors.hosts.compute-1: "ssh://compute-1": a libvirt URI with scheme`},
		{"host uri unparseable", "", [2]string{"  uri_template: qemu+ssh://sysadmin@{host}/system\n", "  hosts:\n    compute-1: \"qemu+tcp://[::1/system\"\n"}, `hypervisors.hosts.compute-1: "qemu+tcp://[::1/system": a libvirt URI (parse`},
		{"host name", "", [2]string{"  uri_template: qemu+ssh://sysadmin@{host}/system\n", "  hosts:\n    \"a b\": qemu:///system\n"}, `hypervisors.hosts: "a b": a compute host name (OS-EXT-SRV-ATTR:host) as key`},
		{"test driver path", "", [2]string{"  uri_template: qemu+ssh://sysadmin@{host}/system\n", "  hosts:\n    compute-1: test:///\n"}, `hypervisors.hosts.compute-1: "test:///": a libvirt URI with path /default or a test driver file`},
		{"image missing", "", [2]string{"image: cirros\n", ""}, `image: "": the name or id of the image to boot test servers from`},
		{"image blank", "", [2]string{"image: cirros\n", "image: \"  \"\n"}, `image: "  ": the name or id of the image to boot test servers from`},
		{"network blank", "network: \" \"\n", [2]string{}, `network: " ": a network name or id, or "none"`},
		{"vcpus", "flavor: {vcpus: -1}\n", [2]string{}, `flavor.vcpus: "-1": a positive number of vCPUs`},
		{"ram", "flavor: {ram_mb: -512}\n", [2]string{}, `flavor.ram_mb: "-512": a positive amount of memory in MB`},
		{"disk", "flavor: {disk_gb: -1}\n", [2]string{}, `flavor.disk_gb: "-1": a disk size in GB, 0 or more`},
		{"boot timeout", "timeouts: {boot: -5m}\n", [2]string{}, `timeouts.boot: "-5m0s": a positive duration such as "90s"`},
		{"delete timeout", "timeouts: {delete: -1s}\n", [2]string{}, `timeouts.delete: "-1s": a positive duration such as "90s"`},
		{"poll interval", "timeouts: {poll: -1s}\n", [2]string{}, `timeouts.poll: "-1s": a positive duration such as "90s"`},
		{"poll longer than boot", "timeouts: {boot: 10s, poll: 1m}\n", [2]string{}, `timeouts.poll: "1m0s": shorter than timeouts.boot (10s), or a boot is observed at most once`},
		{"duration syntax", "timeouts: {boot: 5 minutes}\n", [2]string{}, `duration "5 minutes": expected a Go duration such as "90s" or "5m"`},
		{"duration number", "timeouts: {boot: 300}\n", [2]string{}, `duration 300: expected a quoted Go duration such as "90s" or "5m"`},
		{"prefix chars", "name_prefix: \"hw cert\"\n", [2]string{}, `name_prefix: "hw cert": 1-32 characters from [A-Za-z0-9._-], starting with a letter or digit`},
		{"prefix start", "name_prefix: \"-x\"\n", [2]string{}, `name_prefix: "-x": 1-32 characters`},
		{"prefix length", "name_prefix: " + strings.Repeat("a", 33) + "\n", [2]string{}, `name_prefix: "` + strings.Repeat("a", 33) + `": 1-32 characters`},
		{"affinity", "expect: {pci_numa_affinity: strict}\n", [2]string{}, `expect.pci_numa_affinity: "strict": one of "upstream", "per-guest-node"`},
		{"device_spec empty entry", "nova: {device_spec: [{}]}\n", [2]string{}, `nova.device_spec[0]: "{}": an entry setting vendor_id, product_id or address`},
		{"device_spec vendor", "nova: {device_spec: [{vendor_id: \"80866\"}]}\n", [2]string{}, `nova.device_spec[0].vendor_id: "80866": 4 hex digits, e.g. 8086`},
		{"device_spec partial glob", "nova: {device_spec: [{address: \"0000:3*:00.0\"}]}\n", [2]string{}, `nova.device_spec[0].address: "0000:3*:00.0": Nova's address glob DDDD:BB:SS.F with '*' fields: bus "3*" does not parse as a hex number`},
		{"device_spec slot range", "nova: {device_spec: [{address: \"0000:3d:20.0\"}]}\n", [2]string{}, `nova.device_spec[0].address: "0000:3d:20.0": Nova's address glob DDDD:BB:SS.F with '*' fields: slot "20" is greater than the maximum 0x1f`},
		{"device_spec too many fields", "nova: {device_spec: [{address: \"0:0:3d:00.0\"}]}\n", [2]string{}, `expected at most DDDD:BB:SS before the '.'`},
		{"cpu_dedicated_set", "nova: {cpu_dedicated_set: {compute-0: \"2-x\"}}\n", [2]string{}, `nova.cpu_dedicated_set.compute-0: "2-x": a non-empty cpuset of CPU ids and ranges, e.g. "2-7,10-15"`},
		{"unknown field", "imagee: cirros\n", [2]string{}, `unknown field "imagee"`},
		{"unknown nested field", "expect: {pci_numa: upstream}\n", [2]string{}, `unknown field "pci_numa"`},
		{"wrong type", "flavor: {vcpus: two}\n", [2]string{}, `flavor.vcpus`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := minimal
			if tc.repl[0] != "" {
				if !strings.Contains(doc, tc.repl[0]) {
					t.Fatalf("bad case: %q not in minimal", tc.repl[0])
				}
				doc = strings.Replace(doc, tc.repl[0], tc.repl[1], 1)
			}
			doc += tc.yaml
			_, err := Parse("lab.yaml", []byte(doc))
			if err == nil {
				t.Fatalf("accepted:\n%s", doc)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nlacks %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "config lab.yaml: ") {
				t.Errorf("error does not name the file: %q", err)
			}
		})
	}
}

// TestAllProblemsAtOnce: a user fixes a file in one round, not one error per run.
func TestAllProblemsAtOnce(t *testing.T) {
	doc := "compute_microversion: \"2.1\"\nhypervisors: {uri_template: \"qemu:///system\"}\nname_prefix: \"a b\"\nexpect: {pci_numa_affinity: x}\ntimeouts: {boot: -1s}\n"
	t.Setenv("OS_CLOUD", "")
	_, err := Parse("bad.yaml", []byte(doc))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, field := range []string{"cloud:", "compute_microversion:", "hypervisors.uri_template:", "image:", "name_prefix:", "expect.pci_numa_affinity:", "timeouts.boot:"} {
		if !strings.Contains(err.Error(), "\n"+field) && !strings.Contains(err.Error(), ": "+field) {
			t.Errorf("missing problem %s in:\n%s", field, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 7 {
		t.Errorf("%d problems reported, want 7:\n%s", n, err)
	}
}

func TestHypervisorURI(t *testing.T) {
	doc := strings.Replace(minimal, "image: cirros\n", "", 1) + "  hosts:\n    controller-0: qemu+tcp://127.0.0.1:16509/system\nimage: cirros\n"
	c, err := Parse("x.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"controller-0": "qemu+tcp://127.0.0.1:16509/system",
		"compute-3":    "qemu+ssh://sysadmin@compute-3/system",
	} {
		got, err := c.HypervisorURI(host)
		if err != nil || got != want {
			t.Errorf("HypervisorURI(%q) = %q, %v; want %q", host, got, err, want)
		}
	}
	if _, err := c.HypervisorURI(""); err == nil || !strings.Contains(err.Error(), "empty host name") {
		t.Errorf("empty host: %v", err)
	}
	noTemplate := &Config{Hypervisors: Hypervisors{Hosts: map[string]string{"a": "qemu:///system"}}}
	_, err = noTemplate.HypervisorURI("compute-9")
	if err == nil || !strings.Contains(err.Error(), `host "compute-9": not in hypervisors.hosts and no hypervisors.uri_template is set`) {
		t.Errorf("unknown host: %v", err)
	}
}

func TestAcceptedURIs(t *testing.T) {
	for _, uri := range []string{
		"qemu:///system", "qemu+ssh://root@10.0.0.5/system", "qemu+ssh://sysadmin@compute-0:2222/system?keyfile=/k",
		"qemu+tcp://127.0.0.1:16509/system", "qemu+tls://compute-0/system", "qemu+unix:///system?socket=/run/hwcert/c0.sock",
		"qemu:///session", "test:///default", "test:///tmp/node.xml",
	} {
		if err := checkLibvirtURI(uri); err != nil {
			t.Errorf("%s rejected: %v", uri, err)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	if err := json.Unmarshal([]byte(`"90s"`), &d); err != nil || d.Duration != 90*time.Second {
		t.Fatalf("90s: %v %v", d, err)
	}
	b, err := json.Marshal(Duration{90 * time.Second})
	if err != nil || string(b) != `"1m30s"` {
		t.Errorf("marshal: %s %v", b, err)
	}
	if err := json.Unmarshal([]byte(`null`), &d); err != nil || d.Duration != 0 {
		t.Errorf("null: %v %v", d, err)
	}
}

func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("examples/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if c.Cloud == "" || c.Image == "" {
				t.Errorf("incomplete: %+v", c)
			}
			if st, err := os.Stat(c.DeviceCatalog); filepath.Base(f) == "starlingx-lab.yaml" && (err != nil || !st.IsDir()) {
				t.Errorf("device_catalog %s does not resolve to the shipped catalog: %v", c.DeviceCatalog, err)
			}
		})
	}
	c, err := Load("examples/starlingx-lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if uri, _ := c.HypervisorURI("compute-1"); uri != "qemu+ssh://sysadmin@compute-1/system" {
		t.Errorf("template: %s", uri)
	}
	if uri, _ := c.HypervisorURI("controller-0"); uri != "qemu+ssh://sysadmin@10.10.10.3/system" {
		t.Errorf("explicit host: %s", uri)
	}
	if _, err := Load("examples/missing.yaml"); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// TestDeviceSpecMatches follows nova/pci/devspec.py: IDs compared case-insensitively, the address
// glob field by field (hex re-read, '*' or empty for any, leading fields optional), and an exact
// PF address matching the PF's VFs.
func TestDeviceSpecMatches(t *testing.T) {
	vf := [4]uint{0, 0x3d, 1, 2}
	pf := [4]uint{0, 0x3d, 0, 0}
	for _, tc := range []struct {
		name string
		spec DeviceSpec
		pf   *[4]uint
		want bool
	}{
		{"vendor and product", DeviceSpec{VendorID: "8086", ProductID: "37C9"}, nil, true},
		{"other product", DeviceSpec{VendorID: "8086", ProductID: "37c8"}, nil, false},
		{"upper-case bus glob", DeviceSpec{Address: "0000:3D:*"}, nil, true},
		{"any domain, leading fields left out", DeviceSpec{Address: ":3d:01."}, nil, true},
		{"bus and slot only", DeviceSpec{Address: "3d:01.*"}, nil, true},
		{"function compared as a number", DeviceSpec{Address: "0000:3d:01.02"}, nil, true},
		{"other slot", DeviceSpec{Address: "0000:3d:02.*"}, nil, false},
		{"partial wildcard is no glob", DeviceSpec{Address: "0000:3*:01.2"}, nil, false},
		{"exact PF address matches its VF", DeviceSpec{Address: "0000:3d:00.0"}, &pf, true},
		{"PF glob does not reach the VFs", DeviceSpec{Address: "0000:3d:00.*"}, &pf, false},
		{"exact PF address, device without PF", DeviceSpec{Address: "0000:3d:00.0"}, nil, false},
		{"address and product both must match", DeviceSpec{ProductID: "37c8", Address: "0000:3d:*"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.spec.Matches("8086", "37c9", vf, tc.pf); got != tc.want {
				t.Errorf("%+v matches %v, want %v", tc.spec, got, tc.want)
			}
		})
	}
}

// Errors point at the line and column of the field they are about.
func TestParseErrorsGiveLineAndColumn(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"cloud: mock\nimage: cirros\nbogus: 1\n", `unknown field "bogus" (line 3, column 1)`},
		{"cloud: mock\nimage: cirros\nexpect:\n  pci_numa_affinity: sideways\n", `expect.pci_numa_affinity: "sideways": one of "upstream", "per-guest-node" (line 4, column 22)`},
	} {
		_, err := Parse("lab.yaml", []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.yaml, err, tt.want)
		}
	}
}

// The name prefix rule, shared by the config and `hwcert cleanup --prefix`.
func TestValidNamePrefix(t *testing.T) {
	for p, ok := range map[string]bool{"hwcert-": true, "hwcert-ci-": true, "d": true, "": false, "-x": false, "a b": false, "x/": false, "abcdefghijabcdefghijabcdefghijabc": false} {
		if got := ValidNamePrefix(p); got != ok {
			t.Errorf("ValidNamePrefix(%q) = %v, want %v", p, got, ok)
		}
	}
}

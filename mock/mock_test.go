package mock_test

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	gconfig "github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock"
	"github.com/hwcert/hwcert/mock/lab"
)

const noValidHost = "No valid host was found. There are not enough hosts available."

func TestWrittenFilesAndAuth(t *testing.T) {
	c := startLab(t, testLab)
	for _, f := range []string{c.m.CloudsFile(), c.m.ConfigFile()} {
		if mode := fileMode(t, f); mode != 0o600 {
			t.Errorf("%s: mode %v, want 0600 (it holds the admin password or points at it)", f, mode)
		}
	}
	if c.provider.Token() == "" {
		t.Fatal("no token after authenticating from clouds.yaml")
	}
	cfg, err := config.Load(c.m.ConfigFile())
	if err != nil {
		t.Fatalf("the written hwcert.yaml does not load: %v", err)
	}
	if cfg.Cloud != mock.CloudName || cfg.CloudsFile != c.m.CloudsFile() || cfg.Image != "cirros" || cfg.Network != "private" {
		t.Errorf("hwcert.yaml: cloud %q clouds_file %q image %q network %q", cfg.Cloud, cfg.CloudsFile, cfg.Image, cfg.Network)
	}
	for _, h := range []string{"host-a", "host-b"} {
		uri := c.m.LibvirtURI(h)
		if got := cfg.Hypervisors.Hosts[h]; got != uri || !strings.HasPrefix(uri, "qemu+unix:///system?socket=") {
			t.Errorf("hwcert.yaml host %s: %q, mock says %q", h, got, uri)
		}
	}
	if cfg.ComputeMicroversion != "2.86" || cfg.Timeouts.Poll.Duration <= 0 || cfg.Timeouts.Boot.Duration <= 0 {
		t.Errorf("hwcert.yaml: compute_microversion %q timeouts %+v", cfg.ComputeMicroversion, cfg.Timeouts)
	}
	if cfg.Expect.PCINUMAAffinity != vocab.AffinityUpstream {
		t.Errorf("expect.pci_numa_affinity = %q", cfg.Expect.PCINUMAAffinity)
	}

	// A wrong password is refused as Keystone does.
	ao, _, _, err := clouds.Parse(clouds.WithLocations(c.m.CloudsFile()), clouds.WithCloudName(mock.CloudName), clouds.WithPassword("wrong"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = gconfig.NewProviderClient(ctxT(t), ao)
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Fatalf("wrong password: got %v, want 401", err)
	}
}

func TestFilesRemovedOnClose(t *testing.T) {
	l, err := lab.Load(testLab)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "hwm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	m, err := mock.Start(context.Background(), mock.Options{Lab: l, StateDir: dir, LibvirtTCP: true})
	if err != nil {
		t.Fatal(err)
	}
	if uri := m.LibvirtURI("host-a"); !regexp.MustCompile(`^qemu\+tcp://127\.0\.0\.1:\d+/system$`).MatchString(uri) {
		t.Errorf("LibvirtTCP URI %q", uri)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("state dir not empty after Close: %v", entries)
	}
}

func TestLoopbackOnly(t *testing.T) {
	l, err := lab.Load(testLab)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "[::]:0", "example.com:0"} {
		_, err := mock.Start(context.Background(), mock.Options{Lab: l, StateDir: t.TempDir(), Addr: addr})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Start on %q: %v, want a loopback refusal", addr, err)
		}
	}
	_, err = mock.Start(context.Background(), mock.Options{Lab: l, StateDir: t.TempDir(), Faults: []string{"bogus"}})
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown fault: %v", err)
	}
}

func TestTokenRequired(t *testing.T) {
	c := startLab(t, testLab)
	for _, path := range []string{"/compute/v2.1/flavors", "/compute/v2.1/servers/detail", "/image/v2/images"} {
		for _, tok := range []string{"-", "not-a-token"} {
			code, hdr, body := c.raw("GET", path, map[string]string{"X-Auth-Token": tok}, nil)
			if code != http.StatusUnauthorized {
				t.Errorf("GET %s with token %q: %d %s, want 401", path, tok, code, body)
			}
			if !strings.Contains(hdr.Get("WWW-Authenticate"), "/identity/v3") {
				t.Errorf("GET %s: WWW-Authenticate %q", path, hdr.Get("WWW-Authenticate"))
			}
		}
	}
	// Version documents are public, as in OpenStack.
	for _, path := range []string{"/compute/", "/compute/v2.1", "/identity/v3", "/image/"} {
		if code, _, body := c.raw("GET", path, map[string]string{"X-Auth-Token": "-"}, nil); code >= 400 {
			t.Errorf("GET %s without token: %d %s", path, code, body)
		}
	}
}

func TestMicroversionNegotiation(t *testing.T) {
	c := startLab(t, testLab)
	cases := []struct {
		name    string
		headers map[string]string
		code    int
		version string // negotiated, echoed
		message string
	}{
		{"none means 2.1", nil, 200, "2.1", ""},
		{"new header", map[string]string{"OpenStack-API-Version": "compute 2.60"}, 200, "2.60", ""},
		{"new header among services", map[string]string{"OpenStack-API-Version": "placement 1.2, compute 2.74"}, 200, "2.74", ""},
		{"legacy header", map[string]string{"X-OpenStack-Nova-API-Version": "2.53"}, 200, "2.53", ""},
		{"latest", map[string]string{"OpenStack-API-Version": "compute latest"}, 200, "2.96", ""},
		{"above max", map[string]string{"OpenStack-API-Version": "compute 2.97"}, 406, "",
			"Version 2.97 is not supported by the API. Minimum is 2.1 and maximum is 2.96."},
		{"below min", map[string]string{"X-OpenStack-Nova-API-Version": "2.0"}, 406, "",
			"Version 2.0 is not supported by the API. Minimum is 2.1 and maximum is 2.96."},
		{"other major", map[string]string{"X-OpenStack-Nova-API-Version": "3.1"}, 406, "",
			"Version 3.1 is not supported by the API. Minimum is 2.1 and maximum is 2.96."},
		{"malformed", map[string]string{"OpenStack-API-Version": "compute 2.x"}, 400, "",
			"API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum."},
		{"leading zero", map[string]string{"OpenStack-API-Version": "compute 2.01"}, 400, "",
			"API Version String 2.01 is of invalid format. Must be of format MajorNum.MinorNum."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, body := c.raw("GET", "/compute/v2.1/flavors", tc.headers, nil)
			if code != tc.code {
				t.Fatalf("status %d (%s), want %d", code, body, tc.code)
			}
			if tc.code == 200 {
				if got := hdr.Get("OpenStack-API-Version"); got != "compute "+tc.version {
					t.Errorf("OpenStack-API-Version %q, want compute %s", got, tc.version)
				}
				if got := hdr.Get("X-OpenStack-Nova-API-Version"); got != tc.version {
					t.Errorf("X-OpenStack-Nova-API-Version %q", got)
				}
				if vary := strings.Join(hdr.Values("Vary"), ","); !strings.Contains(vary, "OpenStack-API-Version") {
					t.Errorf("Vary %q", vary)
				}
				return
			}
			name, fcode, msg := novaFault(t, string(body))
			wantName := map[int]string{400: "badRequest", 406: "computeFault"}[tc.code]
			if name != wantName || fcode != tc.code || msg != tc.message {
				t.Errorf("fault %s/%d %q, want %s/%d %q", name, fcode, msg, wantName, tc.code, tc.message)
			}
		})
	}
	code, _, body := c.raw("GET", "/compute/v2.1", nil, nil)
	doc := mustJSON(t, body)["version"].(map[string]any)
	if code != 200 || doc["version"] != "2.96" || doc["min_version"] != "2.1" {
		t.Errorf("GET /compute/v2.1: %d %v", code, doc)
	}
}

func TestUnknownRoutes(t *testing.T) {
	c := startLab(t, testLab)
	if code, _, body := c.raw("GET", "/compute/v2.1/os-nothing", nil, nil); code != 404 {
		t.Errorf("unknown path: %d %s", code, body)
	}
	code, hdr, body := c.raw("PATCH", "/compute/v2.1/flavors", nil, nil)
	if code != 405 || !strings.Contains(hdr.Get("Allow"), "GET") {
		t.Errorf("wrong method: %d %s (Allow %q)", code, body, hdr.Get("Allow"))
	}
}

func TestFlavors(t *testing.T) {
	c := startLab(t, testLab)
	ctx := ctxT(t)
	desc := "a flavor"
	f, err := flavors.Create(ctx, c.compute, flavors.CreateOpts{
		Name: "small", ID: "small-id", VCPUs: 2, RAM: 512, Disk: gophercloud.IntToPointer(1),
		IsPublic: gophercloud.Disabled, Description: desc,
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "small-id" || f.VCPUs != 2 || f.RAM != 512 || f.Disk != 1 || f.IsPublic || f.Description != desc {
		t.Errorf("created %+v", f)
	}
	got, err := flavors.Get(ctx, c.compute, "small-id").Extract()
	if err != nil || got.Name != "small" {
		t.Fatalf("get: %+v %v", got, err)
	}
	// Duplicates are 409s with Nova's texts.
	_, err = flavors.Create(ctx, c.compute, flavors.CreateOpts{Name: "small", VCPUs: 1, RAM: 1, Disk: gophercloud.IntToPointer(0)}).Extract()
	if code, body := httpStatus(t, err); code != 409 || !strings.Contains(body, "Flavor with name small already exists.") {
		t.Errorf("duplicate name: %d %s", code, body)
	}
	// Schema: ram below 1.
	_, err = flavors.Create(ctx, c.compute, flavors.CreateOpts{Name: "zero", VCPUs: 1, RAM: 0, Disk: gophercloud.IntToPointer(0)}).Extract()
	if err == nil {
		// gophercloud refuses RAM 0 itself ("required"), so send it raw.
		t.Fatal("creating a flavor with ram 0 succeeded")
	}
	code, _, body := c.raw("POST", "/compute/v2.1/flavors", nil, map[string]any{"flavor": map[string]any{"name": "zero", "ram": 0, "vcpus": 1, "disk": 0}})
	if name, _, msg := novaFault(t, string(body)); code != 400 || name != "badRequest" || !strings.Contains(msg, "ram") {
		t.Errorf("ram 0: %d %s", code, body)
	}

	// Private flavors are hidden from the default list, shown with is_public=None.
	all, err := flavors.ListDetail(c.compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := flavors.ExtractFlavors(all)
	if len(list) != 1 || list[0].ID != "small-id" {
		t.Errorf("list all: %+v", list)
	}
	pub, _ := flavors.ListDetail(c.compute, nil).AllPages(ctx)
	if list, _ := flavors.ExtractFlavors(pub); len(list) != 0 {
		t.Errorf("default list shows private flavors: %+v", list)
	}

	// 404s with Nova's body.
	_, err = flavors.Get(ctx, c.compute, "nope").Extract()
	code, text := httpStatus(t, err)
	if name, fcode, msg := novaFault(t, text); code != 404 || name != "itemNotFound" || fcode != 404 || msg != "Flavor nope could not be found." {
		t.Errorf("missing flavor: %d %s", code, text)
	}
	_, err = flavors.GetExtraSpec(ctx, c.compute, "small-id", "hw:numa_nodes").Extract()
	if _, body := httpStatus(t, err); !strings.Contains(body, "Flavor small-id has no extra specs with key hw:numa_nodes.") {
		t.Errorf("missing key: %s", body)
	}

	// Extra specs round trip; shown in the flavor body from 2.61 only.
	if _, err := flavors.CreateExtraSpecs(ctx, c.compute, "small-id", flavors.ExtraSpecsOpts{"hw:numa_nodes": "1", "pci_passthrough:alias": "gpu:1"}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := flavors.UpdateExtraSpec(ctx, c.compute, "small-id", flavors.ExtraSpecsOpts{"hw:numa_nodes": "2"}).Extract(); err != nil {
		t.Fatal(err)
	}
	specs, err := flavors.ListExtraSpecs(ctx, c.compute, "small-id").Extract()
	if err != nil || specs["hw:numa_nodes"] != "2" || specs["pci_passthrough:alias"] != "gpu:1" {
		t.Errorf("specs %v %v", specs, err)
	}
	if got, _ := flavors.Get(ctx, c.at("2.61"), "small-id").Extract(); got.ExtraSpecs["hw:numa_nodes"] != "2" {
		t.Errorf("2.61 flavor body extra_specs %v", got.ExtraSpecs)
	}
	_, _, body = c.raw("GET", "/compute/v2.1/flavors/small-id", map[string]string{"OpenStack-API-Version": "compute 2.60"}, nil)
	if _, ok := mustJSON(t, body)["flavor"].(map[string]any)["extra_specs"]; ok {
		t.Errorf("2.60 flavor body shows extra_specs: %s", body)
	}
	// PUT: the body holds exactly the key of the URL.
	code, _, body = c.raw("PUT", "/compute/v2.1/flavors/small-id/os-extra_specs/hw:numa_nodes", nil, map[string]string{"hw:cpu_policy": "dedicated"})
	if _, _, msg := novaFault(t, string(body)); code != 400 || msg != "Request body and URI mismatch" {
		t.Errorf("PUT mismatch: %d %s", code, body)
	}
	code, _, body = c.raw("PUT", "/compute/v2.1/flavors/small-id/os-extra_specs/hw:numa_nodes", nil, map[string]string{"hw:numa_nodes": "1", "hw:cpu_policy": "dedicated"})
	if code != 400 {
		t.Errorf("PUT with two keys: %d %s", code, body)
	}
	if err := flavors.DeleteExtraSpec(ctx, c.compute, "small-id", "hw:numa_nodes").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	err = flavors.DeleteExtraSpec(ctx, c.compute, "small-id", "hw:numa_nodes").ExtractErr()
	if code, _ := httpStatus(t, err); code != 404 {
		t.Errorf("deleting a missing key: %d", code)
	}
	if err := flavors.Delete(ctx, c.compute, "small-id").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := flavors.Get(ctx, c.compute, "small-id").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("flavor still there after delete: %v", err)
	}
}

// TestExtraSpecValidation covers every row of the reference's §2 table, at 2.86 (validated)
// and at 2.85 (stored as is).
func TestExtraSpecValidation(t *testing.T) {
	c := startLab(t, testLab)
	f := c.flavor("v", 1, 256, nil)
	pattern := `'[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*'`
	cases := []struct {
		key, value string
		reject     string // expected 400 message at 2.86; "" = accepted
	}{
		{"pci_passthrough:alias", "gpu:1, qat-c62x-vf:2", ""},
		{"pci_passthrough:alias", "gpu:1,qat-c62x-vf:2", ""},
		{"pci_passthrough:alias", "gpu:1 ,qat:2", ""},
		{"pci_passthrough:alias", " gpu:1", ""},
		{"pci_passthrough:alias", "gpu:0", ""},
		{"pci_passthrough:alias", "gpu:1,gpu:1", ""},
		{"pci_passthrough:alias", "gpu:1,,qat:2", ""},
		{"pci_passthrough:alias", "gpu", "Validation failed; 'gpu' is not of the format " + pattern + "."},
		{"pci_passthrough:alias", "gpu:", "Validation failed; 'gpu:' is not of the format " + pattern + "."},
		{"pci_passthrough:alias", "gpu : 1", "Validation failed; 'gpu : 1' is not of the format " + pattern + "."},
		{"pci_passthrough:alias", "gpu: 1", "Validation failed; 'gpu: 1' is not of the format " + pattern + "."},
		{"pci_passthrough:alias", "gpu:1 ", "Validation failed; 'gpu:1 ' is not of the format " + pattern + "."},
		{"pci_passthrough:alias", "a:b:1", "Validation failed; 'a:b:1' is not of the format " + pattern + "."},
		{"pci_passthrough:alias", "gpu:-1", "Validation failed; 'gpu:-1' is not of the format " + pattern + "."},
		{"hw:pci_numa_affinity_policy", "required", ""},
		{"hw:pci_numa_affinity_policy", "socket", ""},
		{"hw:pci_numa_affinity_policy", "strict", "Validation failed; 'strict' is not one of: required, preferred, legacy, socket."},
		{"pci_passthrough:foo", "1", "Validation failed; extra spec 'pci_passthrough:foo' does not appear to be a valid extra spec."},
		{"vendor:anything", "whatever : 1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			ctx := ctxT(t)
			// POST at 2.86.
			_, err := flavors.CreateExtraSpecs(ctx, c.compute, f.ID, flavors.ExtraSpecsOpts{tc.key: tc.value}).Extract()
			checkValidation(t, "POST 2.86", err, tc.reject)
			// PUT at 2.86.
			_, err = flavors.UpdateExtraSpec(ctx, c.compute, f.ID, flavors.ExtraSpecsOpts{tc.key: tc.value}).Extract()
			checkValidation(t, "PUT 2.86", err, tc.reject)
			// Below 2.86 anything is stored.
			if _, err := flavors.CreateExtraSpecs(ctx, c.at("2.85"), f.ID, flavors.ExtraSpecsOpts{tc.key: tc.value}).Extract(); err != nil {
				t.Errorf("POST 2.85: %v", err)
			}
			got, err := flavors.GetExtraSpec(ctx, c.compute, f.ID, tc.key).Extract()
			if err != nil || got[tc.key] != tc.value {
				t.Errorf("stored %q, want %q (%v)", got[tc.key], tc.value, err)
			}
		})
	}
}

func checkValidation(t *testing.T, what string, err error, reject string) {
	t.Helper()
	if reject == "" {
		if err != nil {
			t.Errorf("%s: rejected: %v", what, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: accepted, want 400 %q", what, reject)
		return
	}
	code, body := httpStatus(t, err)
	name, _, msg := novaFault(t, body)
	if code != 400 || name != "badRequest" || msg != reject {
		t.Errorf("%s: %d %s %q, want 400 badRequest %q", what, code, name, msg, reject)
	}
}

func TestServerBootsActiveWithAttributes(t *testing.T) {
	c := startLab(t, testLab)
	f := c.flavor("gpu1", 2, 1024, map[string]string{"pci_passthrough:alias": "gpu:1"})
	created, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "vm-1", FlavorRef: f.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.AdminPass == "" {
		t.Errorf("202 body: %+v", created)
	}
	s := c.settle(created.ID)
	if s.Status != "ACTIVE" || s.Host != "host-a" || s.HypervisorHostname != "host-a" || s.InstanceName != "instance-00000001" ||
		s.VmState != "active" || s.TaskState != "" || s.PowerState != servers.RUNNING || s.AvailabilityZone != "nova" {
		t.Errorf("server: status %s host %s node %s instance %s vm %s task %q power %v az %s",
			s.Status, s.Host, s.HypervisorHostname, s.InstanceName, s.VmState, s.TaskState, s.PowerState, s.AvailabilityZone)
	}
	if s.Fault.Message != "" {
		t.Errorf("ACTIVE server has a fault: %+v", s.Fault)
	}
	if s.Flavor["original_name"] != "gpu1" || s.Flavor["extra_specs"].(map[string]any)["pci_passthrough:alias"] != "gpu:1" {
		t.Errorf("2.47+ embedded flavor: %v", s.Flavor)
	}
	if s.Image["id"] != c.m.Cloud().Lab().Images[0].ID {
		t.Errorf("image %v", s.Image)
	}
	old, err := servers.Get(ctxT(t), c.at("2.46"), s.ID).Extract()
	if err != nil || old.Flavor["id"] != f.ID {
		t.Errorf("2.46 flavor reference: %v %v", old.Flavor, err)
	}
	// The domain is on host-a with one of its GPUs, and nowhere else.
	doms := c.m.Cloud().DomainSource("host-a").Domains()
	if len(doms) != 1 || doms[0].Name != "instance-00000001" || doms[0].UUID != s.ID || doms[0].ID != 1 || !doms[0].Active {
		t.Fatalf("host-a domains: %+v", doms)
	}
	if !regexp.MustCompile(`bus=["']0x3[bc]["']`).MatchString(doms[0].XML) {
		t.Errorf("domain XML has no GPU hostdev:\n%s", doms[0].XML)
	}
	if d := c.m.Cloud().DomainSource("host-b").Domains(); len(d) != 0 {
		t.Errorf("host-b domains: %+v", d)
	}
	// Instance ids increase.
	second, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "vm-2", FlavorRef: f.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if s2 := c.settle(second.ID); s2.InstanceName != "instance-00000002" {
		t.Errorf("second instance name %s", s2.InstanceName)
	}
	// Hypervisor usage follows.
	pages, err := hypervisors.List(c.at("2.87"), nil).AllPages(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	hvs, err := hypervisors.ExtractHypervisors(pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(hvs) != 2 || hvs[0].HypervisorHostname != "host-a" || hvs[0].RunningVMs != 2 || hvs[0].VCPUsUsed != 4 || hvs[0].VCPUs != 8 {
		t.Errorf("hypervisors at 2.87: %+v", hvs)
	}
}

func TestServerNoValidHost(t *testing.T) {
	c := startLab(t, testLab)
	f := c.flavor("gpu3", 1, 256, map[string]string{"pci_passthrough:alias": "gpu:3"})
	created, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "too-many", FlavorRef: f.ID}})
	if err != nil {
		t.Fatalf("a server no host fits is still accepted (202): %v", err)
	}
	s := c.settle(created.ID)
	if s.Status != "ERROR" || s.VmState != "error" || s.Fault.Code != 500 || s.Fault.Message != noValidHost || s.Fault.Created.IsZero() {
		t.Errorf("server: %s %s fault %+v", s.Status, s.VmState, s.Fault)
	}
	if s.Host != "" || s.HypervisorHostname != "" {
		t.Errorf("ERROR server has a host: %q %q", s.Host, s.HypervisorHostname)
	}
	_, _, body := c.raw("GET", "/compute/v2.1/servers/"+s.ID, map[string]string{"OpenStack-API-Version": "compute 2.86"}, nil)
	srv := mustJSON(t, body)["server"].(map[string]any)
	if srv["OS-EXT-SRV-ATTR:host"] != nil {
		t.Errorf("host of an ERROR server is %v, want null", srv["OS-EXT-SRV-ATTR:host"])
	}
	if len(c.m.Cloud().DomainSource("host-a").Domains()) != 0 {
		t.Error("an ERROR server has a domain")
	}
}

func TestUndefinedAndMalformedAlias(t *testing.T) {
	c := startLab(t, testLab)
	undefined := c.flavor("undef", 1, 256, map[string]string{"pci_passthrough:alias": "qat-dh895xcc-vf:1"})
	_, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "undef", FlavorRef: undefined.ID}})
	code, body := httpStatus(t, err)
	if code != 400 || body != `{"badRequest":{"code":400,"message":"PCI alias qat-dh895xcc-vf is not defined"}}` {
		t.Errorf("undefined alias: %d %s", code, body)
	}
	// Malformed (stored below 2.86): a bare ValueError in Nova, so a 500.
	malformed := c.flavor("malformed", 1, 256, map[string]string{"pci_passthrough:alias": "gpu"})
	_, err = c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "malformed", FlavorRef: malformed.ID}})
	code, body = httpStatus(t, err)
	if name, _, msg := novaFault(t, body); code != 500 || name != "computeFault" || !strings.HasPrefix(msg, "Unexpected API Error.") {
		t.Errorf("malformed alias: %d %s", code, body)
	}
	all, err := servers.List(c.compute, nil).AllPages(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := servers.ExtractServers(all); len(list) != 0 {
		t.Errorf("refused requests left servers: %+v", list)
	}
	// The next accepted server still gets instance id 1: refused requests create no instance.
	ok := c.flavor("plain", 1, 256, nil)
	s, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "ok", FlavorRef: ok.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.settle(s.ID); got.InstanceName != "instance-00000001" {
		t.Errorf("instance name %s", got.InstanceName)
	}
}

func TestServerRequestErrors(t *testing.T) {
	c := startLab(t, testLab)
	f := c.flavor("plain", 1, 256, nil)
	cases := []struct {
		name    string
		client  *gophercloud.ServiceClient
		opts    createOpts
		message string // exact, or prefix when it ends with "…"
	}{
		{"unknown 2.74 host", c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "x", FlavorRef: f.ID}, Host: "nope"}, "Compute host nope could not be found."},
		{"unknown hypervisor", c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "x", FlavorRef: f.ID, HypervisorHostname: "nope"}}, "Compute host nope could not be found."},
		{"host before 2.74", c.at("2.73"), createOpts{CreateOpts: servers.CreateOpts{Name: "x", FlavorRef: f.ID}, Host: "host-a"}, "Invalid input for field/attribute server.…"},
		{"host and zone:host", c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "x", FlavorRef: f.ID, AvailabilityZone: "nova:host-a"}, Host: "host-a"},
			"One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive."},
		{"unknown zone", c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "x", FlavorRef: f.ID, AvailabilityZone: "nowhere"}}, "The requested availability zone is not available"},
		{"unknown flavor", c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "x", FlavorRef: "nope"}}, "Flavor nope could not be found."},
		{"unknown image", c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "x", FlavorRef: f.ID, ImageRef: "9d9d9d9d-0000-4000-8000-000000000000"}}, "Can not find requested image"},
		{"networks string before 2.37", c.at("2.36"), createOpts{CreateOpts: servers.CreateOpts{Name: "x", FlavorRef: f.ID}}, "Invalid input for field/attribute networks.…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.boot(tc.client, tc.opts)
			code, body := httpStatus(t, err)
			name, _, msg := novaFault(t, body)
			ok := msg == tc.message
			if p, cut := strings.CutSuffix(tc.message, "…"); cut {
				ok = strings.HasPrefix(msg, p)
			}
			if code != 400 || name != "badRequest" || !ok {
				t.Errorf("%d %s %q, want 400 %q", code, name, msg, tc.message)
			}
		})
	}
	all, _ := servers.List(c.compute, nil).AllPages(ctxT(t))
	if list, _ := servers.ExtractServers(all); len(list) != 0 {
		t.Errorf("refused requests left servers: %+v", list)
	}
}

func TestForcedHost(t *testing.T) {
	c := startLab(t, testLab)
	plain := c.flavor("plain", 1, 256, nil)
	gpu := c.flavor("gpu1", 1, 256, map[string]string{"pci_passthrough:alias": "gpu:1"})
	cases := []struct {
		name             string
		opts             createOpts
		status, host, az string
	}{
		{"2.74 host", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: plain.ID}, Host: "host-b"}, "ACTIVE", "host-b", "edge"},
		{"2.74 hypervisor_hostname", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: plain.ID, HypervisorHostname: "host-b"}}, "ACTIVE", "host-b", "edge"},
		{"zone:host", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: plain.ID, AvailabilityZone: "edge:host-b"}}, "ACTIVE", "host-b", "edge"},
		{"zone:host in another zone", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: plain.ID, AvailabilityZone: "nova:host-b"}}, "ACTIVE", "host-b", "edge"},
		{"zone only", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: plain.ID, AvailabilityZone: "edge"}}, "ACTIVE", "host-b", "edge"},
		{"host without the device", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: gpu.ID}, Host: "host-b"}, "ERROR", "", ""},
		{"zone without the device", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: gpu.ID, AvailabilityZone: "edge"}}, "ERROR", "", "edge"},
		{"zone:unknown host", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: plain.ID, AvailabilityZone: "nova:nope"}}, "ERROR", "", "nova"},
		{"host with the device", createOpts{CreateOpts: servers.CreateOpts{FlavorRef: gpu.ID}, Host: "host-a"}, "ACTIVE", "host-a", "nova"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Name = "forced-" + string(rune('a'+i))
			created, err := c.boot(c.compute, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			s := c.settle(created.ID)
			if s.Status != tc.status || s.Host != tc.host || s.AvailabilityZone != tc.az {
				t.Errorf("status %s host %q az %q, want %s %q %q (fault %+v)", s.Status, s.Host, s.AvailabilityZone, tc.status, tc.host, tc.az, s.Fault)
			}
			if tc.status == "ERROR" && s.Fault.Message != noValidHost {
				t.Errorf("fault %+v", s.Fault)
			}
			if err := servers.Delete(ctxT(t), c.compute, s.ID).ExtractErr(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDeleteReleasesClaims(t *testing.T) {
	c := startLab(t, testLab)
	ctx := ctxT(t)
	both := c.flavor("gpu2", 1, 256, map[string]string{"pci_passthrough:alias": "gpu:2"})
	one := c.flavor("gpu1", 1, 256, map[string]string{"pci_passthrough:alias": "gpu:1"})
	first, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "all-gpus", FlavorRef: both.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.settle(first.ID); s.Status != "ACTIVE" {
		t.Fatalf("first server %s %+v", s.Status, s.Fault)
	}
	starved, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "starved", FlavorRef: one.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.settle(starved.ID); s.Status != "ERROR" {
		t.Fatalf("with both GPUs claimed, a third GPU request is %s", s.Status)
	}
	if err := servers.Delete(ctx, c.compute, first.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = servers.Get(ctx, c.compute, first.ID).Extract()
	code, body := httpStatus(t, err)
	if name, _, msg := novaFault(t, body); code != 404 || name != "itemNotFound" || msg != "Instance "+first.ID+" could not be found." {
		t.Errorf("deleted server: %d %s", code, body)
	}
	if d := c.m.Cloud().DomainSource("host-a").Domains(); len(d) != 0 {
		t.Errorf("domain survives its server: %+v", d)
	}
	again, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "again", FlavorRef: both.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.settle(again.ID); s.Status != "ACTIVE" {
		t.Errorf("after delete the GPUs are still claimed: %s %+v", s.Status, s.Fault)
	}
	err = servers.Delete(ctx, c.compute, first.ID).ExtractErr()
	if code, _ := httpStatus(t, err); code != 404 {
		t.Errorf("deleting twice: %d", code)
	}
}

func TestBootLatencyAndListFilters(t *testing.T) {
	latency := 150 * 1e6 // 150ms
	c := startLab(t, testLab, func(o *mock.Options) {
		d := timeDuration(latency)
		o.BootLatency = &d
	})
	plain := c.flavor("plain", 1, 256, nil)
	big := c.flavor("big", 1, 256, map[string]string{"pci_passthrough:alias": "gpu:9"})
	a, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "alpha", FlavorRef: plain.ID}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := servers.Get(ctxT(t), c.compute, a.ID).Extract()
	if err != nil || got.Status != "BUILD" || got.TaskState != "scheduling" || got.Host != "" {
		t.Fatalf("right after create: %s %q %q %v", got.Status, got.TaskState, got.Host, err)
	}
	if d := c.m.Cloud().DomainSource("host-a").Domains(); len(d) != 0 {
		t.Errorf("a BUILD server has a domain: %+v", d)
	}
	b, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "beta", FlavorRef: big.ID}})
	if err != nil {
		t.Fatal(err)
	}
	// Deleting during BUILD cancels the boot.
	g, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "gamma", FlavorRef: plain.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := servers.Delete(ctxT(t), c.compute, g.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	alphaHost := c.settle(a.ID).Host
	otherHost := map[string]string{"host-a": "host-b", "host-b": "host-a"}[alphaHost]
	c.settle(b.ID)
	names := func(opts servers.ListOpts) []string {
		pages, err := servers.List(c.compute, opts).AllPages(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		list, err := servers.ExtractServers(pages)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range list {
			out = append(out, s.Name)
		}
		return out
	}
	for _, tc := range []struct {
		opts servers.ListOpts
		want []string
	}{
		{servers.ListOpts{}, []string{"beta", "alpha"}},
		{servers.ListOpts{Name: "^al"}, []string{"alpha"}},
		{servers.ListOpts{Name: "a"}, []string{"beta", "alpha"}},
		{servers.ListOpts{Status: "ERROR"}, []string{"beta"}},
		{servers.ListOpts{Host: alphaHost}, []string{"alpha"}},
		{servers.ListOpts{Host: otherHost}, nil},
	} {
		if got := names(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("list %+v: %v, want %v", tc.opts, got, tc.want)
		}
	}
}

func TestHypervisorsByMicroversion(t *testing.T) {
	c := startLab(t, testLab)
	_, _, body := c.raw("GET", "/compute/v2.1/os-hypervisors/detail", map[string]string{"OpenStack-API-Version": "compute 2.52"}, nil)
	h := mustJSON(t, body)["hypervisors"].([]any)[0].(map[string]any)
	if h["id"] != float64(1) || h["vcpus"] != float64(8) || h["memory_mb"] != float64(16384) {
		t.Errorf("2.52: %v", h)
	}
	_, _, body = c.raw("GET", "/compute/v2.1/os-hypervisors/detail", map[string]string{"OpenStack-API-Version": "compute 2.88"}, nil)
	h = mustJSON(t, body)["hypervisors"].([]any)[0].(map[string]any)
	id, _ := h["id"].(string)
	if len(id) != 36 {
		t.Errorf("2.88 id %v, want a UUID", h["id"])
	}
	for _, gone := range []string{"vcpus", "memory_mb", "running_vms", "cpu_info"} {
		if _, ok := h[gone]; ok {
			t.Errorf("2.88 still has %s", gone)
		}
	}
	if _, ok := h["uptime"]; !ok {
		t.Error("2.88 lacks uptime")
	}
	code, _, body := c.raw("GET", "/compute/v2.1/os-hypervisors/"+id, map[string]string{"OpenStack-API-Version": "compute 2.88"}, nil)
	if code != 200 || mustJSON(t, body)["hypervisor"].(map[string]any)["hypervisor_hostname"] != "host-a" {
		t.Errorf("show by UUID: %d %s", code, body)
	}
}

func TestImages(t *testing.T) {
	c := startLab(t, testLab)
	pages, err := images.List(c.image, images.ListOpts{Name: "ubuntu"}).AllPages(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	list, err := images.ExtractImages(pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "ubuntu" || list[0].ID != "1c7a8d2f-3e4b-4a6c-9d0e-1f2a3b4c5d6e" {
		t.Errorf("images named ubuntu: %+v", list)
	}
	img, err := images.Get(ctxT(t), c.image, list[0].ID).Extract()
	if err != nil || img.Name != "ubuntu" || img.Status != images.ImageStatusActive {
		t.Errorf("get: %+v %v", img, err)
	}
	if _, err := images.Get(ctxT(t), c.image, "nope").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("missing image: %v", err)
	}
}

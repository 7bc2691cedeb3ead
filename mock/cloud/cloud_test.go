package cloud

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/scheduler"
)

func TestParseAvailabilityZone(t *testing.T) {
	cases := []struct {
		in, zone, host, node string
		bad                  bool
	}{
		{"", "", "", "", false},
		{"nova", "nova", "", "", false},
		{"nova:host-a", "nova", "host-a", "", false},
		{":host-a", "", "host-a", "", false},
		{"nova:host-a:node-a", "nova", "host-a", "node-a", false},
		{"nova::node-a", "nova", "", "node-a", false},
		{"a:b:c:d", "", "", "", true},
	}
	for _, tc := range cases {
		z, h, n, err := parseAvailabilityZone(tc.in)
		if (err != nil) != tc.bad || z != tc.zone || h != tc.host || n != tc.node {
			t.Errorf("%q: %q %q %q %v", tc.in, z, h, n, err)
		}
		if tc.bad && KindOf(err) != BadRequest {
			t.Errorf("%q: kind %v", tc.in, KindOf(err))
		}
	}
}

// fakeScheduler places everything on the requested host (or host-a) unless told to refuse,
// and records releases.
type fakeScheduler struct {
	mu       sync.Mutex
	refuse   bool
	released []string
	requests []scheduler.Request
}

func (f *fakeScheduler) Schedule(req scheduler.Request) (*scheduler.Placement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if f.refuse {
		return nil, scheduler.ErrNoValidHost
	}
	host := req.Host
	if host == "" {
		host = "host-a"
	}
	return &scheduler.Placement{Host: host}, nil
}

func (f *fakeScheduler) Release(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, id)
}

func testCloud(t *testing.T, latency time.Duration) (*Cloud, *fakeScheduler) {
	t.Helper()
	l, err := lab.Parse("test", []byte(`
name: t
nova:
  aliases: [{name: gpu, vendor_id: "10de", product_id: "1b38"}]
  device_spec: [{vendor_id: "10de"}]
hosts:
  - name: host-a
    numa_nodes: [{id: 0, socket: 0, memory_mb: 4096, cores: ["0,1"]}]
  - name: host-b
    availability_zone: edge
    numa_nodes: [{id: 0, socket: 0, memory_mb: 4096, cores: ["0,1"]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeScheduler{}
	c, err := New(Options{Lab: l, Scheduler: fs, BootLatency: &latency,
		DomainXML: func(inv *lab.HostInventory, d DomainInfo, p *scheduler.Placement) (string, error) {
			return "<domain><name>" + d.InstanceName + "</name></domain>", nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, fs
}

func waitStatus(t *testing.T, c *Cloud, id string) Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		s, err := c.Server(id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != StatusBuild {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server %s still in BUILD", id)
		case <-tick.C:
		}
	}
}

func TestLifecycle(t *testing.T) {
	c, fs := testCloud(t, 0)
	f, err := c.CreateFlavor(Flavor{Name: "f", VCPUs: 2, RAMMB: 512, ExtraSpecs: map[string]string{"pci_passthrough:alias": "gpu:1"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateServer(ServerRequest{Name: "s", FlavorRef: f.ID, ImageRef: c.Images()[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusBuild || s.InstanceID != 1 || s.InstanceName() != "instance-00000001" {
		t.Errorf("created %+v", s)
	}
	got := waitStatus(t, c, s.ID)
	if got.Status != StatusActive || got.Host != "host-a" || got.XML != "<domain><name>instance-00000001</name></domain>" {
		t.Errorf("landed %+v", got)
	}
	// The flavor copy on the server does not follow later edits (Nova's instance.flavor).
	if _, err := c.SetExtraSpecs(f.ID, map[string]string{"pci_passthrough:alias": "gpu:2"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Server(s.ID); got.Flavor.ExtraSpecs["pci_passthrough:alias"] != "gpu:1" {
		t.Errorf("server flavor followed the flavor edit: %v", got.Flavor.ExtraSpecs)
	}
	if d := c.DomainSource("host-a").Domains(); len(d) != 1 || d[0].ID != 1 || d[0].MemoryKiB != 512*1024 {
		t.Errorf("domains %+v", d)
	}
	if u := c.Usage("host-a"); u.RunningVMs != 1 || u.VCPUsUsed != 2 || u.MemoryMBUsed != 512 {
		t.Errorf("usage %+v", u)
	}
	if err := c.DeleteServer(s.ID); err != nil {
		t.Fatal(err)
	}
	if len(fs.released) != 1 || fs.released[0] != s.ID {
		t.Errorf("released %v", fs.released)
	}
	if _, err := c.Server(s.ID); KindOf(err) != NotFound || err.Error() != "Instance "+s.ID+" could not be found." {
		t.Errorf("after delete: %v", err)
	}

	fs.refuse = true
	s2, err := c.CreateServer(ServerRequest{Name: "s2", FlavorRef: f.ID, ImageRef: c.Images()[0].ID, AvailabilityZone: "edge"})
	if err != nil {
		t.Fatal(err)
	}
	got = waitStatus(t, c, s2.ID)
	if got.Status != StatusError || got.Fault == nil || got.Fault.Message != noValidHost || got.Fault.Code != 500 || got.InstanceID != 2 {
		t.Errorf("refused: %+v", got)
	}
	if last := fs.requests[len(fs.requests)-1]; last.AvailabilityZone != "edge" || last.ExtraSpecs["pci_passthrough:alias"] != "gpu:2" {
		t.Errorf("scheduler request %+v", last)
	}
}

func TestCreateServerRefusals(t *testing.T) {
	c, fs := testCloud(t, 0)
	img := c.Images()[0].ID
	undef, _ := c.CreateFlavor(Flavor{Name: "undef", VCPUs: 1, RAMMB: 1, ExtraSpecs: map[string]string{"pci_passthrough:alias": "qat:1"}})
	bad, _ := c.CreateFlavor(Flavor{Name: "bad", VCPUs: 1, RAMMB: 1, ExtraSpecs: map[string]string{"pci_passthrough:alias": "gpu"}})
	ok, _ := c.CreateFlavor(Flavor{Name: "ok", VCPUs: 1, RAMMB: 1})
	// Stored below 2.86 without validation; nova-api refuses them when the server is created.
	badPolicy, _ := c.CreateFlavor(Flavor{Name: "policy", VCPUs: 1, RAMMB: 1, ExtraSpecs: map[string]string{"hw:pci_numa_affinity_policy": "sometimes"}})
	badTopo, _ := c.CreateFlavor(Flavor{Name: "topo", VCPUs: 1, RAMMB: 1, ExtraSpecs: map[string]string{"hw:numa_nodes": "2"}})
	cases := []struct {
		req  ServerRequest
		kind Kind
		msg  string
	}{
		{ServerRequest{FlavorRef: undef.ID, ImageRef: img}, BadRequest, "PCI alias qat is not defined"},
		{ServerRequest{FlavorRef: bad.ID, ImageRef: img}, Internal, ""},
		{ServerRequest{FlavorRef: badPolicy.ID, ImageRef: img}, BadRequest, "Invalid PCI NUMA affinity configured: sometimes"},
		{ServerRequest{FlavorRef: badTopo.ID, ImageRef: img}, BadRequest, ""},
		{ServerRequest{FlavorRef: "nope", ImageRef: img}, BadRequest, "Flavor nope could not be found."},
		{ServerRequest{FlavorRef: ok.ID, ImageRef: "nope"}, BadRequest, "Can not find requested image"},
		{ServerRequest{FlavorRef: ok.ID, ImageRef: img, Host: "nope"}, BadRequest, "Compute host nope could not be found."},
		{ServerRequest{FlavorRef: ok.ID, ImageRef: img, Host: "host-a", HypervisorHostname: "host-b"}, BadRequest, "Compute host host-a could not be found."},
		{ServerRequest{FlavorRef: ok.ID, ImageRef: img, AvailabilityZone: "moon"}, BadRequest, "The requested availability zone is not available"},
		{ServerRequest{FlavorRef: ok.ID, ImageRef: img, AvailabilityZone: "nova:host-a", Host: "host-a"}, BadRequest,
			"One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive."},
	}
	for _, tc := range cases {
		_, err := c.CreateServer(tc.req)
		var ce *Error
		if !errors.As(err, &ce) || ce.Kind != tc.kind || (tc.msg != "" && ce.Message != tc.msg) {
			t.Errorf("%+v: %v (kind %v), want %v %q", tc.req, err, KindOf(err), tc.kind, tc.msg)
		}
	}
	if list, _ := c.Servers(ServerFilter{}); len(list) != 0 {
		t.Errorf("refusals left servers %+v", list)
	}
	if len(fs.requests) != 0 {
		t.Errorf("refusals reached the scheduler: %+v", fs.requests)
	}
}

func TestDeleteDuringBuildCancelsBoot(t *testing.T) {
	c, fs := testCloud(t, time.Hour)
	f, _ := c.CreateFlavor(Flavor{Name: "f", VCPUs: 1, RAMMB: 1})
	s, err := c.CreateServer(ServerRequest{Name: "s", FlavorRef: f.ID, ImageRef: c.Images()[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteServer(s.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // must not wait an hour
		t.Fatal(err)
	}
	if len(fs.requests) != 0 {
		t.Errorf("a deleted server was scheduled: %+v", fs.requests)
	}
}

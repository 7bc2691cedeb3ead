package mock_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// waitStatus polls the server until it has the status and no task state, with a deadline.
func (c *labClient) waitStatus(id, status string) *servers.Server {
	c.t.Helper()
	return c.waitServer(id, "be "+status, func(s *servers.Server) bool { return s.Status == status && s.TaskState == "" })
}

func (c *labClient) network() *gophercloud.ServiceClient {
	c.t.Helper()
	nc, err := openstack.NewNetworkV2(c.provider, gophercloud.EndpointOpts{})
	if err != nil {
		c.t.Fatalf("network client: %v", err)
	}
	return nc
}

func TestNeutronNetworksAndThePortsNovaCreates(t *testing.T) {
	c := startLab(t, testLab)
	nc := c.network()
	pages, err := networks.List(nc, networks.ListOpts{Name: "private"}).AllPages(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	nets, _ := networks.ExtractNetworks(pages)
	if len(nets) != 1 || len(nets[0].Subnets) != 1 || nets[0].Status != "ACTIVE" {
		t.Fatalf("networks named private: %+v", nets)
	}
	if _, err := networks.Get(ctxT(t), nc, "private").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("GET /networks/private (a name, not an id): %v, want 404", err)
	}
	f := c.flavor("plain", 1, 512, nil)
	created, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "vm", FlavorRef: f.ID,
		Networks: []servers.Network{{UUID: nets[0].ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	s := c.settle(created.ID)
	addrs, _ := s.Addresses["private"].([]any)
	if s.Status != "ACTIVE" || len(addrs) != 1 {
		t.Fatalf("server %s addresses %v", s.Status, s.Addresses)
	}
	addr := addrs[0].(map[string]any)
	pages, err = ports.List(nc, ports.ListOpts{DeviceID: s.ID}).AllPages(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := ports.ExtractPorts(pages)
	if len(ps) != 1 || ps[0].NetworkID != nets[0].ID || ps[0].MACAddress != addr["OS-EXT-IPS-MAC:mac_addr"] ||
		ps[0].FixedIPs[0].IPAddress != addr["addr"] || ps[0].DeviceOwner != "compute:"+s.AvailabilityZone {
		t.Errorf("ports of the server: %+v, server address %v", ps, addr)
	}
	// A network that does not exist is nova-api's 400; deleting the server deletes its port.
	_, err = c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "vm2", FlavorRef: f.ID,
		Networks: []servers.Network{{UUID: "3b1e5f9e-0000-4000-8000-000000000000"}}}})
	if code, body := httpStatus(t, err); code != 400 || !strings.Contains(body, "Network 3b1e5f9e-0000-4000-8000-000000000000 could not be found.") {
		t.Errorf("boot on an unknown network: %d %s", code, body)
	}
	if err := servers.Delete(ctxT(t), c.compute, s.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if left := c.m.Cloud().Ports(); len(left) != 0 {
		t.Errorf("ports left after the server was deleted: %+v", left)
	}
}

func TestStopStartRebootKeepTheDomainAndItsClaims(t *testing.T) {
	c := startLab(t, testLab)
	f := c.flavor("gpu1", 2, 1024, map[string]string{"pci_passthrough:alias": "gpu:1", "hw:cpu_policy": "dedicated"})
	created, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "vm", FlavorRef: f.ID}})
	if err != nil {
		t.Fatal(err)
	}
	s := c.settle(created.ID)
	host := s.Host
	xml := c.m.Cloud().DomainSource(host).Domains()[0].XML

	if err := servers.Stop(ctxT(t), c.compute, s.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	stopped := c.waitStatus(s.ID, "SHUTOFF")
	if stopped.VmState != "stopped" || stopped.PowerState != servers.SHUTDOWN || stopped.Host != host {
		t.Errorf("stopped: vm %s power %v host %s", stopped.VmState, stopped.PowerState, stopped.Host)
	}
	doms := c.m.Cloud().DomainSource(host).Domains()
	if len(doms) != 1 || doms[0].Active || doms[0].XML != xml {
		t.Errorf("a stopped server's domain must stay defined, shut off, unchanged: %+v", doms)
	}
	err = servers.Stop(ctxT(t), c.compute, s.ID).ExtractErr()
	if code, body := httpStatus(t, err); code != 409 || !strings.Contains(body, "Cannot 'stop' instance "+s.ID+" while it is in vm_state stopped") {
		t.Errorf("second stop: %d %s", code, body)
	}
	err = servers.Reboot(ctxT(t), c.compute, s.ID, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr()
	if code, _ := httpStatus(t, err); code != 409 {
		t.Errorf("soft reboot of a stopped server: %d, want 409", code)
	}
	if err := servers.Start(ctxT(t), c.compute, s.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	c.waitStatus(s.ID, "ACTIVE")
	for _, kind := range []servers.RebootMethod{servers.HardReboot, servers.SoftReboot} {
		if err := servers.Reboot(ctxT(t), c.compute, s.ID, servers.RebootOpts{Type: kind}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		c.waitStatus(s.ID, "ACTIVE")
	}
	doms = c.m.Cloud().DomainSource(host).Domains()
	if len(doms) != 1 || !doms[0].Active || doms[0].XML != xml {
		t.Errorf("after start and reboots the domain must be the one booted: %+v", doms)
	}
	code, _, body := c.raw("POST", "/compute/v2.1/servers/"+s.ID+"/action", nil, map[string]any{"reboot": map[string]any{"type": "WARM"}})
	if code != 400 || !strings.Contains(string(body), "is not one of") {
		t.Errorf("reboot type WARM: %d %s", code, body)
	}

	acts, err := listActions(c, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range acts {
		names = append(names, a.Action)
	}
	if strings.Join(names, ",") != "reboot,reboot,start,stop,create" {
		t.Errorf("instance actions, newest first: %v", names)
	}
}

func listActions(c *labClient, id string) ([]instanceactions.InstanceAction, error) {
	pages, err := instanceactions.List(c.at("2.84"), id, nil).AllPages(ctxT(c.t))
	if err != nil {
		return nil, err
	}
	return instanceactions.ExtractInstanceActions(pages)
}

func TestFailedBootEventCarriesTheFault(t *testing.T) {
	c := startLab(t, testLab)
	f := c.flavor("gpu9", 1, 512, map[string]string{"pci_passthrough:alias": "gpu:9"})
	created, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "vm", FlavorRef: f.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.settle(created.ID); s.Status != "ERROR" {
		t.Fatalf("status %s", s.Status)
	}
	acts, err := listActions(c, created.ID)
	if err != nil || len(acts) != 1 || acts[0].Action != "create" || acts[0].Message != "Error" {
		t.Fatalf("actions %+v %v", acts, err)
	}
	a, err := instanceactions.Get(ctxT(t), c.at("2.84"), created.ID, acts[0].RequestID).Extract()
	if err != nil || a.Events == nil || len(*a.Events) != 1 || (*a.Events)[0].Result != "Error" ||
		!strings.Contains((*a.Events)[0].Traceback, "No valid host was found.") {
		t.Errorf("create action: %+v %v", a, err)
	}
}

func TestHypervisorUptimeServicesAndLimits(t *testing.T) {
	c := startLab(t, testLab)
	uptime := regexp.MustCompile(`^\s*(.+)\sup\s+(.+),\s+(.+)\susers?,\s+load average:\s(.+)`)
	code, _, body := c.raw("GET", "/compute/v2.1/os-hypervisors/1/uptime", map[string]string{"OpenStack-API-Version": "compute 2.1"}, nil)
	if up, _ := mustJSON(t, body)["hypervisor"].(map[string]any)["uptime"].(string); code != 200 || !uptime.MatchString(up) {
		t.Errorf("2.1 uptime: %d %s", code, body)
	}
	code, _, body = c.raw("GET", "/compute/v2.1/os-hypervisors/detail", map[string]string{"OpenStack-API-Version": "compute 2.88"}, nil)
	hv := mustJSON(t, body)["hypervisors"].([]any)[0].(map[string]any)
	if up, _ := hv["uptime"].(string); code != 200 || !uptime.MatchString(up) {
		t.Errorf("2.88 hypervisor uptime: %v", hv["uptime"])
	}
	if code, _, _ := c.raw("GET", "/compute/v2.1/os-hypervisors/"+hv["id"].(string)+"/uptime", map[string]string{"OpenStack-API-Version": "compute 2.88"}, nil); code != 404 {
		t.Errorf("uptime route at 2.88: %d, want 404 (removed)", code)
	}
	code, _, body = c.raw("GET", "/compute/v2.1/os-services?binary=nova-compute", nil, nil)
	if svcs := mustJSON(t, body)["services"].([]any); code != 200 || len(svcs) != 2 {
		t.Errorf("compute services: %d %s", code, body)
	}
	code, _, body = c.raw("GET", "/compute/v2.1/limits", nil, nil)
	abs := mustJSON(t, body)["limits"].(map[string]any)["absolute"].(map[string]any)
	if code != 200 || abs["maxTotalInstances"] != -1.0 || abs["totalInstancesUsed"] != 0.0 {
		t.Errorf("limits: %d %s", code, body)
	}
}

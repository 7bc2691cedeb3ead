package libvirtd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/render"
	"github.com/hwcert/hwcert/mock/scheduler"
)

// fakeSource is the in-test DomainSource: the test adds and removes domains while clients talk.
type fakeSource struct {
	mu   sync.Mutex
	doms []Domain
}

func (f *fakeSource) Domains() []Domain {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.doms)
}

func (f *fakeSource) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doms = slices.DeleteFunc(f.doms, func(d Domain) bool { return d.Name == name })
}

const (
	activeUUID   = "0b9a3c57-1f4e-4c1e-9d6a-2f3b4c5d6e7f"
	inactiveUUID = "5d0c3c0e-8a51-4f5d-a7a8-1d2e3f405162"
	activeName   = "instance-0000002a"
	inactiveName = "instance-00000007"
	aioDevices   = 21 // 2 QAT PFs with 8 VFs each, the host bridge and a root port per card
)

func aioInventory(t testing.TB) *lab.HostInventory {
	t.Helper()
	l, err := lab.Load(filepath.Join("..", "..", "fixtures", "labs", "aio.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	invs, err := l.Inventories()
	if err != nil {
		t.Fatal(err)
	}
	return invs["controller-0"]
}

func mustAddr(t testing.TB, s string) lab.Address {
	a, err := lab.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newSource returns one running dedicated guest with two VFs (one per NUMA node) and one
// shut-off shared guest, their XML rendered as the mock's cloud would.
func newSource(t testing.TB, inv *lab.HostInventory) *fakeSource {
	t.Helper()
	active := render.Server{InstanceID: 42, UUID: activeUUID, Name: "vm-a", VCPUs: 4, MemoryMB: 4096, FlavorName: "f"}
	pa := &scheduler.Placement{Host: "controller-0", NUMA: true, Dedicated: true,
		Cells: []scheduler.Cell{
			{ID: 0, HostNode: 0, VCPUs: []int{0, 1}, PCPUs: []int{1, 9}, MemoryMB: 2048},
			{ID: 1, HostNode: 1, VCPUs: []int{2, 3}, PCPUs: []int{4, 12}, MemoryMB: 2048},
		},
		Devices: []scheduler.AssignedDevice{{Address: mustAddr(t, "0000:3d:01.2")}, {Address: mustAddr(t, "0000:85:01.0")}},
	}
	ax, err := render.DomainXML(inv, active, pa)
	if err != nil {
		t.Fatal(err)
	}
	inactive := render.Server{InstanceID: 7, UUID: inactiveUUID, Name: "vm-b", VCPUs: 2, MemoryMB: 1024, FlavorName: "g"}
	ix, err := render.DomainXML(inv, inactive, &scheduler.Placement{SharedCPUs: []int{0, 8}})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeSource{doms: []Domain{
		{ID: 7, Name: inactiveName, UUID: inactiveUUID, Active: false, VCPUs: 2, MemoryKiB: 1024 * 1024, XML: ix},
		{ID: 42, Name: activeName, UUID: activeUUID, Active: true, VCPUs: 4, MemoryKiB: 4096 * 1024, XML: ax},
	}}
}

type daemon struct {
	srv     *Server
	src     *fakeSource
	unixURI string
	tcpURI  string
	sock    string
	tcpAddr string
}

// startDaemon serves one Server on a unix socket and a loopback TCP port.
func startDaemon(t testing.TB) *daemon {
	t.Helper()
	inv := aioInventory(t)
	src := newSource(t, inv)
	srv := New("controller-0", inv, src)
	// Short directory: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "lvd")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "controller-0.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ul) }()
	go func() { served <- srv.Serve(tl) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for i := 0; i < 2; i++ {
			if err := <-served; err != nil {
				t.Errorf("Serve returned %v after Close, want nil", err)
			}
		}
		os.RemoveAll(dir)
	})
	return &daemon{srv: srv, src: src, sock: sock, tcpAddr: tl.Addr().String(),
		unixURI: "qemu+unix:///system?socket=" + sock,
		tcpURI:  fmt.Sprintf("qemu+tcp://%s/system", tl.Addr().String())}
}

func connect(t testing.TB, uri string) *libvirt.Connect {
	t.Helper()
	c, err := libvirt.NewConnect(uri)
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantLibvirtError asserts a libvirt.Error with the given code, domain and message.
func wantLibvirtError(t *testing.T, err error, code libvirt.ErrorNumber, domain libvirt.ErrorDomain, msg string) {
	t.Helper()
	var le libvirt.Error
	if !errors.As(err, &le) {
		t.Fatalf("error = %v (%T), want a libvirt.Error", err, err)
	}
	if le.Code != code || le.Domain != domain || le.Message != msg || le.Level != libvirt.ERR_ERROR {
		t.Errorf("error = {Code:%d Domain:%d Level:%d Message:%q}, want {Code:%d Domain:%d Level:2 Message:%q}",
			le.Code, le.Domain, le.Level, le.Message, code, domain, msg)
	}
}

func TestConnectInfo(t *testing.T) {
	d := startDaemon(t)
	for _, uri := range []string{d.unixURI, d.tcpURI} {
		t.Run(strings.SplitN(uri, ":", 2)[0], func(t *testing.T) {
			c := connect(t, uri)
			capsXML, err := c.GetCapabilities()
			if err != nil {
				t.Fatal(err)
			}
			var caps libvirtxml.Caps
			if err := caps.Unmarshal(capsXML); err != nil {
				t.Fatal(err)
			}
			if n := len(caps.Host.NUMA.Cells.Cells); n != 2 {
				t.Errorf("NUMA cells = %d, want 2", n)
			}
			if caps.Host.UUID != render.HostUUID("controller-0") {
				t.Errorf("host uuid = %s", caps.Host.UUID)
			}
			if h, err := c.GetHostname(); err != nil || h != "controller-0" {
				t.Errorf("hostname = %q, %v", h, err)
			}
			if v, err := c.GetLibVersion(); err != nil || v != 9000000 {
				t.Errorf("lib version = %d, %v", v, err)
			}
			if v, err := c.GetVersion(); err != nil || v != 7002000 {
				t.Errorf("version = %d, %v", v, err)
			}
			if ty, err := c.GetType(); err != nil || ty != "QEMU" {
				t.Errorf("type = %q, %v", ty, err)
			}
			ni, err := c.GetNodeInfo()
			if err != nil {
				t.Fatal(err)
			}
			if ni.Model != "x86_64" || ni.Cpus != 16 || ni.Nodes != 2 || ni.Sockets != 1 || ni.Cores != 4 || ni.Threads != 2 || ni.Memory != 2*16384*1024 {
				t.Errorf("node info = %+v", ni)
			}
		})
	}
}

func domainNames(t *testing.T, doms []libvirt.Domain) []string {
	t.Helper()
	var names []string
	for i := range doms {
		n, err := doms[i].GetName()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
		doms[i].Free()
	}
	return names
}

func TestListAllDomainsFilters(t *testing.T) {
	d := startDaemon(t)
	c := connect(t, d.unixURI)
	cases := []struct {
		flags libvirt.ConnectListAllDomainsFlags
		want  []string
	}{
		{0, []string{activeName, inactiveName}},
		{libvirt.CONNECT_LIST_DOMAINS_ACTIVE, []string{activeName}},
		{libvirt.CONNECT_LIST_DOMAINS_INACTIVE, []string{inactiveName}},
		{libvirt.CONNECT_LIST_DOMAINS_ACTIVE | libvirt.CONNECT_LIST_DOMAINS_INACTIVE, []string{activeName, inactiveName}},
		{libvirt.CONNECT_LIST_DOMAINS_RUNNING, []string{activeName}},
		{libvirt.CONNECT_LIST_DOMAINS_SHUTOFF, []string{inactiveName}},
		{libvirt.CONNECT_LIST_DOMAINS_TRANSIENT, nil},
		{libvirt.CONNECT_LIST_DOMAINS_PERSISTENT | libvirt.CONNECT_LIST_DOMAINS_ACTIVE, []string{activeName}},
		{libvirt.CONNECT_LIST_DOMAINS_AUTOSTART, nil},
		{libvirt.CONNECT_LIST_DOMAINS_NO_SNAPSHOT, []string{activeName, inactiveName}},
	}
	for _, tc := range cases {
		doms, err := c.ListAllDomains(tc.flags)
		if err != nil {
			t.Fatalf("flags %#x: %v", uint32(tc.flags), err)
		}
		if got := domainNames(t, doms); !slices.Equal(got, tc.want) {
			t.Errorf("ListAllDomains(%#x) = %v, want %v", uint32(tc.flags), got, tc.want)
		}
	}
	_, err := c.ListAllDomains(1 << 20)
	wantLibvirtError(t, err, libvirt.ERR_INVALID_ARG, libvirt.FROM_QEMU,
		"invalid argument: unsupported flags (0x100000) in function qemuConnectListAllDomains")

	if n, err := c.NumOfDomains(); err != nil || n != 1 {
		t.Errorf("NumOfDomains = %d, %v", n, err)
	}
	if ids, err := c.ListDomains(); err != nil || !slices.Equal(ids, []uint32{42}) {
		t.Errorf("ListDomains = %v, %v", ids, err)
	}
	if n, err := c.NumOfDefinedDomains(); err != nil || n != 1 {
		t.Errorf("NumOfDefinedDomains = %d, %v", n, err)
	}
	if names, err := c.ListDefinedDomains(); err != nil || !slices.Equal(names, []string{inactiveName}) {
		t.Errorf("ListDefinedDomains = %v, %v", names, err)
	}
}

func TestDomainLookupsAndXML(t *testing.T) {
	d := startDaemon(t)
	c := connect(t, d.tcpURI)
	byName, err := c.LookupDomainByName(activeName)
	if err != nil {
		t.Fatal(err)
	}
	defer byName.Free()
	byUUID, err := c.LookupDomainByUUIDString(activeUUID)
	if err != nil {
		t.Fatal(err)
	}
	defer byUUID.Free()
	byID, err := c.LookupDomainById(42)
	if err != nil {
		t.Fatal(err)
	}
	defer byID.Free()
	for _, dom := range []*libvirt.Domain{byName, byUUID, byID} {
		name, _ := dom.GetName()
		uuid, _ := dom.GetUUIDString()
		id, _ := dom.GetID()
		if name != activeName || uuid != activeUUID || id != 42 {
			t.Errorf("domain = %s %s %d", name, uuid, id)
		}
	}
	x, err := byUUID.GetXMLDesc(0)
	if err != nil {
		t.Fatal(err)
	}
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(x); err != nil {
		t.Fatal(err)
	}
	if len(dom.Devices.Hostdevs) != 2 || *dom.Devices.Hostdevs[1].SubsysPCI.Source.Address.Bus != 0x85 {
		t.Errorf("hostdevs = %+v", dom.Devices.Hostdevs)
	}
	if dom.NUMATune == nil || dom.NUMATune.Memory.Nodeset != "0-1" {
		t.Errorf("numatune = %+v", dom.NUMATune)
	}
	if _, err := byName.GetXMLDesc(libvirt.DOMAIN_XML_SECURE | libvirt.DOMAIN_XML_INACTIVE); err != nil {
		t.Errorf("GetXMLDesc(SECURE|INACTIVE): %v", err)
	}
	_, err = byName.GetXMLDesc(1 << 8)
	wantLibvirtError(t, err, libvirt.ERR_INVALID_ARG, libvirt.FROM_QEMU, "invalid argument: unsupported flags (0x100) in function qemuDomainGetXMLDesc")

	state, reason, err := byName.GetState()
	if err != nil || state != libvirt.DOMAIN_RUNNING || reason != int(libvirt.DOMAIN_RUNNING_BOOTED) {
		t.Errorf("state = %d/%d, %v", state, reason, err)
	}
	info, err := byName.GetInfo()
	if err != nil || info.State != libvirt.DOMAIN_RUNNING || info.NrVirtCpu != 4 || info.MaxMem != 4096*1024 || info.Memory != 4096*1024 {
		t.Errorf("info = %+v, %v", info, err)
	}
	if active, err := byName.IsActive(); err != nil || !active {
		t.Errorf("IsActive = %v, %v", active, err)
	}
	if p, err := byName.IsPersistent(); err != nil || !p {
		t.Errorf("IsPersistent = %v, %v", p, err)
	}

	off, err := c.LookupDomainByName(inactiveName)
	if err != nil {
		t.Fatal(err)
	}
	defer off.Free()
	if id, _ := off.GetID(); id != 4294967295 {
		t.Errorf("inactive domain id = %d, want 4294967295 (-1)", id)
	}
	if state, _, err := off.GetState(); err != nil || state != libvirt.DOMAIN_SHUTOFF {
		t.Errorf("inactive state = %d, %v", state, err)
	}
	if active, err := off.IsActive(); err != nil || active {
		t.Errorf("inactive IsActive = %v, %v", active, err)
	}
	// An inactive domain has no id to look up.
	_, err = c.LookupDomainById(7)
	wantLibvirtError(t, err, libvirt.ERR_NO_DOMAIN, libvirt.FROM_QEMU, "Domain not found: no domain with matching id 7")

	// The source decides: once the cloud deletes the server, the handle dangles.
	d.src.remove(activeName)
	_, err = byName.GetXMLDesc(0)
	wantLibvirtError(t, err, libvirt.ERR_NO_DOMAIN, libvirt.FROM_QEMU,
		fmt.Sprintf("Domain not found: no domain with matching uuid '%s' (%s)", activeUUID, activeName))
	_, err = c.LookupDomainByName(activeName)
	wantLibvirtError(t, err, libvirt.ERR_NO_DOMAIN, libvirt.FROM_QEMU, "Domain not found: no domain with matching name '"+activeName+"'")
}

func TestDomainErrors(t *testing.T) {
	d := startDaemon(t)
	c := connect(t, d.unixURI)
	_, err := c.LookupDomainByName("nosuch")
	wantLibvirtError(t, err, libvirt.ERR_NO_DOMAIN, libvirt.FROM_QEMU, "Domain not found: no domain with matching name 'nosuch'")
	_, err = c.LookupDomainByUUIDString("11111111-2222-3333-4444-555555555555")
	wantLibvirtError(t, err, libvirt.ERR_NO_DOMAIN, libvirt.FROM_QEMU, "Domain not found: no domain with matching uuid '11111111-2222-3333-4444-555555555555'")
	_, err = c.LookupDomainById(999)
	wantLibvirtError(t, err, libvirt.ERR_NO_DOMAIN, libvirt.FROM_QEMU, "Domain not found: no domain with matching id 999")

	// An unknown procedure (DOMAIN_GET_IOTHREAD_INFO) fails cleanly and the connection survives.
	dom, err := c.LookupDomainByName(activeName)
	if err != nil {
		t.Fatal(err)
	}
	defer dom.Free()
	_, err = dom.GetIOThreadInfo(libvirt.DOMAIN_AFFECT_LIVE)
	wantLibvirtError(t, err, libvirt.ERR_NO_SUPPORT, libvirt.FROM_RPC,
		"this function is not supported by the connection driver: unknown procedure: 351")
	if h, err := c.GetHostname(); err != nil || h != "controller-0" {
		t.Errorf("after an unknown procedure: hostname = %q, %v", h, err)
	}
}

func TestNodeDevices(t *testing.T) {
	d := startDaemon(t)
	c := connect(t, d.unixURI)
	count := func(flags libvirt.ConnectListAllNodeDeviceFlags) []string {
		t.Helper()
		devs, err := c.ListAllNodeDevices(flags)
		if err != nil {
			t.Fatalf("ListAllNodeDevices(%#x): %v", uint32(flags), err)
		}
		var names []string
		for i := range devs {
			n, err := devs[i].GetName()
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
			devs[i].Free()
		}
		return names
	}
	all := count(0)
	if len(all) != aioDevices+1 || all[0] != "computer" {
		t.Errorf("all devices = %d (%v), want computer + %d", len(all), all, aioDevices)
	}
	pci := count(libvirt.CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)
	if len(pci) != aioDevices || slices.Contains(pci, "computer") || !slices.Contains(pci, "pci_0000_85_01_7") {
		t.Errorf("pci devices = %v", pci)
	}
	if got := count(libvirt.CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV | libvirt.CONNECT_LIST_NODE_DEVICES_ACTIVE); len(got) != aioDevices {
		t.Errorf("active pci devices (virsh --cap pci) = %d", len(got))
	}
	if got := count(libvirt.CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM); !slices.Equal(got, []string{"computer"}) {
		t.Errorf("system devices = %v", got)
	}
	if got := count(libvirt.CONNECT_LIST_NODE_DEVICES_CAP_NET); len(got) != 0 {
		t.Errorf("net devices = %v, want none", got)
	}
	if got := count(libvirt.CONNECT_LIST_NODE_DEVICES_INACTIVE); len(got) != 0 {
		t.Errorf("inactive devices = %v, want none", got)
	}
	_, err := c.ListAllNodeDevices(1 << 22) // CAP_CCWGROUP_DEV: newer than libvirt 9.0
	wantLibvirtError(t, err, libvirt.ERR_INVALID_ARG, libvirt.FROM_NODEDEV,
		"invalid argument: unsupported flags (0x400000) in function nodeConnectListAllNodeDevices")

	names, err := c.ListDevices("pci", 0)
	if err != nil || len(names) != aioDevices {
		t.Errorf("ListDevices(pci) = %d names, %v", len(names), err)
	}
	if n, err := c.NumOfDevices("system", 0); err != nil || n != 1 {
		t.Errorf("NumOfDevices(system) = %d, %v", n, err)
	}
	_, err = c.NumOfDevices("pci", 4)
	wantLibvirtError(t, err, libvirt.ERR_INVALID_ARG, libvirt.FROM_NODEDEV, "invalid argument: unsupported flags (0x4) in function nodeNumOfDevices")

	nd, err := c.LookupDeviceByName("pci_0000_85_01_3")
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Free()
	x, err := nd.GetXMLDesc(0)
	if err != nil {
		t.Fatal(err)
	}
	var dev libvirtxml.NodeDevice
	if err := dev.Unmarshal(x); err != nil {
		t.Fatal(err)
	}
	if dev.Capability.PCI == nil || dev.Capability.PCI.NUMA == nil || dev.Capability.PCI.NUMA.Node != 1 || *dev.Capability.PCI.Function != 3 {
		t.Errorf("node device = %+v", dev.Capability.PCI)
	}
	// NodeDevice.GetParent of libvirt.org/go/libvirt v1.12002.0 frees a string the libvirt
	// object owns (a double free on Free), so NODE_DEVICE_GET_PARENT is tested on the raw wire
	// in TestRawNodeDeviceGetParent instead.
	if caps, err := nd.ListCaps(); err != nil || !slices.Equal(caps, []string{"pci"}) {
		t.Errorf("caps = %v, %v", caps, err)
	}
	_, err = c.LookupDeviceByName("pci_0000_ff_00_0")
	wantLibvirtError(t, err, libvirt.ERR_NO_NODE_DEVICE, libvirt.FROM_NODEDEV, "Node device not found: no node device with matching name 'pci_0000_ff_00_0'")
}

// Fifty clients at once, each on its own connection, look domains and devices up and read their
// XML: every call must succeed.
func TestConcurrentConnections(t *testing.T) {
	d := startDaemon(t)
	const clients, rounds = 50, 10
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		uri := d.unixURI
		if i%2 == 1 {
			uri = d.tcpURI
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				c, err := libvirt.NewConnect(uri)
				if err != nil {
					return err
				}
				defer c.Close()
				for r := 0; r < rounds; r++ {
					dom, err := c.LookupDomainByName(activeName)
					if err != nil {
						return err
					}
					x, err := dom.GetXMLDesc(0)
					dom.Free()
					if err != nil {
						return err
					}
					if !strings.Contains(x, "bus='0x85'") {
						return fmt.Errorf("domain XML lacks the node-1 VF")
					}
					nd, err := c.LookupDeviceByName("pci_0000_3d_01_2")
					if err != nil {
						return err
					}
					nx, err := nd.GetXMLDesc(0)
					nd.Free()
					if err != nil {
						return err
					}
					if !strings.Contains(nx, "<numa node='0'/>") {
						return fmt.Errorf("device XML lacks its NUMA node")
					}
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	failures := 0
	for err := range errs {
		if err != nil {
			failures++
			t.Error(err)
		}
	}
	if failures != 0 {
		t.Fatalf("%d of %d clients failed", failures, clients)
	}
}

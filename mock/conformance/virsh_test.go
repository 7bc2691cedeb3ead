//go:build conformance

package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/cpuset"
)

// The default lab of `hwcert run`'s aio variant: one host, two NUMA nodes, a C62x QAT card
// (8 VFs) on node 0 and a DH895XCC card (8 VFs) on node 1, each behind its PCIe root port.
const (
	virshLab        = "fixtures/labs/aio.yaml"
	virshHost       = "controller-0"
	virshPCIDevices = 21 // 18 QAT functions, the host bridge, 2 root ports
)

// virshResult is one virsh (or openstack) invocation.
type virshResult struct {
	stdout, stderr string
	code           int
}

// runTool runs a real client with a deadline and returns its output and exit code.
func runTool(t *testing.T, env []string, name string, args ...string) virshResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") && !strings.HasPrefix(kv, "LIBVIRT_DEFAULT_URI=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := virshResult{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("running %s %s: %v", name, strings.Join(args, " "), err)
	}
	return res
}

// virshURI reads the libvirt URI of host from the hwcert.yaml the mock wrote.
func virshURI(t *testing.T, stateDir, host string) string {
	t.Helper()
	cfg, err := config.Load(filepath.Join(stateDir, "hwcert.yaml"))
	if err != nil {
		t.Fatalf("loading the mock's hwcert.yaml: %v", err)
	}
	uri, err := cfg.HypervisorURI(host)
	if err != nil {
		t.Fatal(err)
	}
	return uri
}

// virsh runs `virsh -c uri args...` and fails the test unless it succeeds.
func virsh(t *testing.T, uri string, args ...string) string {
	t.Helper()
	res := runTool(t, nil, "virsh", append([]string{"-c", uri}, args...)...)
	if res.code != 0 {
		t.Fatalf("virsh %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// mustOpenstack runs the openstack CLI against the mock in stateDir at microversion 2.74 (for
// --host), with only the mock's clouds.yaml in its environment, and fails the test unless it
// succeeds.
func mustOpenstack(t *testing.T, stateDir string, args ...string) string {
	t.Helper()
	env := []string{"OS_CLIENT_CONFIG_FILE=" + filepath.Join(stateDir, "clouds.yaml"), "OS_CLOUD=mock"}
	res := runTool(t, env, "openstack", append([]string{"--os-compute-api-version", "2.74"}, args...)...)
	if res.code != 0 {
		t.Fatalf("openstack %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

func TestVirshHostView(t *testing.T) {
	if _, err := exec.LookPath("virsh"); err != nil {
		t.Skip("virsh is not installed (make deps installs libvirt-clients)")
	}
	stateDir := startMock(t, virshLab)
	uri := virshURI(t, stateDir, virshHost)

	t.Run("capabilities", func(t *testing.T) {
		var caps libvirtxml.Caps
		if err := caps.Unmarshal(virsh(t, uri, "capabilities")); err != nil {
			t.Fatalf("virsh capabilities is not capabilities XML: %v", err)
		}
		if caps.Host.CPU == nil || caps.Host.CPU.Arch != "x86_64" {
			t.Errorf("host cpu = %+v", caps.Host.CPU)
		}
		cells := caps.Host.NUMA.Cells.Cells
		if len(cells) != 2 {
			t.Fatalf("NUMA cells = %d, want 2", len(cells))
		}
		for _, c := range cells {
			if c.CPUS == nil || len(c.CPUS.CPUs) != 8 {
				t.Errorf("cell %d has %v CPUs, want 8", c.ID, c.CPUS)
			}
		}
	})

	t.Run("nodedev-list", func(t *testing.T) {
		pci := strings.Fields(virsh(t, uri, "nodedev-list", "--cap", "pci"))
		if len(pci) != virshPCIDevices || slices.Contains(pci, "computer") || !slices.Contains(pci, "pci_0000_85_01_7") {
			t.Errorf("nodedev-list --cap pci = %v, want the %d PCI functions only", pci, virshPCIDevices)
		}
		all := strings.Fields(virsh(t, uri, "nodedev-list"))
		if len(all) != virshPCIDevices+1 || !slices.Contains(all, "computer") {
			t.Errorf("nodedev-list = %v, want computer and %d PCI functions", all, virshPCIDevices)
		}
	})

	t.Run("nodedev-dumpxml", func(t *testing.T) {
		var dev libvirtxml.NodeDevice
		if err := dev.Unmarshal(virsh(t, uri, "nodedev-dumpxml", "pci_0000_3d_00_0")); err != nil {
			t.Fatal(err)
		}
		pci := dev.Capability.PCI
		if pci == nil || pci.NUMA == nil || pci.NUMA.Node != 0 || pci.Product.ID != "0x37c8" {
			t.Fatalf("PF = %+v", pci)
		}
		vfs := 0
		for _, c := range pci.Capabilities {
			if c.VirtFunctions != nil {
				vfs = len(c.VirtFunctions.Address)
			}
		}
		if vfs != 8 {
			t.Errorf("PF lists %d VFs, want 8", vfs)
		}
		res := runTool(t, nil, "virsh", "-c", uri, "nodedev-dumpxml", "pci_0000_ff_00_0")
		if res.code == 0 || !strings.Contains(res.stderr, "Node device not found: no node device with matching name 'pci_0000_ff_00_0'") {
			t.Errorf("unknown node device: exit %d, stderr %q", res.code, res.stderr)
		}
	})

	t.Run("nodedev-list --tree and the parent chain", func(t *testing.T) {
		parents := treeParents(t, virsh(t, uri, "nodedev-list", "--tree"))
		for dev, want := range map[string]string{"pci_0000_00_00_0": "computer", "pci_0000_00_01_0": "computer",
			"pci_0000_3d_00_0": "pci_0000_00_01_0", "pci_0000_3d_01_2": "pci_0000_00_01_0", "pci_0000_85_01_7": "pci_0000_00_01_1"} {
			if parents[dev] != want {
				t.Errorf("nodedev-list --tree puts %s under %q, want %s", dev, parents[dev], want)
			}
		}
		// nodedev-dumpxml walks the same chain up to computer.
		chain := []string{}
		for dev := "pci_0000_3d_01_2"; dev != "computer" && len(chain) < 5; {
			var nd libvirtxml.NodeDevice
			if err := nd.Unmarshal(virsh(t, uri, "nodedev-dumpxml", dev)); err != nil {
				t.Fatal(err)
			}
			chain = append(chain, dev)
			dev = nd.Parent
		}
		if want := []string{"pci_0000_3d_01_2", "pci_0000_00_01_0"}; !slices.Equal(chain, want) {
			t.Errorf("parent chain of the VF = %v, want %v then computer", chain, want)
		}
		var port libvirtxml.NodeDevice
		if err := port.Unmarshal(virsh(t, uri, "nodedev-dumpxml", "pci_0000_00_01_0")); err != nil {
			t.Fatal(err)
		}
		if pci := port.Capability.PCI; pci == nil || pci.Class != "0x060400" || pci.NUMA == nil || pci.NUMA.Node != 0 {
			t.Errorf("root port = %+v, want a PCI bridge on node 0", pci)
		}
	})

	t.Run("host commands", func(t *testing.T) { hostCommands(t, uri) })

	t.Run("unknown domain", func(t *testing.T) {
		res := runTool(t, nil, "virsh", "-c", uri, "dumpxml", "nosuch")
		if res.code != 1 || !strings.Contains(res.stderr, "error: failed to get domain 'nosuch'") {
			t.Errorf("virsh dumpxml nosuch: exit %d, stderr %q; want exit 1 and \"error: failed to get domain 'nosuch'\"", res.code, res.stderr)
		}
		if out := strings.TrimSpace(virsh(t, uri, "-q", "list", "--all")); out != "" {
			t.Errorf("list --all before any boot = %q, want empty", out)
		}
	})
}

// The same daemon over loopback TCP (`hwcert mock --libvirt-tcp`): virsh sees no difference.
func TestVirshOverTCP(t *testing.T) {
	if _, err := exec.LookPath("virsh"); err != nil {
		t.Skip("virsh is not installed (make deps installs libvirt-clients)")
	}
	stateDir := startMock(t, virshLab, "--libvirt-tcp")
	uri := virshURI(t, stateDir, virshHost)
	if !strings.HasPrefix(uri, "qemu+tcp://127.0.0.1:") {
		t.Fatalf("hwcert.yaml gives %s, want a qemu+tcp loopback URI", uri)
	}
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(virsh(t, uri, "capabilities")); err != nil || len(caps.Host.NUMA.Cells.Cells) != 2 {
		t.Errorf("capabilities over tcp: %v", err)
	}
	if pci := strings.Fields(virsh(t, uri, "nodedev-list", "--cap", "pci")); len(pci) != virshPCIDevices {
		t.Errorf("nodedev-list --cap pci over tcp = %d devices, want %d", len(pci), virshPCIDevices)
	}
	res := runTool(t, nil, "virsh", "-c", uri, "dumpxml", "nosuch")
	if res.code != 1 || !strings.Contains(res.stderr, "error: failed to get domain 'nosuch'") {
		t.Errorf("virsh dumpxml nosuch over tcp: exit %d, stderr %q", res.code, res.stderr)
	}
}

// serverShow is the part of `openstack server show -f json` the test needs.
type serverShow struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	Host         string `json:"OS-EXT-SRV-ATTR:host"`
	InstanceName string `json:"OS-EXT-SRV-ATTR:instance_name"`
}

// bootCase is a server booted with the openstack CLI and what virsh must then show.
type bootCase struct {
	name     string
	lab      string
	args     []string // extra `hwcert mock` arguments (faults)
	host     string   // forced host (--host, microversion 2.74); empty lets the scheduler pick
	vcpus    int
	props    []string
	hostdevs int
	// misplaced is true when the lab is told to lie: the host check must then find a hostdev
	// outside the guest's NUMA nodes (proving the check can fail).
	misplaced bool
}

// Servers booted with the openstack CLI, seen from the host with virsh: the domain is listed,
// dumpxml by name, UUID and id agree, and every hostdev's node device sits on a host NUMA node of
// the domain's numatune nodeset — unless the lab was told to misplace devices, which the same
// check must then catch.
func TestVirshBootedServer(t *testing.T) {
	for _, tool := range []string{"virsh", "openstack"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
	cases := []bootCase{
		{name: "dedicated two-node guest with a VF from each card", lab: virshLab, vcpus: 4, hostdevs: 2,
			props: []string{"hw:cpu_policy=dedicated", "hw:numa_nodes=2", "pci_passthrough:alias=qat-c62x-vf:1,qat-dh895xcc-vf:1"}},
		{name: "one-node guest on a host with a card per node", lab: multiLab, host: "worker-1", vcpus: 2, hostdevs: 1,
			props: []string{"hw:cpu_policy=dedicated", "hw:numa_nodes=1", "pci_passthrough:alias=qat-c62x-vf:1"}},
		{name: "numa-misplace fault is visible from the host", lab: multiLab, host: "worker-1", vcpus: 2, hostdevs: 1,
			args:  []string{"--fault", "numa-misplace"},
			props: []string{"hw:cpu_policy=dedicated", "hw:numa_nodes=1", "pci_passthrough:alias=qat-c62x-vf:1"}, misplaced: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { bootAndInspect(t, tc) })
	}
}

func bootAndInspect(t *testing.T, tc bootCase) {
	stateDir := startMock(t, tc.lab, tc.args...)
	flavor := "hwcert-conf-flavor"
	create := []string{"flavor", "create", "--vcpus", strconv.Itoa(tc.vcpus), "--ram", "2048", "--disk", "1"}
	for _, p := range tc.props {
		create = append(create, "--property", p)
	}
	mustOpenstack(t, stateDir, append(create, flavor)...)
	name := "hwcert-conf-vm"
	boot := []string{"server", "create", "--flavor", flavor, "--image", "cirros", "--nic", "none", "--wait"}
	if tc.host != "" {
		boot = append(boot, "--host", tc.host)
	}
	mustOpenstack(t, stateDir, append(boot, name)...)
	var srv serverShow
	if err := json.Unmarshal([]byte(mustOpenstack(t, stateDir, "server", "show", "-f", "json", name)), &srv); err != nil {
		t.Fatalf("openstack server show: %v", err)
	}
	if srv.Status != "ACTIVE" || srv.Host == "" || srv.InstanceName == "" {
		t.Fatalf("server = %+v, want ACTIVE with host and instance name", srv)
	}
	if tc.host != "" && srv.Host != tc.host {
		t.Fatalf("server landed on %s, want %s", srv.Host, tc.host)
	}
	uri := virshURI(t, stateDir, srv.Host)

	list := virsh(t, uri, "-q", "list", "--all")
	if !strings.Contains(list, srv.InstanceName) || !strings.Contains(list, "running") {
		t.Errorf("virsh list --all = %q, want %s running", list, srv.InstanceName)
	}
	id := strings.TrimSpace(virsh(t, uri, "domid", srv.InstanceName))
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("virsh domid = %q", id)
	}
	xmlByName := virsh(t, uri, "dumpxml", srv.InstanceName)
	for _, key := range []string{srv.ID, id} {
		if other := virsh(t, uri, "dumpxml", key); other != xmlByName {
			t.Errorf("dumpxml %s differs from dumpxml %s", key, srv.InstanceName)
		}
	}
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(xmlByName); err != nil {
		t.Fatal(err)
	}
	if dom.UUID != srv.ID || dom.Name != srv.InstanceName {
		t.Errorf("domain name/uuid = %s/%s, want %s/%s", dom.Name, dom.UUID, srv.InstanceName, srv.ID)
	}
	if len(dom.Devices.Hostdevs) != tc.hostdevs {
		t.Fatalf("hostdevs = %d, want %d", len(dom.Devices.Hostdevs), tc.hostdevs)
	}
	outside := hostdevsOutsideNodeset(t, uri, &dom)
	switch {
	case tc.misplaced && len(outside) == 0:
		t.Errorf("the lab misplaces devices, yet every hostdev looks local to numatune %s", dom.NUMATune.Memory.Nodeset)
	case !tc.misplaced && len(outside) > 0:
		t.Errorf("hostdevs outside the guest's host NUMA nodes: %s", strings.Join(outside, "; "))
	}

	if !tc.misplaced {
		t.Run("placement commands", func(t *testing.T) { placementCommands(t, uri, &dom) })
	}

	mustOpenstack(t, stateDir, "server", "delete", "--wait", name)
	res := runTool(t, nil, "virsh", "-c", uri, "dumpxml", srv.InstanceName)
	if res.code == 0 || !strings.Contains(res.stderr, "failed to get domain") {
		t.Errorf("domain of a deleted server: exit %d, stderr %q", res.code, res.stderr)
	}
}

// hostdevsOutsideNodeset looks every PCI hostdev of dom up with `virsh nodedev-dumpxml` and
// returns those whose device is not on a host NUMA node of the domain's numatune nodeset.
func hostdevsOutsideNodeset(t *testing.T, uri string, dom *libvirtxml.Domain) []string {
	t.Helper()
	if dom.NUMATune == nil || dom.NUMATune.Memory == nil {
		t.Fatalf("a guest with a NUMA topology has no numatune")
	}
	nodes, err := cpuset.Parse(dom.NUMATune.Memory.Nodeset)
	if err != nil {
		t.Fatalf("numatune nodeset: %v", err)
	}
	var outside []string
	for i, hd := range dom.Devices.Hostdevs {
		if hd.SubsysPCI == nil || hd.SubsysPCI.Source == nil || hd.SubsysPCI.Source.Address == nil {
			t.Fatalf("hostdev %d has no PCI source address", i)
		}
		a := hd.SubsysPCI.Source.Address
		devName := fmt.Sprintf("pci_%04x_%02x_%02x_%x", *a.Domain, *a.Bus, *a.Slot, *a.Function)
		var dev libvirtxml.NodeDevice
		if err := dev.Unmarshal(virsh(t, uri, "nodedev-dumpxml", devName)); err != nil {
			t.Fatal(err)
		}
		pci := dev.Capability.PCI
		switch {
		case pci == nil || pci.NUMA == nil:
			outside = append(outside, devName+" has no NUMA node")
		case !slices.Contains(nodes, pci.NUMA.Node):
			outside = append(outside, fmt.Sprintf("%s on host node %d, nodeset %v", devName, pci.NUMA.Node, nodes))
		}
	}
	return outside
}

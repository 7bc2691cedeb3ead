//go:build conformance && reference

// The reference tests hold the fake libvirtd to a real one: a libvirtd 9.0 with QEMU started by
// the test itself (and stopped by its pid), a guest defined the way Nova's libvirt driver
// writes it, read by the harness's own inspector; and virsh answers of the real daemon and of
// the mock's compared in shape. `make reference` runs them (as root, after `make deps`).
package conformance

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/placement"
)

const realURI = "qemu:///system"

// startRealLibvirtd starts virtlogd and libvirtd in the foreground as children of the test and
// stops them (by pid) at the end. It skips, saying why, where a privileged daemon cannot run.
func startRealLibvirtd(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the real libvirtd needs root (qemu:///system); run `make reference` as root")
	}
	for _, bin := range []string{"/usr/sbin/libvirtd", "/usr/sbin/virtlogd", "/usr/bin/qemu-system-x86_64"} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s is missing (Debian: libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86; `make deps` installs them): %v", bin, err)
		}
	}
	// One privileged daemon per machine: several test processes must take turns.
	lock, err := os.OpenFile("/run/lock/hwcert-libvirtd.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("opening the libvirtd lock: %v", err)
	}
	t.Cleanup(func() { lock.Close() })
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("taking the libvirtd lock: %v", err)
	}
	if res := runTool(t, nil, "virsh", "-c", realURI, "version"); res.code == 0 {
		t.Skipf("a libvirtd that this test did not start already answers on %s; not touching it", realURI)
	}
	for _, d := range []string{"/var/log/libvirt", "/var/run/libvirt", "/var/lib/libvirt/qemu"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	start := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		log, err := os.Create(filepath.Join(dir, filepath.Base(name)+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", name, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Errorf("%s (pid %d) ignored SIGTERM for 15s", name, cmd.Process.Pid)
			}
			log.Close()
		})
	}
	start("/usr/sbin/virtlogd")
	start("/usr/sbin/libvirtd", "--pid-file", filepath.Join(dir, "libvirtd.pid"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := runTool(t, nil, "virsh", "-c", realURI, "version")
		if res.code == 0 {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := os.ReadFile(filepath.Join(dir, "libvirtd.log"))
			t.Fatalf("libvirtd did not answer on %s within 30s: %s\n%s", realURI, res.stderr, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// novaGuest is a domain as Nova's libvirt driver defines a dedicated-CPU guest with one NUMA
// cell: vcpupin per vCPU, emulatorpin, numatune with a memnode, cpu/numa cells; qemu64 because
// host-passthrough fails on an MSR in a container, network boot and no disk so it just runs.
func novaGuest(name, uuid, virtType, hostdev, disk string) string {
	return fmt.Sprintf(`<domain type='%[1]s'>
  <name>%[2]s</name>
  <uuid>%[3]s</uuid>
  <metadata><nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"><nova:package version="27.1.0"/><nova:name>hwcert-reference</nova:name>
    <nova:flavor name="ref"><nova:memory>64</nova:memory><nova:disk>1</nova:disk><nova:swap>0</nova:swap><nova:ephemeral>0</nova:ephemeral><nova:vcpus>2</nova:vcpus></nova:flavor></nova:instance></metadata>
  <memory unit='KiB'>65536</memory>
  <vcpu placement='static'>2</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/><emulatorpin cpuset='0-1'/></cputune>
  <numatune><memory mode='strict' nodeset='0'/><memnode cellid='0' mode='strict' nodeset='0'/></numatune>
  <sysinfo type='smbios'><system><entry name='manufacturer'>OpenStack Foundation</entry><entry name='product'>OpenStack Nova</entry>
    <entry name='uuid'>%[3]s</entry><entry name='family'>Virtual Machine</entry></system></sysinfo>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/><smbios mode='sysinfo'/></os>
  <features><acpi/><apic/></features>
  <clock offset='utc'><timer name='pit' tickpolicy='delay'/><timer name='rtc' tickpolicy='catchup'/><timer name='hpet' present='no'/></clock>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model><topology sockets='1' dies='1' cores='2' threads='1'/>
    <feature policy='disable' name='svm'/><numa><cell id='0' cpus='0-1' memory='65536' unit='KiB'/></numa></cpu>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/><source file='%[5]s'/><target dev='vda' bus='virtio'/></disk>
    <serial type='pty'><log file='%[5]s.log' append='off'/><target type='isa-serial' port='0'><model name='isa-serial'/></target></serial>
    <console type='pty'><log file='%[5]s.log' append='off'/><target type='serial' port='0'/></console>
    %[4]s<memballoon model='virtio'><stats period='10'/></memballoon></devices>
</domain>`, virtType, name, uuid, hostdev, disk)
}

// defineGuest defines (and with start, starts) a guest on the real daemon, undefined at the end.
func defineGuest(t *testing.T, name, domXML string, start bool) {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".xml")
	if err := os.WriteFile(f, []byte(domXML), 0o600); err != nil {
		t.Fatal(err)
	}
	virsh(t, realURI, "define", f)
	t.Cleanup(func() {
		runTool(t, nil, "virsh", "-c", realURI, "destroy", name)
		if res := runTool(t, nil, "virsh", "-c", realURI, "undefine", name); res.code != 0 {
			t.Errorf("undefining %s: %s", name, res.stderr)
		}
	})
	if start {
		virsh(t, realURI, "start", name)
	}
}

// emptyDisk is a 1 MiB raw disk image the guest's <disk> points at (it boots from the network).
func emptyDisk(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hwcert-ref")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// qemu runs as libvirt-qemu and must reach the image.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "disk")
	if err := os.WriteFile(f, make([]byte, 1<<20), 0o666); err != nil {
		t.Fatal(err)
	}
	return f
}

func virtType() string {
	if _, err := os.Stat("/dev/kvm"); err == nil {
		return "kvm"
	}
	return "qemu" // TCG
}

func TestRealLibvirtdReference(t *testing.T) {
	startRealLibvirtd(t)
	const name, uuid = "hwcert-reference", "6f1bb4a3-2f7c-4d0e-9b58-8a3f6f4c0101"
	defineGuest(t, name, novaGuest(name, uuid, virtType(), "", emptyDisk(t)), true)

	t.Run("inspector reads the Nova guest into the typed placement", func(t *testing.T) {
		in := hypervisor.New(func(string) (string, error) { return realURI, nil })
		defer in.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ev, err := in.Evidence(ctx, "reference", name, uuid)
		if err != nil {
			t.Fatalf("inspector against the real libvirtd: %v", err)
		}
		p, err := placement.Build(ev.DomainXML, ev.NodeDevXML, ev.CapsXML)
		if err != nil {
			t.Fatalf("placement of the real guest: %v", err)
		}
		if !p.HasNUMATopology || !p.Pinned || !slices.Equal(p.HostNodes, []int{0}) || len(p.GuestCells) != 1 ||
			!slices.Equal(p.VCPUPins[0], []int{0}) || !slices.Equal(p.VCPUPins[1], []int{1}) || p.UUID != uuid {
			t.Errorf("placement of the real guest: %+v", p)
		}
		if _, err := placement.ParseCapabilities(ev.CapsXML); err != nil {
			t.Errorf("capabilities of this real host: %v", err)
		}
		devs, err := in.PCIInventory(ctx, "reference")
		if err != nil || len(devs) == 0 {
			t.Fatalf("PCI node devices of this real host: %d, %v", len(devs), err)
		}
		for n, x := range devs {
			if _, _, err := placement.ParseNodeDevice(x); err != nil {
				t.Errorf("node device %s of this real host (virtio, no NUMA information): %v", n, err)
			}
		}
	})

	// The mock's aio host with a dedicated-CPU, one-NUMA-node guest holding one VF.
	stateDir := startMock(t, virshLab)
	fakeURI := virshURI(t, stateDir, virshHost)
	mustOpenstack(t, stateDir, "flavor", "create", "--vcpus", "2", "--ram", "1024", "--disk", "1",
		"--property", "pci_passthrough:alias=qat-c62x-vf:1", "--property", "hw:cpu_policy=dedicated", "--property", "hw:numa_nodes=1", "ref")
	mustOpenstack(t, stateDir, "server", "create", "--wait", "--flavor", "ref", "--image", "cirros", "--nic", "none", "ref")
	fakeDom := strings.TrimSpace(mustOpenstack(t, stateDir, "server", "show", "ref", "-f", "value", "-c", "OS-EXT-SRV-ATTR:instance_name"))
	realPCI := strings.Fields(virsh(t, realURI, "nodedev-list", "--cap", "pci"))
	fakePCI := strings.Fields(virsh(t, fakeURI, "nodedev-list", "--cap", "pci"))

	t.Run("virsh answers have the same shape", func(t *testing.T) {
		xmlCommands := []struct{ real, fake []string }{
			{[]string{"capabilities"}, []string{"capabilities"}},
			{[]string{"dumpxml", name}, []string{"dumpxml", fakeDom}},
			{[]string{"nodedev-dumpxml", realPCI[len(realPCI)-1]}, []string{"nodedev-dumpxml", fakePCI[len(fakePCI)-1]}},
			{[]string{"domcapabilities"}, []string{"domcapabilities"}},
		}
		for _, c := range xmlCommands {
			real, fake := xmlPaths(t, virsh(t, realURI, c.real...)), xmlPaths(t, virsh(t, fakeURI, c.fake...))
			// Every element and attribute the fake answer has under an element the real answer also
			// has must be in the real answer: the fake may leave out (a guest without a disk has
			// none), never invent or misname.
			for p := range fake {
				cut := strings.LastIndexAny(p, "/@")
				if cut < 0 {
					continue // the root element: libvirtxml decoding already proved it
				}
				if parent := p[:cut]; real[parent] && !real[p] && !fakeOnly(p) {
					t.Errorf("virsh %s: the mock answers %s, which the real libvirtd does not have", c.fake[0], p)
				}
			}
		}
		tables := []struct{ real, fake []string }{
			{[]string{"nodeinfo"}, []string{"nodeinfo"}},
			{[]string{"dominfo", name}, []string{"dominfo", fakeDom}},
			{[]string{"numatune", name}, []string{"numatune", fakeDom}},
			{[]string{"emulatorpin", name}, []string{"emulatorpin", fakeDom}},
			{[]string{"vcpuinfo", name}, []string{"vcpuinfo", fakeDom}},
			{[]string{"freecell"}, []string{"freecell"}},
			{[]string{"freecell", "--cellno", "0"}, []string{"freecell", "--cellno", "0"}},
			{[]string{"nodememstats"}, []string{"nodememstats"}},
			{[]string{"nodememstats", "--cell", "0"}, []string{"nodememstats", "--cell", "0"}},
			{[]string{"nodecpustats"}, []string{"nodecpustats"}},
			{[]string{"nodecpustats", "--cpu", "0"}, []string{"nodecpustats", "--cpu", "0"}},
		}
		for _, c := range tables {
			real, fake := tableKeys(virsh(t, realURI, c.real...)), tableKeys(virsh(t, fakeURI, c.fake...))
			real = slices.DeleteFunc(real, func(k string) bool { return slices.Contains(knownGaps[c.fake[0]], k) })
			if !slices.Equal(real, fake) {
				t.Errorf("virsh %s: the mock's fields %v, the real libvirtd's %v", c.fake[0], fake, real)
			}
		}
		// Tables: the same columns, one row per vCPU (both guests have two), none for pools and
		// networks (neither host defines any).
		for _, c := range []struct {
			real, fake []string
			rows       int
		}{
			{[]string{"vcpupin", name}, []string{"vcpupin", fakeDom}, 2},
			{[]string{"pool-list", "--all", "--details"}, []string{"pool-list", "--all", "--details"}, 0},
			{[]string{"net-list", "--all"}, []string{"net-list", "--all"}, 0},
		} {
			realCols, realRows := tableRows(t, virsh(t, realURI, c.real...))
			fakeCols, fakeRows := tableRows(t, virsh(t, fakeURI, c.fake...))
			if !slices.Equal(realCols, fakeCols) || len(realRows) != c.rows || len(fakeRows) != c.rows {
				t.Errorf("virsh %s: the mock's columns %v (%d rows), the real libvirtd's %v (%d rows)", c.fake[0], fakeCols, len(fakeRows), realCols, len(realRows))
			}
		}
		// dommemstat: the same tags in the same order.
		tags := func(out string) []string {
			var ts []string
			for i, f := range strings.Fields(out) {
				if i%2 == 0 {
					ts = append(ts, f)
				}
			}
			return ts
		}
		if r, f := tags(virsh(t, realURI, "dommemstat", name)), tags(virsh(t, fakeURI, "dommemstat", fakeDom)); !slices.Equal(r, f) {
			t.Errorf("virsh dommemstat: the mock's tags %v, the real libvirtd's %v", f, r)
		}
		for _, args := range [][]string{{"maxvcpus"}, {"maxvcpus", "--type", "kvm"}} {
			r, f := strings.TrimSpace(virsh(t, realURI, args...)), strings.TrimSpace(virsh(t, fakeURI, args...))
			if _, err := strconv.Atoi(f); err != nil || r != f {
				t.Errorf("virsh %s: the mock answers %q, the real libvirtd %q", strings.Join(args, " "), f, r)
			}
		}
		// domstats: every field the mock reports the real daemon reports too; the real one's
		// others are the KVM statistics of a guest that executes (kvm_stat counters per vCPU and
		// per VM), which the mock's guests do not have.
		for _, args := range [][]string{{"domstats"}, {"domstats", "--vcpu", "--state", "--block"}} {
			real := domstatsKeys(virsh(t, realURI, append(args, name)...))
			fake := domstatsKeys(virsh(t, fakeURI, append(args, fakeDom)...))
			for k := range fake {
				if !real[k] {
					t.Errorf("virsh %s: the mock answers %s, which the real libvirtd does not", strings.Join(args, " "), k)
				}
			}
			for k := range real {
				if !fake[k] && !kvmStatRE.MatchString(k) {
					t.Errorf("virsh %s: the real libvirtd answers %s, which the mock does not", strings.Join(args, " "), k)
				}
			}
		}
		realTree, fakeTree := virsh(t, realURI, "nodedev-list", "--tree"), virsh(t, fakeURI, "nodedev-list", "--tree")
		if !strings.HasPrefix(realTree, "computer\n") || !strings.HasPrefix(fakeTree, "computer\n") {
			t.Errorf("nodedev-list --tree roots: real %q, mock %q", firstLine(realTree), firstLine(fakeTree))
		}
	})

	t.Run("hostdev rendering matches libvirt's normalised hostdev", func(t *testing.T) {
		a := realPCI[len(realPCI)-1] // pci_0000_00_03_0
		var dom, bus, slot, fn int
		if _, err := fmt.Sscanf(a, "pci_%x_%x_%x_%x", &dom, &bus, &slot, &fn); err != nil {
			t.Fatalf("PCI node device name %q: %v", a, err)
		}
		hd := fmt.Sprintf("<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/></source></hostdev>", dom, bus, slot, fn)
		defineGuest(t, "hwcert-reference-hostdev", novaGuest("hwcert-reference-hostdev", "6f1bb4a3-2f7c-4d0e-9b58-8a3f6f4c0102", virtType(), hd, emptyDisk(t)), false)
		real := hostdevPaths(t, virsh(t, realURI, "dumpxml", "--inactive", "hwcert-reference-hostdev"))
		fake := hostdevPaths(t, virsh(t, fakeURI, "dumpxml", fakeDom))
		delete(fake, "hostdev/alias") // a running domain's only
		delete(fake, "hostdev/alias@name")
		var missing, extra []string
		for p := range real {
			if !fake[p] {
				missing = append(missing, p)
			}
		}
		for p := range fake {
			if !real[p] {
				extra = append(extra, p)
			}
		}
		if len(missing)+len(extra) > 0 {
			slices.Sort(missing)
			slices.Sort(extra)
			t.Errorf("hostdev: the mock lacks %v and adds %v compared with libvirt's normalised hostdev", missing, extra)
		}
	})
}

// fakeOnly are parts of the mock's answers that a real answer of this container cannot show
// (it has no hostdev to attach and no NUMA information on its virtio devices).
// (it has no hostdev to attach, no IOMMU, no PCIe link, no SR-IOV, no NUMA information on its
// virtio devices and no suspend support).
func fakeOnly(p string) bool {
	for _, part := range []string{"/hostdev", "/numa", "/iommuGroup", "/pci-express", "capability/capability", "/power_management"} {
		if strings.Contains(p, part) {
			return true
		}
	}
	return false
}

// knownGaps are the fields virsh prints for the real daemon that the fake one does not answer yet
// (each is one more RPC procedure); a field missing beyond these fails the comparison.
var knownGaps = map[string][]string{
	"dominfo": {"OS Type", "CPU time", "Autostart", "Security model", "Security DOI"},
	// virsh prints a vCPU's CPU time only when it is not 0; the mock's guests burn none.
	"vcpuinfo": {"CPU time"},
}

// kvmStatRE are the KVM statistics (query-stats) the real daemon reports for a running guest.
var kvmStatRE = regexp.MustCompile(`^(vcpu\.N\.[a-z0-9_]+\.(sum|cur|max)|vm\.[a-z0-9_]+\.(sum|cur|max))$`)

// xmlPaths is the set of element paths (a/b/c) and attribute paths (a/b/c@name) of a document.
func xmlPaths(t *testing.T, doc string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	d := xml.NewDecoder(strings.NewReader(doc))
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, doc)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			stack = append(stack, el.Name.Local)
			p := strings.Join(stack, "/")
			out[p] = true
			for _, a := range el.Attr {
				out[p+"@"+a.Name.Local] = true
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// hostdevPaths are the paths inside the first <hostdev> of a domain, relative to it.
func hostdevPaths(t *testing.T, doc string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for p := range xmlPaths(t, doc) {
		if i := strings.Index(p, "/devices/hostdev"); i >= 0 {
			out[p[i+len("/devices/"):]] = true
		}
	}
	if len(out) == 0 {
		t.Fatalf("no hostdev in\n%s", doc)
	}
	return out
}

// tableKeys are the field names of a `key: value` answer (nodeinfo, dominfo), in order.
func tableKeys(out string) []string {
	var keys []string
	for _, l := range strings.Split(out, "\n") {
		if k, _, ok := strings.Cut(l, ":"); ok {
			keys = append(keys, strings.TrimSpace(k))
		}
	}
	return keys
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

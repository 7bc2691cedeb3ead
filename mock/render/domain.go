package render

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/hwcert/hwcert/mock/cpuset"
	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/scheduler"
)

// Server is what the domain XML needs to know of a Nova server.
type Server struct {
	// InstanceID is the cell database id: the libvirt domain id and the %08x in the name.
	InstanceID int
	UUID       string
	// Name is the server's display name (nova:name in the metadata).
	Name string
	// InstanceName is the domain name; empty means instance-%08x of InstanceID (Nova's default
	// instance_name_template).
	InstanceName string
	VCPUs        int
	MemoryMB     int
	FlavorName   string
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// firstHostdevSlot is the guest PCI slot of the first hostdev; Nova's fake libvirt and a real
// i440fx guest with a disk and a balloon put passthrough devices from slot 5 on.
const firstHostdevSlot = 0x05

// maxHostdevs is how many hostdevs fit on bus 0 from firstHostdevSlot to slot 0x1f.
const maxHostdevs = 0x1f - firstHostdevSlot + 1

// InstanceName is Nova's default domain name for an instance id (instance_name_template).
func InstanceName(id int) string { return fmt.Sprintf("instance-%08x", id) }

func (s Server) domainName() string {
	if s.InstanceName != "" {
		return s.InstanceName
	}
	return InstanceName(s.InstanceID)
}

// checkDomain rejects inputs libvirt itself would refuse, or that no Nova could produce.
func checkDomain(inv *lab.HostInventory, s Server, p *scheduler.Placement) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if inv == nil || inv.Host == nil {
		return errors.New("render: host inventory is nil")
	}
	if p == nil {
		return errors.New("render: placement is nil")
	}
	if s.InstanceID <= 0 {
		bad("server.InstanceID: %d: expected a positive instance id", s.InstanceID)
	}
	if !uuidRE.MatchString(s.UUID) {
		bad("server.UUID: %q: expected a UUID such as 6f1bb4a3-2f7c-4d0e-9b58-8a3f6f4c0001", s.UUID)
	}
	if s.VCPUs <= 0 {
		bad("server.VCPUs: %d: expected at least one vCPU", s.VCPUs)
	}
	if s.MemoryMB <= 0 {
		bad("server.MemoryMB: %d: expected a positive amount of memory", s.MemoryMB)
	}
	if p.Host != "" && p.Host != inv.Host.Name {
		bad("placement.Host: %q: the inventory is of host %q", p.Host, inv.Host.Name)
	}
	if len(p.Devices) > maxHostdevs {
		bad("placement.Devices: %d devices: at most %d fit on guest PCI bus 0", len(p.Devices), maxHostdevs)
	}
	seenDev := map[lab.Address]bool{}
	for i, d := range p.Devices {
		if _, ok := inv.Device(d.Address); !ok {
			bad("placement.Devices[%d]: %s: no such PCI device on host %s", i, d.Address, inv.Host.Name)
		}
		if seenDev[d.Address] {
			bad("placement.Devices[%d]: %s: attached twice", i, d.Address)
		}
		seenDev[d.Address] = true
	}
	if p.NUMA {
		if len(p.Cells) == 0 {
			bad("placement.Cells: empty: a guest with a NUMA topology has at least one cell")
		}
		seenVCPU := map[int]bool{}
		mem := 0
		for i, c := range p.Cells {
			f := fmt.Sprintf("placement.Cells[%d]", i)
			if c.ID != i {
				bad("%s.ID: %d: guest cells are numbered from 0 in order, expected %d", f, c.ID, i)
			}
			if _, ok := inv.Host.Node(c.HostNode); !ok {
				bad("%s.HostNode: %d: no such NUMA node on host %s", f, c.HostNode, inv.Host.Name)
			}
			if len(c.VCPUs) == 0 {
				bad("%s.VCPUs: empty: a guest cell needs at least one vCPU", f)
			}
			for _, v := range c.VCPUs {
				if v < 0 || v >= s.VCPUs || seenVCPU[v] {
					bad("%s.VCPUs: vCPU %d: expected each of 0-%d exactly once across cells", f, v, s.VCPUs-1)
				}
				seenVCPU[v] = true
			}
			if len(c.PCPUs) == 0 {
				bad("%s.PCPUs: empty: the cell's vCPUs need host CPUs", f)
			}
			if p.Dedicated && len(c.PCPUs) != len(c.VCPUs) {
				bad("%s.PCPUs: %v: a dedicated guest pins each of its %d vCPUs to one pCPU", f, c.PCPUs, len(c.VCPUs))
			}
			if c.MemoryMB <= 0 {
				bad("%s.MemoryMB: %d: expected a positive amount of memory", f, c.MemoryMB)
			}
			mem += c.MemoryMB
		}
		if len(seenVCPU) != s.VCPUs && len(p.Cells) > 0 {
			bad("placement.Cells: the cells hold %d of the server's %d vCPUs", len(seenVCPU), s.VCPUs)
		}
		if mem != s.MemoryMB && len(p.Cells) > 0 {
			bad("placement.Cells: the cells hold %d MB of the server's %d MB", mem, s.MemoryMB)
		}
	}
	return errors.Join(errs...)
}

// DomainXML renders the live XML (`virsh dumpxml`) of a running domain as Nova's libvirt driver
// defines it and libvirt 9.0 reports it: id, name, uuid, Nova metadata, memory, vCPUs, then —
// only for a guest with a NUMA topology — cputune (vcpupin, emulatorpin), numatune (memory and
// one memnode per guest cell) and the guest NUMA cells in <cpu>, and one managed PCI hostdev per
// attached device with libvirt's alias and guest address. Like Nova, it never writes
// <driver name='vfio'/>.
func DomainXML(inv *lab.HostInventory, s Server, p *scheduler.Placement) (string, error) {
	if err := checkDomain(inv, s, p); err != nil {
		return "", fmt.Errorf("render domain of server %s: %w", s.UUID, err)
	}
	memKiB := uint64(s.MemoryMB) * 1024
	w := &writer{}
	w.open("<domain type='kvm' id='%d'>", s.InstanceID)
	w.line("<name>%s</name>", esc(s.domainName()))
	w.line("<uuid>%s</uuid>", s.UUID)
	w.open("<metadata>")
	w.open(`<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">`)
	w.line(`<nova:package version="27.1.0"/>`)
	w.line("<nova:name>%s</nova:name>", esc(s.Name))
	w.open(`<nova:flavor name="%s">`, esc(s.FlavorName))
	w.line("<nova:memory>%d</nova:memory>", s.MemoryMB)
	w.line("<nova:vcpus>%d</nova:vcpus>", s.VCPUs)
	w.close("nova:flavor")
	w.close("nova:instance")
	w.close("metadata")
	w.line("<memory unit='KiB'>%d</memory>", memKiB)
	w.line("<currentMemory unit='KiB'>%d</currentMemory>", memKiB)
	if !p.NUMA && len(p.SharedCPUs) > 0 {
		// cpu_shared_set without a guest NUMA topology: the vCPUs float over the shared set.
		w.line("<vcpu placement='static' cpuset='%s'>%d</vcpu>", cpuset.Format(p.SharedCPUs), s.VCPUs)
	} else {
		w.line("<vcpu placement='static'>%d</vcpu>", s.VCPUs)
	}
	if p.NUMA {
		renderNUMATuning(w, p)
	}
	w.open("<resource>")
	w.line("<partition>/machine</partition>")
	w.close("resource")
	w.open("<sysinfo type='smbios'>")
	w.open("<system>")
	w.line("<entry name='manufacturer'>OpenStack Foundation</entry>")
	w.line("<entry name='product'>OpenStack Nova</entry>")
	w.line("<entry name='version'>27.1.0</entry>")
	w.line("<entry name='serial'>%s</entry>", s.UUID)
	w.line("<entry name='uuid'>%s</entry>", s.UUID)
	w.line("<entry name='family'>Virtual Machine</entry>")
	w.close("system")
	w.close("sysinfo")
	w.open("<os>")
	w.line("<type arch='x86_64' machine='%s'>hvm</type>", machine)
	w.line("<boot dev='hd'/>")
	w.line("<smbios mode='sysinfo'/>")
	w.close("os")
	w.open("<features>")
	w.line("<acpi/>")
	w.line("<apic/>")
	w.close("features")
	w.open("<cpu mode='host-model' check='partial'>")
	w.line("<topology sockets='%d' dies='1' cores='1' threads='1'/>", s.VCPUs)
	if p.NUMA {
		w.open("<numa>")
		for _, c := range p.Cells {
			w.line("<cell id='%d' cpus='%s' memory='%d' unit='KiB'/>", c.ID, cpuset.Format(c.VCPUs), uint64(c.MemoryMB)*1024)
		}
		w.close("numa")
	}
	w.close("cpu")
	w.open("<clock offset='utc'>")
	w.line("<timer name='pit' tickpolicy='delay'/>")
	w.line("<timer name='rtc' tickpolicy='catchup'/>")
	w.line("<timer name='hpet' present='no'/>")
	w.close("clock")
	w.line("<on_poweroff>destroy</on_poweroff>")
	w.line("<on_reboot>restart</on_reboot>")
	w.line("<on_crash>destroy</on_crash>")
	renderDevices(w, s, p)
	w.open("<seclabel type='dynamic' model='dac' relabel='yes'>")
	w.line("<label>+64055:+108</label>")
	w.line("<imagelabel>+64055:+108</imagelabel>")
	w.close("seclabel")
	w.close("domain")
	return w.String(), nil
}

// renderNUMATuning writes <cputune> and <numatune> for a guest with a NUMA topology.
func renderNUMATuning(w *writer, p *scheduler.Placement) {
	type pin struct {
		vcpu  int
		pcpus []int
	}
	var pins []pin
	var emulator, nodes []int
	for _, c := range p.Cells {
		for i, v := range c.VCPUs {
			if p.Dedicated {
				pins = append(pins, pin{v, []int{c.PCPUs[i]}})
			} else {
				pins = append(pins, pin{v, c.PCPUs})
			}
		}
		emulator = append(emulator, c.PCPUs...)
		nodes = append(nodes, c.HostNode)
	}
	// libvirt formats vcpupin in vCPU order whatever the cell order.
	slices.SortFunc(pins, func(a, b pin) int { return a.vcpu - b.vcpu })
	w.open("<cputune>")
	for _, pn := range pins {
		w.line("<vcpupin vcpu='%d' cpuset='%s'/>", pn.vcpu, cpuset.Format(pn.pcpus))
	}
	w.line("<emulatorpin cpuset='%s'/>", cpuset.Format(emulator))
	w.close("cputune")
	if p.Unbound {
		return
	}
	if p.MemoryNodes != nil {
		nodes = p.MemoryNodes
	}
	w.open("<numatune>")
	w.line("<memory mode='%s' nodeset='%s'/>", cmp.Or(p.MemoryMode, "strict"), cpuset.Format(nodes))
	for _, c := range p.Cells {
		w.line("<memnode cellid='%d' mode='%s' nodeset='%d'/>", c.ID, cmp.Or(p.MemNodeMode, "strict"), c.HostNode)
	}
	w.close("numatune")
}

// renderDevices writes the <devices> of a Nova guest: disk, controllers, serial console, the PCI
// hostdevs and the balloon.
func renderDevices(w *writer, s Server, p *scheduler.Placement) {
	dir := "/var/lib/nova/instances/" + s.UUID
	w.open("<devices>")
	w.line("<emulator>%s</emulator>", emulator)
	w.open("<disk type='file' device='disk'>")
	w.line("<driver name='qemu' type='qcow2' cache='none'/>")
	w.line("<source file='%s/disk' index='1'/>", dir)
	w.line("<backingStore/>")
	w.line("<target dev='vda' bus='virtio'/>")
	w.line("<alias name='virtio-disk0'/>")
	w.line("<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>")
	w.close("disk")
	w.open("<controller type='usb' index='0' model='piix3-uhci'>")
	w.line("<alias name='usb'/>")
	w.line("<address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>")
	w.close("controller")
	w.open("<controller type='pci' index='0' model='pci-root'>")
	w.line("<alias name='pci.0'/>")
	w.close("controller")
	for _, el := range []string{"serial", "console"} {
		if el == "serial" {
			w.open("<serial type='pty'>")
		} else {
			w.open("<console type='pty' tty='/dev/pts/%d'>", s.InstanceID%64)
		}
		w.line("<source path='/dev/pts/%d'/>", s.InstanceID%64)
		w.line("<log file='%s/console.log' append='off'/>", dir)
		if el == "serial" {
			w.open("<target type='isa-serial' port='0'>")
			w.line("<model name='isa-serial'/>")
			w.close("target")
		} else {
			w.line("<target type='serial' port='0'/>")
		}
		w.line("<alias name='serial0'/>")
		w.close(el)
	}
	for i, d := range p.Devices {
		a := d.Address
		w.open("<hostdev mode='subsystem' type='pci' managed='yes'>")
		w.open("<source>")
		w.line("%s", pciAddr(a.Domain, a.Bus, a.Slot, a.Function))
		w.close("source")
		w.line("<alias name='hostdev%d'/>", i)
		w.line("<address type='pci' domain='0x0000' bus='0x00' slot='0x%02x' function='0x0'/>", firstHostdevSlot+i)
		w.close("hostdev")
	}
	w.open("<memballoon model='virtio'>")
	w.line("<stats period='10'/>")
	w.line("<alias name='balloon0'/>")
	w.line("<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>")
	w.close("memballoon")
	w.close("devices")
}

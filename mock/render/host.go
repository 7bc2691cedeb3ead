package render

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hwcert/hwcert/mock/lab"
)

// SysinfoXML renders `virsh sysinfo` of the host: the SMBIOS tables dmidecode reads on a
// two-socket Xeon server — BIOS, system (the UUID of the capabilities), base board, chassis, one
// processor per socket and one memory device per NUMA node holding that node's memory.
func SysinfoXML(inv *lab.HostInventory) (string, error) {
	if inv == nil || inv.Host == nil {
		return "", errors.New("render: host inventory is nil")
	}
	h := inv.Host
	entries := func(w *writer, kv ...string) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.line("<entry name='%s'>%s</entry>", kv[i], esc(kv[i+1]))
		}
	}
	w := &writer{}
	w.open("<sysinfo type='smbios'>")
	w.open("<bios>")
	entries(w, "vendor", "hwcert", "version", "1.0", "date", "01/01/2024", "release", "1.0")
	w.close("bios")
	w.open("<system>")
	entries(w, "manufacturer", "hwcert", "product", "hwcert mock compute host "+h.Name, "version", "1.0",
		"serial", h.Name, "uuid", HostUUID(h.Name), "sku", "hwcert-mock", "family", "Server")
	w.close("system")
	w.open("<baseBoard>")
	entries(w, "manufacturer", "hwcert", "product", "hwcert mock board", "version", "1.0", "serial", h.Name,
		"asset", "Not Specified", "location", "Not Specified")
	w.close("baseBoard")
	w.open("<chassis>")
	entries(w, "manufacturer", "hwcert", "version", "1.0", "serial", h.Name, "asset", "Not Specified", "sku", "Not Specified")
	w.close("chassis")
	var sockets []int
	for _, c := range inv.CPUs {
		if !slices.Contains(sockets, c.Socket) {
			sockets = append(sockets, c.Socket)
		}
	}
	slices.Sort(sockets)
	for _, s := range sockets {
		w.open("<processor>")
		entries(w, "socket_destination", fmt.Sprintf("CPU%d", s), "type", "Central Processor", "family", "Xeon",
			"manufacturer", "Intel(R) Corporation", "signature", "Type 0, Family 6, Model 85, Stepping 4",
			"version", "Intel(R) Xeon(R) Gold 6138 CPU @ 2.00GHz", "external_clock", "100 MHz", "max_speed", "4000 MHz",
			"status", "Populated, Enabled", "serial_number", "Not Specified", "part_number", "Not Specified")
		w.close("processor")
	}
	nodes := slices.Clone(h.NUMANodes)
	slices.SortFunc(nodes, func(a, b lab.NUMANode) int { return a.ID - b.ID })
	for _, n := range nodes {
		w.open("<memory_device>")
		entries(w, "size", fmt.Sprintf("%d MB", n.MemoryMB), "form_factor", "DIMM",
			"locator", fmt.Sprintf("CPU%d_DIMM_A1", n.Socket), "bank_locator", fmt.Sprintf("NODE %d", n.ID),
			"type", "DDR4", "type_detail", "Synchronous", "speed", "2666 MT/s", "manufacturer", "hwcert",
			"serial_number", fmt.Sprintf("%s-%d", h.Name, n.ID), "part_number", "Not Specified")
		w.close("memory_device")
	}
	w.close("sysinfo")
	return w.String(), nil
}

// DomainCapsQuery is what virConnectGetDomainCapabilities asks; empty fields take the host's
// defaults (the emulator of x86_64, its default machine, kvm).
type DomainCapsQuery struct {
	Emulator, Arch, Machine, VirtType string
}

// machines are the QEMU 7.2 machine types of the capabilities, by every name a client may use,
// with their canonical name and vCPU limit.
var machines = map[string]struct {
	canonical string
	maxCPUs   int
}{
	machine: {machine, 255}, "pc": {machine, 255},
	"pc-q35-7.2": {"pc-q35-7.2", 288}, "q35": {"pc-q35-7.2", 288},
}

// DomainCapabilitiesXML renders `virsh domcapabilities` as libvirt 9.0 with QEMU 7.2 reports it on
// an Intel host with VFIO: the machine's vCPU limit (what `virsh maxvcpus` prints), firmware,
// CPU modes with the host-model of the capabilities, and the device types, hostdev with the vfio
// PCI backend. It refuses what libvirt refuses: another emulator, architecture, machine or
// virtualization type.
func DomainCapabilitiesXML(q DomainCapsQuery) (string, error) {
	if q.Emulator == "" {
		q.Emulator = emulator
	}
	if q.Arch == "" {
		q.Arch = "x86_64"
	}
	if q.VirtType == "" {
		q.VirtType = "kvm"
	}
	if q.Machine == "" {
		q.Machine = machine
	}
	switch {
	case q.Emulator != emulator:
		return "", fmt.Errorf("emulator '%s' does not exist or is not executable", q.Emulator)
	case q.Arch != "x86_64":
		return "", fmt.Errorf("unable to find any emulator to serve '%s' architecture", q.Arch)
	case q.VirtType != "kvm" && q.VirtType != "qemu":
		return "", fmt.Errorf("unknown virttype: %s", q.VirtType)
	}
	m, ok := machines[q.Machine]
	if !ok {
		return "", fmt.Errorf("the machine '%s' is not supported by emulator '%s'", q.Machine, q.Emulator)
	}
	w := &writer{}
	enum := func(name string, values ...string) {
		if len(values) == 0 {
			w.line("<enum name='%s'/>", name)
			return
		}
		w.open("<enum name='%s'>", name)
		for _, v := range values {
			w.line("<value>%s</value>", v)
		}
		w.close("enum")
	}
	w.open("<domainCapabilities>")
	w.line("<path>%s</path>", q.Emulator)
	w.line("<domain>%s</domain>", q.VirtType)
	w.line("<machine>%s</machine>", m.canonical)
	w.line("<arch>%s</arch>", q.Arch)
	w.line("<vcpu max='%d'/>", m.maxCPUs)
	w.line("<iothreads supported='yes'/>")
	w.open("<os supported='yes'>")
	enum("firmware")
	w.open("<loader supported='yes'>")
	enum("type", "rom", "pflash")
	enum("readonly", "yes", "no")
	enum("secure", "no")
	w.close("loader")
	w.close("os")
	w.open("<cpu>")
	w.open("<mode name='host-passthrough' supported='yes'>")
	enum("hostPassthroughMigratable", "on", "off")
	w.close("mode")
	w.open("<mode name='maximum' supported='yes'>")
	enum("maximumMigratable", "on", "off")
	w.close("mode")
	w.open("<mode name='host-model' supported='yes'>")
	w.line("<model fallback='forbid'>Skylake-Server-IBRS</model>")
	w.line("<vendor>Intel</vendor>")
	for _, f := range []string{"ss", "vmx", "pdcm", "hypervisor", "tsc_adjust", "clflushopt", "umip", "pku", "md-clear", "stibp", "arch-capabilities", "ssbd", "xsaves", "ibpb", "ibrs", "amd-stibp", "amd-ssbd", "rdctl-no", "ibrs-all", "skip-l1dfl-vmentry", "mds-no", "pschange-mc-no"} {
		w.line("<feature policy='require' name='%s'/>", f)
	}
	w.close("mode")
	w.open("<mode name='custom' supported='yes'>")
	for _, c := range []string{"qemu64", "qemu32", "kvm64", "kvm32", "Skylake-Server", "Skylake-Server-IBRS", "Skylake-Server-noTSX-IBRS", "Cascadelake-Server", "Icelake-Server"} {
		w.line("<model usable='yes'>%s</model>", c)
	}
	w.close("mode")
	w.close("cpu")
	w.open("<memoryBacking supported='yes'>")
	enum("sourceType", "file", "anonymous", "memfd")
	w.close("memoryBacking")
	w.open("<devices>")
	w.open("<disk supported='yes'>")
	enum("diskDevice", "disk", "cdrom", "floppy", "lun")
	enum("bus", "ide", "fdc", "scsi", "virtio", "usb", "sata")
	enum("model", "virtio", "virtio-transitional", "virtio-non-transitional")
	w.close("disk")
	w.open("<graphics supported='yes'>")
	enum("type", "sdl", "vnc", "spice", "egl-headless", "dbus")
	w.close("graphics")
	w.open("<video supported='yes'>")
	enum("modelType", "vga", "cirrus", "vmvga", "qxl", "virtio", "none", "bochs", "ramfb")
	w.close("video")
	w.open("<hostdev supported='yes'>")
	enum("mode", "subsystem")
	enum("startupPolicy", "default", "mandatory", "requisite", "optional")
	enum("subsysType", "usb", "pci", "scsi")
	enum("capsType")
	enum("pciBackend", "default", "vfio")
	w.close("hostdev")
	w.open("<rng supported='yes'>")
	enum("model", "virtio", "virtio-transitional", "virtio-non-transitional")
	enum("backendModel", "random", "egd", "builtin")
	w.close("rng")
	w.open("<filesystem supported='yes'>")
	enum("driverType", "path", "handle", "virtiofs")
	w.close("filesystem")
	w.open("<tpm supported='yes'>")
	enum("model", "tpm-tis", "tpm-crb")
	enum("backendModel", "passthrough")
	w.close("tpm")
	w.open("<redirdev supported='yes'>")
	enum("bus", "usb")
	w.close("redirdev")
	w.open("<channel supported='yes'>")
	enum("type", "pty", "unix", "spicevmc")
	w.close("channel")
	w.close("devices")
	w.open("<features>")
	for _, f := range []string{"<gic supported='no'/>", "<vmcoreinfo supported='yes'/>", "<genid supported='yes'/>",
		"<backingStoreInput supported='yes'/>", "<backup supported='yes'/>", "<sev supported='no'/>", "<sgx supported='no'/>"} {
		w.line("%s", f)
	}
	w.open("<hyperv supported='yes'>")
	enum("features", "spinlocks", "vendor_id")
	w.close("hyperv")
	w.close("features")
	w.close("domainCapabilities")
	return w.String(), nil
}

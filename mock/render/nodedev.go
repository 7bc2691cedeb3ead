package render

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
)

// ComputerDevice is the name of the root node device every other device descends from.
const ComputerDevice = "computer"

// ComputerDeviceXML renders the `computer` root node device (capability type 'system').
func ComputerDeviceXML(inv *lab.HostInventory) (string, error) {
	if inv == nil || inv.Host == nil {
		return "", errors.New("render: host inventory is nil")
	}
	w := &writer{}
	w.open("<device>")
	w.line("<name>%s</name>", ComputerDevice)
	w.open("<capability type='system'>")
	w.line("<product>hwcert mock compute host %s</product>", esc(inv.Host.Name))
	w.open("<hardware>")
	w.line("<vendor>hwcert</vendor>")
	w.line("<version>1.0</version>")
	w.line("<serial>%s</serial>", esc(inv.Host.Name))
	w.line("<uuid>%s</uuid>", HostUUID(inv.Host.Name))
	w.close("hardware")
	w.open("<firmware>")
	w.line("<vendor>hwcert</vendor>")
	w.line("<version>1.0</version>")
	w.line("<release_date>01/01/2024</release_date>")
	w.close("firmware")
	w.close("capability")
	w.close("device")
	return w.String(), nil
}

// parseHexID reads a lab vendor/product/class id ("8086", "0x0b4000").
func parseHexID(field, s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, bits)
	if err != nil {
		return 0, fmt.Errorf("render: %s %q: expected a hexadecimal id", field, s)
	}
	return v, nil
}

// NodeDeviceXML renders a PCI function as `virsh nodedev-dumpxml pci_DDDD_BB_SS_F` shows it on
// libvirt 9.0: sysfs path and parent (its root port in topo), bound driver, and a 'pci' capability with class,
// domain/bus/slot/function in decimal, product/vendor ids and names, SR-IOV sub-capabilities
// (virt_functions on a PF, phys_function on a VF), the IOMMU group, the NUMA node (absent when
// the device has none, exactly as libvirt omits it for sysfs numa_node -1) and the PCIe link.
func NodeDeviceXML(inv *lab.HostInventory, topo *PCITopology, d *lab.Device) (string, error) {
	if inv == nil || inv.Host == nil {
		return "", errors.New("render: host inventory is nil")
	}
	if d == nil {
		return "", errors.New("render: device is nil")
	}
	if topo == nil || topo.inv != inv {
		return "", errors.New("render: the PCI topology is not the inventory's")
	}
	if _, ok := inv.Device(d.Address); !ok {
		return "", fmt.Errorf("render: device %s is not in the inventory of host %s", d.Address, inv.Host.Name)
	}
	vendor, err := parseHexID("vendor_id", d.VendorID, 16)
	if err != nil {
		return "", err
	}
	product, err := parseHexID("product_id", d.ProductID, 16)
	if err != nil {
		return "", err
	}
	class, err := parseHexID("class", d.Class, 24)
	if err != nil {
		return "", err
	}
	a := d.Address
	if d.Type == vocab.TypeVF && d.Parent == nil {
		return "", fmt.Errorf("render: VF %s has no parent PF", a)
	}
	w := &writer{}
	w.open("<device>")
	w.line("<name>%s</name>", a.NodeDevName())
	w.line("<path>%s</path>", topo.sysfsPath(d))
	w.line("<parent>%s</parent>", topo.Parent(d))
	if d.Driver != "" {
		w.open("<driver>")
		w.line("<name>%s</name>", esc(d.Driver))
		w.close("driver")
	}
	w.open("<capability type='pci'>")
	w.line("<class>0x%06x</class>", class)
	w.line("<domain>%d</domain>", a.Domain)
	w.line("<bus>%d</bus>", a.Bus)
	w.line("<slot>%d</slot>", a.Slot)
	w.line("<function>%d</function>", a.Function)
	named := func(tag string, id uint64, name string) {
		if name == "" {
			w.line("<%s id='0x%04x'/>", tag, id)
			return
		}
		w.line("<%s id='0x%04x'>%s</%s>", tag, id, esc(name), tag)
	}
	named("product", product, d.ProductName)
	named("vendor", vendor, d.VendorName)
	switch d.Type {
	case vocab.TypeVF:
		p := d.Parent
		w.open("<capability type='phys_function'>")
		w.line("%s", pciAddr(p.Domain, p.Bus, p.Slot, p.Function))
		w.close("capability")
	case vocab.TypePF:
		w.open("<capability type='virt_functions' maxCount='%d'>", len(d.VFs))
		for _, v := range d.VFs {
			w.line("%s", pciAddr(v.Domain, v.Bus, v.Slot, v.Function))
		}
		w.close("capability")
	}
	w.open("<iommuGroup number='%d'>", d.IOMMUGroup)
	w.line("%s", pciAddr(a.Domain, a.Bus, a.Slot, a.Function))
	w.close("iommuGroup")
	if d.NUMANode != nil {
		w.line("<numa node='%d'/>", *d.NUMANode)
	}
	w.open("<pci-express>")
	w.line("<link validity='cap' port='0' speed='8' width='16'/>")
	if d.Type == vocab.TypeVF {
		// A VF has no link of its own; the kernel reports an untrained status link.
		w.line("<link validity='sta' width='0'/>")
	} else {
		w.line("<link validity='sta' speed='8' width='16'/>")
	}
	w.close("pci-express")
	w.close("capability")
	w.close("device")
	return w.String(), nil
}

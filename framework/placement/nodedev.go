package placement

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/hwcert/hwcert/config/vocab"
)

// ParseNodeDevice reads one node device XML (virNodeDeviceGetXMLDesc). ok is false, without an
// error, for a node device that is not a PCI device (net_*, usb_*...); Name is set even then.
// Socket is left nil: it is the host's business (Host.SocketOf). Errors name the element and the
// value; the caller adds which device or host it was reading. It is the harness's one reader of
// node device XML, for the inventory and Build alike.
func ParseNodeDevice(nodeDevXML string) (d Device, ok bool, err error) {
	var nd libvirtxml.NodeDevice
	if err := nd.Unmarshal(nodeDevXML); err != nil {
		return Device{}, false, fmt.Errorf("node device XML: %w", err)
	}
	pci := nd.Capability.PCI
	if pci == nil {
		return Device{Name: nd.Name}, false, nil
	}
	d = Device{Name: nd.Name, Function: vocab.FunctionPCI}
	if d.Address, err = addressFrom("node device "+nd.Name, pci.Domain, pci.Bus, pci.Slot, pci.Function); err != nil {
		return Device{}, false, err
	}
	if nd.Driver != nil {
		d.Driver = nd.Driver.Name
	}
	d.VendorName, d.ProductName, d.Class = pci.Vendor.Name, pci.Product.Name, pci.Class
	if d.VendorID, err = pciID(pci.Vendor.ID); err != nil {
		return Device{}, false, fmt.Errorf("vendor id: %w", err)
	}
	if d.ProductID, err = pciID(pci.Product.ID); err != nil {
		return Device{}, false, fmt.Errorf("product id: %w", err)
	}
	// Nova's libvirt driver (nova/virt/libvirt/host.py _get_device_type) goes through the
	// sub-capabilities in document order and the first that says something decides: virt_functions
	// makes a PF, phys_function with an address a VF. A device listing both (seen on some
	// firmware and in nested labs) is therefore whatever its first listed capability says.
classify:
	for _, sc := range pci.Capabilities {
		switch {
		case sc.VirtFunctions != nil:
			d.Function = vocab.FunctionPF
			break classify
		case sc.PhysFunction != nil:
			pa := sc.PhysFunction.Address
			if pa.Domain == nil && pa.Bus == nil && pa.Slot == nil && pa.Function == nil {
				continue // no address: Nova does not take it for a VF
			}
			pf, err := addressFrom("phys_function", pa.Domain, pa.Bus, pa.Slot, pa.Function)
			if err != nil {
				return Device{}, false, err
			}
			d.Function = vocab.FunctionVF
			d.PF = &pf
			break classify
		}
	}
	// libvirt omits <numa> when sysfs says -1; treat an explicit negative node the same way.
	if pci.NUMA != nil && pci.NUMA.Node >= 0 {
		n := pci.NUMA.Node
		d.NUMANode = &n
	}
	return d, true, nil
}

// pciID normalises "0x8086" to "8086" and insists on 4 hex digits.
func pciID(s string) (string, error) {
	id := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x")
	if len(id) != 4 || strings.Trim(id, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%q: expected 0x followed by 4 hex digits", s)
	}
	return id, nil
}

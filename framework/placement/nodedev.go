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
	for _, sc := range pci.Capabilities {
		switch {
		case sc.VirtFunctions != nil:
			d.Function = vocab.FunctionPF
		case sc.PhysFunction != nil:
			pa := sc.PhysFunction.Address
			pf, err := addressFrom("phys_function", pa.Domain, pa.Bus, pa.Slot, pa.Function)
			if err != nil {
				return Device{}, false, err
			}
			d.Function = vocab.FunctionVF
			d.PF = &pf
		}
	}
	if d.PF != nil && d.Function != vocab.FunctionVF {
		return Device{}, false, fmt.Errorf("node device has both virt_functions and phys_function, expected one of them")
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

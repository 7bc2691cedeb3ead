package config

import (
	"fmt"
	"strconv"
	"strings"
)

// DeviceSpec mirrors one `[pci] device_spec` entry of the lab's nova.conf, the fields that decide
// which devices Nova exposes for passthrough. An entry matches a device when every field it sets
// matches; the harness needs it because libvirt lists every device, exposed or not.
type DeviceSpec struct {
	VendorID  string `json:"vendor_id,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	// Address is Nova's address glob (nova/pci/devspec.py PciAddressGlobSpec): DDDD:BB:SS.F
	// read field by field, each field '*' (or empty) for any value or a hex number — not a shell
	// glob: "0000:3D:*" matches 0000:3d:00.0, "3*" is an error. Leading fields may be left out
	// (":3d:00." is any domain, bus 3d, slot 00, any function). An exact PF address also matches
	// the PF's VFs, as in Nova.
	Address string `json:"address,omitempty"`
}

// addrGlob is a parsed Address: each of domain, bus, slot, function, -1 for any.
type addrGlob [4]int

// parseAddrGlob reads an address glob as Nova does; errors say which field and why.
func parseAddrGlob(s string) (addrGlob, error) {
	g := addrGlob{-1, -1, -1, -1}
	dbs, fn, _ := strings.Cut(s, ".")
	fields := strings.Split(dbs, ":")
	if len(fields) > 3 {
		return g, fmt.Errorf("expected at most DDDD:BB:SS before the '.'")
	}
	fields = append(make([]string, 3-len(fields)), fields...)
	names := []string{"domain", "bus", "slot", "function"}
	limits := []int{0xffff, 0xff, 0x1f, 0x7}
	for i, f := range append(fields, fn) {
		f = strings.TrimSpace(f)
		if f == "" || f == "*" {
			continue
		}
		v, err := strconv.ParseUint(f, 16, 32)
		if err != nil {
			return g, fmt.Errorf("%s %q does not parse as a hex number (a field is '*' or a number, not a partial glob)", names[i], f)
		}
		if int(v) > limits[i] {
			return g, fmt.Errorf("%s %q is greater than the maximum %#x", names[i], f, limits[i])
		}
		g[i] = int(v)
	}
	return g, nil
}

// exact says whether the glob names one address (Nova then also matches the VFs of that PF).
func (g addrGlob) exact() bool { return g[0] >= 0 && g[1] >= 0 && g[2] >= 0 && g[3] >= 0 }

func (g addrGlob) match(a [4]uint) bool {
	for i, v := range g {
		if v >= 0 && uint(v) != a[i] {
			return false
		}
	}
	return true
}

// Matches says whether the entry exposes a device with these IDs (4 lowercase hex digits) and
// address (domain, bus, slot, function); pf is the device's PF address for a VF, else nil. A
// malformed Address matches nothing (Validate reports it).
func (s DeviceSpec) Matches(vendor, product string, addr [4]uint, pf *[4]uint) bool {
	if s.VendorID != "" && !strings.EqualFold(s.VendorID, vendor) {
		return false
	}
	if s.ProductID != "" && !strings.EqualFold(s.ProductID, product) {
		return false
	}
	if s.Address == "" {
		return true
	}
	g, err := parseAddrGlob(s.Address)
	if err != nil {
		return false
	}
	return g.match(addr) || (pf != nil && g.exact() && g.match(*pf))
}

package placement

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Address is a host PCI address. It is comparable, so it keys maps.
type Address struct {
	Domain, Bus, Slot, Function uint
}

// String is the canonical sysfs form, e.g. "0000:3d:01.2".
func (a Address) String() string {
	return fmt.Sprintf("%04x:%02x:%02x.%x", a.Domain, a.Bus, a.Slot, a.Function)
}

// NodeDeviceName is libvirt's node device name for the address, e.g. "pci_0000_3d_01_2".
func (a Address) NodeDeviceName() string {
	return fmt.Sprintf("pci_%04x_%02x_%02x_%x", a.Domain, a.Bus, a.Slot, a.Function)
}

// Compare orders addresses by domain, bus, slot, function. The mock has its own compareAddr on
// purpose: the harness and the mock share no parsing or ordering code, so a bug in one cannot make
// both agree on a wrong answer (DESIGN.md, "The three seams").
func (a Address) Compare(b Address) int {
	return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.Bus, b.Bus),
		cmp.Compare(a.Slot, b.Slot), cmp.Compare(a.Function, b.Function))
}

// Limits of the PCI address fields.
const (
	maxDomain   = 0xffff
	maxBus      = 0xff
	maxSlot     = 0x1f
	maxFunction = 0x7
)

// NewAddress builds an address from its parts and checks their ranges.
func NewAddress(domain, bus, slot, function uint) (Address, error) {
	a := Address{domain, bus, slot, function}
	if domain > maxDomain || bus > maxBus || slot > maxSlot || function > maxFunction {
		return Address{}, fmt.Errorf("PCI address %s: out of range (domain ≤ 0xffff, bus ≤ 0xff, slot ≤ 0x1f, function ≤ 7)", a)
	}
	return a, nil
}

// ParseAddress reads "0000:3d:01.2" (or "3d:01.2", domain 0).
func ParseAddress(s string) (Address, error) {
	orig := s
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ":")
	if len(parts) == 2 {
		parts = append([]string{"0000"}, parts...)
	}
	if len(parts) != 3 {
		return Address{}, fmt.Errorf("PCI address %q: expected DDDD:BB:SS.F", orig)
	}
	slot, fn, ok := strings.Cut(parts[2], ".")
	if !ok {
		return Address{}, fmt.Errorf("PCI address %q: expected DDDD:BB:SS.F", orig)
	}
	var v [4]uint
	for i, p := range []string{parts[0], parts[1], slot, fn} {
		n, err := strconv.ParseUint(p, 16, 32)
		if err != nil || p == "" {
			return Address{}, fmt.Errorf("PCI address %q: %q is not a hex number", orig, p)
		}
		v[i] = uint(n)
	}
	return NewAddress(v[0], v[1], v[2], v[3])
}

// addressFrom turns libvirtxml's optional attributes into an Address; what names the element
// for the error when an attribute is missing or out of range.
func addressFrom(what string, domain, bus, slot, function *uint) (Address, error) {
	var missing []string
	for _, f := range []struct {
		name string
		v    *uint
	}{{"domain", domain}, {"bus", bus}, {"slot", slot}, {"function", function}} {
		if f.v == nil {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Address{}, fmt.Errorf("%s: address without %s", what, strings.Join(missing, ", "))
	}
	a, err := NewAddress(*domain, *bus, *slot, *function)
	if err != nil {
		return Address{}, fmt.Errorf("%s: %w", what, err)
	}
	return a, nil
}

// MarshalText writes the canonical form, so addresses read well in JSON reports and golden files.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads "0000:3d:01.2".
func (a *Address) UnmarshalText(b []byte) error {
	v, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

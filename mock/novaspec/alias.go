// Package novaspec is the API side of Nova for PCI passthrough, without I/O: parsing
// `pci_passthrough:alias` into PCI requests exactly as nova/pci/request.py does, validating
// flavor extra specs as nova/api/validation/extra_specs does from microversion 2.86, deriving the
// guest NUMA topology as nova/virt/hardware.py numa_get_constraints does. The mock API and the
// mock scheduler both use it, so they agree on every value. (Microversions are the API's
// business: mock/openstack negotiates them.)
package novaspec

import (
	"fmt"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
)

// AliasCount is one "name:count" element of a pci_passthrough:alias value.
type AliasCount struct {
	Name  string
	Count int
}

// MalformedAliasError is a pci_passthrough:alias value that Nova's parser cannot unpack: an
// element without a count, an empty element, an extra colon, or a count int() rejects. Nova raises
// a bare ValueError there, which nova-api turns into HTTP 500 "Unexpected API Error".
type MalformedAliasError struct {
	Value   string // the whole extra spec value
	Element string // the offending element
	Reason  string
}

func (e *MalformedAliasError) Error() string {
	return fmt.Sprintf("malformed %s %q: element %q: %s", vocab.SpecPCIAlias, e.Value, e.Element, e.Reason)
}

// AliasNotDefinedError is Nova's PciRequestAliasNotDefined: HTTP 400 at server create.
type AliasNotDefinedError struct{ Alias string }

func (e *AliasNotDefinedError) Error() string {
	return fmt.Sprintf("PCI alias %s is not defined", e.Alias)
}

// InvalidPolicyError is Nova's InvalidPCINUMAAffinity (HTTP 400), raised at server create when the
// flavor's hw:pci_numa_affinity_policy was stored without validation (microversion < 2.86).
type InvalidPolicyError struct{ Policy string }

func (e *InvalidPolicyError) Error() string {
	return fmt.Sprintf("Invalid PCI NUMA affinity configured: %s", e.Policy)
}

// element is one split element, count still unparsed, as Nova's list comprehension yields it.
type element struct{ raw, name, count string }

// splitAlias does Nova's `[spec.split(':') for spec in alias_spec.split(',')]`: every element is
// split (and must unpack into exactly two parts) before any name is looked up.
func splitAlias(value string) ([]element, error) {
	parts := strings.Split(value, ",")
	out := make([]element, 0, len(parts))
	for _, p := range parts {
		fields := strings.Split(p, ":")
		switch {
		case len(fields) < 2:
			return nil, &MalformedAliasError{Value: value, Element: p, Reason: "expected name:count (not enough values to unpack)"}
		case len(fields) > 2:
			return nil, &MalformedAliasError{Value: value, Element: p, Reason: "expected name:count (too many values to unpack)"}
		}
		out = append(out, element{raw: p, name: pyStrip(fields[0]), count: fields[1]})
	}
	return out, nil
}

func parseCount(value string, e element) (int, error) {
	v, ok := pyInt(e.count)
	if !ok {
		return 0, &MalformedAliasError{Value: value, Element: e.raw, Reason: fmt.Sprintf("invalid literal for int() with base 10: %q", e.count)}
	}
	return clampInt(v), nil
}

// ParseAlias parses a pci_passthrough:alias value without looking the names up. Names are
// stripped; counts follow Python int() (surrounding whitespace allowed, negative numbers parse);
// duplicates are kept as separate elements. Errors are *MalformedAliasError.
func ParseAlias(value string) ([]AliasCount, error) {
	elems, err := splitAlias(value)
	if err != nil {
		return nil, err
	}
	out := make([]AliasCount, 0, len(elems))
	for _, e := range elems {
		n, err := parseCount(value, e)
		if err != nil {
			return nil, err
		}
		out = append(out, AliasCount{Name: e.name, Count: n})
	}
	return out, nil
}

// PCIRequest is Nova's InstancePCIRequest built from a flavor alias.
type PCIRequest struct {
	Alias string
	Count int
	// Specs are the [pci] alias entries with that name; a device matching any of them will do.
	Specs []lab.Alias
	// DeviceType is the entries' device_type ("" = any type, but PFs still need type-PF).
	DeviceType string
	// Policy is the NUMA affinity policy: the flavor's hw:pci_numa_affinity_policy, else the
	// alias's numa_policy, else legacy.
	Policy string
}

// PCIRequests turns a flavor's extra specs into PCI requests, in the order Nova checks them:
// the flavor policy first (InvalidPolicyError), then the structure of every element
// (MalformedAliasError), then per element the name (AliasNotDefinedError) and the count
// (MalformedAliasError). No alias extra spec gives no requests.
func PCIRequests(aliases []lab.Alias, extraSpecs map[string]string) ([]PCIRequest, error) {
	flavorPolicy := extraSpecs[vocab.SpecPCINUMAPolicy]
	if flavorPolicy != "" && !validPolicy(flavorPolicy) {
		return nil, &InvalidPolicyError{Policy: flavorPolicy}
	}
	value, ok := extraSpecs[vocab.SpecPCIAlias]
	if !ok {
		return nil, nil
	}
	elems, err := splitAlias(value)
	if err != nil {
		return nil, err
	}
	out := make([]PCIRequest, 0, len(elems))
	for _, e := range elems {
		var specs []lab.Alias
		for _, a := range aliases {
			if a.Name == e.name {
				specs = append(specs, a)
			}
		}
		if len(specs) == 0 {
			return nil, &AliasNotDefinedError{Alias: e.name}
		}
		n, err := parseCount(value, e)
		if err != nil {
			return nil, err
		}
		policy := flavorPolicy
		if policy == "" {
			policy = specs[0].NUMAPolicy
		}
		if policy == "" {
			policy = vocab.PolicyLegacy
		}
		out = append(out, PCIRequest{Alias: e.name, Count: n, Specs: specs, DeviceType: specs[0].DeviceType, Policy: policy})
	}
	return out, nil
}

func validPolicy(p string) bool {
	switch p {
	case vocab.PolicyLegacy, vocab.PolicyPreferred, vocab.PolicyRequired, vocab.PolicySocket:
		return true
	}
	return false
}

// Package extraspecs reads what a flavor asks for from its extra specs as Nova stores them: the
// devices of pci_passthrough:alias, the PCI NUMA affinity policy, the guest NUMA topology and CPU
// pinning. The verdict's request is built here from the extra specs read back from the cloud, not
// from how a spec meant to build the flavor, so a spec that sets an extra spec directly changes
// what the verdict expects exactly as it changes what Nova sees. It is pure: maps in, values out.
package extraspecs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/verify"
)

// AliasCount is one element of pci_passthrough:alias.
type AliasCount struct {
	Alias string
	Count int
}

// ParseAlias reads pci_passthrough:alias as Nova does (nova/pci/request.py
// _translate_alias_to_requests): split on ',', then ':', names and counts trimmed. A value Nova
// could not parse gives an error naming the element.
func ParseAlias(v string) ([]AliasCount, error) {
	var out []AliasCount
	for _, part := range strings.Split(v, ",") {
		name, count, ok := strings.Cut(part, ":")
		if !ok || strings.Contains(count, ":") {
			return nil, fmt.Errorf("%s %q: element %q: expected NAME:COUNT", vocab.SpecPCIAlias, v, part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s %q: count %q of %q: expected a number, 0 or more", vocab.SpecPCIAlias, v, count, strings.TrimSpace(name))
		}
		out = append(out, AliasCount{Alias: strings.TrimSpace(name), Count: n})
	}
	return out, nil
}

// Request is what a flavor with these extra specs asks for, judged under the PCI NUMA affinity
// reading the lab is expected to follow (vocab.Readings; "" is upstream). Aliases the catalog does
// not list are carried with only their name, so the verdict says they are unknown instead of
// judging them. Extra specs that do not change placement are ignored; a malformed value of one
// that does is an error naming the key and the value.
func Request(specs map[string]string, cat *catalog.Catalog, reading string) (verify.Request, error) {
	r := verify.Request{Policy: specs[vocab.SpecPCINUMAPolicy], Affinity: reading}
	if v, ok := specs[vocab.SpecPCIAlias]; ok {
		aliases, err := ParseAlias(v)
		if err != nil {
			return verify.Request{}, err
		}
		for _, a := range aliases {
			e, ok := cat.Lookup(a.Alias)
			if !ok {
				e = catalog.Entry{Alias: a.Alias}
			}
			r.Aliases = append(r.Aliases, verify.AliasRequest{Entry: e, Count: a.Count})
		}
	}
	if v, ok := specs[vocab.SpecNUMANodes]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return verify.Request{}, fmt.Errorf("%s %q: expected a whole number, 1 or more", vocab.SpecNUMANodes, v)
		}
		r.GuestNUMANodes = n
	}
	r.Dedicated = specs[vocab.SpecCPUPolicy] == vocab.CPUDedicated
	return r, nil
}

package report

import (
	"slices"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/labels"
)

// Family is one column of the matrix: a kind of spec, told by the labels specs carry.
type Family struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// Required families must be tested for a card to be certified (see judge).
	Required bool `json:"required"`
}

// Family keys that do not depend on a policy.
const (
	FamilyOneDevice     = "passthrough-1"
	FamilySeveral       = "passthrough-n"
	FamilyNoNUMADevice  = "no-numa-device"
	FamilyPerGuestNode  = "numa-reading"
	FamilyNegative      = "negative"
	familyOneNodeSuffix = "-1-node"
	familyTwoNodeSuffix = "-2-node"
)

// Families are the matrix columns in order: passthrough counts, each policy with a one- and a
// two-node guest, the device without NUMA information, the per-guest-node reading, negatives.
// A card is certified only with its one-device passthrough, every policy on a one-node guest,
// and its refusals tested: those are the promises of the StarlingX document every lab can test;
// the other columns need particular hosts (two NUMA nodes with devices, a device without NUMA
// information) and count when the lab has them.
func Families() []Family {
	out := []Family{
		{Key: FamilyOneDevice, Title: "1 device", Required: true},
		{Key: FamilySeveral, Title: "several devices"},
	}
	for _, p := range vocab.Policies {
		out = append(out,
			Family{Key: p + familyOneNodeSuffix, Title: p + ", 1-node guest", Required: true},
			Family{Key: p + familyTwoNodeSuffix, Title: p + ", 2-node guest"})
	}
	return append(out,
		Family{Key: FamilyNoNUMADevice, Title: "device without NUMA"},
		Family{Key: FamilyPerGuestNode, Title: "per-guest-node reading"},
		Family{Key: FamilyNegative, Title: "refused requests", Required: true},
	)
}

// FamilyOf tells a spec's family from its labels (as Ginkgo reports them: container and leaf
// labels together); "" when the spec belongs to no column (e.g. a lab-wide refusal).
func FamilyOf(ls []string) string {
	has := func(l string) bool {
		return slices.ContainsFunc(ls, func(x string) bool { return strings.EqualFold(x, l) })
	}
	hasKey := func(k string) (string, bool) {
		for _, l := range ls {
			if key, v, ok := strings.Cut(strings.ToLower(l), ":"); ok && key == k {
				return v, true
			}
		}
		return "", false
	}
	switch {
	case has(labels.Negative):
		return FamilyNegative
	case func() bool { _, ok := hasKey(labels.NUMAReadingKey); return ok }():
		return FamilyPerGuestNode
	case has(labels.NoNUMADevice):
		return FamilyNoNUMADevice
	}
	if p, ok := hasKey(labels.PolicyKey); ok {
		if has(labels.TwoNodeGuest) {
			return p + familyTwoNodeSuffix
		}
		return p + familyOneNodeSuffix
	}
	if has(labels.Passthrough) {
		if has(labels.MultiDevice) {
			return FamilySeveral
		}
		return FamilyOneDevice
	}
	return ""
}

// AliasesOf are the catalog aliases a spec is about, from its alias:<name> labels.
func AliasesOf(ls []string) []string {
	var out []string
	for _, l := range ls {
		if k, v, ok := strings.Cut(strings.ToLower(l), ":"); ok && k == labels.AliasKey && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

package framework

import (
	"github.com/onsi/ginkgo/v2"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/labels"
)

// LabelsOf is a Label decorator whose labels are checked against the registry.
func LabelsOf(ls ...string) ginkgo.Labels { return ginkgo.Label(labels.Must(ls...)...) }

// EntryLabels are the labels of a spec about a catalog entry plus extra registered labels.
func EntryLabels(cat *catalog.Catalog, e catalog.Entry, extra ...string) ginkgo.Labels {
	return ginkgo.Label(append(labels.ForEntry(cat, e), labels.Must(extra...)...)...)
}

// Faults are the labels saying which mock faults a spec must catch.
func Faults(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = labels.Fault(n)
	}
	return labels.Must(out...)
}

// DeviceCheckFaults are the fault labels of a spec that checks the count and IDs of the devices
// of one alias in one server: a wrong or a missing device always shows; an extra device only
// where the host has a spare of the same product to attach, which VF aliases have (a PF has
// several VFs) and a plain PCI device usually has not; a VF reported off its PF's node wherever
// the alias is a VF's.
func DeviceCheckFaults(e catalog.Entry) []string {
	fs := []string{vocab.FaultWrongDevice, vocab.FaultDropHostdev}
	if e.Function == vocab.FunctionVF {
		fs = append(fs, vocab.FaultExtraHostdev, vocab.FaultVFNodeMismatch)
	}
	return Faults(fs...)
}

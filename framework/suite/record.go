package suite

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/report"
)

// recordLab adds what the certification report says about the lab (package report) to the run's
// report: the build, the cloud and its microversions, the config without secrets, the catalog
// and every host's topology and devices as the inventory read them.
func recordLab(ctx context.Context, e *Env) {
	opts := CurrentOptions()
	lab := report.Lab{
		Harness: report.CurrentHarness(), RunID: e.RunID, Cloud: e.Config.Cloud,
		Microversion: e.Config.ComputeMicroversion, Config: report.RedactConfig(*e.Config),
		CatalogSource: e.Config.DeviceCatalog, Catalog: e.Catalog.Entries(), Cards: opts.Cards,
		Hosts: e.Inventory.Hosts,
	}
	if embedded != nil {
		lab.Mock = &report.MockLab{Lab: embedded.Name, Faults: opts.Faults}
	}
	var err error
	lab.MinMicroversion, lab.MaxMicroversion, err = e.Cloud.Microversions(ctx)
	Expect(err).NotTo(HaveOccurred(), "reading the compute API's microversion range for the report")
	AddReportEntry(report.EntryLab, lab, ReportEntryVisibilityNever)
}

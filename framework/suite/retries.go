package suite

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/openstack"
)

// EntryRetry names the report entry of each call the cloud client repeated (or each token it
// renewed, or each libvirt call run again on a new connection): the spec's timeline shows the lab's hiccups it rode out, and report.json counts them.
const EntryRetry = "hwcert-retry"

// reportRetry puts a retry in the timeline of the spec (or setup node) that made the call.
func reportRetry(r openstack.Retry) {
	AddReportEntry(EntryRetry, r, ReportEntryVisibilityFailureOrVerbose)
}

// reportLibvirtRetry puts a libvirt call run again on a new connection in the timeline.
func reportLibvirtRetry(r hypervisor.Retry) {
	AddReportEntry(EntryRetry, r, ReportEntryVisibilityFailureOrVerbose)
}

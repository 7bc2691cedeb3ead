package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
)

// captureEvidence runs when a spec fails, before its cleanups delete anything: for every server
// the spec created it writes the server as the API shows it (with its fault), the domain XML, the
// node-device XML of each hostdev and the host capabilities (NUMA cells, sockets, CPUs) under
// <report dir>/evidence/<spec>/<server>/, and attaches the directory to the report. Files, not
// blobs: JUnit stays small. A failure to capture is reported as a note, not as a second failure.
func (f *Framework) captureEvidence(ctx context.Context) {
	srvs := f.tracked()
	if len(srvs) == 0 {
		return
	}
	dir := filepath.Join(evidenceRoot(), specDirName(CurrentSpecReport()))
	var problems []string
	note := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, s := range srvs {
		sdir := filepath.Join(dir, safeName(s.Name))
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			note("%v", err)
			continue
		}
		write := func(name string, data []byte) {
			if err := os.WriteFile(filepath.Join(sdir, name), data, 0o644); err != nil {
				note("%v", err)
			}
		}
		js, err := f.Cloud.ServerJSON(ctx, s.ID)
		if err != nil {
			note("server %s: %v", s.ID, err)
		} else {
			write("server.json", js)
		}
		cur, err := f.Cloud.GetServer(ctx, s.ID)
		if err != nil {
			continue
		}
		if cur.Fault.Message != "" {
			write("fault.txt", fmt.Appendf(nil, "code: %d\nmessage: %s\ndetails: %s\n", cur.Fault.Code, cur.Fault.Message, cur.Fault.Details))
		}
		if cur.Host == "" {
			continue // never scheduled: no hypervisor to ask
		}
		ev, err := f.Hypervisors.Evidence(ctx, cur.Host, cur.InstanceName, cur.ID)
		if ev != nil {
			if ev.DomainXML != "" {
				write("domain.xml", []byte(ev.DomainXML))
			}
			for a, x := range ev.NodeDevXML {
				write("nodedev-"+a.NodeDeviceName()+".xml", []byte(x))
			}
			if ev.CapsXML != "" {
				write("capabilities.xml", []byte(ev.CapsXML))
			}
		}
		if err != nil {
			note("server %s on %s: %v", s.ID, cur.Host, err)
		}
	}
	AddReportEntry("evidence", dir, ReportEntryVisibilityFailureOrVerbose)
	if len(problems) > 0 {
		AddReportEntry("evidence problems", strings.Join(problems, "\n"), ReportEntryVisibilityFailureOrVerbose)
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_")
	if len(s) > 120 {
		s = s[:120]
	}
	if s == "" {
		s = "unnamed"
	}
	return s
}

// specDirName names a spec's evidence directory from its full text, unique per spec and attempt.
func specDirName(r SpecReport) string {
	name := safeName(r.FullText())
	return fmt.Sprintf("%s-p%d", name, r.ParallelProcess)
}

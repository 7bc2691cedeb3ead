package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/framework/report"
)

// finishRun reads the run's (merged) JSON report and prints the end of the run: the counts, the
// failures, the skips by reason, and the wall time next to the lab's bound.
func finishRun(w io.Writer, jsonPath string, wall time.Duration, procs, retryLabErrors int) error {
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return fmt.Errorf("reading the run's report: %w", err)
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return fmt.Errorf("reading the run's report %s: %w", jsonPath, err)
	}
	if len(reports) != 1 {
		return fmt.Errorf("the run's report %s holds %d suite reports, expected 1", jsonPath, len(reports))
	}
	r := reports[0]
	summarize(w, r)
	classify(r).print(w, retryLabErrors)
	b, err := runBound(r, labHosts(r))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "hwcert: wall time %s with %d processes; %s\n", wall.Round(100*time.Millisecond), procs, b)
	return nil
}

// labHosts is the number of compute hosts the suite setup recorded (report.EntryLab).
func labHosts(r types.Report) int {
	for _, s := range r.SpecReports {
		for _, e := range s.ReportEntries {
			if e.Name != report.EntryLab {
				continue
			}
			var lab struct {
				Hosts []json.RawMessage `json:"hosts"`
			}
			if json.Unmarshal([]byte(e.Value.AsJSON), &lab) == nil {
				return len(lab.Hosts)
			}
		}
	}
	return 0
}

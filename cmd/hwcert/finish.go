package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// finishRun reads the run's (merged) JSON report and prints the end of the run: the counts, the
// failures, the skips by reason, and the wall time next to the run's bound.
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
	b, err := runBound(r, procs)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "hwcert: wall time %s with %d processes; %s\n", wall.Round(100*time.Millisecond), procs, b)
	return nil
}

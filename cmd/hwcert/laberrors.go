package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/framework"
	"github.com/hwcert/hwcert/framework/mockboot"
)

// labErrors are the specs of a run that failed because of the lab's plumbing, and those that
// passed only when run again (--retry-lab-errors).
type labErrors struct {
	failed  []string // full texts
	retried []string // passed after a lab error
}

// classify sorts the run's specs: failed as lab errors (marked by the framework, or timed
// out), and passed after more than one attempt.
func classify(r types.Report) labErrors {
	var le labErrors
	for _, s := range r.SpecReports {
		switch {
		case s.State.Is(types.SpecStateFailureStates) && framework.IsLabFailureState(s.State, s.Failure.Message):
			le.failed = append(le.failed, specName(s))
		case s.State == types.SpecStatePassed && s.NumAttempts > 1:
			le.retried = append(le.retried, specName(s))
		}
	}
	return le
}

func specName(s types.SpecReport) string {
	if t := s.FullText(); t != "" {
		return t
	}
	return s.LeafNodeType.String()
}

// print says, after the run, which failures are the lab's: CI can retry or page the lab's owner
// for those instead of blaming the build.
func (le labErrors) print(w io.Writer, retries int) {
	if len(le.retried) > 0 {
		fmt.Fprintf(w, "hwcert: %d specs passed when run again after a lab error (--retry-lab-errors %d):\n  %s\n", len(le.retried), retries, strings.Join(le.retried, "\n  "))
	}
	if len(le.failed) > 0 {
		fmt.Fprintf(w, "hwcert: %d specs failed as LAB ERRORS (the lab's plumbing failed: no placement verdict was reached; JUnit failure type %q):\n  %s\n", len(le.failed), framework.LabErrorType, strings.Join(le.failed, "\n  "))
	}
}

// markLabErrors gives the JUnit failures of lab errors the type framework.LabErrorType, so a CI
// reading junit.xml tells them apart from verdicts ("failed").
func markLabErrors(path string, r types.Report) error {
	if len(classify(r).failed) == 0 {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var suites reporters.JUnitTestSuites
	if err := xml.Unmarshal(data, &suites); err != nil {
		return fmt.Errorf("reading back %s: %w", path, err)
	}
	for i := range suites.TestSuites {
		for j := range suites.TestSuites[i].TestCases {
			f := suites.TestSuites[i].TestCases[j].Failure
			if f == nil {
				continue
			}
			if f.Type == "timedout" || strings.HasPrefix(f.Message, framework.LabErrorPrefix) {
				f.Type = framework.LabErrorType
			}
		}
	}
	out, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return os.WriteFile(path, append([]byte(xml.Header), out...), 0o644)
}

// checkRunBounds refuses a run without a bound (--timeout 0 would mean none to Ginkgo) and a
// negative number of reruns.
func checkRunBounds(timeout time.Duration, retries int) error {
	if timeout <= 0 {
		return usageErr("--timeout %s: expected a positive duration (a run is always bounded)", timeout)
	}
	if retries < 0 || retries > 10 {
		return usageErr("--retry-lab-errors %d: expected 0 to 10", retries)
	}
	return nil
}

// checkMockChaos refuses malformed --mock-chaos specs before anything starts.
func checkMockChaos(specs []string) error {
	if err := mockboot.CheckChaos(specs); err != nil {
		return usageErr("--mock-chaos: %v", err)
	}
	return nil
}

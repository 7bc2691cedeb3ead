package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/framework"
)

func spec(text string, state types.SpecState, msg string, attempts int) types.SpecReport {
	return types.SpecReport{LeafNodeText: text, LeafNodeType: types.NodeTypeIt, State: state, Failure: types.Failure{Message: msg}, NumAttempts: attempts}
}

func TestLabErrorsAreToldApartFromVerdicts(t *testing.T) {
	r := types.Report{SuiteDescription: "hwcert", SpecReports: types.SpecReports{
		spec("verdict", types.SpecStateFailed, "expected the devices on NUMA node 0", 1),
		spec("plumbing", types.SpecStateFailed, framework.LabErrorPrefix+"booting server x: went to ERROR: internal error", 1),
		spec("slow lab", types.SpecStateTimedout, "A spec timeout occurred", 1),
		spec("flaky lab", types.SpecStatePassed, "", 2),
		spec("fine", types.SpecStatePassed, "", 1),
	}}
	le := classify(r)
	if strings.Join(le.failed, ",") != "plumbing,slow lab" || strings.Join(le.retried, ",") != "flaky lab" {
		t.Fatalf("classify: failed %v, retried %v", le.failed, le.retried)
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := reporters.GenerateJUnitReport(r, path); err != nil {
		t.Fatal(err)
	}
	if err := markLabErrors(path, r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := string(data)
	if n := strings.Count(out, `type="`+framework.LabErrorType+`"`); n != 2 {
		t.Errorf("%d failures of type %s, want 2:\n%s", n, framework.LabErrorType, out)
	}
	if !strings.Contains(out, `type="failed"`) {
		t.Errorf("the verdict lost its failure type:\n%s", out)
	}
	var w strings.Builder
	le.print(&w, 1)
	if !strings.Contains(w.String(), "2 specs failed as LAB ERRORS") || !strings.Contains(w.String(), "1 specs passed when run again") {
		t.Errorf("console summary:\n%s", w.String())
	}
}

func TestRunRefusesUnboundedOrBadRetries(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--dry-run", "--timeout", "0"},
		{"run", "--dry-run", "--timeout", "-1s"},
		{"run", "--dry-run", "--retry-lab-errors", "-1"},
		{"run", "--dry-run", "--mock-chaos", "api-5xx:2"},
		{"run", "--dry-run", "--mock-chaos", "nope:1"},
	} {
		if _, code := runCommand(t, args...); code != exitUsage {
			t.Errorf("hwcert %s: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
}

// JUnit test names carry a spec's labels but its fault:* labels.
func TestJUnitNamesLeaveFaultLabelsOut(t *testing.T) {
	s := spec("boots", types.SpecStatePassed, "", 1)
	s.ContainerHierarchyLabels = [][]string{{"passthrough", "fault:wrong-device"}}
	s.LeafNodeLabels = []string{"alias:gpu", "fault:drop-hostdev", "fault:extra-hostdev"}
	r := types.Report{SuiteDescription: "hwcert", SpecReports: types.SpecReports{s}}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := reporters.GenerateJUnitReport(withoutFaultLabels(r), path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out := string(data); strings.Contains(out, "fault:") || !strings.Contains(out, "boots [passthrough, alias:gpu]") {
		t.Errorf("junit test name:\n%s", out)
	}
	if len(r.SpecReports[0].LeafNodeLabels) != 3 {
		t.Errorf("the run's own report lost labels: %v", r.SpecReports[0].LeafNodeLabels)
	}
}

//go:build faultmatrix

// The fault matrix proves the suites can tell a lying lab from an honest one: on each lab of
// matrixLabs, `hwcert run` against the embedded mock must pass without faults, and with each fault
// every spec labelled fault:<name> that runs must fail. A fault the lab refuses at start ("cannot
// apply to lab") is left out for that lab; every fault must be caught on some lab. Run it with
// `make faults`.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/labels"
)

// matrixLabs are the labs the matrix runs on: multi (the default, every placement question on
// two-node hosts) and stx-reading (the per-guest-node reading, whose refusals only a lie about
// the policy turns into boots). On the other labs a spec may land on a single-node host, where a
// lie about another node has nothing to lie with.
var matrixLabs = []string{"multi", "stx-reading"}

type runResult struct {
	states  map[string]types.SpecState // spec full text -> state
	labels  map[string][]string
	elapsed time.Duration
}

func TestFaultMatrix(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hwcert")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building hwcert: %v", err)
	}
	repoRoot, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}

	// run returns ok false when the lab refuses the fault at start.
	run := func(lab, fault string) (res runResult, ok bool) {
		t.Helper()
		dir := t.TempDir()
		args := []string{"run", "--lab", lab, "--report-dir", dir}
		if fault != "" {
			args = append(args, "--mock-fault", fault)
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err != nil && strings.Contains(string(out), "cannot apply to lab "+lab):
			return runResult{}, false
		case err == nil:
		case errors.As(err, &ee) && ee.ExitCode() == exitSpecsFailed:
		default:
			t.Fatalf("hwcert %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		data, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatalf("hwcert %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var reports []types.Report
		if err := json.Unmarshal(data, &reports); err != nil {
			t.Fatalf("report.json: %v", err)
		}
		res = runResult{states: map[string]types.SpecState{}, labels: map[string][]string{}}
		for _, r := range reports {
			res.elapsed += r.RunTime
			for _, s := range r.SpecReports {
				if s.LeafNodeType != types.NodeTypeIt {
					if s.State.Is(types.SpecStateFailureStates) {
						t.Fatalf("hwcert %s: %s %s failed: %s", strings.Join(args, " "), s.LeafNodeType, s.LeafNodeText, s.Failure.Message)
					}
					continue
				}
				res.states[s.FullText()] = s.State
				res.labels[s.FullText()] = s.Labels()
			}
		}
		return res, true
	}

	var table strings.Builder
	caughtSomewhere := map[string]bool{}
	for _, lab := range matrixLabs {
		matrix(t, &table, lab, run, caughtSomewhere)
	}
	for _, f := range vocab.Faults {
		if !caughtSomewhere[f.Name] {
			t.Errorf("fault %s: caught on none of the labs %v; the suites cannot tell this lie from the truth", f.Name, matrixLabs)
		}
	}
	t.Log(table.String())
	fmt.Println(table.String())
}

// matrix runs the suites on one lab without faults and under each fault, and writes its part of
// the table.
func matrix(t *testing.T, table *strings.Builder, lab string, run func(lab, fault string) (runResult, bool), caughtSomewhere map[string]bool) {
	t.Helper()
	clean, ok := run(lab, "")
	if !ok {
		t.Fatalf("lab %s refused to start without faults", lab)
	}
	var failed, passed []string
	for name, st := range clean.states {
		switch {
		case st.Is(types.SpecStateFailureStates):
			failed = append(failed, name)
		case st == types.SpecStatePassed:
			passed = append(passed, name)
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		t.Fatalf("lab %s without faults: %d specs failed:\n  %s", lab, len(failed), strings.Join(failed, "\n  "))
	}
	if len(passed) == 0 {
		t.Fatalf("lab %s without faults: no spec passed: the matrix would prove nothing", lab)
	}

	fmt.Fprintf(table, "fault matrix on lab %s (%d specs passed without faults, %s):\n", lab, len(passed), clean.elapsed.Round(time.Millisecond))
	for _, f := range vocab.Faults {
		fault := f.Name
		res, ok := run(lab, fault)
		if !ok {
			fmt.Fprintf(table, "\n%s: refused by the lab (cannot apply)\n", fault)
			continue
		}
		label := labels.Fault(fault)
		var caught, missed, extra []string
		for name, st := range res.states {
			labelled := slices.Contains(res.labels[name], label)
			isFailed := st.Is(types.SpecStateFailureStates)
			switch {
			case labelled && isFailed:
				caught = append(caught, name)
			case labelled && st == types.SpecStateSkipped && clean.states[name] == types.SpecStateSkipped:
				// The lab has nothing to run this spec with, with or without the fault.
			case labelled:
				missed = append(missed, fmt.Sprintf("%s (%s)", name, st))
			case isFailed:
				extra = append(extra, name)
			}
		}
		sort.Strings(caught)
		sort.Strings(missed)
		sort.Strings(extra)
		fmt.Fprintf(table, "\n%s: caught by %d labelled specs (%d other specs failed too)\n", fault, len(caught), len(extra))
		for _, c := range caught {
			fmt.Fprintf(table, "    %s\n", c)
		}
		if len(caught) > 0 {
			caughtSomewhere[fault] = true
		}
		if len(missed) > 0 {
			t.Errorf("lab %s, fault %s: %d specs labelled %s did not fail:\n  %s", lab, fault, len(missed), label, strings.Join(missed, "\n  "))
		}
	}
	table.WriteString("\n")
}

package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCommand runs `hwcert ARGS` in-process and returns its stdout and exit code. A dry run may run
// in-process any number of times: it previews the spec tree and never calls RunSpecs, which Ginkgo
// allows once per process.
func runCommand(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errOut strings.Builder
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	code := 0
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitCode(err)
		t.Logf("hwcert %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), code
}

// snapshot records every entry under dir with its mode, modification time and content, so that
// a removal, a rewrite or a new file shows as a difference.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%v %v", info.Mode(), info.ModTime().UnixNano())
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			entry += " " + string(data)
		}
		snap[p] = entry
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func sameSnapshot(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for p, b := range before {
		if a, ok := after[p]; !ok {
			t.Errorf("%s: %s was removed", what, p)
		} else if a != b {
			t.Errorf("%s: %s changed", what, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: %s was created", what, p)
		}
	}
}

// specLines splits a dry run's output into its spec lines (text and labels) and its count line.
func specLines(t *testing.T, out string) (specs map[string][]string, count string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	count = lines[len(lines)-1]
	if !strings.HasPrefix(count, "hwcert: dry run: ") {
		t.Fatalf("last line %q is not the count line; output:\n%s", count, out)
	}
	specs = map[string][]string{}
	for _, l := range lines[:len(lines)-1] {
		text, labels, ok := strings.Cut(l, "  [")
		if !ok || !strings.HasSuffix(labels, "]") {
			t.Fatalf("spec line %q: want TEXT  [LABEL, ...]", l)
		}
		specs[text] = strings.Split(strings.TrimSuffix(labels, "]"), ", ")
	}
	return specs, count
}

func TestRunDryRunWritesNothing(t *testing.T) {
	// A report dir holding a previous run's results.
	old := t.TempDir()
	for name, content := range map[string]string{
		"junit.xml":                     "<testsuites>old run</testsuites>",
		"report.json":                   `[{"SuiteDescription":"old run"}]`,
		"evidence/old-spec/domain.xml":  "<domain>old</domain>",
		"evidence/old-spec/server.json": `{"id":"old"}`,
	} {
		p := filepath.Join(old, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	missing := filepath.Join(t.TempDir(), "not-yet")
	// The working directory, where the default --report-dir "reports" would go.
	cwd := t.TempDir()
	t.Chdir(cwd)

	before := map[string]map[string]string{"old report dir": snapshot(t, old), "empty report dir": snapshot(t, empty), "working dir": snapshot(t, cwd)}
	for _, args := range [][]string{
		{"run", "--dry-run", "--report-dir", old},
		{"run", "--dry-run", "--report-dir", empty},
		{"run", "--dry-run", "--report-dir", missing},
		{"run", "--dry-run"},
	} {
		if out, code := runCommand(t, args...); code != 0 {
			t.Fatalf("hwcert %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
	sameSnapshot(t, "old report dir", before["old report dir"], snapshot(t, old))
	sameSnapshot(t, "empty report dir", before["empty report dir"], snapshot(t, empty))
	sameSnapshot(t, "working dir", before["working dir"], snapshot(t, cwd))
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("dry run created the report dir %s (stat: %v)", missing, err)
	}
}

func TestRunDryRunListsSpecs(t *testing.T) {
	out, code := runCommand(t, "run", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	all, count := specLines(t, out)
	if len(all) == 0 {
		t.Fatalf("no spec listed:\n%s", out)
	}
	if want := fmt.Sprintf("hwcert: dry run: %d of %d specs selected; nothing was run or written", len(all), len(all)); count != want {
		t.Errorf("count line %q, want %q", count, want)
	}
	var alias, numa, negative int
	for _, ls := range all {
		for _, l := range ls {
			switch {
			case strings.HasPrefix(l, "alias:"):
				alias++
			case l == "numa":
				numa++
			case l == "negative":
				negative++
			}
		}
	}
	if alias == 0 || numa == 0 || negative == 0 {
		t.Errorf("labels alias:* on %d specs, numa on %d, negative on %d; want each on some:\n%s", alias, numa, negative, out)
	}

	out, code = runCommand(t, "run", "--dry-run", "--label-filter", "negative")
	if code != 0 {
		t.Fatalf("--label-filter negative: exit %d\n%s", code, out)
	}
	neg, count := specLines(t, out)
	if len(neg) != negative {
		t.Errorf("--label-filter negative lists %d specs, %d of all specs are labelled negative", len(neg), negative)
	}
	for text, ls := range neg {
		if !strings.Contains(","+strings.Join(ls, ",")+",", ",negative,") {
			t.Errorf("--label-filter negative lists %q %v", text, ls)
		}
		if _, ok := all[text]; !ok {
			t.Errorf("--label-filter negative lists %q, which the unfiltered run does not", text)
		}
	}
	if want := fmt.Sprintf("hwcert: dry run: %d of %d specs selected by --label-filter \"negative\"; nothing was run or written", len(neg), len(all)); count != want {
		t.Errorf("count line %q, want %q", count, want)
	}
}

// TestRunDryRunDoesNotConnect points the dry run at a lab that is not there: the suite setup
// that would connect to it must not run (if it did, its failure would skip every spec).
func TestRunDryRunDoesNotConnect(t *testing.T) {
	cfg, err := filepath.Abs("../../config/examples/mock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, code := runCommand(t, "run", "--dry-run", "--config", cfg, "--label-filter", "passthrough")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if specs, _ := specLines(t, out); len(specs) == 0 {
		t.Errorf("no spec listed:\n%s", out)
	}
}

func TestRunDryRunRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"--label-filter", "negatve"},               // not a known label
		{"--label-filter", "negative &&"},           // not a filter
		{"--label-filter", "negative && !negative"}, // selects nothing
		{"--lab", "nope"},                           // not a shipped lab
		{"--lab", "./missing.yaml"},                 // no such lab file
		{"--config", "missing.yaml"},                // no such config
		{"--config", "x.yaml", "--lab", "aio"},      // --lab is for the embedded mock
		{"--mock-fault", "bogus"},                   // not a fault
		{"--mock-boot-latency", "-1s"},              // negative latency
	} {
		args = append([]string{"run", "--dry-run", "--report-dir", t.TempDir()}, args...)
		if out, code := runCommand(t, args...); code != exitUsage {
			t.Errorf("hwcert %s: exit %d, want %d\n%s", strings.Join(args, " "), code, exitUsage, out)
		}
	}
}

// A run (not only a dry run) whose filter selects nothing exits 2 before it writes anything: an
// empty run is a mistake, not a green run, and a report dir it touched would look like one.
func TestRunRefusesAnEmptySelectionBeforeWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	out, code := runCommand(t, "run", "--report-dir", dir, "--label-filter", "negative && !negative")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", code, exitUsage, out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the report dir %s was created (stat: %v)", dir, err)
	}
}

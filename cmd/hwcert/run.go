package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	"github.com/spf13/cobra"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/labels"
	"github.com/hwcert/hwcert/framework/report"
	"github.com/hwcert/hwcert/framework/suite"
	"github.com/hwcert/hwcert/mock/lab"

	// The suites: their specs register themselves; RunSpecs runs them all in one go.
	_ "github.com/hwcert/hwcert/suites/lifecycle"
	_ "github.com/hwcert/hwcert/suites/negative"
	_ "github.com/hwcert/hwcert/suites/numa"
	_ "github.com/hwcert/hwcert/suites/passthrough"
)

func init() { subcommands = append(subcommands, newRunCommand) }

// Exit codes of `hwcert run`.
const (
	exitSpecsFailed = 1 // the run completed and some spec failed
	exitUsage       = 2 // the run could not start: bad flags, config, lab or label filter
)

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// testingT lets RunSpecs run outside `go test`.
type testingT struct{ failed bool }

func (t *testingT) Fail() { t.failed = true }

func newRunCommand() *cobra.Command {
	var (
		configFile, labelFilter, reportDir, labName string
		faults, cards, chaosSpecs                   []string
		timeout, bootLatency                        time.Duration
		dryRun, verbose, skipPreflight, noColor     bool
		procsFlag                                   string
		worker                                      workerFlags
		retryLabErrors                              int
	)
	cmd := &cobra.Command{
		Use:   "run [--config FILE] [--label-filter EXPR] [--report-dir DIR]",
		Short: "Run the suites (passthrough, numa, negative) against a lab, or against the embedded mock",
		Long: `Run every suite against the lab a harness config names. Without --config, an embedded mock lab
is started (the default lab "` + labs.Default + `", or --lab) with the faults given by --mock-fault.

Writes DIR/junit.xml, DIR/report.json and, for failed specs, DIR/evidence/<spec>/ (server JSON and
fault, domain XML, node-device XML, host capabilities), then the certification bundle:
DIR/index.html (verdict per card, matrix, NUMA pictures of hosts and guests), DIR/summary.json and
DIR/MANIFEST.sha256 ("cd DIR && sha256sum -c MANIFEST.sha256" verifies it). Exits 1 when a spec
failed, 2 when the run could not start (bad flags, config, lab or label filter).

--card ALIAS (repeatable) runs exactly the specs about that catalog alias (label alias:ALIAS),
within --label-filter when both are given, and puts the card's verdict first.

With --dry-run, lists the specs the label filter selects (full text and labels) and exits: it
writes nothing, starts no mock and connects to no lab, but still checks the flags, the config or
lab and the label filter (exit 2), and that the filter selects some spec (exit 2). A listed spec
may still skip at run time, when the lab lacks what it needs.

Labels (--label-filter uses Ginkgo's syntax: qat && !negative, policy: containsAny {required,socket}):
` + labelHelp(),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			latencySet := cmd.Flags().Changed("mock-boot-latency")
			if configFile != "" && (labName != "" || len(faults) > 0 || len(chaosSpecs) > 0 || latencySet) {
				return usageErr("--config names a lab to test; --lab, --mock-fault, --mock-chaos and --mock-boot-latency configure the embedded mock and cannot be combined with it")
			}
			if bootLatency < 0 {
				return usageErr("--mock-boot-latency %s: expected a non-negative duration", bootLatency)
			}
			for _, f := range faults {
				if err := lab.CheckFault(f); err != nil {
					return usageErr("--mock-fault: %v", err)
				}
			}
			var cat *catalog.Catalog
			var labHostCount func() (int, error)
			if configFile != "" {
				cfg, err := config.Load(configFile)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				if cat, err = suite.LoadCatalog(cfg); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				labHostCount = func() (int, error) { return cloudHostCount(cmd.Context(), cfg) }
			} else {
				l, err := labs.Load(labName)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				labHostCount = func() (int, error) { return len(l.Hosts), nil }
				if cat, err = catalog.Default(); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			labels.RegisterCatalog(cat)
			if err := labels.Validate(labelFilter); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			filter, err := cardFilter(cat, labelFilter, cards)
			if err != nil {
				return err
			}
			if err := checkMockChaos(chaosSpecs); err != nil {
				return err
			}
			opts := suite.Options{ConfigFile: configFile, Lab: labName, Faults: faults, Chaos: chaosSpecs, Cards: cards}
			if latencySet {
				opts.BootLatency = &bootLatency
			}
			suiteConfig, reporterConfig := GinkgoConfiguration()
			suiteConfig.LabelFilter = filter
			suiteConfig.Timeout = timeout
			// A spec stuck this long reports where it is and what it waits for (its last step).
			suiteConfig.PollProgressAfter, suiteConfig.PollProgressInterval = time.Minute, time.Minute
			if err := checkRunBounds(timeout, retryLabErrors); err != nil {
				return err
			}
			// A spec that failed as a lab error runs again; one that failed on a verdict repeats
			// its failure (framework.guardRetries), so a flaky verdict gets no second chance.
			suiteConfig.FlakeAttempts = retryLabErrors + 1
			// The options choose the catalog the spec tree is built from.
			suite.SetOptions(opts)
			if dryRun {
				return listSpecs(cmd.OutOrStdout(), suiteConfig)
			}
			selected, _, err := selectSpecs(suiteConfig)
			if err != nil {
				return err
			}
			procs := 1
			if worker.active() {
				if err := worker.apply(&suiteConfig); err != nil {
					return err
				}
			} else if procs, err = procsFor(procsFlag, labHostCount); err != nil {
				return err
			}
			// The embedded mock is started by the suite itself and is a lab that works.
			if configFile != "" && !skipPreflight {
				t, err := openTarget(cmd.Context(), configFile, "")
				if err != nil {
					return err
				}
				if err := runPreflight(cmd.Context(), t, configFile, 30*time.Second, cmd.ErrOrStderr()); err != nil {
					return fmt.Errorf("%w (hwcert preflight --config %s repeats the checks; --skip-preflight runs anyway)", err, configFile)
				}
			}

			absReports, err := filepath.Abs(reportDir)
			if err != nil {
				return usageErr("--report-dir %q: %v", reportDir, err)
			}
			if err := os.MkdirAll(absReports, 0o755); err != nil {
				return usageErr("--report-dir: %v", err)
			}
			// Evidence of an earlier run would be mistaken for this one's (the parent of a
			// parallel run clears it before its workers start).
			if !worker.active() {
				if err := os.RemoveAll(filepath.Join(absReports, "evidence")); err != nil {
					return usageErr("--report-dir: clearing old evidence: %v", err)
				}
			}
			junitPath := filepath.Join(absReports, "junit.xml")
			reporterConfig.JSONReport = filepath.Join(absReports, "report.json")
			out := cmd.OutOrStdout()
			events := newProgress(out, len(selected), colorWanted(out, noColor))
			start := time.Now()
			if procs > 1 {
				fmt.Fprintf(out, "hwcert: %d specs in %d processes\n", len(selected), procs)
				ok, err := runParallel(cmd.Context(), cmd, procs, suiteConfig.RandomSeed, events)
				if err != nil {
					return err
				}
				return finish(out, junitPath, reporterConfig.JSONReport, absReports, time.Since(start), procs, retryLabErrors, ok)
			}

			opts.ReportDir = absReports
			suite.SetOptions(opts)
			suite.Register()
			RegisterFailHandler(Fail)

			// selectSpecs refused an empty selection already; this guards the run itself.
			suiteConfig.FailOnEmpty = true
			// JUnit stays small for CI: timelines only for specs that did not pass or skip
			// (evidence goes to files, referenced by a report entry).
			ReportAfterSuite("junit", func(r Report) {
				err := reporters.GenerateJUnitReportWithConfig(withoutFaultLabels(withoutHolds(report.WithoutEntries(r))), junitPath, reporters.JunitReportConfig{
					OmitTimelinesForSpecState: types.SpecStatePassed | types.SpecStateSkipped | types.SpecStatePending,
					OmitLeafNodeType:          true,
				})
				Expect(err).NotTo(HaveOccurred(), "writing %s", junitPath)
				Expect(markLabErrors(junitPath, r)).To(Succeed(), "marking the lab errors in %s", junitPath)
			})
			reporterConfig.SilenceSkips = !verbose
			reporterConfig.Verbose = verbose
			if worker.active() {
				registerProgress(postProgress(worker.host))
			} else {
				registerProgress(events.event)
				if !verbose {
					// The progress lines and the summary replace Ginkgo's dots (and its progress
					// reports, so the stuck specs are reported by watch instead).
					formatter.ColorableStdOut = io.Discard
					stopWatch := make(chan struct{})
					defer close(stopWatch)
					go events.watch(suiteConfig.PollProgressAfter, stopWatch)
				}
			}

			if err := cmd.Context().Err(); err != nil {
				return interruptedBeforeStart(cmd.Context())
			}
			onSecondSignal(leftBehindMessage(configFile))
			refuseToStartIfInterrupted(cmd.Context())
			t := &testingT{}
			passed := RunSpecs(t, "hwcert", suiteConfig, reporterConfig) && !t.failed
			if worker.active() {
				if !passed {
					return &exitError{code: exitSpecsFailed, err: fmt.Errorf("worker %d: some specs failed", worker.process)}
				}
				return nil
			}
			return finish(out, junitPath, reporterConfig.JSONReport, absReports, time.Since(start), 1, retryLabErrors, passed)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "harness config of the lab to test (default: start the embedded mock)")
	f.StringVar(&labelFilter, "label-filter", "", "run only specs whose labels match this Ginkgo label filter")
	f.StringVar(&reportDir, "report-dir", "reports", "directory for junit.xml, report.json and evidence/")
	f.StringVar(&labName, "lab", "", "embedded mock only: shipped lab ("+strings.Join(labs.Names(), ", ")+"), or a lab file: a value with a '/' or ending in .yaml/.yml, e.g. ./mylab (default "+labs.Default+")")
	f.DurationVar(&bootLatency, "mock-boot-latency", 0, "embedded mock only: how long servers stay in BUILD (default: the lab's boot_latency)")
	f.StringArrayVar(&cards, "card", nil, "run only the specs that certify this catalog alias and put its verdict first (repeatable)")
	f.StringArrayVar(&faults, "mock-fault", nil, "embedded mock only: inject a fault (repeatable): "+faultNames())
	f.StringArrayVar(&chaosSpecs, "mock-chaos", nil, "embedded mock only: inject a plumbing fault (repeatable; see hwcert mock --help), e.g. api-5xx:0.05, seed:42")
	f.DurationVar(&timeout, "timeout", 2*time.Hour, "bound on the whole run (positive)")
	f.IntVar(&retryLabErrors, "retry-lab-errors", 0, "run a spec that failed as a lab error (the lab's plumbing, not a verdict) up to N more times")
	f.BoolVar(&dryRun, "dry-run", false, "list the specs the filter selects, with their labels, without running them or writing anything")
	f.BoolVar(&skipPreflight, "skip-preflight", false, "with --config: start without the checks of hwcert preflight")
	f.BoolVar(&verbose, "spec-verbose", false, "print every spec as it runs, including skipped ones")
	f.StringVar(&procsFlag, "procs", "1", "run the specs in N processes (one pool; each spec holds the host it needs), or auto: one per compute host of the lab")
	f.BoolVar(&noColor, "no-color", false, "no colour in the progress lines (also NO_COLOR=1; there is none unless stdout is a terminal)")
	worker.register(f)
	return cmd
}

// finish prints the end of a run, writes the certification bundle and gives the exit code.
func finish(out io.Writer, junitPath, jsonPath, reportDir string, wall time.Duration, procs, retryLabErrors int, passed bool) error {
	fmt.Fprintf(out, "hwcert: wrote %s and %s\n", junitPath, jsonPath)
	if err := finishRun(out, jsonPath, wall, procs, retryLabErrors); err != nil {
		return err
	}
	if err := writeBundle(out, reportDir); err != nil {
		return err
	}
	if !passed {
		return &exitError{code: exitSpecsFailed, err: errors.New("some specs failed (see the report; evidence under " + filepath.Join(reportDir, "evidence") + ")")}
	}
	return nil
}

// selectSpecs returns the specs suiteConfig selects, sorted by full text, and fails (exit 2) when
// it selects none: a filter that selects nothing is a mistake, not a green run, and it is said
// before anything is written. PreviewSpecs walks the tree in Ginkgo's dry-run mode, which runs no
// setup node (so no mock is started and no lab is connected to) but does run ReportAfterSuite
// nodes; it is called before the junit one is registered, and PreviewSpecs, unlike RunSpecs,
// writes no JSON report, because a report listing every spec as passed would read as a green run.
func selectSpecs(suiteConfig types.SuiteConfig) (selected []types.SpecReport, total int, err error) {
	report := PreviewSpecs("hwcert", suiteConfig)
	for _, s := range report.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		total++
		// The preview marks the specs that would run as passed, the filtered ones as skipped.
		if s.State == types.SpecStatePassed {
			selected = append(selected, s)
		}
	}
	if len(selected) == 0 {
		return nil, total, usageErr("--label-filter %q: selects none of the %d specs", suiteConfig.LabelFilter, total)
	}
	// Ginkgo shuffles the top-level containers; a listing reads better in a stable order.
	slices.SortFunc(selected, func(a, b types.SpecReport) int { return strings.Compare(a.FullText(), b.FullText()) })
	return selected, total, nil
}

// listSpecs prints the specs suiteConfig selects, one a line with its labels, then a count line.
func listSpecs(w io.Writer, suiteConfig types.SuiteConfig) error {
	selected, total, err := selectSpecs(suiteConfig)
	if err != nil {
		return err
	}
	for _, s := range selected {
		fmt.Fprintf(w, "%s  [%s]\n", s.FullText(), strings.Join(s.Labels(), ", "))
	}
	filter := ""
	if suiteConfig.LabelFilter != "" {
		filter = fmt.Sprintf(" by --label-filter %q", suiteConfig.LabelFilter)
	}
	fmt.Fprintf(w, "hwcert: dry run: %d of %d specs selected%s; nothing was run or written\n", len(selected), total, filter)
	return nil
}

func labelHelp() string {
	var b strings.Builder
	for _, l := range labels.All() {
		fmt.Fprintf(&b, "  %-28s %s\n", l, labels.Describe(l))
	}
	return b.String()
}

// cardFilter narrows the label filter to the specs about the given catalog aliases.
func cardFilter(cat *catalog.Catalog, filter string, cards []string) (string, error) {
	if len(cards) == 0 {
		return filter, nil
	}
	var terms []string
	for _, c := range cards {
		if _, ok := cat.Lookup(c); !ok {
			return "", usageErr("--card %q: not a catalog alias (known: %s)", c, strings.Join(cat.Aliases(), ", "))
		}
		terms = append(terms, labels.Alias(c))
	}
	out := strings.Join(terms, " || ")
	if filter != "" {
		out = "(" + filter + ") && (" + out + ")"
	}
	return out, nil
}

// writeBundle writes the certification bundle of a finished run and says where and how long.
func writeBundle(w io.Writer, dir string) error {
	start := time.Now()
	s, err := report.WriteBundle(dir)
	if err != nil {
		return fmt.Errorf("writing the certification bundle in %s: %w", dir, err)
	}
	fmt.Fprintf(w, "hwcert: wrote the certification bundle %s (%s, %s; %d cards: %s) in %s\n",
		filepath.Join(dir, report.FileIndex), report.FileSummary, report.FileManifest, len(s.Cards), verdictCounts(s), time.Since(start).Round(time.Millisecond))
	return nil
}

func verdictCounts(s *report.Summary) string {
	n := map[string]int{}
	for _, c := range s.Cards {
		n[c.Verdict]++
	}
	var out []string
	for _, v := range []string{report.Certified, report.RefusedAsUnsupported, report.NotCertified, report.NotTestable} {
		if n[v] > 0 {
			out = append(out, fmt.Sprintf("%d %s", n[v], v))
		}
	}
	return strings.Join(out, ", ")
}

// withoutFaultLabels keeps the fault:* labels (which mock lies a spec must catch, up to a dozen a
// spec) out of the JUnit test names, which stay short for CI; the other labels stay. The JSON
// report keeps them all.
func withoutFaultLabels(r types.Report) types.Report {
	keep := func(ls []string) []string {
		return slices.DeleteFunc(slices.Clone(ls), func(l string) bool { return strings.HasPrefix(l, labels.FaultKey+":") })
	}
	r.SpecReports = slices.Clone(r.SpecReports)
	for i, sr := range r.SpecReports {
		hier := make([][]string, len(sr.ContainerHierarchyLabels))
		for j, ls := range sr.ContainerHierarchyLabels {
			hier[j] = keep(ls)
		}
		r.SpecReports[i].ContainerHierarchyLabels = hier
		r.SpecReports[i].LeafNodeLabels = keep(sr.LeafNodeLabels)
	}
	return r
}

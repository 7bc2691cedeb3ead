//go:build soak

// The soak runs the default lab again and again behind a mock whose plumbing fails (a random
// mix of the chaos faults, each run with its own printed seed), and interrupts some runs at a
// random moment. Whatever happens, no placement verdict changes (a spec passes, or fails as a
// lab error), nothing is left in the lab after the run and its sweep, and the mock never
// crashes. Run it with `make soak`; replay one run with the seed and faults it prints.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/framework"
	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/framework/suite"
)

const soakRuns = 20

// soakFaults draws a mix of faults at rates that keep a run finishing.
func soakFaults(rng *rand.Rand) []string {
	pool := []string{
		fmt.Sprintf("api-5xx:%.3f", 0.01+rng.Float64()*0.03),
		"api-slow:0.02:200ms",
		fmt.Sprintf("api-reset:%.3f", 0.005+rng.Float64()*0.015),
		fmt.Sprintf("token-expiry:%dms", 800+rng.IntN(2000)),
		"delete-409:0.1",
		"stuck:0.01",
		"boot-error:0.03",
		// Per call: an inventory of a host is some 40 calls, each attempt of which must get through.
		fmt.Sprintf("libvirt-drop:%.3f", 0.002+rng.Float64()*0.004),
		fmt.Sprintf("libvirt-restart:%dms", 1500+rng.IntN(2500)),
	}
	var out []string
	for _, f := range pool {
		if rng.IntN(2) == 0 {
			out = append(out, f)
		}
	}
	return out
}

func TestSoak(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hwcert")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building hwcert: %v\n%s", err, out)
	}
	repoRoot, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	master := rand.Uint64()
	t.Logf("soak master seed %d", master)
	rng := rand.New(rand.NewPCG(master, 1))

	retries := map[string]int{}
	var faultTime, cleanTime time.Duration
	labErrs, interrupted := 0, 0
	for i := range soakRuns {
		seed := rng.Uint64() % 1_000_000
		faults := soakFaults(rng)
		interrupt := time.Duration(0)
		if i%4 == 3 {
			interrupt = time.Duration(50+rng.IntN(1500)) * time.Millisecond
		}
		t.Logf("run %d: seed %d, chaos %v, interrupt after %v", i+1, seed, faults, interrupt)
		r := soakRun(t, bin, repoRoot, append(faults, fmt.Sprintf("seed:%d", seed)), interrupt)
		for k, n := range r.retries {
			retries[k] += n
		}
		if len(faults) == 0 {
			cleanTime += r.elapsed
		}
		faultTime += r.elapsed
		labErrs += r.labErrors
		if interrupt > 0 {
			interrupted++
		}
	}
	t.Logf("soak: %d runs (%d interrupted), %d lab errors, retries by kind %v, total run time %s", soakRuns, interrupted, labErrs, retries, faultTime.Round(time.Millisecond))
}

type soakResult struct {
	retries   map[string]int
	labErrors int
	elapsed   time.Duration
}

// soakRun serves the default lab with the chaos in a `hwcert mock` process, runs the suites
// against it (interrupting the run after interrupt, when set), sweeps, and checks the verdicts,
// the leftovers and the mock's exit.
func soakRun(t *testing.T, bin, repoRoot string, chaosSpecs []string, interrupt time.Duration) soakResult {
	t.Helper()
	state, err := os.MkdirTemp("", "hws")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(state)
	args := []string{"mock", "--lab", filepath.Join(repoRoot, "fixtures/labs", labs.Default+".yaml"), "--state-dir", state}
	for _, c := range chaosSpecs {
		args = append(args, "--chaos", c)
	}
	mockCmd := exec.Command(bin, args...)
	var mockOut strings.Builder
	mockCmd.Stdout, mockCmd.Stderr = &mockOut, &mockOut
	if err := mockCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if mockCmd.ProcessState == nil {
			_ = mockCmd.Process.Kill()
			_ = mockCmd.Wait()
		}
	}()
	cfgPath := filepath.Join(state, "hwcert.yaml")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(state, "clouds.yaml")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mock did not come up:\n%s", mockOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Short waits: a stuck boot becomes a lab error in seconds, not a minute.
	written, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	short := strings.NewReplacer("boot: 1m0s", "boot: 3s", "delete: 1m0s", "delete: 5s").Replace(string(written))
	if short == string(written) {
		t.Fatalf("the mock's config has no 1m boot and delete timeouts to shorten:\n%s", written)
	}
	if err := os.WriteFile(cfgPath, []byte(short), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}

	reports := t.TempDir()
	run := exec.Command(bin, "run", "--config", cfgPath, "--skip-preflight", "--report-dir", reports, "--timeout", "2m")
	run.Dir = repoRoot
	var runOut strings.Builder
	run.Stdout, run.Stderr = &runOut, &runOut
	start := time.Now()
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	if interrupt > 0 {
		time.AfterFunc(interrupt, func() { _ = run.Process.Signal(os.Interrupt) })
	}
	runErr := run.Wait()
	elapsed := time.Since(start)
	code := run.ProcessState.ExitCode()
	if code != 0 && code != exitSpecsFailed && !(interrupt > 0) {
		t.Errorf("hwcert run exited %d (%v):\n%s", code, runErr, tail(runOut.String(), 60))
	}
	if interrupt > 0 && elapsed > interrupt+30*time.Second {
		t.Errorf("interrupted after %s, the run took %s to exit", interrupt, elapsed)
	}

	res := soakResult{retries: map[string]int{}, elapsed: elapsed}
	if rep, err := readReport(filepath.Join(reports, "report.json")); err == nil {
		for _, s := range rep.SpecReports {
			for _, e := range s.ReportEntries {
				if e.Name == suite.EntryRetry {
					var r openstack.Retry
					if json.Unmarshal([]byte(e.Value.AsJSON), &r) == nil {
						res.retries[r.Kind]++
					}
				}
			}
			switch {
			case s.State == types.SpecStatePassed, s.State == types.SpecStateSkipped, s.State == types.SpecStatePending:
			case framework.IsLabFailureState(s.State, s.Failure.Message):
				res.labErrors++
			case interrupt > 0 && s.State.Is(types.SpecStateInterrupted|types.SpecStateAborted|types.SpecStateFailed):
				// An interrupted run's specs end however the interrupt found them.
			default:
				t.Errorf("chaos %v: %s %s: %s\n(a spec under plumbing faults must pass or fail as a lab error)", chaosSpecs, s.FullText(), s.State, s.Failure.Message)
			}
		}
	} else if interrupt == 0 {
		t.Errorf("chaos %v: %v\n%s", chaosSpecs, err, tail(runOut.String(), 60))
	}

	// The sweep of the next run (here hwcert cleanup, through the same chaos), then nothing left.
	sweep := exec.Command(bin, "cleanup", "--config", cfgPath)
	if out, err := sweep.CombinedOutput(); err != nil {
		t.Errorf("chaos %v: hwcert cleanup: %v\n%s", chaosSpecs, err, out)
	}
	if left := leftovers(t, cfgPath, cfg.NamePrefix); len(left) > 0 {
		t.Errorf("chaos %v: left in the lab after the run and its sweep: %v", chaosSpecs, left)
	}

	// The mock stops cleanly on SIGTERM: it never crashed under the faults.
	_ = mockCmd.Process.Signal(syscall.SIGTERM)
	if err := mockCmd.Wait(); err != nil || strings.Contains(mockOut.String(), "panic") {
		t.Errorf("chaos %v: the mock exited with %v:\n%s", chaosSpecs, err, tail(mockOut.String(), 60))
	}
	return res
}

func readReport(path string) (types.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return types.Report{}, err
	}
	var reps []types.Report
	if err := json.Unmarshal(data, &reps); err != nil || len(reps) != 1 {
		return types.Report{}, fmt.Errorf("reading %s: %v (%d reports)", path, err, len(reps))
	}
	return reps[0], nil
}

// leftovers lists the servers and flavors with the run's prefix, asked without chaos-free
// shortcuts: through the harness's client, retries included.
func leftovers(t *testing.T, cfgPath, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := openstack.New(ctx, cfg)
	if err != nil {
		t.Fatalf("connecting to count leftovers: %v", err)
	}
	var out []string
	srvs, err := c.Servers(ctx)
	if err != nil {
		t.Fatalf("listing servers: %v", err)
	}
	for _, s := range srvs {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, "server "+s.Name)
		}
	}
	fls, err := c.Flavors(ctx)
	if err != nil {
		t.Fatalf("listing flavors: %v", err)
	}
	for _, f := range fls {
		if strings.HasPrefix(f.Name, prefix) {
			out = append(out, "flavor "+f.Name)
		}
	}
	slices.Sort(out)
	return out
}

//go:build concurrent

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/mock"
	"github.com/hwcert/hwcert/mock/cloud"
)

// TestConcurrentRunsOnOneLab runs three `hwcert run`s at once against one mock lab whose servers
// sit in BUILD for a while, two with the same name prefix and one with another, each in two
// processes: the host leases keep one run's servers off the devices another run's spec is aimed
// at, so all three are green, and nothing is left on the lab afterwards.
func TestConcurrentRunsOnOneLab(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hwcert")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building hwcert: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l, err := labs.Load("multi")
	if err != nil {
		t.Fatal(err)
	}
	latency := 300 * time.Millisecond
	dir := t.TempDir()
	m, err := mock.Start(ctx, mock.Options{Lab: l, StateDir: dir, BootLatency: &latency})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	base, err := os.ReadFile(m.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	ci := filepath.Join(dir, "hwcert-ci.yaml")
	if err := os.WriteFile(ci, append(base, []byte("\nname_prefix: hwcert-ci-\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	runs := map[string]string{"a": m.ConfigFile(), "b": m.ConfigFile(), "ci": ci}
	var wg sync.WaitGroup
	for name, cfg := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg, "--procs", "2", "--skip-preflight",
				"--label-filter", "passthrough || numa", "--report-dir", filepath.Join(dir, "reports-"+name))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("run %s (%s): %v\n%s", name, cfg, err, tail(string(out), 60))
			} else if !strings.Contains(string(out), " passed") {
				t.Errorf("run %s: no passed spec in its output:\n%s", name, tail(string(out), 30))
			}
		}()
	}
	wg.Wait()
	if left, err := m.Cloud().Servers(cloud.ServerFilter{}); err != nil || len(left) > 0 {
		t.Errorf("servers left on the lab: %v (%v)", left, err)
	}
}

//go:build soak

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a strings.Builder safe for a process writing while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunAbortsOnceWhenTheLabIsGone kills the lab (a `hwcert mock` process) in the middle of a
// run: the run stops once with one "the lab is gone" lab error, well within its timeouts,
// instead of failing every remaining spec one by one after its full waits.
func TestRunAbortsOnceWhenTheLabIsGone(t *testing.T) {
	bin := buildHwcert(t)
	repoRoot, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	state, err := os.MkdirTemp("", "hwg")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(state)
	mock := exec.Command(bin, "mock", "--lab", filepath.Join(repoRoot, "fixtures/labs/multi.yaml"), "--state-dir", state, "--boot-latency", "300ms")
	if err := mock.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = mock.Process.Kill(); _ = mock.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(state, "clouds.yaml")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mock did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}

	out := &syncBuffer{}
	run := exec.Command(bin, "run", "--config", filepath.Join(state, "hwcert.yaml"), "--skip-preflight", "--report-dir", t.TempDir(), "--no-color")
	run.Dir = repoRoot
	run.Stdout, run.Stderr = out, out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the lab once a few specs have passed.
	passed := regexp.MustCompile(`(?m)^passed `)
	for len(passed.FindAllString(out.String(), -1)) < 3 {
		if time.Now().After(deadline.Add(40 * time.Second)) {
			t.Fatalf("no spec passed:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	killed := time.Now()
	_ = mock.Process.Kill()
	_ = mock.Wait()

	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		_ = run.Process.Kill()
		t.Fatalf("the run did not end within 3 minutes of the lab's death:\n%s", tail(out.String(), 60))
	}
	text := out.String()
	if run.ProcessState.ExitCode() != 1 {
		t.Errorf("exit %d, want 1 (specs failed)", run.ProcessState.ExitCode())
	}
	if n := strings.Count(text, "the lab is gone"); n == 0 {
		t.Fatalf("no \"the lab is gone\" lab error:\n%s", tail(text, 60))
	}
	failed := regexp.MustCompile(`(?m)^(failed|aborted|timedout) `).FindAllString(text, -1)
	if len(failed) > 3 {
		t.Errorf("%d specs failed one by one after the lab died, want the run to stop at once:\n%s", len(failed), tail(text, 60))
	}
	t.Logf("the run ended %s after the lab was killed; %d specs failed or aborted", time.Since(killed).Round(time.Second), len(failed))
}

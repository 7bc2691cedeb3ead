//go:build soak

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildHwcert builds the binary the signal tests run as a subprocess.
func buildHwcert(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hwcert")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building hwcert: %v\n%s", err, out)
	}
	return bin
}

// slowRun starts `hwcert run` on the embedded mock with boots slow enough that the run lasts
// far longer than the test waits for it.
func slowRun(t *testing.T, bin string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	run := exec.Command(bin, "run", "--report-dir", t.TempDir(), "--mock-boot-latency", "3s")
	var out strings.Builder
	run.Stdout, run.Stderr = &out, &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	return run, &out
}

// waitExit waits for the process, failing past within.
func waitExit(t *testing.T, run *exec.Cmd, within time.Duration, what string, out *strings.Builder) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case <-done:
	case <-time.After(within):
		_ = run.Process.Kill()
		<-done
		t.Fatalf("%s: the run did not exit within %s:\n%s", what, within, tail(out.String(), 30))
	}
}

// A signal at any moment of the start, before Ginkgo has its own handler, stops the run: it
// never goes on to its end.
func TestEarlySignalStopsTheRun(t *testing.T) {
	bin := buildHwcert(t)
	for _, at := range []time.Duration{0, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 15 * time.Millisecond, 20 * time.Millisecond, 25 * time.Millisecond, 35 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond} {
		run, out := slowRun(t, bin)
		time.Sleep(at)
		if err := run.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		waitExit(t, run, 20*time.Second, "SIGINT after "+at.String(), out)
		st := run.ProcessState
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			continue // the signal came before the Go runtime set up any handler: its default action
		}
		if st.ExitCode() == 0 {
			t.Errorf("SIGINT after %s: the run exited 0, as if it had not been interrupted:\n%s", at, tail(out.String(), 20))
		}
		if !strings.Contains(out.String(), "interrupt") {
			t.Errorf("SIGINT after %s: exit %d without saying it was interrupted:\n%s", at, st.ExitCode(), tail(out.String(), 20))
		}
	}
}

// A second signal exits at once, with exit 130, saying what may be left.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	bin := buildHwcert(t)
	run, out := slowRun(t, bin)
	time.Sleep(1500 * time.Millisecond) // specs are booting (each boot takes 3s)
	if err := run.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // apart, or the kernel merges them; before the cleanup ends
	if err := run.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	waitExit(t, run, 3*time.Second, "second SIGINT", out)
	if code := run.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d after a second SIGINT, want %d:\n%s", code, exitInterrupted, tail(out.String(), 20))
	}
	if !strings.Contains(out.String(), "interrupted again: exiting now; the embedded mock lab ends with this process") {
		t.Errorf("the second SIGINT did not say what is left:\n%s", tail(out.String(), 20))
	}
}

func TestLeftBehindNamesTheCleanup(t *testing.T) {
	if msg := leftBehindMessage("lab.yaml"); !strings.Contains(msg, "`hwcert cleanup --config lab.yaml`") {
		t.Errorf("leftBehindMessage = %q; want the cleanup command for the lab", msg)
	}
}

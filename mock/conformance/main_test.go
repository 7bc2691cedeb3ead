//go:build conformance

// Package conformance drives `hwcert mock` with the real clients a lab's users have: the
// openstack CLI here, virsh in the libvirt tests. Run with `make conformance` or
// `go test -tags conformance ./mock/conformance/`.
//
// The binary under test is $HWCERT_BIN if set (make conformance sets nothing and the tests build
// ./cmd/hwcert into a temporary directory, so they always run the current source).
package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// repoRoot is the module root, found from this file's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the conformance package source")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above %s", filepath.Dir(file))
		}
		dir = parent
	}
}

// hwcertBinary returns the binary to test, building it once per test process if needed.
func hwcertBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HWCERT_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		root := repoRoot(t)
		binDir, binErr = os.MkdirTemp("", "hwcert-bin")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "hwcert")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", binPath, "./cmd/hwcert")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/hwcert: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// labPath resolves a lab file: as given when it exists (relative to the package directory,
// where go test runs), else relative to the repository root ("fixtures/labs/multi.yaml").
func labPath(t *testing.T, labFile string) string {
	t.Helper()
	if _, err := os.Stat(labFile); err == nil || filepath.IsAbs(labFile) {
		abs, err := filepath.Abs(labFile)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	return filepath.Join(repoRoot(t), labFile)
}

// startMock runs `hwcert mock --lab labFile --state-dir DIR extraArgs...` and returns DIR once
// DIR/clouds.yaml exists (the mock writes it after every endpoint accepts connections). The
// mock gets SIGTERM at the end of the test, which must stop it and remove its sockets.
func startMock(t *testing.T, labFile string, extraArgs ...string) (stateDir string) {
	t.Helper()
	bin := hwcertBinary(t)
	// A short directory: unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp("", "hwc")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"mock", "--lab", labPath(t, labFile), "--state-dir", dir}, extraArgs...)
	cmd := exec.Command(bin, args...)
	var logs bytes.Buffer
	cmd.Stdout = &syncWriter{w: &logs}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	t.Cleanup(func() {
		defer os.RemoveAll(dir)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		timer := time.NewTimer(15 * time.Second)
		defer timer.Stop()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("hwcert mock did not exit cleanly on SIGTERM: %v\n%s", err, cmd.Stdout.(*syncWriter).String())
			}
		case <-timer.C:
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("hwcert mock ignored SIGTERM for 15s\n%s", cmd.Stdout.(*syncWriter).String())
		}
		if socks, _ := filepath.Glob(filepath.Join(dir, "*.sock")); len(socks) > 0 {
			t.Errorf("sockets left after exit: %v", socks)
		}
	})

	clouds := filepath.Join(dir, "clouds.yaml")
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(clouds); err == nil {
			return dir
		}
		select {
		case err := <-exited:
			exited <- err // let the cleanup see it
			t.Fatalf("hwcert mock exited before writing clouds.yaml: %v\n%s", err, cmd.Stdout.(*syncWriter).String())
		case <-deadline.C:
			t.Fatalf("hwcert mock wrote no %s within 30s\n%s", clouds, cmd.Stdout.(*syncWriter).String())
		case <-tick.C:
		}
	}
}

// syncWriter collects the mock's output from its two streams.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

// cliResult is one CLI run.
type cliResult struct {
	Stdout, Stderr string
	Err            error // non-nil when the command exited non-zero
}

func (r cliResult) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
}

// openstackCLI runs the openstack client against the mock in stateDir, with only the mock's
// clouds.yaml in its environment.
func openstackCLI(t *testing.T, stateDir string, args ...string) cliResult {
	t.Helper()
	path, err := exec.LookPath("openstack")
	if err != nil {
		t.Fatalf("the openstack CLI is not installed (Debian: python3-openstackclient; `make deps` installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"OS_CLIENT_CONFIG_FILE="+filepath.Join(stateDir, "clouds.yaml"),
		"OS_CLOUD=mock",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("openstack %s: timed out\n%s\n%s", strings.Join(args, " "), stdout.String(), stderr.String())
	}
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

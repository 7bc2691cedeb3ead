package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMockCommandServesUntilCancelled(t *testing.T) {
	dir, err := os.MkdirTemp("", "hwcmd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCommand()
	root.SetArgs([]string{"mock", "--lab", "../../mock/testdata/two-hosts.yaml", "--state-dir", dir, "--fault", "drop-hostdev", "--boot-latency", "10ms"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	clouds := filepath.Join(dir, "clouds.yaml")
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for ready := false; !ready; {
		select {
		case err := <-done:
			t.Fatalf("hwcert mock returned before serving: %v", err)
		case <-deadline:
			t.Fatal("no clouds.yaml within 20s")
		case <-tick.C:
			_, err := os.Stat(clouds)
			ready = err == nil
		}
	}
	for _, f := range []string{"clouds.yaml", "hwcert.yaml", "host-a.sock", "host-b.sock"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("while serving: %v", err)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("hwcert mock after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("hwcert mock did not stop within 20s of cancellation")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left in the state dir: %v", left)
	}
}

func TestMockCommandRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"mock", "--lab", "../../mock/testdata/two-hosts.yaml", "--state-dir", t.TempDir(), "--fault", "bogus"},
		{"mock", "--lab", "../../mock/testdata/two-hosts.yaml", "--state-dir", t.TempDir(), "--addr", "0.0.0.0:0"},
		{"mock", "--lab", "../../mock/testdata/two-hosts.yaml", "--state-dir", t.TempDir(), "--boot-latency", "-1s"},
		{"mock", "--lab", "does-not-exist.yaml", "--state-dir", t.TempDir()},
		{"mock", "--state-dir", t.TempDir()},
	} {
		root := newRootCommand()
		root.SetArgs(args)
		root.SetOut(&strings.Builder{})
		root.SetErr(&strings.Builder{})
		if err := root.ExecuteContext(context.Background()); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

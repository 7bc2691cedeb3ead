package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/mockboot"
	"github.com/hwcert/hwcert/framework/openstack"
)

// mockConfig starts the default mock lab for the test and returns its harness config, as a map
// a test can change and write with writeConfig.
func mockConfig(t *testing.T) (file string, cfg map[string]any) {
	t.Helper()
	l, err := mockboot.Start(context.Background(), mockboot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	data, err := os.ReadFile(l.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	return l.ConfigFile(), cfg
}

func writeConfig(t *testing.T, cfg map[string]any) string {
	t.Helper()
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "hwcert.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// line is the preflight line of a check.
func line(t *testing.T, out, check string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 2 && strings.HasPrefix(strings.SplitN(l, " ", 2)[1], check+":") {
			return l
		}
	}
	t.Fatalf("no line for check %q in:\n%s", check, out)
	return ""
}

func expectMark(t *testing.T, out, check, mark string, contains ...string) {
	t.Helper()
	l := line(t, out, check)
	if !strings.HasPrefix(l, mark+" ") {
		t.Errorf("check %s: %q, expected %s", check, l, mark)
	}
	for _, s := range contains {
		if !strings.Contains(l, s) {
			t.Errorf("check %s: %q lacks %q", check, l, s)
		}
	}
}

func TestPreflightPassesOnTheMock(t *testing.T) {
	out, code := runCommand(t, "preflight")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, c := range []string{"cloud", "admin view", "compute microversion", "image", "network",
		"libvirt worker-0", "libvirt worker-1", "libvirt worker-2", "libvirt worker-3", "catalog", "leftovers"} {
		expectMark(t, out, c, "✔")
	}
	// The mock serves GET /limits with unlimited quotas (-1), so the largest spec fits.
	expectMark(t, out, "quota", "✔", "fits the quota")
	if !strings.HasSuffix(out, "preflight: a run can start\n") {
		t.Errorf("no final verdict:\n%s", out)
	}
}

func TestPreflightBlockers(t *testing.T) {
	file, base := mockConfig(t)
	clone := func() map[string]any {
		data, _ := yaml.Marshal(base)
		var c map[string]any
		_ = yaml.Unmarshal(data, &c)
		return c
	}
	catDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(catDir, "x.yaml"), []byte(`devices:
  - {alias: other-vf, display_name: a card the lab lacks, vendor_id: "abcd", product_id: "0001", function: vf, kind: other, passthrough_supported: true}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(c map[string]any)
		check  string
		found  []string
		others string // a check that still passes
	}{
		{"wrong image name", func(c map[string]any) { c["image"] = "no-such-image" }, "image", []string{`"no-such-image"`, "set image"}, "libvirt worker-0"},
		{"one host's socket path broken", func(c map[string]any) {
			c["hypervisors"].(map[string]any)["hosts"].(map[string]any)["worker-1"] = "qemu+unix:///system?socket=/nonexistent/worker-1.sock"
		}, "libvirt worker-1", []string{"/nonexistent/worker-1.sock", "socket path exists"}, "libvirt worker-2"},
		{"a host without URI", func(c map[string]any) {
			delete(c["hypervisors"].(map[string]any)["hosts"].(map[string]any), "worker-3")
		},
			"libvirt worker-3", []string{"worker-3", "uri_template"}, "libvirt worker-0"},
		{"microversion out of range", func(c map[string]any) { c["compute_microversion"] = "2.999" }, "compute microversion", []string{"2.999", "2.1 to 2.104"}, "image"},
		{"no device for any alias", func(c map[string]any) { c["device_catalog"] = catDir }, "catalog", []string{"none"}, "leftovers"},
		{"no clouds.yaml", func(c map[string]any) { c["clouds_file"] = "/nonexistent/clouds.yaml" }, "cloud", []string{"/nonexistent/clouds.yaml"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := clone()
			c.change(cfg)
			bad := writeConfig(t, cfg)
			out, code := runCommand(t, "preflight", "--config", bad)
			if code != exitUsage {
				t.Fatalf("exit %d, expected %d:\n%s", code, exitUsage, out)
			}
			expectMark(t, out, c.check, "✘", c.found...)
			if c.others != "" {
				expectMark(t, out, c.others, "✔")
			} else {
				expectMark(t, out, "image", "-", "not checked")
			}
		})
	}
	if _, code := runCommand(t, "preflight", "--config", file); code != 0 {
		t.Errorf("the unchanged config: exit %d", code)
	}
}

// TestPreflightBoundsEachCheck: a libvirtd that accepts the connection and never answers is
// reported as a timeout of that host's check, within the bound.
func TestPreflightBoundsEachCheck(t *testing.T) {
	_, cfg := mockConfig(t)
	sock := filepath.Join(t.TempDir(), "mute.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	cfg["hypervisors"].(map[string]any)["hosts"].(map[string]any)["worker-2"] = "qemu+unix:///system?socket=" + sock
	start := time.Now()
	out, code := runCommand(t, "preflight", "--config", writeConfig(t, cfg), "--check-timeout", "1s")
	if code != exitUsage {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	expectMark(t, out, "libvirt worker-2", "✘", "timed out after 1s")
	expectMark(t, out, "libvirt worker-0", "✔")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("preflight took %s with a 1s bound per check", d)
	}
}

// TestPreflightReportsLeftovers: a flavor an earlier run left is counted, and cleanup is named.
func TestPreflightReportsLeftovers(t *testing.T) {
	file, _ := mockConfig(t)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	cloud, err := openstack.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.CreateFlavor(context.Background(), openstack.FlavorSpec{Name: "hwcert-20200101t000000-abcdef-left", VCPUs: 1, RAMMB: 64, DiskGB: 1}); err != nil {
		t.Fatal(err)
	}
	out, code := runCommand(t, "preflight", "--config", file)
	if code != 0 {
		t.Fatalf("leftovers are no blocker: exit %d\n%s", code, out)
	}
	expectMark(t, out, "leftovers", "!", "0 servers and 1 flavors", "hwcert cleanup --config "+file)
}

// TestRunStopsOnAPreflightBlocker: `hwcert run --config` checks first and exits 2 before the
// report directory is touched.
func TestRunStopsOnAPreflightBlocker(t *testing.T) {
	_, cfg := mockConfig(t)
	cfg["image"] = "no-such-image"
	reports := filepath.Join(t.TempDir(), "reports")
	out, code := runCommand(t, "run", "--config", writeConfig(t, cfg), "--report-dir", reports)
	if code != exitUsage {
		t.Fatalf("exit %d, expected %d:\n%s", code, exitUsage, out)
	}
	if _, err := os.Stat(reports); !os.IsNotExist(err) {
		t.Errorf("the report directory was touched: %v", err)
	}
}

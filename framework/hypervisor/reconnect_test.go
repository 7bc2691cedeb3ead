package hypervisor

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hwcert/hwcert/mock/chaos"
	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/libvirtd"
)

// serveAIO serves the aio lab's host from the mock's libvirtd (with the chaos, when set) on a
// unix socket, and returns its path.
func serveAIO(t *testing.T, set *chaos.Set) string {
	t.Helper()
	l, err := lab.Load(filepath.Join("..", "..", "fixtures", "labs", "aio.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	invs, err := l.Inventories()
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "lv.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	d := libvirtd.New("controller-0", invs["controller-0"], nil)
	d.SetLogger(slog.New(slog.DiscardHandler))
	if set != nil {
		d.SetChaos(set)
	}
	go func() { _ = d.Serve(ln) }()
	t.Cleanup(func() { _ = d.Close() })
	return sock
}

// mockHost serves one host of the aio lab from the mock's libvirtd with the given chaos, and
// returns an inspector pointed at it and the retries it reports.
func mockHost(t *testing.T, faults ...string) (*Inspector, *chaos.Set, func() []Retry) {
	t.Helper()
	set, err := chaos.Parse(append(faults, "seed:7"))
	if err != nil {
		t.Fatal(err)
	}
	sock := serveAIO(t, set)
	set.Arm()
	in := New(func(string) (string, error) { return "qemu+unix:///system?socket=" + sock, nil })
	var mu sync.Mutex
	var retries []Retry
	in.OnRetry(func(r Retry) {
		mu.Lock()
		defer mu.Unlock()
		retries = append(retries, r)
	})
	t.Cleanup(func() { _ = in.Close() })
	return in, set, func() []Retry {
		mu.Lock()
		defer mu.Unlock()
		return append([]Retry(nil), retries...)
	}
}

// A connection the daemon closes mid-call is reopened and the call run again: the caller gets
// its answer, and each attempt lost is reported.
func TestDroppedConnectionReconnects(t *testing.T) {
	in, set, retries := mockHost(t, "libvirt-drop:2x")
	caps, err := in.Capabilities(context.Background(), "controller-0")
	if err != nil {
		t.Fatalf("Capabilities through two dropped connections: %v", err)
	}
	if !strings.Contains(caps, "<capabilities>") {
		t.Fatalf("capabilities = %.200q", caps)
	}
	if n := set.Fired()[chaos.LibvirtDrop]; n != 2 {
		t.Fatalf("the daemon dropped %d connections; the test needs 2", n)
	}
	got := retries()
	if len(got) != 2 {
		t.Fatalf("retries reported %v; want one per dropped connection (2)", got)
	}
	for _, r := range got {
		if r.Kind != RetryKind || r.Host != "controller-0" || r.Reason == "" || r.Wait <= 0 {
			t.Errorf("retry %+v: want kind %s, the host, the error seen and the backoff", r, RetryKind)
		}
	}
}

// A libvirtd that restarts again and again (its connections closed, then refused for a while)
// never fails a call: each one rides the restart out.
func TestRestartingLibvirtdIsRiddenOut(t *testing.T) {
	in, set, retries := mockHost(t, "libvirt-restart:200ms")
	deadline := time.Now().Add(1500 * time.Millisecond)
	calls := 0
	for time.Now().Before(deadline) {
		if _, err := in.PCIInventory(context.Background(), "controller-0"); err != nil {
			t.Fatalf("call %d while libvirtd restarts every 200ms: %v", calls+1, err)
		}
		calls++
	}
	if n := set.Fired()[chaos.LibvirtRestart]; n < 3 {
		t.Fatalf("libvirtd restarted %d times in 1.5s; want at least 3", n)
	}
	if len(retries()) == 0 {
		t.Fatalf("%d calls across %d restarts and not one retry: the restarts were not seen", calls, set.Fired()[chaos.LibvirtRestart])
	}
}

// A libvirtd that drops every call is given up on after the bounded retries, as a lab error.
func TestAlwaysDroppingLibvirtdIsALabError(t *testing.T) {
	in, _, retries := mockHost(t, "libvirt-drop:1")
	_, err := in.Capabilities(context.Background(), "controller-0")
	if err == nil || !IsPlumbing(err) {
		t.Fatalf("err = %v; want a plumbing error", err)
	}
	if n := len(retries()); n != retryAttempts-1 {
		t.Fatalf("%d retries; want %d (the bound)", n, retryAttempts-1)
	}
}

package mock_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/hwcert/hwcert/mock"
	"github.com/hwcert/hwcert/mock/chaos"
	"github.com/hwcert/hwcert/mock/lab"
)

// startChaos starts the lab with plumbing faults that begin once the client has authenticated,
// so counts (2x) count the test's own requests.
func startChaos(t *testing.T, mutate func(*mock.Options), specs ...string) *labClient {
	c := startLab(t, testLab, func(o *mock.Options) {
		o.Chaos, o.DeferChaos = specs, true
		if mutate != nil {
			mutate(o)
		}
	})
	c.m.Chaos().Arm()
	return c
}

const chaosImage = "0b6f7c1e-2d3a-4f5b-8c9d-0e1f2a3b4c5d"

// get is a GET of path that returns the status, or -1 when no answer came.
func (c *labClient) get(path string) int {
	c.t.Helper()
	req, err := http.NewRequestWithContext(ctxT(c.t), http.MethodGet, c.m.BaseURL()+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", c.provider.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestChaos5xxInTheServiceFormat(t *testing.T) {
	// The first two requests after start fail; the count keeps the test exact.
	c := startChaos(t, nil, "api-5xx:2x", "seed:1")
	var statuses []int
	for range 3 {
		statuses = append(statuses, c.get("/compute/v2.1/flavors"))
	}
	fired := c.m.Chaos().Fired()[chaos.API5xx]
	if fired != 2 {
		t.Fatalf("api-5xx fired %d times, want 2 (statuses %v)", fired, statuses)
	}
	if statuses[2] != http.StatusOK {
		t.Errorf("third request: status %d, want 200 once the count is spent (all: %v)", statuses[2], statuses)
	}
	for _, s := range statuses[:2] {
		if s < 500 {
			t.Errorf("statuses %v: want 5xx for the first two", statuses)
		}
	}
}

func TestChaosResetClosesWithoutAnswer(t *testing.T) {
	c := startChaos(t, nil, "api-reset:1x")
	if s := c.get("/compute/v2.1/flavors"); s != -1 {
		t.Fatalf("status %d, want the connection closed without an answer", s)
	}
	if s := c.get("/compute/v2.1/flavors"); s != http.StatusOK {
		t.Fatalf("after the reset: status %d, want 200", s)
	}
}

func TestChaosSlowAnswersLate(t *testing.T) {
	c := startChaos(t, nil, "api-slow:1x:300ms")
	start := time.Now()
	if s := c.get("/compute/v2.1/flavors"); s != http.StatusOK {
		t.Fatalf("status %d", s)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("answered after %s, want at least the 300ms delay", d)
	}
}

func TestChaosDelete409ThenAccepted(t *testing.T) {
	c := startChaos(t, nil, "delete-409:1x")
	fl := c.flavor("chaos-409", 1, 512, nil)
	srv, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: "chaos-409", FlavorRef: fl.ID, ImageRef: chaosImage, Networks: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	code, _, body := c.raw(http.MethodDelete, "/compute/v2.1/servers/"+srv.ID, nil, nil)
	if code != http.StatusConflict || !strings.Contains(string(body), "task_state") {
		t.Fatalf("first delete: %d %s, want 409 naming the task state", code, body)
	}
	if code, _, body := c.raw(http.MethodDelete, "/compute/v2.1/servers/"+srv.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("second delete: %d %s, want 204", code, body)
	}
}

func TestChaosStuckAndBootError(t *testing.T) {
	c := startChaos(t, func(o *mock.Options) {
		d := 10 * time.Millisecond
		o.BootLatency = &d
	}, "stuck:1x", "boot-error:1x")
	fl := c.flavor("chaos-boot", 1, 512, nil)
	boot := func(name string) string {
		srv, err := c.boot(c.compute, createOpts{CreateOpts: servers.CreateOpts{Name: name, FlavorRef: fl.ID, ImageRef: chaosImage, Networks: "none"}})
		if err != nil {
			t.Fatal(err)
		}
		return srv.ID
	}
	// Each lie is used once, by whichever boot the mock finishes first: the two boots end in
	// either order, so the test asks which one went to ERROR and holds the other to BUILD.
	a, b := boot("a"), boot("b")
	var failed, stuck string
	c.waitServer(a, "either server to go to ERROR", func(s *servers.Server) bool {
		for _, id := range []string{a, b} {
			if cur, err := servers.Get(ctxT(t), c.compute, id).Extract(); err == nil && cur.Status == "ERROR" {
				failed = id
			}
		}
		return failed != ""
	})
	stuck = a
	if failed == a {
		stuck = b
	}
	got, err := servers.Get(ctxT(t), c.compute, failed).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.Fault.Message, "No valid host") || got.Fault.Code != 500 {
		t.Errorf("boot-error fault %d %q, want a spawn failure that is not no valid host", got.Fault.Code, got.Fault.Message)
	}
	// A third boot, with both lies used up, goes ACTIVE: by then the stuck one's boot is long over.
	c.waitServer(boot("c"), "become ACTIVE", func(s *servers.Server) bool { return s.Status == "ACTIVE" })
	if s, err := servers.Get(ctxT(t), c.compute, stuck).Extract(); err != nil || s.Status != "BUILD" {
		t.Fatalf("stuck server: %v, %v; want it still in BUILD", s, err)
	}
	if code, _, body := c.raw(http.MethodDelete, "/compute/v2.1/servers/"+stuck, nil, nil); code != http.StatusNoContent {
		t.Fatalf("deleting the stuck server: %d %s", code, body)
	}
}

func TestChaosTokenExpiryAndPruning(t *testing.T) {
	c := startChaos(t, nil, "token-expiry:200ms")
	if s := c.get("/compute/v2.1/flavors"); s != http.StatusOK {
		t.Fatalf("fresh token: %d", s)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.get("/compute/v2.1/flavors") != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("the token never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A new login gets a new token (this client does not re-authenticate by itself).
	c.provider = startLabLogin(t, c.m)
	if s := c.get("/compute/v2.1/flavors"); s != http.StatusOK {
		t.Fatalf("after re-authentication: %d", s)
	}
}

func TestChaosRefusedSpecs(t *testing.T) {
	for _, specs := range [][]string{{"api-5xx"}, {"api-5xx:2"}, {"api-slow:0.1"}, {"token-expiry:0s"}, {"nope:1"}, {"seed:x"}, {"api-reset:1x:1s"}} {
		_, err := chaos.Parse(specs)
		if err == nil || !strings.Contains(err.Error(), specs[0]) {
			t.Errorf("Parse(%q): %v, want an error naming the spec", specs, err)
		}
	}
}

func TestChaosSameSeedSameDecisions(t *testing.T) {
	run := func() []bool {
		s, err := chaos.Parse([]string{"api-5xx:0.3", "seed:42"})
		if err != nil {
			t.Fatal(err)
		}
		var out []bool
		for range 50 {
			out = append(out, s.Fire(chaos.API5xx))
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("decision %d differs between two sets of seed 42", i)
		}
	}
}

// A listener that cannot be created (the port is taken, the socket path too long) is an error
// from Start, never a panic in its cleanup.
func TestStartFailuresAreErrors(t *testing.T) {
	l, err := lab.Load(testLab)
	if err != nil {
		t.Fatal(err)
	}
	busy := startLab(t, testLab)
	addr := strings.TrimPrefix(busy.m.BaseURL(), "http://")
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	cases := map[string]mock.Options{
		"port in use":       {Lab: l, StateDir: t.TempDir(), Addr: addr},
		"port out of range": {Lab: l, StateDir: t.TempDir(), Addr: "127.0.0.1:70000"},
		"long socket path":  {Lab: l, StateDir: long},
		"bad chaos":         {Lab: l, StateDir: t.TempDir(), Chaos: []string{"api-5xx:7"}},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := mock.Start(context.Background(), opts)
			if err == nil {
				m.Close()
				t.Fatal("Start succeeded")
			}
			if m != nil {
				t.Errorf("Start returned a mock with the error %v", err)
			}
		})
	}
	// A start cancelled at once (a signal in its first milliseconds) is an error too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := mock.Start(ctx, mock.Options{Lab: l, StateDir: dir}); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled start: %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed start left %v in the state dir", entries)
	}
}

// The catalog points where the mock listens, whatever Host header a client sends.
func TestCatalogIgnoresTheHostHeader(t *testing.T) {
	c := startLab(t, testLab)
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, c.m.BaseURL()+"/identity/v3/auth/catalog", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example:80"
	req.Header.Set("X-Auth-Token", c.provider.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("catalog: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "evil.example") || !strings.Contains(string(body), c.m.BaseURL()) {
		t.Errorf("catalog %s: want URLs at %s only", body, c.m.BaseURL())
	}
}

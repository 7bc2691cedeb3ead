package openstack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/mock"
)

// fastRetries keeps the tests short; the paths are those of DefaultRetryPolicy.
var fastRetries = RetryPolicy{Attempts: 4, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond}

// chaosLab is the aio mock lab with plumbing faults that start once the client is connected,
// and a client that records its retries.
type chaosLab struct {
	m       *mock.Mock
	c       *Client
	mu      sync.Mutex
	retries []Retry
}

func startChaosLab(t *testing.T, specs ...string) *chaosLab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	l, err := labs.Load("aio")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mock.Start(ctx, mock.Options{Lab: l, StateDir: t.TempDir(), Chaos: specs, DeferChaos: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	cfg, err := config.Load(m.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeouts.Poll.Duration = 5 * time.Millisecond
	lab := &chaosLab{m: m}
	lab.c, err = New(ctx, cfg, WithRetryPolicy(fastRetries), WithRetryReporter(func(r Retry) {
		lab.mu.Lock()
		defer lab.mu.Unlock()
		lab.retries = append(lab.retries, r)
	}))
	if err != nil {
		t.Fatal(err)
	}
	m.Chaos().Arm()
	return lab
}

func (l *chaosLab) kinds() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.retries {
		out = append(out, r.Kind)
	}
	return out
}

func (l *chaosLab) image(t *testing.T) string {
	return l.m.Cloud().Lab().Images[0].ID
}

func TestRetryOn5xxUntilAnswered(t *testing.T) {
	l := startChaosLab(t, "api-5xx:3x")
	if _, err := l.c.Flavors(context.Background()); err != nil {
		t.Fatalf("listing flavors through three 5xx: %v", err)
	}
	if got := l.kinds(); len(got) != 3 || got[0] != "5xx" {
		t.Errorf("retries %v, want three 5xx", got)
	}
}

func TestPersistent5xxIsPlumbing(t *testing.T) {
	l := startChaosLab(t, "api-5xx:1")
	_, err := l.c.Flavors(context.Background())
	if err == nil || !IsPlumbing(err) {
		t.Fatalf("err %v: want an error that IsPlumbing", err)
	}
	if n := len(l.kinds()); n != fastRetries.Attempts-1 {
		t.Errorf("%d retries, want %d (bounded by the policy)", n, fastRetries.Attempts-1)
	}
}

func TestRetryOnResetAndTimeout(t *testing.T) {
	// net/http itself repeats a GET once when a reused connection closes without an answer; the
	// second reset, on a new connection, is the client's to retry.
	l := startChaosLab(t, "api-reset:2x", "api-slow:1x:2s")
	if _, err := l.c.Flavors(context.Background()); err != nil {
		t.Fatalf("listing flavors through a reset and a slow answer: %v", err)
	}
	got := strings.Join(l.kinds(), ",")
	if !strings.Contains(got, "reset") || !strings.Contains(got, "timeout") {
		t.Errorf("retries %s, want a reset and a timeout", got)
	}
}

func TestDelete409Retried(t *testing.T) {
	// Only deletes of a server that exists are refused: the next two.
	l := startChaosLab(t, "delete-409:2x")
	ctx := context.Background()
	fl, err := l.c.CreateFlavor(ctx, FlavorSpec{Name: "hwcert-409", VCPUs: 1, RAMMB: 512})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := l.c.CreateServer(ctx, ServerSpec{Name: "hwcert-409-vm", FlavorID: fl.ID, ImageID: l.image(t), Network: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.c.WaitForBoot(ctx, srv.ID); err != nil {
		t.Fatal(err)
	}
	if err := l.c.DeleteServer(ctx, srv.ID); err != nil {
		t.Fatalf("delete through 409s: %v", err)
	}
	if got := strings.Join(l.kinds(), ","); !strings.Contains(got, "delete-409") {
		t.Errorf("retries %s, want delete-409", got)
	}
}

func TestCreateConfirmedByName(t *testing.T) {
	// Every create's connection is reset; half of them after the flavor was created. Whether the
	// answer or the request was lost, one flavor of the name exists at the end, never two.
	l := startChaosLab(t, "api-reset:2x", "seed:3")
	ctx := context.Background()
	fl, err := l.c.CreateFlavor(ctx, FlavorSpec{Name: "hwcert-confirm", VCPUs: 1, RAMMB: 512})
	if err != nil {
		t.Fatalf("create through resets: %v (retries %v)", err, l.kinds())
	}
	all, err := l.c.Flavors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range all {
		if f.Name == "hwcert-confirm" {
			n++
			if f.ID != fl.ID {
				t.Errorf("flavor %s exists besides the returned %s", f.ID, fl.ID)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d flavors named hwcert-confirm, want 1", n)
	}
	got := strings.Join(l.kinds(), ",")
	if !strings.Contains(got, "create-") {
		t.Errorf("retries %s, want the create confirmed or retried", got)
	}
}

func TestTokenExpiryReauthenticates(t *testing.T) {
	l := startChaosLab(t, "token-expiry:150ms")
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(l.kinds(), ","), "reauth") {
		if time.Now().After(deadline) {
			t.Fatalf("no re-authentication seen (retries %v)", l.kinds())
		}
		if _, err := l.c.Flavors(ctx); err != nil {
			t.Fatalf("listing flavors across token expiry: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestIsPlumbing(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&BootError{Fault: servers.Fault{Code: 500, Message: "No valid host was found. There are not enough hosts available."}}, false},
		{&BootError{Fault: servers.Fault{Code: 500, Message: "internal error: process exited while connecting to monitor"}}, true},
		{&TimeoutError{What: "server x to become ACTIVE"}, true},
		{&APIError{Method: http.MethodPost, Status: 400, Message: "PCI alias x is not defined"}, false},
		{&APIError{Method: http.MethodGet, Status: 503}, true},
		{&APIError{Method: http.MethodDelete, Status: 409}, true},
		{&APIError{Method: http.MethodPost, Status: 409}, false},
		{errors.New("assertion"), false},
	}
	for _, c := range cases {
		if got := IsPlumbing(c.err); got != c.want {
			t.Errorf("IsPlumbing(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

package hostlock

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/mock"
)

// cloud starts the mock lab and connects the harness's client to it, as a run does.
func cloud(t *testing.T, ctx context.Context) *openstack.Client {
	t.Helper()
	l, err := labs.Load("aio")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mock.Start(ctx, mock.Options{Lab: l, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	cfg, err := config.Load(m.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	c, err := openstack.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Two runs contend for one host: the second waits, says whom for, and gets it once released.
func TestLeaseContention(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := cloud(t, ctx)
	a, b := New(c, "20260101t000000-aaaaaa", 1), New(c, "20260101t000000-bbbbbb", 1)
	la, err := a.Acquire(ctx, 10*time.Millisecond, []string{"h1"}, time.Now().Add(time.Hour), nil)
	if err != nil || la.Host != "h1" {
		t.Fatalf("first acquire: %v, %v", la, err)
	}
	// While a holds h1, b times out, naming the holder.
	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	var waitedFor []openstack.Lease
	_, err = b.Acquire(short, 10*time.Millisecond, []string{"h1"}, time.Now().Add(time.Hour), func(h []openstack.Lease) { waitedFor = h })
	cancelShort()
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "20260101t000000-aaaaaa") {
		t.Fatalf("b acquired a held host or said nothing of its holder: %v", err)
	}
	if len(waitedFor) != 1 || !strings.HasPrefix(waitedFor[0].Holder, "20260101t000000-aaaaaa-p1-") {
		t.Fatalf("waiting callback saw %v, want a's lease", waitedFor)
	}
	// With two candidates b takes the free one.
	lb, err := b.Acquire(ctx, 10*time.Millisecond, []string{"h1", "h2"}, time.Now().Add(time.Hour), nil)
	if err != nil || lb.Host != "h2" {
		t.Fatalf("b with a free candidate: %v, %v", lb, err)
	}
	got := make(chan *Lock)
	go func() {
		l, err := b.Acquire(ctx, 10*time.Millisecond, []string{"h1"}, time.Now().Add(time.Hour), nil)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if l := <-got; l == nil || l.Host != "h1" {
		t.Fatalf("b did not get h1 after a released it: %v", l)
	}
	leases, err := c.Leases(ctx)
	if err != nil || len(leases) != 2 {
		t.Fatalf("leases %v (%v), want b's two", leases, err)
	}
}

// A killed holder never releases: its lease lapses at its expiry and a waiter breaks it; before
// then it is respected.
func TestLeaseOfAKilledHolderLapses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := cloud(t, ctx)
	killed := New(c, "20260101t000000-dead00", 3)
	expires := time.Now().Add(2 * time.Second)
	if _, err := killed.Acquire(ctx, 10*time.Millisecond, []string{"h1"}, expires, nil); err != nil {
		t.Fatal(err)
	}
	// The killed run's lock object is gone; only the lease on the lab remains.
	next := New(c, "20260101t000000-a1b2c3", 1)
	l, err := next.Acquire(ctx, 50*time.Millisecond, []string{"h1"}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); now.Before(expires.Truncate(time.Second)) {
		t.Fatalf("the lease was taken at %s, before the killed holder's expiry %s", now, expires)
	}
	if !strings.HasPrefix(l.lease.Holder, "20260101t000000-a1b2c3-p1-") {
		t.Fatalf("lease holder %q", l.lease.Holder)
	}
	leases, err := c.Leases(ctx)
	if err != nil || len(leases) != 1 || leases[0].Holder != l.lease.Holder {
		t.Fatalf("leases after the break: %v (%v), want only the new holder's", leases, err)
	}
}

// Breaking a lease deletes exactly the expired one: a lease another waiter took in between
// survives.
func TestBreakingDeletesOnlyTheExpiredLease(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := cloud(t, ctx)
	old, _, err := c.TryLease(ctx, LeaseName("h1"), "old", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ReleaseLease(ctx, old); err != nil {
		t.Fatal(err)
	}
	fresh, taken, err := c.TryLease(ctx, LeaseName("h1"), "fresh", time.Now().Add(time.Hour))
	if err != nil || !taken {
		t.Fatalf("fresh: %v %v", taken, err)
	}
	// A second waiter that also saw the expired lease breaks it late: nothing happens to fresh.
	if err := c.ReleaseLease(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, taken, err := c.TryLease(ctx, LeaseName("h1"), "third", time.Now().Add(time.Hour)); err != nil || taken {
		t.Fatalf("a third holder took h1 while %s holds it: %v %v", fresh, taken, err)
	}
}

func TestParseLease(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		ok       bool
		holder   string
	}{
		{"hwcert-lease-host-w1", "hwcert-lease-host-w1.20260101t000000-aaaaaa-p1-3.1767225600", true, "20260101t000000-aaaaaa-p1-3"},
		{"hwcert-lease-host-w1", "hwcert-lease-host-w1.x.notanumber", false, ""},
		{"hwcert-lease-host-w1", "some-uuid", false, ""},
		{"hwcert-20260101t000000-aaaaaa-numa-p1-1-flavor1", "uuid", false, ""},
	} {
		l, ok := openstack.ParseLease(tc.name, tc.id)
		if ok != tc.ok || l.Holder != tc.holder {
			t.Errorf("ParseLease(%q, %q) = %+v, %v; want holder %q, %v", tc.name, tc.id, l, ok, tc.holder, tc.ok)
		}
	}
}

package openstack

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/mock"
)

// TestSweepSparesConcurrentRuns runs against the real mock lab: the sweep at the start of a run
// must delete a killed run's leftovers and leave a concurrent run's (younger) resources alone.
func TestSweepSparesConcurrentRuns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := labs.Load("aio")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mock.Start(ctx, mock.Options{Lab: l, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg, err := config.Load(m.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	old := "hwcert-" + now.Add(-5*time.Hour).Format("20060102t150405") + "-abcdef-numa-p1-1-flavor1"
	fresh := "hwcert-" + now.Add(-time.Minute).Format("20060102t150405") + "-abcdef-numa-p1-1-flavor1"
	for _, name := range []string{old, fresh, "hwcert-by-hand", "someone-elses"} {
		if _, err := c.CreateFlavor(ctx, FlavorSpec{Name: name, VCPUs: 1, RAMMB: 512}); err != nil {
			t.Fatalf("create flavor %s: %v", name, err)
		}
	}
	names := func() []string {
		fls, err := c.Flavors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fls {
			out = append(out, f.Name)
		}
		slices.Sort(out)
		return out
	}

	res, err := c.Sweep(ctx, "hwcert-", 3*time.Hour)
	if err != nil || len(res.Flavors) != 1 {
		t.Fatalf("sweep older than 3h: %+v, %v; want only %s deleted", res, err, old)
	}
	if got, want := names(), []string{fresh, "hwcert-by-hand", "someone-elses"}; !slices.Equal(got, want) {
		t.Fatalf("after the age-limited sweep: %v, want %v", got, want)
	}
	// A run of a nested prefix, and a run that holds a live lease, are never swept; an expired
	// lease is broken.
	nested := "hwcert-ci-" + now.Add(-5*time.Hour).Format("20060102t150405") + "-abcdef-numa-p1-1-flavor1"
	leased := "hwcert-" + now.Add(-5*time.Hour).Format("20060102t150405") + "-00aa11-numa-p1-1-flavor1"
	for _, name := range []string{nested, leased} {
		if _, err := c.CreateFlavor(ctx, FlavorSpec{Name: name, VCPUs: 1, RAMMB: 512}); err != nil {
			t.Fatalf("create flavor %s: %v", name, err)
		}
	}
	liveLease, _, err := c.TryLease(ctx, LeasePrefix+"host-a", now.Add(-5*time.Hour).Format("20060102t150405")+"-00aa11-p1-1", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	deadLease, _, err := c.TryLease(ctx, LeasePrefix+"host-b", "20200101t000000-dead00-p1-1", now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.Sweep(ctx, "hwcert-", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Leases) != 1 || !strings.Contains(res.Leases[0], deadLease.Holder) {
		t.Fatalf("leases broken: %v, want only %s", res.Leases, deadLease)
	}
	if got, want := names(), []string{leased, "hwcert-by-hand", nested, liveLease.Name, "someone-elses"}; !slices.Equal(got, want) {
		t.Fatalf("after the full sweep of hwcert-: %v, want %v", got, want)
	}
	if _, err := c.Sweep(ctx, "hwcert-ci-", 0); err != nil {
		t.Fatal(err)
	}
	if got, want := names(), []string{leased, "hwcert-by-hand", liveLease.Name, "someone-elses"}; !slices.Equal(got, want) {
		t.Fatalf("after the full sweep of hwcert-ci-: %v, want %v", got, want)
	}
}

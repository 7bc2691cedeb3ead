package openstack

import (
	"context"
	"slices"
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
	if _, err := c.Sweep(ctx, "hwcert-", 0); err != nil {
		t.Fatal(err)
	}
	if got, want := names(), []string{"someone-elses"}; !slices.Equal(got, want) {
		t.Fatalf("after the full sweep: %v, want %v", got, want)
	}
}

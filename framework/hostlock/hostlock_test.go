package hostlock

import (
	"context"
	"reflect"
	"slices"
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

// hosts are claims of the whole of hosts with one slot each.
func hosts(names ...string) []Claim {
	out := make([]Claim, len(names))
	for i, h := range names {
		c, err := ClaimOn(h, Capacity{}, Want{Whole: true})
		if err != nil {
			panic(err)
		}
		out[i] = c
	}
	return out
}

// Two runs contend for one host: the second waits, says whom for, and gets it once released.
func TestLeaseContention(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := cloud(t, ctx)
	a, b := New(c, "20260101t000000-aaaaaa", 1), New(c, "20260101t000000-bbbbbb", 1)
	la, err := a.Acquire(ctx, 10*time.Millisecond, hosts("h1"), time.Now().Add(time.Hour), nil)
	if err != nil || la.Host != "h1" {
		t.Fatalf("first acquire: %v, %v", la, err)
	}
	// While a holds h1, b times out, naming the holder.
	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	var waitedFor []openstack.Lease
	_, err = b.Acquire(short, 10*time.Millisecond, hosts("h1"), time.Now().Add(time.Hour), func(h []openstack.Lease) { waitedFor = h })
	cancelShort()
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "20260101t000000-aaaaaa") {
		t.Fatalf("b acquired a held host or said nothing of its holder: %v", err)
	}
	if len(waitedFor) != 1 || !strings.HasPrefix(waitedFor[0].Holder, "20260101t000000-aaaaaa-p1-") {
		t.Fatalf("waiting callback saw %v, want a's lease", waitedFor)
	}
	// With two candidates b takes the free one.
	lb, err := b.Acquire(ctx, 10*time.Millisecond, hosts("h1", "h2"), time.Now().Add(time.Hour), nil)
	if err != nil || lb.Host != "h2" {
		t.Fatalf("b with a free candidate: %v, %v", lb, err)
	}
	got := make(chan *Lock)
	go func() {
		l, err := b.Acquire(ctx, 10*time.Millisecond, hosts("h1"), time.Now().Add(time.Hour), nil)
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
	if _, err := killed.Acquire(ctx, 10*time.Millisecond, hosts("h1"), expires, nil); err != nil {
		t.Fatal(err)
	}
	// The killed run's lock object is gone; only the lease on the lab remains.
	next := New(c, "20260101t000000-a1b2c3", 1)
	l, err := next.Acquire(ctx, 50*time.Millisecond, hosts("h1"), time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); now.Before(expires.Truncate(time.Second)) {
		t.Fatalf("the lease was taken at %s, before the killed holder's expiry %s", now, expires)
	}
	if !strings.HasPrefix(l.leases[0].Holder, "20260101t000000-a1b2c3-p1-") {
		t.Fatalf("lease holder %q", l.leases[0].Holder)
	}
	leases, err := c.Leases(ctx)
	if err != nil || len(leases) != 1 || leases[0].Holder != l.leases[0].Holder {
		t.Fatalf("leases after the break: %v (%v), want only the new holder's", leases, err)
	}
}

// Breaking a lease deletes exactly the expired one: a lease another waiter took in between
// survives.
func TestBreakingDeletesOnlyTheExpiredLease(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := cloud(t, ctx)
	old, _, err := c.TryLease(ctx, LeaseName("h1", "cpu", 0), "old", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ReleaseLease(ctx, old); err != nil {
		t.Fatal(err)
	}
	fresh, taken, err := c.TryLease(ctx, LeaseName("h1", "cpu", 0), "fresh", time.Now().Add(time.Hour))
	if err != nil || !taken {
		t.Fatalf("fresh: %v %v", taken, err)
	}
	// A second waiter that also saw the expired lease breaks it late: nothing happens to fresh.
	if err := c.ReleaseLease(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, taken, err := c.TryLease(ctx, LeaseName("h1", "cpu", 0), "third", time.Now().Add(time.Hour)); err != nil || taken {
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

// Specs on different devices of one host hold at once; a spec wanting more than is left waits,
// taking nothing meanwhile (a claim is whole or nothing); the whole host waits for every slot.
func TestSlotsOfOneHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := cloud(t, ctx)
	capy := Capacity{Devices: map[string][]string{"vf": {"0000:3d:01.0", "0000:3d:01.1", "0000:3d:01.2"}}, CPUs: 2}
	claim := func(w Want) []Claim {
		cl, err := ClaimOn("h1", capy, w)
		if err != nil {
			t.Fatal(err)
		}
		return []Claim{cl}
	}
	run := New(c, "20260101t000000-aaaaaa", 1)
	exp := time.Now().Add(time.Hour)
	one, err := run.Acquire(ctx, 10*time.Millisecond, claim(Want{Devices: map[string]int{"vf": 1}, CPUs: 1}), exp, nil)
	if err != nil {
		t.Fatal(err)
	}
	two, err := run.Acquire(ctx, 10*time.Millisecond, claim(Want{Devices: map[string]int{"vf": 1}, CPUs: 1}), exp, nil)
	if err != nil {
		t.Fatalf("a second spec on another device of the host: %v", err)
	}
	if shared := slices.DeleteFunc(one.Leases(), func(n string) bool { return !slices.Contains(two.Leases(), n) }); len(shared) > 0 {
		t.Fatalf("two holders share leases %v", shared)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = run.Acquire(short, 10*time.Millisecond, claim(Want{Devices: map[string]int{"vf": 2}}), exp, nil)
	cancelShort()
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("two devices while one is free: %v", err)
	}
	if ls, err := c.Leases(ctx); err != nil || len(ls) != 4 {
		t.Fatalf("a claim that waited kept part of it: leases %v (%v), want the 4 of the two holders", ls, err)
	}
	whole := make(chan *Lock)
	go func() {
		l, err := run.Acquire(ctx, 10*time.Millisecond, claim(Want{Whole: true}), exp, nil)
		if err != nil {
			t.Error(err)
		}
		whole <- l
	}()
	if err := one.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-whole:
		t.Fatalf("the whole host was taken while a spec held a slot: %v", l.Leases())
	case <-time.After(200 * time.Millisecond):
	}
	if err := two.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if l := <-whole; l == nil || len(l.Leases()) != 5 {
		t.Fatalf("whole host: %v, want its 3 device and 2 CPU slots", l)
	}
}

func TestClaimOn(t *testing.T) {
	capy := Capacity{Devices: map[string][]string{
		"gpu": {"0000:af:00.0"},
		"vf":  {"0000:3d:01.0", "0000:3d:01.1", "0000:3d:01.2"},
		// A generic alias sharing two of vf's devices: one pool of min(3, 2) slots.
		"any-vf": {"0000:3d:01.0", "0000:3d:01.1"},
	}, CPUs: 3}
	for _, tc := range []struct {
		name string
		want Want
		got  []Group // lease names abbreviated to pool-slot
		err  string
	}{
		{"nothing", Want{}, nil, ""},
		{"one gpu and a dedicated guest", Want{Devices: map[string]int{"gpu": 1}, CPUs: 1},
			[]Group{{[]string{"cpu-0", "cpu-1", "cpu-2"}, 1}, {[]string{"gpu-0"}, 1}}, ""},
		{"aliases sharing devices share a pool", Want{Devices: map[string]int{"vf": 1, "any-vf": 1}},
			[]Group{{[]string{"any-vf-0", "any-vf-1"}, 2}}, ""},
		{"all devices of an alias", Want{Devices: map[string]int{"vf": AllDevices}},
			[]Group{{[]string{"any-vf-0", "any-vf-1"}, 2}}, ""},
		{"whole host", Want{Whole: true},
			[]Group{{[]string{"any-vf-0", "any-vf-1"}, 2}, {[]string{"cpu-0", "cpu-1", "cpu-2"}, 3}, {[]string{"gpu-0"}, 1}}, ""},
		{"more than the host has", Want{Devices: map[string]int{"gpu": 2}}, nil, "offers 1 slots of gpu, the spec needs 2"},
		{"an alias the host lacks", Want{Devices: map[string]int{"qat": 1}}, nil, "no device of alias qat"},
		{"more dedicated guests than fit", Want{CPUs: 4}, nil, "offers 3 slots of cpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ClaimOn("w1", capy, tc.want)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.Groups {
				for j, n := range c.Groups[i].Names {
					c.Groups[i].Names[j] = strings.TrimPrefix(n, openstack.LeasePrefix+"w1-")
				}
			}
			if !reflect.DeepEqual(c.Groups, tc.got) {
				t.Fatalf("groups %v, want %v", c.Groups, tc.got)
			}
		})
	}
}

// At its end a run gives back every lease its process still holds, and only those: a lease it
// never got an answer for would otherwise block the host for other runs until its expiry.
func TestReleaseAllGivesBackOnlyThisProcessesLeases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := cloud(t, ctx)
	mine, p11, other := New(c, "20260101t000000-aaaaaa", 1), New(c, "20260101t000000-aaaaaa", 11), New(c, "20260101t000000-bbbbbb", 1)
	for _, x := range []struct {
		h    *Holder
		host string
	}{{mine, "h1"}, {mine, "h2"}, {p11, "h3"}, {other, "h4"}} {
		if _, err := x.h.Acquire(ctx, 10*time.Millisecond, hosts(x.host), time.Now().Add(time.Hour), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := mine.ReleaseAll(ctx); err != nil {
		t.Fatal(err)
	}
	ls, err := c.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, l := range ls {
		left = append(left, l.Holder)
	}
	slices.Sort(left)
	if len(left) != 2 || !strings.HasPrefix(left[0], "20260101t000000-aaaaaa-p11-") || !strings.HasPrefix(left[1], "20260101t000000-bbbbbb-p1-") {
		t.Fatalf("leases left after ReleaseAll of process 1: %v, want process 11's and the other run's", left)
	}
}

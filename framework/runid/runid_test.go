package runid

import (
	"testing"
	"time"
)

func TestNewRoundTrips(t *testing.T) {
	now := time.Date(2026, 11, 23, 22, 14, 0, 0, time.UTC)
	id := New(now)
	got, ok := StartedAt("hwcert-"+id+"-numa-p1-3-flavor1", "hwcert-")
	if !ok || !got.Equal(now) {
		t.Fatalf("StartedAt(%q) = %v, %v; want %v", id, got, ok, now)
	}
}

func TestStale(t *testing.T) {
	now := time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	old := "hwcert-20261123t180000-ab12cd-numa-p1-1-server1"
	fresh := "hwcert-20261123t215500-ab12cd-numa-p1-1-server1"
	cases := []struct {
		name, prefix string
		olderThan    time.Duration
		want         bool
	}{
		{old, "hwcert-", 3 * time.Hour, true},
		{fresh, "hwcert-", 3 * time.Hour, false}, // a concurrent run's: never touched
		{fresh, "hwcert-", 0, true},              // explicit full sweep
		{"hwcert-handmade", "hwcert-", 3 * time.Hour, false},
		{"hwcert-handmade", "hwcert-", 0, false}, // not made by hwcert: never, even with 0
		{"other-20261123t180000-ab12cd-x", "hwcert-", 0, false},
		{"hwcert-20261123t180000-zzzzzz-x", "hwcert-", time.Hour, false},
		{"hwcert-2026112", "hwcert-", time.Hour, false},
		{"hwcert-20261123t180000-ab12cd-", "hwcert-", 0, false}, // no spec part
		{"hwcert-20261123t180000-ab12cdx", "hwcert-", 0, false},
		{old, "", 0, false}, // an empty prefix never sweeps
		// Nested prefixes: a run of "hwcert-ci-" is no resource of "hwcert-", and the other way round.
		{"hwcert-ci-20261123t180000-ab12cd-numa-p1-1-server1", "hwcert-", 0, false},
		{"hwcert-ci-20261123t180000-ab12cd-numa-p1-1-server1", "hwcert-ci-", 3 * time.Hour, true},
		{old, "hwcert-ci-", 0, false},
		{"hwcert-lease-host-worker-1", "hwcert-", 0, false},
		{"d20261123t180000-ab12cd-x", "d", 0, true},
		{"deploy-web-1", "d", 0, false}, // --prefix d touches only names hwcert made with prefix d
	}
	for _, c := range cases {
		if got := Stale(c.name, c.prefix, c.olderThan, now); got != c.want {
			t.Errorf("Stale(%q, %q, %v) = %v, want %v", c.name, c.prefix, c.olderThan, got, c.want)
		}
	}
}

func FuzzStartedAt(f *testing.F) {
	f.Add("hwcert-20261123t180000-ab12cd-x", "hwcert-")
	f.Fuzz(func(t *testing.T, name, prefix string) {
		if ts, ok := StartedAt(name, prefix); ok && ts.IsZero() {
			t.Fatalf("ok with a zero time for %q", name)
		}
	})
}

func TestParse(t *testing.T) {
	n, ok := Parse("hwcert-ci-20261123t180000-ab12cd-numa-p2-7-flavor1", "hwcert-ci-")
	want := Name{Prefix: "hwcert-ci-", RunID: "20261123t180000-ab12cd", Spec: "numa-p2-7-flavor1", Started: time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)}
	if !ok || n != want {
		t.Fatalf("Parse = %+v, %v; want %+v", n, ok, want)
	}
}

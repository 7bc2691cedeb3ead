package hostlock

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAcquireSkipsHeldHostsAndWaitsForRelease(t *testing.T) {
	d := Dir(t.TempDir())
	ctx := context.Background()
	a, err := d.Acquire(ctx, time.Millisecond, []string{"h0", "h1"})
	if err != nil || a.Host != "h0" {
		t.Fatalf("first Acquire = %+v, %v; want h0", a, err)
	}
	b, err := d.Acquire(ctx, time.Millisecond, []string{"h0", "h1"})
	if err != nil || b.Host != "h1" {
		t.Fatalf("second Acquire = %+v, %v; want h1 (h0 is held)", b, err)
	}
	if l, err := d.TryLock("h0"); l != nil || err != nil {
		t.Fatalf("TryLock(h0) while held = %+v, %v; want nil, nil", l, err)
	}

	// Every candidate held: Acquire waits, and gets h0 once it is released.
	got := make(chan *Lock)
	go func() {
		l, err := d.Acquire(ctx, time.Millisecond, []string{"h0", "h1"})
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if c := <-got; c == nil || c.Host != "h0" {
		t.Fatalf("waiting Acquire = %+v, want h0", c)
	}
}

func TestAcquireTimesOut(t *testing.T) {
	d := Dir(t.TempDir())
	held, err := d.TryLock("h0")
	if err != nil || held == nil {
		t.Fatal(held, err)
	}
	defer held.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = d.Acquire(ctx, time.Millisecond, []string{"h0"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out waiting for one of the hosts [h0]") {
		t.Fatalf("Acquire with every host held = %v, want a timeout naming the hosts", err)
	}
	if _, err := d.Acquire(context.Background(), time.Millisecond, nil); err == nil {
		t.Fatal("Acquire with no candidates succeeded")
	}
}

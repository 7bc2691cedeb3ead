// Package hostlock gives a spec what it needs of a compute host while it runs — some of the
// host's devices of an alias, room for its dedicated guests, or the whole host — across every
// process of a run and across runs that share the lab. A spec must never find a device it was
// aimed at taken by another spec, of this run or of another CI job's; so every spec whose
// servers take devices or dedicated pCPUs on a host holds slots of that host (Want, Capacity,
// ClaimOn): one lease per slot (openstack.Client.TryLease: a flavor whose unique name is the
// lock, created atomically, with the holder and an expiry in its id), as many slots per alias as
// the host exposes devices of it, so specs on different devices of one host run at once. A claim
// is taken whole or not at all. The expiry is the spec's own deadline plus its cleanup time, so
// the leases of a killed run lapse by themselves and a waiting spec then breaks them. A spec
// whose slots are held waits, polling, until its own deadline, saying whom it waits for.
package hostlock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hwcert/hwcert/framework/openstack"
)

// Holder takes host leases on behalf of one process of a run.
type Holder struct {
	cloud *openstack.Client
	// id names this process of this run in every lease it takes (run id and process).
	id  string
	seq atomic.Int64
}

// New returns the holder of a run's process. runID and process name it in the leases.
func New(cloud *openstack.Client, runID string, process int) *Holder {
	return &Holder{cloud: cloud, id: fmt.Sprintf("%s-p%d", runID, process)}
}

// ReleaseAll gives back every lease of the lab this process still holds. A run calls it when it
// ends, whatever happened: a spec interrupted in the middle of a claim can leave a lease whose
// create took effect but was never answered, and it would block the host for other runs until
// its expiry.
func (h *Holder) ReleaseAll(ctx context.Context) error {
	ls, err := h.cloud.Leases(ctx)
	if err != nil {
		return fmt.Errorf("giving back the leases of %s: %w", h.id, err)
	}
	var errs []error
	for _, l := range ls {
		if strings.HasPrefix(l.Holder, h.id+"-") {
			if err := h.cloud.ReleaseLease(ctx, l); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Lock is what a spec holds on one host.
type Lock struct {
	Host   string
	leases []openstack.Lease
	cloud  *openstack.Client
}

// Leases are the names of the leases held.
func (l *Lock) Leases() []string {
	out := make([]string, len(l.leases))
	for i, x := range l.leases {
		out[i] = x.Name
	}
	return out
}

// Acquire takes one of the claims — every lease it asks, or none — until expires, trying them in
// order and then again every poll interval until one is had or ctx ends. A claim short of a
// lease gives back what it took before trying the next, so no two waiters ever hold part of
// what the other needs. Each time the set of holders it waits for changes, waiting is called
// with them (a spec prints it). An expired lease is broken on the way. The error at ctx's end
// says it is a timeout and names the holders last seen.
func (h *Holder) Acquire(ctx context.Context, poll time.Duration, claims []Claim, expires time.Time, waiting func(held []openstack.Lease)) (*Lock, error) {
	if len(claims) == 0 {
		return nil, errors.New("host lease: no candidate host")
	}
	n := h.seq.Add(1)
	holder := fmt.Sprintf("%s-%d", h.id, n)
	hosts := make([]string, len(claims))
	for i, c := range claims {
		hosts[i] = c.Host
	}
	var lastSeen string
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		var held []openstack.Lease
		for _, c := range claims {
			l, blockers, err := h.tryClaim(ctx, c, holder, expires, int(n))
			if err != nil && ctx.Err() != nil {
				return nil, fmt.Errorf("timed out waiting for one of the hosts %v to be free (last seen: %s): %w", hosts, lastSeen, ctx.Err())
			}
			if err != nil {
				return nil, fmt.Errorf("host %s: %w", c.Host, err)
			}
			if l != nil {
				return l, nil
			}
			held = append(held, blockers...)
		}
		if seen := describe(held); seen != lastSeen {
			lastSeen = seen
			if waiting != nil {
				waiting(held)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("timed out waiting for one of the hosts %v to be free (last seen: %s): %w", hosts, lastSeen, ctx.Err())
		case <-t.C:
		}
	}
}

// tryClaim takes every group of c or nothing, and says which leases stood in the way. A group
// of which only some slots are wanted is tried from a slot that differs per acquisition, so
// specs of one alias spread over its slots; a group taken whole starts at its first slot, so two
// claims of all of it meet there and one of them gives way at once.
func (h *Holder) tryClaim(ctx context.Context, c Claim, holder string, expires time.Time, spread int) (*Lock, []openstack.Lease, error) {
	lock := &Lock{Host: c.Host, cloud: h.cloud}
	giveBack := func(err error) error {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if ctx.Err() != nil {
			// A create cut by the deadline may have taken effect: give back every lease of
			// this holder the lab has, not only those whose create was answered.
			if ls, lerr := h.cloud.Leases(bg); lerr == nil {
				lock.leases = slices.DeleteFunc(ls, func(l openstack.Lease) bool { return l.Holder != holder })
			}
		}
		if rerr := lock.Release(bg); rerr != nil {
			return errors.Join(err, fmt.Errorf("giving back part of a claim: %w", rerr))
		}
		return err
	}
	for _, g := range c.Groups {
		start := 0
		if g.Count < len(g.Names) {
			start = spread % len(g.Names)
		}
		var blockers []openstack.Lease
		got := 0
		for i := range g.Names {
			if got == g.Count {
				break
			}
			name := g.Names[(start+i)%len(g.Names)]
			l, taken, err := h.tryLease(ctx, name, holder, expires)
			if err != nil {
				return nil, nil, giveBack(err)
			}
			if !taken {
				blockers = append(blockers, l)
				continue
			}
			lock.leases = append(lock.leases, l)
			got++
		}
		if got < g.Count {
			return nil, blockers, giveBack(nil)
		}
	}
	return lock, nil, nil
}

// tryLease takes one lease, breaking it first when its holder's expiry passed.
func (h *Holder) tryLease(ctx context.Context, name, holder string, expires time.Time) (openstack.Lease, bool, error) {
	l, taken, err := h.cloud.TryLease(ctx, name, holder, expires)
	if err != nil || taken || l.ID == "" || !l.Expired(time.Now()) {
		return l, taken, err
	}
	// Its holder was killed: break exactly that lease and try again.
	if err := h.cloud.ReleaseLease(ctx, l); err != nil {
		return l, false, fmt.Errorf("breaking the expired lease (%s): %w", l, err)
	}
	return h.cloud.TryLease(ctx, name, holder, expires)
}

func describe(held []openstack.Lease) string {
	parts := make([]string, len(held))
	for i, l := range held {
		parts[i] = l.Name + " by " + l.Holder
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// Release gives back every lease held.
func (l *Lock) Release(ctx context.Context) error {
	var errs []error
	for _, x := range l.leases {
		if err := l.cloud.ReleaseLease(ctx, x); err != nil {
			errs = append(errs, err)
		}
	}
	l.leases = nil
	return errors.Join(errs...)
}

// EntryHold names the report entry a spec adds for every host it held: the run's bound (the
// least wall time the lab's hosts allowed, printed by `hwcert run`) is computed from them.
const EntryHold = "hwcert-hold"

// Hold is what a spec held and for how long.
type Hold struct {
	Host    string   `json:"host"`
	Leases  []string `json:"leases"`
	Seconds float64  `json:"seconds"`
}

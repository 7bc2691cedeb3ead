// Package hostlock gives one spec a compute host to itself while it runs, across every process
// of a run and across runs that share the lab. A spec that needs a given host's devices (or its
// whole capacity) must not find them taken by another spec — of this run or of another CI job's
// — so every spec that boots onto a host holds that host's lease (openstack.Client.TryLease: a
// flavor whose unique name is the lock, created atomically, with the holder and an expiry in its
// id). The expiry is the spec's own deadline plus its cleanup time, so the lease of a killed run
// lapses by itself and a waiting spec then breaks it. A spec whose host is held waits, polling,
// until its own deadline, saying whom it waits for.
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

// LeaseName is the lease of a compute host.
func LeaseName(host string) string { return openstack.LeasePrefix + "host-" + host }

// Lock is a held host.
type Lock struct {
	Host  string
	lease openstack.Lease
	cloud *openstack.Client
}

// Acquire takes the lease of the first free host of candidates until expires, trying them in
// order and then again every poll interval until one is free or ctx ends. Each time the set of
// holders it waits for changes, waiting is called with them (a spec prints it). An expired
// lease is broken on the way. The error at ctx's end says it is a timeout and names the holders
// last seen.
func (h *Holder) Acquire(ctx context.Context, poll time.Duration, candidates []string, expires time.Time, waiting func(held []openstack.Lease)) (*Lock, error) {
	if len(candidates) == 0 {
		return nil, errors.New("host lease: no candidate host")
	}
	holder := fmt.Sprintf("%s-%d", h.id, h.seq.Add(1))
	var lastSeen string
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		var held []openstack.Lease
		for _, host := range candidates {
			l, taken, err := h.cloud.TryLease(ctx, LeaseName(host), holder, expires)
			if err != nil && ctx.Err() != nil {
				return nil, fmt.Errorf("timed out waiting for one of the hosts %v to be free (last seen: %s): %w", candidates, lastSeen, ctx.Err())
			}
			if err != nil {
				return nil, fmt.Errorf("host %s: %w", host, err)
			}
			if taken {
				return &Lock{Host: host, lease: l, cloud: h.cloud}, nil
			}
			if l.ID != "" && l.Expired(time.Now()) {
				// Its holder was killed: break exactly that lease and try the host again.
				if err := h.cloud.ReleaseLease(ctx, l); err != nil {
					return nil, fmt.Errorf("host %s: breaking the expired lease (%s): %w", host, l, err)
				}
				if l, taken, err = h.cloud.TryLease(ctx, LeaseName(host), holder, expires); err != nil {
					return nil, fmt.Errorf("host %s: %w", host, err)
				} else if taken {
					return &Lock{Host: host, lease: l, cloud: h.cloud}, nil
				}
			}
			held = append(held, l)
		}
		if seen := describe(held); seen != lastSeen {
			lastSeen = seen
			if waiting != nil {
				waiting(held)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("timed out waiting for one of the hosts %v to be free (last seen: %s): %w", candidates, lastSeen, ctx.Err())
		case <-t.C:
		}
	}
}

func describe(held []openstack.Lease) string {
	parts := make([]string, len(held))
	for i, l := range held {
		parts[i] = l.Name + " by " + l.Holder
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// Release gives the host back.
func (l *Lock) Release(ctx context.Context) error {
	return l.cloud.ReleaseLease(ctx, l.lease)
}

// EntryHold names the report entry a spec adds for every host it held: the run's bound (the
// least wall time the lab's hosts allowed, printed by `hwcert run`) is computed from them.
const EntryHold = "hwcert-hold"

// Hold is what a spec held and for how long.
type Hold struct {
	Host    string  `json:"host"`
	Seconds float64 `json:"seconds"`
}

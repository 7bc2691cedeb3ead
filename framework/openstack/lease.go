package openstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
)

// A lease is a lab-level lock that works with nothing but the compute API: a private flavor
// whose name is the lock's name. Nova keeps flavor names (and ids) unique and answers a second
// create with 409 Conflict, so creating it is atomic, and whoever created it holds it. The
// flavor's id carries the holder and the expiry (name.holder.unix-seconds), written in the same
// atomic create, so every other run can read who holds it and until when; a lease past its
// expiry (its holder was killed) may be broken by deleting exactly that flavor id, which cannot
// delete the lease a third party took in the meantime (its id differs).

// LeasePrefix starts every lease's name: the same for every run whatever its name_prefix, so
// runs with different prefixes coordinate, and the sweep can tell leases from leftovers.
const LeasePrefix = "hwcert-lease-"

// Lease is a held or observed lease.
type Lease struct {
	Name    string
	ID      string // the flavor id: Name.Holder.expiry
	Holder  string
	Expires time.Time
}

// Expired says whether the lease lapsed at now.
func (l Lease) Expired(now time.Time) bool { return !now.Before(l.Expires) }

func (l Lease) String() string {
	return fmt.Sprintf("%s held by %s until %s", l.Name, l.Holder, l.Expires.UTC().Format(time.RFC3339))
}

// ParseLease reads a lease from its flavor's name and id; ok is false for any other flavor.
func ParseLease(name, id string) (Lease, bool) {
	if !strings.HasPrefix(name, LeasePrefix) {
		return Lease{}, false
	}
	rest, found := strings.CutPrefix(id, name+".")
	if !found {
		return Lease{}, false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return Lease{}, false
	}
	secs, err := strconv.ParseInt(rest[i+1:], 10, 64)
	if err != nil {
		return Lease{}, false
	}
	return Lease{Name: name, ID: id, Holder: rest[:i], Expires: time.Unix(secs, 0)}, true
}

// leaseHolderChars are what a holder may contain: Nova's flavor id characters but '.', which
// separates the id's parts.
func validHolder(h string) bool {
	if h == "" || len(h) > 120 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// TryLease takes the named lease for holder until expires. It returns the lease when taken, or
// the current holder's lease (taken false) when someone else holds it.
func (c *Client) TryLease(ctx context.Context, name, holder string, expires time.Time) (l Lease, taken bool, err error) {
	if !strings.HasPrefix(name, LeasePrefix) || !validHolder(holder) {
		return Lease{}, false, fmt.Errorf("lease %q for holder %q: expected a name starting with %q and a holder of letters, digits, '-' and '_'", name, holder, LeasePrefix)
	}
	want := Lease{Name: name, Holder: holder, Expires: time.Unix(expires.Unix(), 0)}
	want.ID = fmt.Sprintf("%s.%s.%d", name, holder, want.Expires.Unix())
	_, err = flavors.Create(ctx, c.compute, flavors.CreateOpts{
		Name: name, ID: want.ID, VCPUs: 1, RAM: 1, Disk: gophercloud.IntToPointer(0), IsPublic: gophercloud.Disabled,
	}).Extract()
	if err == nil {
		return want, true, nil
	}
	// A create is never resent blind (it may have taken effect), so after a 409 — or a create
	// the lab's plumbing lost (a reset, a 5xx that outlived the retries) — the lease as the lab
	// has it says who holds it, possibly this very create.
	conflict := gophercloud.ResponseCodeIs(err, http.StatusConflict)
	if !conflict && !IsPlumbing(err) {
		return Lease{}, false, apiError(err, "take lease %s", name)
	}
	cur, found, err := c.findLease(ctx, name)
	switch {
	case err != nil:
		return Lease{}, false, err
	case !found && conflict:
		// Released between our create and our look: free again, try later.
		return Lease{Name: name, Holder: "(just released)", Expires: time.Now()}, false, nil
	case !found:
		// The lost create did not take effect: try again at the next poll.
		return Lease{Name: name, Holder: "(a create the lab lost)", Expires: time.Now()}, false, nil
	case cur.ID == want.ID:
		return cur, true, nil // our own create, answered 409 on a retry or lost on the way back
	}
	return cur, false, nil
}

// Leases lists every lease of the lab.
func (c *Client) Leases(ctx context.Context) ([]Lease, error) {
	fls, err := c.Flavors(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing leases: %w", err)
	}
	var out []Lease
	for _, f := range fls {
		if l, ok := ParseLease(f.Name, f.ID); ok {
			out = append(out, l)
		}
	}
	return out, nil
}

func (c *Client) findLease(ctx context.Context, name string) (Lease, bool, error) {
	ls, err := c.Leases(ctx)
	if err != nil {
		return Lease{}, false, err
	}
	for _, l := range ls {
		if l.Name == name {
			return l, true, nil
		}
	}
	return Lease{}, false, nil
}

// ReleaseLease gives a lease back (or breaks an expired one): it deletes exactly that flavor id.
func (c *Client) ReleaseLease(ctx context.Context, l Lease) error {
	if l.ID == "" {
		return errors.New("release lease: no lease id")
	}
	return c.DeleteFlavor(ctx, l.ID)
}

package openstack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	gopenstack "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/hwcert/hwcert/framework/runid"
)

// ResolveImage returns the id of the image named nameOrID (or nameOrID itself when it is an
// image id).
func (c *Client) ResolveImage(ctx context.Context, nameOrID string) (string, error) {
	ic, err := gopenstack.NewImageV2(c.provider, c.endpoint)
	if err != nil {
		return "", fmt.Errorf("image %q: image endpoint: %w", nameOrID, err)
	}
	return resolve(ctx, "image", nameOrID,
		func(ctx context.Context) ([]string, error) {
			pages, err := images.List(ic, images.ListOpts{Name: nameOrID}).AllPages(ctx)
			if err != nil {
				return nil, err
			}
			found, err := images.ExtractImages(pages)
			ids := make([]string, len(found))
			for i, im := range found {
				ids[i] = im.ID
			}
			return ids, err
		},
		func(ctx context.Context) (string, error) {
			img, err := images.Get(ctx, ic, nameOrID).Extract()
			if err != nil {
				return "", err
			}
			return img.ID, nil
		})
}

// ResolveNetwork returns the network id to boot on: "none" and "auto" pass through (microversion
// 2.37+), "" means none, anything else is looked up by name, then as an id, in Neutron.
func (c *Client) ResolveNetwork(ctx context.Context, nameOrID string) (string, error) {
	switch nameOrID {
	case "":
		return "none", nil
	case "none", "auto":
		return nameOrID, nil
	}
	nc, err := gopenstack.NewNetworkV2(c.provider, c.endpoint)
	if err != nil {
		return "", fmt.Errorf("network %q: network endpoint: %w", nameOrID, err)
	}
	return resolve(ctx, "network", nameOrID,
		func(ctx context.Context) ([]string, error) {
			pages, err := networks.List(nc, networks.ListOpts{Name: nameOrID}).AllPages(ctx)
			if err != nil {
				return nil, err
			}
			found, err := networks.ExtractNetworks(pages)
			ids := make([]string, len(found))
			for i, n := range found {
				ids[i] = n.ID
			}
			return ids, err
		},
		func(ctx context.Context) (string, error) {
			n, err := networks.Get(ctx, nc, nameOrID).Extract()
			if err != nil {
				return "", err
			}
			return n.ID, nil
		})
}

// resolve finds the one resource of a kind named nameOrID (the ids of those with that name from
// byName), else the one whose id it is (byID). Two with the same name are an error: the harness
// must not guess which one the lab meant.
func resolve(ctx context.Context, kind, nameOrID string, byName func(context.Context) ([]string, error), byID func(context.Context) (string, error)) (string, error) {
	ids, err := byName(ctx)
	if err != nil {
		return "", apiError(err, "look up %s %q", kind, nameOrID)
	}
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
		id, err := byID(ctx)
		if err != nil {
			return "", apiError(err, "%s %q: no %s has that name or id", kind, nameOrID, kind)
		}
		return id, nil
	default:
		return "", fmt.Errorf("%s %q: %d %ss have that name (%s); configure the id instead", kind, nameOrID, len(ids), kind, strings.Join(ids, ", "))
	}
}

// Host is one compute host as Nova lists it.
type Host struct {
	// Name is the compute service host (OS-EXT-SRV-ATTR:host), the key of hypervisor URIs.
	Name string
	// HypervisorHostname is the compute node name (may differ, e.g. an FQDN).
	HypervisorHostname string
	State, Status      string
}

// Hosts lists the compute hosts (os-hypervisors), sorted by name.
func (c *Client) Hosts(ctx context.Context) ([]Host, error) {
	pages, err := hypervisors.List(c.compute, hypervisors.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, apiError(err, "list hypervisors")
	}
	hvs, err := hypervisors.ExtractHypervisors(pages)
	if err != nil {
		return nil, fmt.Errorf("list hypervisors: %w", err)
	}
	out := make([]Host, 0, len(hvs))
	for _, h := range hvs {
		name := h.Service.Host
		if name == "" {
			name = h.HypervisorHostname
		}
		out = append(out, Host{Name: name, HypervisorHostname: h.HypervisorHostname, State: h.State, Status: h.Status})
	}
	slices.SortFunc(out, func(a, b Host) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// SweepResult says what Sweep deleted.
type SweepResult struct {
	Servers []string // "name (id)"
	Flavors []string
	Leases  []string // expired leases broken
}

// sweepLeases breaks the lab's expired leases and returns the run ids that hold a live one.
func (c *Client) sweepLeases(ctx context.Context, now time.Time, res *SweepResult) (live map[string]bool, errs []error, err error) {
	leases, err := c.Leases(ctx)
	if err != nil {
		return nil, nil, err
	}
	live = map[string]bool{}
	for _, l := range leases {
		if !l.Expired(now) {
			if len(l.Holder) >= runid.Len {
				live[l.Holder[:runid.Len]] = true
			}
			continue
		}
		if err := c.ReleaseLease(ctx, l); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Leases = append(res.Leases, l.String())
	}
	return live, errs, nil
}

// Sweep deletes the servers and flavors that runid.Stale selects: names with the prefix whose run
// started more than olderThan ago (olderThan 0: every name with the prefix). These are leftovers of
// an earlier run that was killed; a concurrent run's fresh resources are never touched. Servers go
// first (and are waited for) so their devices are free when it returns.
func (c *Client) Sweep(ctx context.Context, prefix string, olderThan time.Duration) (SweepResult, error) {
	var res SweepResult
	if prefix == "" {
		return res, errors.New("sweep: refusing an empty name prefix (it would delete everything)")
	}
	now := time.Now()
	live, errs, err := c.sweepLeases(ctx, now, &res)
	if err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	// A resource of a run that holds a live lease is in use, however old the run.
	stale := func(name string) bool {
		n, ok := runid.Parse(name, prefix)
		return ok && now.Sub(n.Started) > olderThan && !live[n.RunID]
	}
	srvs, err := c.Servers(ctx)
	if err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	for _, s := range srvs {
		if !stale(s.Name) {
			continue
		}
		if err := c.DeleteServer(ctx, s.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Servers = append(res.Servers, fmt.Sprintf("%s (%s)", s.Name, s.ID))
	}
	fls, err := c.Flavors(ctx)
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("sweep: %w", err))...)
	}
	for _, f := range fls {
		if !stale(f.Name) {
			continue
		}
		if err := c.DeleteFlavor(ctx, f.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Flavors = append(res.Flavors, fmt.Sprintf("%s (%s)", f.Name, f.ID))
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("sweep %q: %w", prefix, errors.Join(errs...))
	}
	return res, nil
}

package openstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/apiversions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"

	"github.com/hwcert/hwcert/framework/runid"
)

// ComputeVersions is the compute API's microversion range (the v2.1 version document).
func (c *Client) ComputeVersions(ctx context.Context) (minVersion, maxVersion string, err error) {
	v, err := apiversions.Get(ctx, c.compute, "v2.1").Extract()
	if err != nil {
		return "", "", apiError(err, "read the compute API version document")
	}
	return v.MinVersion, v.Version, nil
}

// ErrNotServed is returned for an API the cloud does not serve (404).
var ErrNotServed = errors.New("not served by this cloud")

// Quota is the project's absolute compute limits and use; a negative maximum is unlimited.
type Quota struct {
	MaxInstances, UsedInstances int
	MaxCores, UsedCores         int
	MaxRAMMB, UsedRAMMB         int
}

// Quota reads the project's compute limits (GET /limits); ErrNotServed when the cloud has none.
func (c *Client) Quota(ctx context.Context) (Quota, error) {
	l, err := limits.Get(ctx, c.compute, nil).Extract()
	if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return Quota{}, fmt.Errorf("compute limits: %w", ErrNotServed)
	}
	if err != nil {
		return Quota{}, apiError(err, "read the compute limits")
	}
	a := l.Absolute
	return Quota{MaxInstances: a.MaxTotalInstances, UsedInstances: a.TotalInstancesUsed,
		MaxCores: a.MaxTotalCores, UsedCores: a.TotalCoresUsed,
		MaxRAMMB: a.MaxTotalRAMSize, UsedRAMMB: a.TotalRAMUsed}, nil
}

// Leftover is a server or flavor an earlier run left behind.
type Leftover struct {
	Kind, Name, ID string
	// Started is when its run started; zero for a name with the prefix but no run id.
	Started time.Time
}

// Leftovers lists the servers and flavors whose names start with the prefix (what Sweep with
// olderThan 0 would delete), without deleting anything.
func (c *Client) Leftovers(ctx context.Context, prefix string) ([]Leftover, error) {
	var out []Leftover
	srvs, err := c.Servers(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for _, s := range srvs {
		if runid.Stale(s.Name, prefix, 0, now) {
			t, _ := runid.StartedAt(s.Name, prefix)
			out = append(out, Leftover{Kind: "server", Name: s.Name, ID: s.ID, Started: t})
		}
	}
	fls, err := c.Flavors(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range fls {
		if runid.Stale(f.Name, prefix, 0, now) {
			t, _ := runid.StartedAt(f.Name, prefix)
			out = append(out, Leftover{Kind: "flavor", Name: f.Name, ID: f.ID, Started: t})
		}
	}
	return out, nil
}
